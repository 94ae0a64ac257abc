"""Summaries of anonymous check-ins that are safe to show to moderators.

Storage hands over raw counts for one server and one window (`WindowData`); `summarise`
turns them into what a moderator may see (`Summary`). Everything here is pure.

The rule, with k the server's minimum group size (`privacy.min_group_size`, never below 5):

1. Whole window. Fewer than k check-ins: no numbers at all, only `INSUFFICIENT_MESSAGE`
   (no total, counts, mean, comparison, feelings or weekly bars).

2. Small counts. A count from 1 to k-1 is hidden. Zeros are shown (standard practice, and
   a shown zero is what lets a reader know every hidden count is at least 1).

3. Second counts. The window's total is shown, so in any line of counts whose total is
   public (the five moods; one mood across the weeks) the hidden counts add up to a
   number the reader can work out: R = total - shown. So whenever a line hides anything,
   more of it is hidden, the smallest shown non-zero count first (ties: the earlier one),
   until, with h hidden counts,

       h >= 2,   R >= k,   R >= h + 1.

   What that guarantees, and what the tests check: a reader who knows the total, every
   shown count, and that every hidden count is at least 1 can place each hidden count
   anywhere from 1 to R - h + 1, which is always at least two values, so no hidden count
   can be worked out; and the hidden counts taken together, which the reader *can* work
   out, are never a group of 1 to k-1. If even hiding every non-zero count cannot meet
   it (k = 5 with exactly one check-in at each mood, or a lone mood that rule 8 hides),
   the summary falls back to rule 1.

4. One label. Every hidden count reads "hidden", whatever the reason it is hidden. A
   separate label for second counts would tell the reader which hidden count is large,
   and with the total that can give the small one away: with k = 10, "fewer than 10" and
   "at least 10" hidden beside a remainder of 11 can only be 1 and 10.
   `suppression_note` says what "hidden" stands for.

5. Mean mood. Shown only when no mood count is hidden; then it follows from the shown
   counts and reveals nothing new. Beside a hidden count it would be a second equation
   next to the total: with k = 10, 3 check-ins at "Not OK" and 9 at "Getting by" show as
   two hidden counts and a total of 12, and a mean of 2.5 leaves only 3 and 9.

6. Previous window. Its mean is given, with the change, only when that window had at
   least k check-ins and none of its mood counts is from 1 to k-1, so the mean follows
   from counts that could all be shown. Otherwise there is no comparison.

7. Feelings. Each feeling's count is hidden from 1 to k-1, and a hidden feeling is not
   named at all (a name shown with "fewer than k" is itself the small group); the top
   five shown feelings are listed. No second counts are needed: a check-in names zero to
   three feelings, so feeling counts are not a partition of anything published, and no
   total exists from which a hidden feeling's count could be subtracted.

8. Weeks. Protecting each week as its own line would leak through the window's counts:
   the window's count for a mood minus that mood's shown weekly counts is what the weeks
   hid. So each mood across the weeks is protected as a line, with the window's count
   for that mood as its public total, exactly as in rule 3. Week totals are never
   published (a bar shows only its shown counts), so no equation runs across moods. A
   mood hidden in the window is hidden in every week, zeros too, so weekly figures give
   no bound on it. A week with fewer than k check-ins has every non-zero count below k,
   so it never shows a number. If a mood's weeks cannot be protected (every week that
   has it has exactly one), that mood is hidden in the window as well and the rule runs
   again.

Not covered here: each summary is protected on its own. Two summaries whose windows
overlap (today's last 7 days and yesterday's) can be subtracted to reach single days,
and a reader who reverse-engineers which step of the rule hid a count can sometimes
narrow it further in corner cases; the guarantee above is the linear one, the usual
standard in statistical disclosure control.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TypeVar

__all__ = [
    "HIDDEN_LABEL",
    "INSUFFICIENT_MESSAGE",
    "MIN_GROUP_SIZE_FLOOR",
    "MIN_WINDOW_DAYS",
    "MOODS",
    "MOOD_LABELS",
    "TOP_FEELINGS",
    "Cell",
    "MoodCounts",
    "Summary",
    "WindowData",
    "summarise",
    "summarise_nested",
    "suppress_small_cells",
    "suppression_note",
]

K = TypeVar("K", bound=Hashable)

MOOD_LABELS: dict[int, str] = {
    1: "Not OK",
    2: "Struggling",
    3: "Getting by",
    4: "Okay",
    5: "Doing well",
}
MOODS: tuple[int, ...] = tuple(MOOD_LABELS)
# The most feelings one check-in names.
MAX_FEELINGS = 3

MIN_GROUP_SIZE_FLOOR = 5
MIN_WINDOW_DAYS = 7
TOP_FEELINGS = 5
INSUFFICIENT_MESSAGE = "Not enough check-ins yet to show a summary safely."
HIDDEN_LABEL = "hidden"


def suppression_note(k: int) -> str:
    """The footnote that goes wherever hidden counts are shown."""
    return (
        f'"{HIDDEN_LABEL}" means fewer than {k} check-ins, or a number hidden as well '
        "so that a smaller one can't be worked out from the total."
    )


def _check_group_size(k: int) -> None:
    if k < MIN_GROUP_SIZE_FLOOR:
        raise ValueError(f"the minimum group size must be at least {MIN_GROUP_SIZE_FLOOR}, not {k}")


def _check_count(value: int, what: str) -> None:
    if value < 0:
        raise ValueError(f"{what} must not be negative, not {value}")


def _mood_map(raw: Mapping[int, int], what: str) -> Mapping[int, int]:
    unknown = sorted(set(raw) - set(MOODS))
    if unknown:
        raise ValueError(f"{what}: moods run from 1 to 5, not {unknown}")
    for mood, count in raw.items():
        _check_count(count, f"{what}[{mood}]")
    return MappingProxyType({mood: raw.get(mood, 0) for mood in MOODS})


@dataclass(frozen=True)
class Cell:
    """One published count: its value, or None when it is hidden."""

    value: int | None

    def __post_init__(self) -> None:
        if self.value is not None:
            _check_count(self.value, "a count")

    @property
    def hidden(self) -> bool:
        return self.value is None

    def render(self, k: int) -> str:
        """The count as text. A hidden count reads the same whatever its size (rule 4), so
        `k` changes nothing here; pair the text with `suppression_note(k)`."""
        return HIDDEN_LABEL if self.value is None else str(self.value)


@dataclass(frozen=True)
class MoodCounts:
    """Check-ins per mood, 1 to 5; moods left out count as 0."""

    counts: Mapping[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", _mood_map(self.counts, "counts"))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        if not self.total:
            return None
        return sum(mood * count for mood, count in self.counts.items()) / self.total


@dataclass(frozen=True)
class WindowData:
    """Raw, unsuppressed counts for one server and one window, as storage reads them.

    `weekly` splits the same check-ins by the Monday (UTC) starting their week, so for
    every mood the weeks add up to `moods`; it may be empty when no split is wanted.
    `previous_moods` is the window of the same length just before this one.
    """

    days: int
    moods: Mapping[int, int]
    feelings: Mapping[str, int] = field(default_factory=dict)
    weekly: Sequence[tuple[date, Mapping[int, int]]] = ()
    previous_moods: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        moods = _mood_map(self.moods, "moods")
        object.__setattr__(self, "moods", moods)
        object.__setattr__(self, "previous_moods", _mood_map(self.previous_moods, "previous_moods"))
        for name, count in self.feelings.items():
            if not name:
                raise ValueError("a feeling needs a name")
            _check_count(count, f"feelings[{name!r}]")
        object.__setattr__(self, "feelings", MappingProxyType(dict(self.feelings)))

        weeks = sorted(
            ((start, _mood_map(counts, f"weekly[{start}]")) for start, counts in self.weekly),
            key=lambda week: week[0],
        )
        starts = [start for start, _ in weeks]
        if len(set(starts)) != len(starts):
            raise ValueError("weekly: each week may appear only once")
        not_monday = [start for start in starts if start.weekday() != 0]
        if not_monday:
            raise ValueError(f"weekly: weeks start on a Monday, not {not_monday}")
        if weeks:
            sums = {mood: sum(counts[mood] for _, counts in weeks) for mood in MOODS}
            if sums != dict(moods):
                raise ValueError(f"weekly counts add up to {sums}, but moods are {dict(moods)}")
        object.__setattr__(self, "weekly", tuple(weeks))


@dataclass(frozen=True)
class Summary:
    """What a moderator may see. When `enough` is False every number is absent."""

    days: int
    k: int
    enough: bool
    total: int | None
    distribution: Mapping[int, Cell]
    mean: float | None
    previous_mean: float | None
    change: float | None
    top_feelings: Sequence[tuple[str, int]]
    weekly: Sequence[tuple[date, Mapping[int, Cell]]]

    @property
    def message(self) -> str | None:
        return None if self.enough else INSUFFICIENT_MESSAGE


def _is_protected(hidden: Sequence[int], k: int) -> bool:
    count, remainder = len(hidden), sum(hidden)
    return count >= 2 and remainder >= k and remainder >= count + 1


def _protect(
    counts: Mapping[K, int], k: int, forced: Iterable[K] = ()
) -> tuple[dict[K, Cell], bool]:
    """Rules 2 and 3 for one line; the flag says whether rule 3 could be met."""
    order = list(counts)
    for key in order:
        _check_count(counts[key], f"the count for {key!r}")
    hidden = {key for key in order if 0 < counts[key] < k}
    hidden.update(key for key in forced if counts[key] > 0)
    spare = sorted(
        (position for position, key in enumerate(order) if key not in hidden and counts[key]),
        key=lambda position: (counts[order[position]], position),
    )
    candidates = iter(order[position] for position in spare)
    while hidden and not _is_protected([counts[key] for key in hidden], k):
        extra = next(candidates, None)
        if extra is None:
            break
        hidden.add(extra)
    protected = not hidden or _is_protected([counts[key] for key in hidden], k)
    cells = {key: Cell(None if key in hidden else counts[key]) for key in order}
    return cells, protected


def suppress_small_cells(counts: Mapping[K, int], k: int) -> dict[K, Cell]:
    """Hide every count from 1 to k-1 and enough others that none can be worked out
    from the line's total (rules 2 and 3 of the module docstring).

    Keys keep their order, which also breaks ties between equal counts. When the rule
    cannot be met (the line's total is below k, or every non-zero count is 1), every
    non-zero count comes back hidden and the total must not be published.
    """
    _check_group_size(k)
    cells, _ = _protect(counts, k)
    return cells


def _weekly_cells(
    weekly: Sequence[tuple[date, Mapping[int, int]]],
    distribution: Mapping[int, Cell],
    k: int,
) -> tuple[tuple[tuple[date, Mapping[int, Cell]], ...], set[int]]:
    """Rule 8. Also returns the moods whose weeks could not be protected."""
    per_week: dict[date, dict[int, Cell]] = {start: {} for start, _ in weekly}
    unprotectable: set[int] = set()
    for mood in MOODS:
        column = {start: counts[mood] for start, counts in weekly}
        window = distribution[mood].value
        if window is None:
            cells = {start: Cell(None) for start in column}
        elif window == 0:
            cells = {start: Cell(0) for start in column}
        else:
            cells, protected = _protect(column, k)
            if not protected:
                unprotectable.add(mood)
        for start, cell in cells.items():
            per_week[start][mood] = cell
    weeks = tuple((start, MappingProxyType(cells)) for start, cells in per_week.items())
    return weeks, unprotectable


def _insufficient(days: int, k: int) -> Summary:
    return Summary(
        days=days,
        k=k,
        enough=False,
        total=None,
        distribution=MappingProxyType({}),
        mean=None,
        previous_mean=None,
        change=None,
        top_feelings=(),
        weekly=(),
    )


def _previous_mean(previous: MoodCounts, k: int) -> float | None:
    if previous.total < k or any(0 < count < k for count in previous.counts.values()):
        return None
    return previous.mean


def summarise(
    data: WindowData,
    k: int,
    *,
    forced_moods: Iterable[int] = (),
    hidden_feelings: Iterable[str] = (),
) -> Summary:
    """Apply the module's rule to one window's counts. `forced_moods` and
    `hidden_feelings` are hidden whatever their counts (`summarise_nested` uses them)."""
    _check_group_size(k)
    if data.days < MIN_WINDOW_DAYS:
        raise ValueError(f"a summary covers at least {MIN_WINDOW_DAYS} days, not {data.days}")
    moods = MoodCounts(data.moods)
    if moods.total < k:
        return _insufficient(data.days, k)

    forced: set[int] = set(forced_moods)
    while True:
        distribution, protected = _protect(moods.counts, k, forced)
        if not protected:
            return _insufficient(data.days, k)
        weekly, unprotectable = _weekly_cells(data.weekly, distribution, k)
        if not unprotectable:
            break
        forced |= unprotectable

    mean = None if any(cell.hidden for cell in distribution.values()) else moods.mean
    previous_mean = _previous_mean(MoodCounts(data.previous_moods), k)
    change = None if mean is None or previous_mean is None else mean - previous_mean
    never = set(hidden_feelings)
    shown_feelings = sorted(
        (
            (name, count)
            for name, count in data.feelings.items()
            if count >= k and name not in never
        ),
        key=lambda feeling: (-feeling[1], feeling[0]),
    )
    return Summary(
        days=data.days,
        k=k,
        enough=True,
        total=moods.total,
        distribution=MappingProxyType(distribution),
        mean=mean,
        previous_mean=previous_mean,
        change=change,
        top_feelings=tuple(shown_feelings[:TOP_FEELINGS]),
        weekly=weekly,
    )


def _shown_feelings(summary: Summary) -> dict[str, int]:
    return dict(summary.top_feelings)


def summarise_nested(windows: Sequence[WindowData], k: int) -> tuple[Summary, ...]:
    """Summaries of windows that each contain the one before (shortest first), protected
    together: a moderator may read any of them, so the difference between two of them is
    published too, and no such difference may be a count from 1 to k-1.

    Each window is summarised by the module's rule. Then, against every shorter window:
    a mood or feeling shown in both whose counts differ by 1 to k-1 is hidden in the
    longer one (and its rule applied again around it); and if the totals differ by 1 to
    k-1, the longer window shows no numbers at all. A longer window depends only on the
    shorter ones, so one pass, shortest first, settles every pair.
    """
    _check_group_size(k)
    done: list[Summary] = []
    for data in windows:
        forced: set[int] = set()
        hidden: set[str] = set()
        while True:
            summary = summarise(data, k, forced_moods=forced, hidden_feelings=hidden)
            if not summary.enough:
                break
            more_forced, more_hidden, clash = _differences(summary, done, k)
            if clash:
                summary = _insufficient(data.days, k)
                break
            if more_forced <= forced and more_hidden <= hidden:
                break
            forced |= more_forced
            hidden |= more_hidden
        done.append(summary)
    return tuple(done)


def _small(difference: int, k: int) -> bool:
    return 0 < abs(difference) < k


def _differences(
    summary: Summary, shorter: Sequence[Summary], k: int
) -> tuple[set[int], set[str], bool]:
    forced: set[int] = set()
    hidden: set[str] = set()
    feelings = _shown_feelings(summary)
    for other in shorter:
        if not other.enough:
            continue
        assert summary.total is not None and other.total is not None
        if _small(summary.total - other.total, k):
            return forced, hidden, True
        for mood in MOODS:
            mine, theirs = summary.distribution[mood].value, other.distribution[mood].value
            if mine is not None and theirs is not None and _small(mine - theirs, k):
                forced.add(mood)
        for name, count in _shown_feelings(other).items():
            if name in feelings and _small(feelings[name] - count, k):
                hidden.add(name)
    return forced, hidden, False
