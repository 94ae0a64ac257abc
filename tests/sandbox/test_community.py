"""The demo's simulated community (`bot.sandbox.community`), on a real SQLite file: a month
of check-ins through the store's own record path, one counted per member per UTC day, no
member id kept, nothing published until a /summary asks."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.noise import WeeklyBudget
from bot.domain.periods import completed_weeks
from bot.sandbox import community
from bot.sandbox.community import SeedRefused, SimulatedClock, seed_community
from bot.storage.checkins import CheckinStore
from bot.storage.database import Database
from bot.storage.published import PeriodPublisher

SERVER = 1180000000000000001
TODAY = dt.date(2026, 12, 9)  # a Wednesday
FEELINGS = ("anxious", "calm", "grateful", "hopeful", "lonely", "tired")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "community.sqlite3") as db:
        yield db


class Spy(CheckinStore):
    """The real store, noting each member id handed to `record`."""

    member_ids: set[int]

    async def record(self, *args: object, member_id: int | None = None, **kw: object) -> bool:  # type: ignore[override]
        assert member_id is not None, "every simulated check-in names its member"
        self.member_ids.add(member_id)
        return await super().record(*args, member_id=member_id, **kw)  # type: ignore[arg-type]


def spy(database: Database) -> Spy:
    store = Spy(database)
    store.member_ids = set()
    return store


async def per_day(store: CheckinStore, first: dt.date, last: dt.date) -> dict[dt.date, int]:
    counts = {}
    day = first
    while day <= last:
        counts[day] = sum((await store.window(SERVER, day, 1)).moods.values())
        day += dt.timedelta(days=1)
    return counts


async def test_a_month_of_check_ins_lands_on_every_day_within_the_limit(
    database: Database,
) -> None:
    store = spy(database)
    report = await seed_community(store, SERVER, TODAY, FEELINGS)
    # From the Monday four completed weeks back to yesterday: 4 weeks and 2 days.
    assert report.first_day == completed_weeks(TODAY, 4)[0] == dt.date(2026, 11, 9)
    assert report.last_day == TODAY - dt.timedelta(days=1)
    assert report.days == 30
    assert len(store.member_ids) == report.members == community.MEMBERS
    stored = await per_day(store, report.first_day, report.last_day)
    assert stored == report.per_day
    assert all(0 < count <= report.members for count in stored.values())
    assert sum(stored.values()) == report.stored == await store.count(SERVER) > 500
    # Some members tapped twice in a day; the store counted them once.
    assert report.refused > 0
    # Nothing today: a demo member's own check-in today is the first of the day.
    assert await store.count(SERVER) == sum(
        (await store.window(SERVER, report.last_day, report.days)).moods.values()
    )


async def test_every_member_tapping_twice_a_day_is_counted_once_a_day(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(community, "TURN_UP", (1.0, 1.0))
    monkeypatch.setattr(community, "WEEKEND", 1.0)
    monkeypatch.setattr(community, "TWICE", 1.0)
    store = CheckinStore(database)
    report = await seed_community(store, SERVER, TODAY, FEELINGS, members=12)
    assert set((await per_day(store, report.first_day, report.last_day)).values()) == {12}
    assert report.stored == 12 * report.days
    assert report.refused == 12 * report.days


async def test_no_member_id_is_kept_anywhere(database: Database) -> None:
    store = spy(database)
    await seed_community(store, SERVER, TODAY, FEELINGS)
    ids = {str(member) for member in store.member_ids}
    tables = [
        row[0]
        for row in await database.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    assert "checkins" in tables and "day_claims" in tables
    scanned = 0
    for table in tables:
        for row in await database.fetchall(f'SELECT * FROM "{table}"'):
            for value in row:
                text = value.hex() if isinstance(value, bytes) else str(value)
                assert not any(member in text for member in ids), (table, value)
                scanned += 1
    assert scanned > 1000
    # The days' claims and keys went with the days, as the daily maintenance deletes them.
    assert await database.fetchall("SELECT * FROM day_claims") == []
    assert await database.fetchall("SELECT * FROM day_keys") == []


async def test_the_weeks_are_left_for_summary_to_publish_and_seeding_happens_once(
    database: Database,
) -> None:
    store = CheckinStore(database)
    publisher = PeriodPublisher(database, random.Random(1))
    report = await seed_community(store, SERVER, TODAY, FEELINGS, publisher=publisher)
    assert await database.fetchall("SELECT * FROM published_periods") == []
    with pytest.raises(SeedRefused, match="seeded already"):
        await seed_community(store, SERVER, TODAY, FEELINGS, publisher=publisher)
    assert await store.count(SERVER) == report.stored
    # Published the normal way, the four completed weeks hold what was seeded, plus noise.
    mondays = completed_weeks(TODAY, 4)
    published = await store.publish_weeks(
        publisher, WeeklyBudget(Fraction(3)), SERVER, mondays, FEELINGS, 10
    )
    assert published == 4
    weeks = await store.published_weeks(publisher, SERVER, mondays)
    noisy = sum(sum(moods.values()) for moods, _ in weeks.values())
    week_over = mondays[-1] + dt.timedelta(days=7)
    seeded_in_weeks = sum(n for day, n in report.per_day.items() if day < week_over)
    assert abs(noisy - seeded_in_weeks) < 150


async def test_a_server_whose_weeks_were_published_is_not_seeded(database: Database) -> None:
    store = CheckinStore(database)
    publisher = PeriodPublisher(database, random.Random(1))
    await store.publish_weeks(
        publisher, WeeklyBudget(Fraction(3)), SERVER, completed_weeks(TODAY, 4), FEELINGS
    )
    with pytest.raises(SeedRefused, match="already published"):
        await seed_community(store, SERVER, TODAY, FEELINGS, publisher=publisher)
    assert await store.count(SERVER) == 0


def test_the_simulated_clock_only_moves_forward() -> None:
    start = dt.datetime(2026, 11, 9, tzinfo=dt.UTC)
    clock = SimulatedClock(start)
    clock.advance_to(start + dt.timedelta(hours=3))
    assert clock() == start + dt.timedelta(hours=3)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance_to(start)
