"""A living community for the demo: a simulated month of anonymous check-ins.

`peerlight demo --community`, and `seed` typed in the demo, fill the demo server with the
check-ins a server of `MEMBERS` members would have made over the last completed weeks, so
that a moderator's `/summary` has something to show: counts, cells hidden because too few
members are in them, and the weekly chart.

Nothing here writes SQL. A simulated clock walks from the first day to yesterday; at each
moment a member checks in, the check-in goes through `CheckinStore.record` with the
member's id, exactly as `/checkin` records one, so the one-a-day rule (SAFETY.md §3) holds:
a member who taps twice in a day is counted once. The store keeps no member id (only the
day's claim, a keyed hash whose key is deleted with the day); when the month is written,
the past days' keys and claims are deleted as the daily maintenance would.

Nothing is published here either: the weeks that are over are published the normal way,
by the first `/summary` (noisy counts computed once and stored, SAFETY.md §4). So a month
can be seeded only before anything of those weeks is published, and only once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain.checkins import MAX_FEELINGS
from bot.domain.periods import completed_weeks
from bot.storage.checkins import MOOD_SERIES, CheckinStore
from bot.storage.published import PeriodPublisher

__all__ = [
    "MEMBERS",
    "WEEKS",
    "SeedRefused",
    "SeedReport",
    "SimulatedClock",
    "seed_community",
]

# The size of the simulated server, and how many completed weeks it has been active. Four
# weeks are the default /summary window (30 days); the days of the week in progress, up to
# yesterday, are seeded too, as a real server would have them.
MEMBERS = 40
WEEKS = 4
# Each day a member checks in with a chance between these, a little less at weekends.
TURN_UP = (0.35, 0.8)
WEEKEND = 0.7
# How often a member taps /checkin a second time the same day (not counted).
TWICE = 0.06
# Moods people rarely pick: "awful" (1) is rare, so it stays hidden in short windows.
AWFUL = 0.015


class SeedRefused(Exception):
    """The month cannot be seeded (already seeded, or its weeks already published)."""


@dataclass
class SimulatedClock:
    """A clock the seeding moves forward by hand; it never reads the real time."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance_to(self, moment: dt.datetime) -> None:
        if moment < self.now:
            raise ValueError(f"a simulated clock only moves forward, not back to {moment}")
        self.now = moment


@dataclass(frozen=True)
class SeedReport:
    members: int
    first_day: dt.date
    last_day: dt.date
    stored: int
    # Second check-ins the same day, refused by the one-a-day rule.
    refused: int
    per_day: dict[dt.date, int] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def describe(self) -> str:
        return (
            f"Seeded this server with {self.days} days of check-ins "
            f"({self.first_day:%-d %b} to {self.last_day:%-d %b %Y}) from {self.members} "
            f"simulated members: {self.stored} check-ins counted, {self.refused} second "
            "check-ins the same day not counted (one a day). Type “as moderator”, then "
            "/summary."
        )


@dataclass
class _Member:
    member_id: int
    turn_up: float
    mood: float
    feelings: tuple[str, ...]


def _members(rng: random.Random, count: int, feelings: Sequence[str]) -> list[_Member]:
    members = []
    # A few feelings most members name, the rest named by few: those stay hidden.
    common = list(feelings[: max(1, len(feelings) // 2)])
    for _ in range(count):
        own = rng.sample(common, k=min(3, len(common)))
        if feelings and rng.random() < 0.15:
            own.append(rng.choice(list(feelings)))
        members.append(
            _Member(
                # Ids in the range Discord's snowflakes use, none of them a sandbox member.
                member_id=rng.randrange(10**17, 10**18),
                turn_up=rng.uniform(*TURN_UP),
                mood=rng.uniform(2.4, 4.2),
                feelings=tuple(own),
            )
        )
    return members


def _mood(rng: random.Random, member: _Member, day: dt.date, first: dt.date) -> int:
    if rng.random() < AWFUL:
        return 1
    # Mondays a little lower, and the month slowly better, so the weeks differ.
    drift = 0.3 * (day - first).days / 30 - (0.4 if day.weekday() == 0 else 0.0)
    return max(2, min(5, round(rng.gauss(member.mood + drift, 0.8))))


def _feelings(rng: random.Random, member: _Member) -> list[str]:
    if not member.feelings or rng.random() < 0.25:
        return []  # skipped the feelings
    return rng.sample(member.feelings, k=rng.randint(1, min(MAX_FEELINGS, len(member.feelings))))


async def seed_community(
    store: CheckinStore,
    guild_id: int,
    today: dt.date,
    feelings: Sequence[str],
    *,
    publisher: PeriodPublisher | None = None,
    members: int = MEMBERS,
    weeks: int = WEEKS,
    rng: random.Random | None = None,
) -> SeedReport:
    """Record a simulated month of check-ins in this server, from the Monday `weeks`
    completed weeks before `today` to yesterday, through `store.record` with each
    member's id (one counted a day). Raises SeedRefused, saying why, when the server
    already has check-ins on those days or (given `publisher`) a week of them is
    already published."""
    rng = rng or random.Random(2026)
    first = completed_weeks(today, weeks)[0]
    last = today - dt.timedelta(days=1)
    days = (last - first).days + 1
    existing = await store.window(guild_id, last, days)
    if sum(existing.moods.values()):
        raise SeedRefused(
            "this server already has check-ins from the last few weeks, so it is seeded "
            "already; to start again, quit and run `peerlight demo --community`"
        )
    if publisher is not None:
        published = await publisher.read(guild_id, MOOD_SERIES, completed_weeks(today, weeks))
        if published:
            raise SeedRefused(
                "a /summary has already published the last weeks for this server, and a "
                "published week is never counted again (its noise is added once), so new "
                "check-ins would not show; quit and run `peerlight demo --community`, then "
                "seed before the first /summary"
            )
    people = _members(rng, members, sorted(feelings))
    clock = SimulatedClock(dt.datetime.combine(first, dt.time(), dt.UTC))
    per_day: dict[dt.date, int] = {}
    refused = 0
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
        chance = WEEKEND if day.weekday() >= 5 else 1.0
        taps: list[tuple[dt.datetime, _Member]] = []
        for member in people:
            if rng.random() < member.turn_up * chance:
                taps.append((midnight + dt.timedelta(seconds=rng.randrange(86_400)), member))
                if rng.random() < TWICE:
                    taps.append((midnight + dt.timedelta(seconds=rng.randrange(86_400)), member))
        taps.sort(key=lambda tap: tap[0])
        # The day's check-ins are handed to the store as they happen on the simulated clock;
        # they share the store's group commits, so a month takes a few transactions a day.
        pending = []
        for moment, member in taps:
            clock.advance_to(moment)
            pending.append(
                store.record(
                    guild_id,
                    clock().date(),
                    _mood(rng, member, day, first),
                    _feelings(rng, member),
                    member_id=member.member_id,
                )
            )
        counted = await asyncio.gather(*pending)
        per_day[day] = sum(counted)
        refused += len(counted) - sum(counted)
    # What the daily maintenance does: the past days' keys and claims go.
    await store.forget_past_days(today)
    return SeedReport(
        members=members,
        first_day=first,
        last_day=last,
        stored=sum(per_day.values()),
        refused=refused,
        per_day=per_day,
    )
