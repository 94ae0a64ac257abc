"""CheckinStore on both engines (the `engine` fixture: a real SQLite file, then a real
PostgreSQL database): what a row may hold, writing many at once, windows, weeks and
deletion. The few tests about SQLite's own files and plans use `sqlite_database`."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.checkins import WindowData
from bot.storage import checkins as checkins_module
from bot.storage.checkins import CheckinStore, week_start
from bot.storage.database import Database
from bot.storage.engine import DATABASE_ERRORS, Engine

from ..helpers import record_many

SERVER = 1180000000000000001
OTHER_SERVER = 1180000000000000002
TODAY = dt.date(2025, 6, 18)  # a Wednesday


@pytest.fixture
def database(engine: Engine) -> Engine:
    return engine


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "checkins.sqlite3") as db:
        yield db


@pytest.fixture
def store(database: Engine) -> CheckinStore:
    return CheckinStore(database)


async def columns(database: Engine) -> list[str]:
    if database.dialect == "sqlite":
        return [r[1] for r in await database.fetchall("PRAGMA table_info(checkins)")]
    found = await database.fetchall(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'checkins' ORDER BY ordinal_position"
    )
    return [r[0] for r in found]


async def rows(database: Engine) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await database.fetchall("SELECT * FROM checkins")]


# -- what a row holds -----------------------------------------------------------------------


async def test_a_row_holds_a_random_id_the_server_the_day_the_mood_and_feelings(
    database: Engine, store: CheckinStore
) -> None:
    assert await columns(database) == ["id", "guild_id", "day", "mood", "feelings"]
    await store.record(SERVER, TODAY, 2, ["tired", "anxious"])
    ((row_id, guild_id, day, mood, feelings),) = await rows(database)
    assert isinstance(row_id, bytes) and len(row_id) == 16
    assert (guild_id, day, mood) == (SERVER, "2025-06-18", 2)
    assert feelings == "anxious tired"  # sorted: the order they were picked is not kept


async def test_the_table_is_strict_and_has_no_rowid(sqlite_database: Engine) -> None:
    row = await sqlite_database.fetchone(
        "SELECT strict, wr FROM pragma_table_list WHERE name = 'checkins'"
    )
    assert row is not None and tuple(row) == (1, 1)
    with pytest.raises(sqlite3.OperationalError, match="rowid"):
        await sqlite_database.fetchall("SELECT rowid FROM checkins")


async def test_stored_order_does_not_follow_the_order_of_check_ins(
    database: Engine, store: CheckinStore
) -> None:
    for n in range(40):
        await store.record(SERVER, TODAY - dt.timedelta(days=n), 1 + n % 5)
    stored = [r[0] for r in await database.fetchall("SELECT day FROM checkins ORDER BY id")]
    inserted = [(TODAY - dt.timedelta(days=n)).isoformat() for n in range(40)]
    assert sorted(stored) == sorted(inserted)
    assert stored != inserted and stored != sorted(inserted)
    ids = [r[0] for r in await database.fetchall("SELECT id FROM checkins")]
    assert len(set(ids)) == 40


@pytest.mark.parametrize(
    ("mood", "feelings", "error"),
    [
        (0, (), ValueError),
        (6, (), ValueError),
        (3, ("a", "b", "c", "d"), ValueError),
        (3, ("I feel awful today",), ValueError),
        (3, ("Anxious",), ValueError),
    ],
)
async def test_anything_but_a_mood_and_feeling_ids_is_refused(
    database: Engine,
    store: CheckinStore,
    mood: int,
    feelings: tuple[str, ...],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await store.record(SERVER, TODAY, mood, feelings)
    assert await rows(database) == []


async def test_a_time_of_day_is_never_stored(database: Engine, store: CheckinStore) -> None:
    moment = dt.datetime(2025, 6, 18, 9, 41, 7, tzinfo=dt.UTC)
    with pytest.raises(TypeError, match="date"):
        await store.record(SERVER, moment, 3)
    assert await rows(database) == []


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("day", "2025-06-18 09:41:07"),
        ("day", "2025-13-01"),
        ("day", "18/06/2025"),
        ("mood", 6),
        ("feelings", "I feel awful"),
        ("feelings", "anxious tired low numb"),
        ("feelings", "Anxious"),
        ("id", b"short"),
    ],
)
async def test_the_schema_itself_refuses_what_does_not_belong(
    database: Engine, column: str, value: object
) -> None:
    row: dict[str, object] = {
        "id": b"\x01" * 16,
        "guild_id": SERVER,
        "day": "2025-06-18",
        "mood": 3,
        "feelings": "",
    }
    row[column] = value
    with pytest.raises(DATABASE_ERRORS):
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO checkins VALUES (?, ?, ?, ?, ?)", list(row.values()))
    assert await rows(database) == []


# -- many at once ---------------------------------------------------------------------------

WRITER = "peerlight-checkin-writer"


def count_transactions(database: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many writes (each one atomic statement) were made, and the rows each held."""
    opened: list[int] = []
    execute_alone = database.execute_alone

    async def counting(sql: str, params: Any = ()) -> None:
        if sql.startswith("INSERT INTO checkins"):
            opened.append(sql.count("(?, ?, ?, ?, ?)"))
        await execute_alone(sql, params)

    monkeypatch.setattr(database, "execute_alone", counting)
    return opened


def writers() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == WRITER]


async def test_check_ins_arriving_together_share_one_transaction(
    database: Engine, store: CheckinStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = count_transactions(database, monkeypatch)
    await asyncio.gather(*(store.record(SERVER, TODAY, 1 + n % 5, ["calm"]) for n in range(50)))
    assert opened == [50]
    assert await store.count(SERVER) == 50
    # One after another, each has a transaction of its own.
    await store.record(SERVER, TODAY, 3)
    await store.record(SERVER, TODAY, 4)
    assert opened == [50, 1, 1]


async def test_a_transaction_holds_at_most_a_batch(
    database: Engine, store: CheckinStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkins_module, "WRITE_BATCH", 3)
    opened = count_transactions(database, monkeypatch)
    await asyncio.gather(*(store.record(SERVER, TODAY, 3) for _ in range(7)))
    assert opened == [3, 3, 1]
    assert await store.count() == 7


async def test_record_returns_only_once_its_row_is_committed(
    sqlite_database: Engine,
) -> None:
    store = CheckinStore(sqlite_database)
    # Read by another connection, which sees committed rows only.
    reader = sqlite3.connect(f"file:{sqlite_database.path}?mode=ro", uri=True)
    seen: list[tuple[int, int]] = []

    def committed_when_done(task: asyncio.Task[None]) -> None:
        (count,) = reader.execute("SELECT count(*) FROM checkins").fetchone()
        seen.append((len(seen) + 1, count))

    try:
        tasks = [asyncio.create_task(store.record(SERVER, TODAY, 2)) for _ in range(20)]
        for task in tasks:
            task.add_done_callback(committed_when_done)
        await asyncio.gather(*tasks)
        await asyncio.sleep(0)
    finally:
        reader.close()
    assert len(seen) == 20
    assert all(count >= done for done, count in seen)


async def test_check_ins_are_answered_in_the_order_they_arrived(store: CheckinStore) -> None:
    finished: list[int] = []

    async def check_in(number: int) -> None:
        await store.record(SERVER, TODAY, 1 + number % 5)
        finished.append(number)

    await asyncio.gather(*(check_in(n) for n in range(30)))
    assert finished == list(range(30))


async def test_a_failed_transaction_fails_every_check_in_in_it(
    database: Engine, store: CheckinStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(sql: str, params: Any = ()) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(database, "execute_alone", failing)
    results = await asyncio.gather(
        *(store.record(SERVER, TODAY, 3) for _ in range(5)), return_exceptions=True
    )
    assert [type(r) for r in results] == [sqlite3.OperationalError] * 5
    assert await rows(database) == []
    monkeypatch.undo()
    # Nothing is left waiting, and the next check-in is stored as usual.
    await store.record(SERVER, TODAY, 4)
    assert await store.count() == 1


async def test_a_refused_check_in_does_not_hold_up_the_others(
    database: Engine, store: CheckinStore
) -> None:
    results = await asyncio.gather(
        store.record(SERVER, TODAY, 2),
        store.record(SERVER, TODAY, 9),
        store.record(SERVER, TODAY, 4, ["not a feeling"]),
        store.record(SERVER, TODAY, 5),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [bool, ValueError, ValueError, bool]
    assert sorted(r[3] for r in await rows(database)) == [2, 5]


async def test_no_writer_outlives_the_check_ins_it_writes(store: CheckinStore) -> None:
    assert writers() == []
    waiting = [asyncio.create_task(store.record(SERVER, TODAY, 3)) for _ in range(10)]
    await asyncio.sleep(0)
    assert len(writers()) == 1
    await store.aclose()
    assert all(task.done() for task in waiting)
    await asyncio.gather(*waiting)
    assert writers() == []
    assert await store.count() == 10
    await store.aclose()  # nothing to wait for


async def test_a_check_in_whose_member_gave_up_is_still_stored_once(
    store: CheckinStore,
) -> None:
    abandoned = asyncio.create_task(store.record(SERVER, TODAY, 1))
    kept = asyncio.create_task(store.record(SERVER, TODAY, 5))
    await asyncio.sleep(0)
    abandoned.cancel()
    await kept
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    await store.aclose()
    assert await store.count() == 2


# -- windows --------------------------------------------------------------------------------


async def test_a_window_counts_its_days_and_the_same_number_of_days_before(
    store: CheckinStore,
) -> None:
    start = TODAY - dt.timedelta(days=6)
    await record_many(
        store,
        [
            (SERVER, TODAY, 5, ["calm"]),  # last day of the window
            (SERVER, start, 4, ["calm", "hopeful"]),  # first day
            (SERVER, start - dt.timedelta(days=1), 1, ["low"]),  # previous window, last day
            (SERVER, start - dt.timedelta(days=7), 2, []),  # previous window, first day
            (SERVER, start - dt.timedelta(days=8), 3, []),  # before both
            (SERVER, TODAY + dt.timedelta(days=1), 3, []),  # after the window
            (OTHER_SERVER, TODAY, 1, ["calm"]),  # another server
        ],
    )
    data = await store.window(SERVER, TODAY, 7)
    assert isinstance(data, WindowData)
    assert data.days == 7
    assert dict(data.moods) == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert dict(data.previous_moods) == {1: 1, 2: 1, 3: 0, 4: 0, 5: 0}
    assert dict(data.feelings) == {"calm": 2, "hopeful": 1}


async def test_weeks_start_on_monday_cover_the_window_and_add_up(store: CheckinStore) -> None:
    days = 30
    start = TODAY - dt.timedelta(days=days - 1)
    await record_many(
        store,
        (
            (SERVER, start + dt.timedelta(days=n), 1 + n % 5, ["tired"] if n % 2 else [])
            for n in range(days)
        ),
    )
    data = await store.window(SERVER, TODAY, days)
    starts = [week for week, _ in data.weekly]
    assert starts[0] == week_start(start) and starts[-1] == week_start(TODAY)
    assert all(week.weekday() == 0 for week in starts)
    assert [b - a for a, b in itertools.pairwise(starts)] == [dt.timedelta(days=7)] * (
        len(starts) - 1
    )
    for mood in range(1, 6):
        assert sum(counts[mood] for _, counts in data.weekly) == data.moods[mood]
    assert sum(data.moods.values()) == days
    assert data.feelings == {"tired": 15}


async def test_an_empty_window_still_has_its_weeks(store: CheckinStore) -> None:
    data = await store.window(SERVER, TODAY, 7)
    assert sum(data.moods.values()) == 0
    # Wednesday to Tuesday: two weeks, each with zero check-ins.
    assert [week for week, _ in data.weekly] == [
        week_start(TODAY - dt.timedelta(days=6)),
        week_start(TODAY),
    ]
    assert all(sum(counts.values()) == 0 for _, counts in data.weekly)


async def test_summary_queries_read_the_covering_index(sqlite_database: Engine) -> None:
    plans = [
        await sqlite_database.fetchall(
            f"EXPLAIN QUERY PLAN SELECT {select} FROM checkins "
            "WHERE guild_id = ? AND day >= ? AND day <= ? GROUP BY " + group,
            (SERVER, "2025-01-01", "2025-03-31"),
        )
        for select, group in (
            ("day, mood, count(*)", "day, mood"),
            ("feelings, count(*)", "feelings"),
        )
    ]
    for plan in plans:
        assert any("COVERING INDEX checkins_by_server_day" in str(step[3]) for step in plan), plan


# -- deletion -------------------------------------------------------------------------------


async def test_delete_older_than_keeps_that_day_and_later(store: CheckinStore) -> None:
    cutoff = TODAY - dt.timedelta(days=90)
    await record_many(
        store,
        [
            (SERVER, cutoff - dt.timedelta(days=1), 3, []),
            (OTHER_SERVER, cutoff - dt.timedelta(days=40), 3, []),
            (SERVER, cutoff, 3, []),
            (OTHER_SERVER, TODAY, 3, []),
        ],
    )
    assert await store.delete_older_than(cutoff) == 2
    assert await store.count() == 2
    assert await store.delete_older_than(cutoff) == 0


async def test_delete_guild_removes_only_that_server(store: CheckinStore) -> None:
    await record_many(
        store, [(SERVER, TODAY, 3, []), (SERVER, TODAY, 4, []), (OTHER_SERVER, TODAY, 2, [])]
    )
    assert await store.delete_guild(SERVER) == 2
    assert await store.count(SERVER) == 0
    assert await store.count(OTHER_SERVER) == 1


async def test_large_deletions_go_in_batches(
    store: CheckinStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkins_module, "DELETE_BATCH", 3)
    await record_many(store, [(SERVER, TODAY - dt.timedelta(days=100), 3, [])] * 7)
    await record_many(store, [(OTHER_SERVER, TODAY, 3, [])] * 6)
    assert await store.delete_older_than(TODAY - dt.timedelta(days=90)) == 7
    assert await store.delete_guild(OTHER_SERVER) == 6
    assert await store.count() == 0
