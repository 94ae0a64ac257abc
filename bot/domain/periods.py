"""Which completed UTC weeks a summary covers, and how stored weeks become windows.

A summary never covers the week in progress: only whole UTC weeks (Monday to Sunday)
that are over, whose counts can no longer change. "7 days" is the last completed week,
30 days the last four, 90 days the last twelve; any other length a run of whole weeks.
A window is offered only when check-ins are kept long enough to fill it on any day of
the week: the oldest day of n weeks ending with the last completed one is at most
7n + 6 days ago.

Every window ends with the same week, so the offered windows are nested; they are
protected together by `bot.domain.checkins.summarise_nested`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.domain.checkins import MOODS, WindowData

__all__ = [
    "DEFAULT_SUMMARY_DAYS",
    "STANDARD_WEEKS",
    "SUMMARY_DAYS",
    "completed_weeks",
    "default_window",
    "fits_retention",
    "previous_window_kept",
    "summary_windows",
    "week_start",
    "weeks_for",
    "window_from_weeks",
    "window_label",
]

# The usual /summary lengths in days, and the weeks each stands for.
STANDARD_WEEKS: dict[int, int] = {7: 1, 30: 4, 90: 12}


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week."""
    return day - dt.timedelta(days=day.weekday())


def weeks_for(days: int) -> int:
    """How many completed weeks a window of `days` days covers."""
    if days < 7:
        raise ValueError(f"a summary covers at least one whole week, not {days} days")
    return STANDARD_WEEKS.get(days, days // 7)


def fits_retention(weeks: int, retention_days: int) -> bool:
    """Whether check-ins are kept long enough to cover `weeks` completed weeks, whatever
    the day of the week."""
    return 7 * weeks + 6 <= retention_days


def completed_weeks(today: dt.date, count: int, *, skip: int = 0) -> list[dt.date]:
    """The Mondays of the `count` completed weeks before today's week (oldest first),
    after leaving out the `skip` most recent ones."""
    last = week_start(today) - dt.timedelta(days=7 * (1 + skip))
    return [last - dt.timedelta(days=7 * n) for n in reversed(range(count))]


def window_from_weeks(
    weeks: Mapping[dt.date, tuple[Mapping[int, int], Mapping[str, int]]],
    mondays: Sequence[dt.date],
    previous: Sequence[dt.date] = (),
) -> WindowData:
    """A window made of stored noisy weeks: each count added up over the weeks and only
    then floored at zero (a stored week may hold a negative count; flooring each week
    would bias the sum), and the mood counts of the `previous` weeks for the comparison
    (left empty unless all are there).

    No split by week is given: a week's floored counts would not add up to the window's,
    and unfloored ones below zero would mean nothing to a reader."""

    def moods_of(run: Sequence[dt.date]) -> dict[int, int]:
        return {mood: max(0, sum(weeks[m][0].get(mood, 0) for m in run)) for mood in MOODS}

    names = sorted({name for m in mondays for name in weeks[m][1]})
    feelings = {name: max(0, sum(weeks[m][1].get(name, 0) for m in mondays)) for name in names}
    before: dict[int, int] = {}
    if previous and all(m in weeks for m in previous):
        before = moods_of(previous)
    return WindowData(
        days=7 * len(mondays),
        moods=moods_of(mondays),
        feelings=feelings,
        previous_moods=before,
    )


# -- the /summary windows a server is offered ----------------------------------------------

# The usual /summary lengths in days, and the one chosen when a moderator names none.
SUMMARY_DAYS = tuple(STANDARD_WEEKS)
DEFAULT_SUMMARY_DAYS = 30


def summary_windows(retention_days: int) -> tuple[int, ...]:
    """The /summary windows worth offering, in days: the usual ones (the last completed
    week, four, twelve) that check-ins are kept long enough to fill, and the longest run
    of completed weeks retention allows when it falls between them. Empty when check-ins
    are kept too briefly to cover even one completed week."""
    windows = {
        days for days, weeks in STANDARD_WEEKS.items() if fits_retention(weeks, retention_days)
    }
    longest = (retention_days - 6) // 7
    most = max(STANDARD_WEEKS.values())
    if 1 <= longest < most and not any(weeks_for(days) >= longest for days in windows):
        windows.add(7 * longest)
    return tuple(sorted(windows))


def previous_window_kept(days: int, retention_days: int) -> bool:
    """Whether the weeks just before a window are kept long enough, on any day of the
    week, to compare against."""
    return fits_retention(2 * weeks_for(days), retention_days)


def window_label(days: int) -> str:
    weeks = weeks_for(days)
    return "The last completed week" if weeks == 1 else f"The last {weeks} completed weeks"


def default_window(windows: Sequence[int]) -> int:
    """The window /summary shows when none is named: 30 days when offered, else the
    longest offered (7 days when none is, and then /summary explains why)."""
    if DEFAULT_SUMMARY_DAYS in windows:
        return DEFAULT_SUMMARY_DAYS
    return max(windows, default=SUMMARY_DAYS[0])
