"""Schedule arithmetic and input parsing for scheduled prompts.

A schedule is a local wall-clock time, a set of weekdays and an IANA time zone. Everything
here is pure: the current instant is always passed in, so the rules can be tested at any
moment of any year, including the two nights a year when local clocks jump.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from bot.domain.errors import UserFacingError

__all__ = [
    "COMMON_TIMEZONES",
    "MAX_OCCURRENCES",
    "LocalTime",
    "ScheduleInputError",
    "describe_occurrence",
    "format_days",
    "next_occurrence",
    "occurrences",
    "parse_days",
    "parse_time",
    "parse_timezone",
    "search_timezones",
]

MAX_OCCURRENCES = 100

# Offered before the member has typed anything: the zones most members of an
# English-speaking community are likely to want, roughly west to east.
COMMON_TIMEZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Vancouver",
    "America/Halifax",
    "America/St_Johns",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
)

_DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_ALL_DAYS = frozenset(range(7))
_WEEKDAYS = frozenset(range(5))
_WEEKENDS = frozenset({5, 6})
_DAY_KEYWORDS: dict[str, frozenset[int]] = {
    "daily": _ALL_DAYS,
    "everyday": _ALL_DAYS,
    "all": _ALL_DAYS,
    "weekday": _WEEKDAYS,
    "weekdays": _WEEKDAYS,
    "weekend": _WEEKENDS,
    "weekends": _WEEKENDS,
}
# Words people put between day names ("every monday and friday") that carry no meaning.
_DAY_FILLER_WORDS = frozenset({"every", "on", "and", "&"})

# Names in the zone database that are not places: a host's own setting, a placeholder
# zone, and a file that only exists for POSIX TZ strings.
_NOT_PLACES = frozenset({"localtime", "factory", "posixrules"})

_TIME_EXAMPLE = "Try 09:00, 9:00 or 9am."
_DAYS_EXAMPLE = "Try daily, weekdays, weekends, or a list like mon, wed, fri or tue-thu."
_ZONE_EXAMPLE = "Time zones are written like Europe/London or America/New_York."

_TWELVE_HOUR = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([ap])m")
_TWENTY_FOUR_HOUR = re.compile(r"(\d{1,2}):(\d{2})")


class ScheduleInputError(UserFacingError, ValueError):
    """A moderator's schedule input could not be understood; the message is shown to them.

    A ValueError too, so code that validates input generically can catch it as one.
    """


@dataclass(frozen=True)
class LocalTime:
    """A wall-clock time of day, to the minute."""

    hour: int
    minute: int

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError(f"not a time of day: {self.hour}:{self.minute}")

    def __str__(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def as_time(self) -> time:
        return time(self.hour, self.minute)


def _quote(text: str) -> str:
    # The input is echoed back to the member; keep a pasted paragraph from flooding the reply.
    shown = text.strip()
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return f"“{shown}”"


# --- times -----------------------------------------------------------------------------


def parse_time(text: str) -> LocalTime:
    """Read a time of day written the way people write it: 09:00, 9:00, 9am, 9:30 pm, 21:15."""
    cleaned = " ".join(text.strip().lower().replace(".", "").split())
    if not cleaned:
        raise ScheduleInputError(f"Please give a time of day. {_TIME_EXAMPLE}")
    if cleaned == "noon":
        return LocalTime(12, 0)
    if cleaned == "midnight":
        return LocalTime(0, 0)

    twelve = _TWELVE_HOUR.fullmatch(cleaned)
    if twelve:
        hour, minute = int(twelve[1]), int(twelve[2] or 0)
        if 1 <= hour <= 12 and minute <= 59:
            # 12am is the start of the day and 12pm is noon.
            return LocalTime(hour % 12 + (12 if twelve[3] == "p" else 0), minute)
    else:
        twenty_four = _TWENTY_FOUR_HOUR.fullmatch(cleaned)
        if twenty_four:
            hour, minute = int(twenty_four[1]), int(twenty_four[2])
            if hour <= 23 and minute <= 59:
                return LocalTime(hour, minute)
    raise ScheduleInputError(f"{_quote(text)} isn't a time I understand. {_TIME_EXAMPLE}")


# --- days ------------------------------------------------------------------------------


def _day_index(word: str) -> int | None:
    """Monday=0 … Sunday=6 for a day name, any unambiguous prefix of it, or its plural."""
    if word == "weds":
        return 2
    if word.endswith("days"):
        word = word[:-1]
    if len(word) < 2:
        return None
    matches = [index for index, name in enumerate(_DAY_NAMES) if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def _days_in_word(word: str, original: str) -> frozenset[int]:
    if word in _DAY_KEYWORDS:
        return _DAY_KEYWORDS[word]
    if "-" in word:
        start_word, _, end_word = word.partition("-")
        start, end = _day_index(start_word), _day_index(end_word)
        if start is not None and end is not None:
            # A range may wrap past Sunday: fri-mon is Fri, Sat, Sun, Mon.
            length = (end - start) % 7 + 1
            return frozenset((start + offset) % 7 for offset in range(length))
        raise ScheduleInputError(
            f"{_quote(word)} in {_quote(original)} isn't a range of days I understand. "
            f"{_DAYS_EXAMPLE}"
        )
    index = _day_index(word)
    if index is None:
        raise ScheduleInputError(f"{_quote(word)} isn't a day I understand. {_DAYS_EXAMPLE}")
    return frozenset({index})


def parse_days(text: str) -> frozenset[int]:
    """Read which days a prompt runs on, as weekday numbers with Monday=0 … Sunday=6."""
    cleaned = text.strip().lower()
    cleaned = re.sub(r"\bevery\s+day\b", "daily", cleaned)
    cleaned = re.sub(r"\s+(?:to|through|thru|until|till)\s+", "-", cleaned)
    cleaned = re.sub(r"\s*[-–—]\s*", "-", cleaned)
    words = [
        word for word in re.split(r"[\s,;/+]+", cleaned) if word and word not in _DAY_FILLER_WORDS
    ]
    if not words:
        raise ScheduleInputError(f"Please say which days the prompt should go out. {_DAYS_EXAMPLE}")
    days: set[int] = set()
    for word in words:
        days |= _days_in_word(word, text)
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """The shortest readable name for a set of weekdays; parse_days reads it back."""
    if days == _ALL_DAYS:
        return "daily"
    if days == _WEEKDAYS:
        return "weekdays"
    if days == _WEEKENDS:
        return "weekends"
    if not days:
        return "no days"
    return ", ".join(_DAY_ABBREVIATIONS[day] for day in sorted(days))


# --- time zones ------------------------------------------------------------------------


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {
        name.lower(): name
        for name in available_timezones()
        if name.lower() not in _NOT_PLACES and not name.startswith(("posix/", "right/"))
    }


def _normalise_zone_text(text: str) -> str:
    # Members type "new york" for New_York and "europe london" for Europe/London.
    return " ".join(re.split(r"[\s_/]+", text.lower())).strip()


@functools.cache
def _searchable_zones() -> tuple[tuple[str, str, str], ...]:
    """(name, normalised name, normalised city) for the zones worth offering, rank order."""
    common = {name: rank for rank, name in enumerate(COMMON_TIMEZONES)}
    names = [
        name
        for name in _zones_by_lower_name().values()
        # Etc/GMT+5 means UTC-5 (POSIX signs) and the bare names (EST, Cuba, GB) are
        # legacy aliases; offering them invites mistakes when a place name exists.
        if ("/" in name and not name.startswith("Etc/")) or name == "UTC"
    ]
    names.sort(key=lambda name: (common.get(name, len(common)), name))
    return tuple(
        (name, _normalise_zone_text(name), _normalise_zone_text(name.rsplit("/", 1)[-1]))
        for name in names
    )


def search_timezones(query: str, limit: int = 25) -> list[str]:
    """Zone names matching what a member has typed so far, best first, for autocomplete."""
    if limit <= 0:
        return []
    wanted = _normalise_zone_text(query)
    available = _zones_by_lower_name()
    if not wanted:
        return [name for name in COMMON_TIMEZONES if name.lower() in available][:limit]
    prefix_matches: list[str] = []
    substring_matches: list[str] = []
    for name, normalised, city in _searchable_zones():
        if normalised.startswith(wanted) or city.startswith(wanted):
            prefix_matches.append(name)
            if len(prefix_matches) >= limit:
                break
        elif len(substring_matches) < limit and wanted in normalised:
            substring_matches.append(name)
    return (prefix_matches + substring_matches)[:limit]


def _suggest_timezones(text: str) -> list[str]:
    found = search_timezones(text, limit=3)
    if found:
        return found
    wanted = _normalise_zone_text(text)
    by_normalised = {normalised: name for name, normalised, _ in _searchable_zones()}
    by_city = {city: name for name, _, city in _searchable_zones()}
    close = difflib.get_close_matches(wanted, list(by_normalised), n=3, cutoff=0.6)
    close_cities = difflib.get_close_matches(wanted, list(by_city), n=3, cutoff=0.6)
    suggestions = [by_normalised[match] for match in close]
    suggestions += [by_city[match] for match in close_cities if by_city[match] not in suggestions]
    return suggestions[:3]


# Abbreviations people write for a time zone, and the places they may mean. The zone
# database has some of them (EST, MST, HST, EST5EDT …) as fixed offsets or US rules from
# decades ago; a schedule in "EST" would be an hour off all summer in New York. Others mean
# different places to different people (CST is Chicago, Havana or Shanghai).
ZONE_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "ET": ("America/New_York", "America/Toronto"),
    "EST": ("America/New_York", "America/Toronto", "America/Detroit"),
    "EDT": ("America/New_York", "America/Toronto", "America/Detroit"),
    "EST5EDT": ("America/New_York",),
    "CT": ("America/Chicago", "America/Winnipeg"),
    "CST": ("America/Chicago", "America/Mexico_City", "Asia/Shanghai", "America/Havana"),
    "CDT": ("America/Chicago", "America/Winnipeg"),
    "CST6CDT": ("America/Chicago",),
    "MT": ("America/Denver", "America/Edmonton"),
    "MST": ("America/Denver", "America/Phoenix", "America/Edmonton"),
    "MDT": ("America/Denver", "America/Edmonton"),
    "MST7MDT": ("America/Denver",),
    "PT": ("America/Los_Angeles", "America/Vancouver"),
    "PST": ("America/Los_Angeles", "America/Vancouver"),
    "PDT": ("America/Los_Angeles", "America/Vancouver"),
    "PST8PDT": ("America/Los_Angeles",),
    "AKST": ("America/Anchorage",),
    "AKDT": ("America/Anchorage",),
    "HST": ("Pacific/Honolulu",),
    "AST": ("America/Halifax", "America/Puerto_Rico", "Asia/Riyadh"),
    "NST": ("America/St_Johns",),
    "GMT": ("Europe/London", "UTC"),
    "BST": ("Europe/London",),
    "IST": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "WET": ("Europe/Lisbon",),
    "CET": ("Europe/Paris", "Europe/Berlin", "Europe/Madrid"),
    "CEST": ("Europe/Paris", "Europe/Berlin", "Europe/Madrid"),
    "MET": ("Europe/Paris", "Europe/Berlin"),
    "EET": ("Europe/Athens", "Europe/Helsinki", "Africa/Cairo"),
    "EEST": ("Europe/Athens", "Europe/Helsinki"),
    "MSK": ("Europe/Moscow",),
    "SAST": ("Africa/Johannesburg",),
    "WAT": ("Africa/Lagos",),
    "EAT": ("Africa/Nairobi",),
    "PKT": ("Asia/Karachi",),
    "HKT": ("Asia/Hong_Kong",),
    "SGT": ("Asia/Singapore",),
    "PHT": ("Asia/Manila",),
    "JST": ("Asia/Tokyo",),
    "KST": ("Asia/Seoul",),
    "AWST": ("Australia/Perth",),
    "ACST": ("Australia/Adelaide", "Australia/Darwin"),
    "AEST": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"),
    "AEDT": ("Australia/Sydney", "Australia/Melbourne"),
    "NZST": ("Pacific/Auckland",),
    "NZDT": ("Pacific/Auckland",),
}


def _one_of(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def parse_timezone(name: str) -> ZoneInfo:
    """The IANA time zone a moderator named, in any letter case ("america/new_york").

    Abbreviations (EST, CET …) and the database's old fixed-offset names are refused with
    the place names they may mean, so a schedule follows daylight saving where it should.
    """
    cleaned = "_".join(name.strip().split())
    if not cleaned:
        raise ScheduleInputError(f"Please give a time zone. {_ZONE_EXAMPLE}")
    meant = ZONE_ABBREVIATIONS.get(cleaned.upper())
    if meant is not None:
        raise ScheduleInputError(
            f"{_quote(name)} is an abbreviation, and abbreviations don't say when daylight "
            f"saving starts. Use the place name: {_one_of(meant)}. {_ZONE_EXAMPLE}"
        )
    canonical = _zones_by_lower_name().get(cleaned.lower())
    if canonical is not None and ("/" in canonical or canonical == "UTC"):
        return ZoneInfo(canonical)
    if canonical is not None:
        # An old alias (GB, Cuba, Japan, EST5EDT …): the place form says the same clearly.
        suggestions = _suggest_timezones(name)
        hint = f"Use a place name such as {_one_of(suggestions)}. " if suggestions else ""
        raise ScheduleInputError(
            f"{_quote(name)} is an old name for a time zone. {hint}{_ZONE_EXAMPLE}"
        )
    suggestions = _suggest_timezones(name)
    if suggestions:
        options = ", ".join(suggestions[:-1]) + " or " if len(suggestions) > 1 else ""
        hint = f"Did you mean {options}{suggestions[-1]}? "
    else:
        hint = "Start typing a city and pick from the list. "
    raise ScheduleInputError(f"{_quote(name)} isn't a time zone I know. {hint}{_ZONE_EXAMPLE}")


# --- occurrences -----------------------------------------------------------------------


def _wall_clock_exists(wall: datetime, tz: ZoneInfo) -> bool:
    # zoneinfo happily builds a datetime for a wall time inside a spring-forward gap; only
    # a round trip through UTC reveals that the clock never shows it.
    aware = wall.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def _first_instant_showing(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant at which the local clock shows `wall` or, if it never does, the
    first whole minute it shows after skipping past it."""
    if _wall_clock_exists(wall, tz):
        # fold=0 picks the earlier of two instants when the clock falls back.
        return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    # Interpreted with the offset from before the jump, the missing time lands the same
    # distance past the end of the gap, so the end of the gap is between the two.
    beyond = wall.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    missing, existing = 0, max(1, -(-int((beyond - wall).total_seconds()) // 60))
    while existing - missing > 1:
        middle = (missing + existing) // 2
        if _wall_clock_exists(wall + timedelta(minutes=middle), tz):
            existing = middle
        else:
            missing = middle
    return (wall + timedelta(minutes=existing)).replace(tzinfo=tz).astimezone(UTC)


def _check_schedule(after: datetime, days: frozenset[int]) -> None:
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("`after` must be an aware datetime")
    if not days:
        raise ValueError("a schedule needs at least one day")
    if not days <= _ALL_DAYS:
        raise ValueError(f"weekdays are numbered 0 (Monday) to 6 (Sunday), got {sorted(days)}")


def next_occurrence(after: datetime, at: LocalTime, days: frozenset[int], tz: ZoneInfo) -> datetime:
    """The first instant strictly after `after` at which a prompt scheduled for `at` on
    `days` (local weekdays in `tz`) should go out, in UTC.

    A time skipped by a spring-forward jump goes out at the first minute the clock shows
    after the jump; a time shown twice when clocks fall back goes out only the first time.
    """
    _check_schedule(after, days)
    after_utc = after.astimezone(UTC)
    # Start a day early: a time skipped just before midnight is posted early the next day.
    day: date = after_utc.astimezone(tz).date() - timedelta(days=1)
    # Every weekday comes round within a week, and each day's instant is later than the
    # previous day's, so two weeks of candidates always contain the answer.
    for _ in range(16):
        if day.weekday() in days:
            candidate = _first_instant_showing(datetime.combine(day, at.as_time()), tz)
            if candidate > after_utc:
                return candidate
        day += timedelta(days=1)
    raise AssertionError("no occurrence within two weeks")  # pragma: no cover


def occurrences(
    after: datetime, at: LocalTime, days: frozenset[int], tz: ZoneInfo, count: int
) -> list[datetime]:
    """The next `count` instants (at most MAX_OCCURRENCES) a prompt goes out, in UTC."""
    if not 0 <= count <= MAX_OCCURRENCES:
        raise ValueError(f"count must be between 0 and {MAX_OCCURRENCES}, got {count}")
    _check_schedule(after, days)
    found: list[datetime] = []
    moment = after
    for _ in range(count):
        moment = next_occurrence(moment, at, days, tz)
        found.append(moment)
    return found


def _zone_abbreviation(local: datetime) -> str:
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    # Zones without a customary abbreviation are named by their offset ("+1030");
    # spell that as members expect to read it.
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def describe_occurrence(moment: datetime, tz: ZoneInfo) -> str:
    """A moment as local time for people reading it: "Mon 9 Mar 2026, 09:00 EDT"."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("`moment` must be an aware datetime")
    local = moment.astimezone(tz)
    return (
        f"{_DAY_ABBREVIATIONS[local.weekday()]} {local.day} "
        f"{_MONTH_ABBREVIATIONS[local.month - 1]} {local.year}, "
        f"{local.hour:02d}:{local.minute:02d} {_zone_abbreviation(local)}"
    )
