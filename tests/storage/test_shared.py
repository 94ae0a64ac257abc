"""Several processes on one database, on both engines: each "process" here is an engine
opened separately on the same SQLite file or PostgreSQL database (its own connections,
its own owner token), as separate Peerlight processes would be.

The promises: an occurrence is claimed once however many processes try at once; two
schedules sharing a rotation never get the same prompt; a member's day is counted once;
a process settles only the runs of processes that are gone; and per-server deletion and
retention leave nothing of what they delete in any table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.content import PromptKind
from bot.domain.noise import WeeklyBudget
from bot.domain.recurrence import LocalTime
from bot.sandbox.pgcluster import ThrowawayCluster
from bot.storage.checkins import CheckinStore
from bot.storage.database import Database
from bot.storage.engine import Engine
from bot.storage.postgres import PostgresEngine
from bot.storage.published import PeriodPublisher
from bot.storage.schedule_store import NewSchedule, ScheduleStore, ShardSlice
from bot.storage.server_settings import ServerSettingsStore
from bot.storage.servers import ServerRecords
from tests.conftest import fresh_pg_database

from ..helpers import record_many

Opener = Callable[[], AbstractAsyncContextManager[Engine]]
PROCESSES = 3
SERVER = 1180000000000000001
OTHER = 1180000000000000002
NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
PROMPTS = [f"prompt-{n}" for n in range(40)]


@pytest.fixture(params=["sqlite", "postgresql"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens one more engine on the same database each time it is called."""
    if request.param == "sqlite":
        path = tmp_path / "shared.sqlite3"
        yield lambda: Database.open(path)
        return
    cluster: ThrowawayCluster = request.getfixturevalue("pg_cluster")
    async with fresh_pg_database(cluster) as url:
        yield lambda: PostgresEngine.open(url, max_size=4)


async def open_all(stack: AsyncExitStack, opener: Opener, count: int) -> list[Engine]:
    return [await stack.enter_async_context(opener()) for _ in range(count)]


def schedule_for(guild_id: int, channel: int, hour: int = 9) -> NewSchedule:
    return NewSchedule(
        guild_id=guild_id,
        channel_id=channel,
        at=LocalTime(hour, 0),
        days=frozenset(range(7)),
        timezone="UTC",
        kind=PromptKind.REFLECTION,
    )


def short_ids(prefix: str) -> Callable[[], str]:
    numbers = iter(range(10_000))
    return lambda: f"{prefix}{next(numbers):04d}"


async def test_each_occurrence_is_claimed_once_by_processes_racing(opener: Opener) -> None:
    async with AsyncExitStack() as stack:
        engines = await open_all(stack, opener, PROCESSES)
        stores = [ScheduleStore(engine) for engine in engines]
        made = NOW - dt.timedelta(days=1)
        for n in range(30):
            await stores[0].add(
                schedule_for(SERVER + n % 3, 500 + n), now=made, make_short_id=short_ids(f"s{n}")
            )

        async def run_pass(store: ScheduleStore) -> list[tuple[int, str]]:
            claimed = []
            for schedule in await store.due(NOW):
                run = await store.claim(
                    schedule,
                    schedule.next_due,
                    now=NOW,
                    next_due=schedule.following(NOW),
                    prompt_ids=PROMPTS,
                )
                if run is not None:
                    claimed.append((run.schedule_key, run.prompt_id or ""))
            return claimed

        passes = await asyncio.gather(*(run_pass(store) for store in stores for _ in range(2)))
        claims = [claim for one in passes for claim in one]
        every = [s.key for g in range(SERVER, SERVER + 3) for s in await stores[0].for_guild(g)]
        assert len(every) == 30
        assert sorted(key for key, _ in claims) == sorted(every)
        # Ten schedules of one server and kind share a rotation: ten different prompts.
        by_server: dict[int, list[str]] = {}
        for key, prompt in claims:
            schedule = await stores[0].get_by_key(key)
            assert schedule is not None
            by_server.setdefault(schedule.guild_id, []).append(prompt)
        for prompts in by_server.values():
            assert len(prompts) == len(set(prompts)) == 10
        assert await stores[0].due(NOW) == []


async def test_a_members_day_is_counted_once_across_processes(opener: Opener) -> None:
    day = NOW.date()
    async with AsyncExitStack() as stack:
        engines = await open_all(stack, opener, PROCESSES)
        stores = [CheckinStore(engine) for engine in engines]
        results = await asyncio.gather(
            *(
                store.record(SERVER, day, 3, ["calm"], member_id=member)
                for member in range(40)
                for store in stores
            )
        )
        assert sum(results) == 40
        assert await stores[0].count(SERVER) == 40
        for store in stores:
            assert await store.counted_today(SERVER, 7, day)


async def test_a_starting_process_settles_only_runs_whose_process_is_gone(opener: Opener) -> None:
    async with opener() as first:
        store = ScheduleStore(first)
        schedule = await store.add(
            schedule_for(SERVER, 500), now=NOW - dt.timedelta(days=1), make_short_id=short_ids("a")
        )
        due = schedule.next_due
        run = await store.claim(
            schedule, due, now=NOW, next_due=schedule.following(NOW), prompt_ids=PROMPTS
        )
        assert run is not None
        if first.dialect == "postgresql":
            # Another process starting while the first is still posting leaves its run be.
            async with opener() as second:
                assert await ScheduleStore(second).unfinished_runs() == []
    # The first process is gone (closed without an outcome): its run is left behind.
    async with opener() as restarted:
        ((left, of),) = await ScheduleStore(restarted).unfinished_runs()
        assert (left.id, of.key) == (run.id, schedule.key)


async def everything_about(engine: Engine, guild_id: int) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every table in which the server's id appears."""
    if engine.dialect == "sqlite":
        tables = await engine.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        )
    else:
        tables = await engine.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
    found = []
    for (table,) in tables:
        for row in await engine.fetchall(f"SELECT * FROM {table}"):
            if guild_id in tuple(row):
                found.append((str(table), tuple(row)))
    return found


async def fill(engine: Engine, guild_id: int, days: list[dt.date]) -> None:
    checkins = CheckinStore(engine)
    await record_many(checkins, [(guild_id, day, 3, ["calm"]) for day in days])
    await checkins.record(guild_id, days[-1], 4, member_id=99)
    schedules = ScheduleStore(engine)
    schedule = await schedules.add(
        schedule_for(guild_id, 500), now=NOW, make_short_id=short_ids(f"g{guild_id % 100}")
    )
    await schedules.claim(schedule, schedule.next_due, now=NOW, next_due=NOW, prompt_ids=PROMPTS)
    publisher = PeriodPublisher(engine, random.Random(1))
    budget = WeeklyBudget(Fraction(3))
    mondays = sorted({day - dt.timedelta(days=day.weekday()) for day in days})
    await checkins.publish_weeks(publisher, budget, guild_id, mondays, ("calm",))
    settings = ServerSettingsStore(engine)
    await settings.load()
    await settings.set_value(guild_id, "region", "IE")
    await settings.set_roles(guild_id, [777])


async def test_a_server_that_leaves_leaves_nothing_behind(opener: Opener) -> None:
    days = [dt.date(2026, 11, 2), dt.date(2026, 11, 30)]
    async with opener() as engine:
        await fill(engine, SERVER, days)
        await fill(engine, OTHER, days)
        before_other = await everything_about(engine, OTHER)
        records = ServerRecords(engine)
        assert await records.stored() == {SERVER, OTHER}
        await records.note_absent([SERVER], NOW)
        assert set(await records.absences()) == {SERVER}
        assert {table for table, _ in await everything_about(engine, SERVER)} >= {
            "checkins",
            "schedules",
            "prompt_usage",
            "published_periods",
            "published_cells",
            "server_settings",
            "server_moderator_roles",
        }
        # What the bot does when a server removes it (bot/cogs/checkin.py).
        settings = ServerSettingsStore(engine)
        await settings.load()
        await CheckinStore(engine).delete_guild(SERVER)
        await PeriodPublisher(engine, random.Random(1)).delete_guild(SERVER)
        await ScheduleStore(engine).delete_guild(SERVER)
        await settings.delete_guild(SERVER)
        await ServerRecords(engine).forget(SERVER)
        assert await everything_about(engine, SERVER) == []
        assert await everything_about(engine, OTHER) == before_other


async def test_retention_deletes_every_servers_old_rows_and_past_days_keys(
    opener: Opener,
) -> None:
    old, recent = dt.date(2026, 8, 3), dt.date(2026, 12, 7)
    cutoff = dt.date(2026, 9, 7)
    async with opener() as engine:
        await fill(engine, SERVER, [old, recent])
        checkins = CheckinStore(engine)
        assert await checkins.delete_older_than(cutoff) == 1
        await PeriodPublisher(engine, random.Random(1)).delete_before(cutoff)
        await checkins.forget_past_days(recent + dt.timedelta(days=1))
        days = await engine.fetchall("SELECT day FROM checkins")
        assert sorted(str(r[0]) for r in days) == [recent.isoformat()] * 2
        starts = await engine.fetchall("SELECT DISTINCT period_start FROM published_periods")
        assert [str(r[0]) for r in starts] == ["2026-12-07"]
        for table in ("day_keys", "day_claims"):
            row = await engine.fetchone(f"SELECT count(*) FROM {table}")
            assert row is not None and row[0] == 0, table


def on_shard(shard: int, count: int, n: int = 0) -> int:
    """A server id that Discord places on `shard` of `count`."""
    return ((1_000 + n * count + shard) << 22) | 12345


async def test_a_process_reads_only_the_schedules_of_servers_on_its_shards(
    engine: Engine,
) -> None:
    store = ScheduleStore(engine)
    made = NOW - dt.timedelta(days=1)
    for shard in range(4):
        for n in range(2):
            await store.add(
                schedule_for(on_shard(shard, 4, n), 600 + shard),
                now=made,
                make_short_id=short_ids(f"h{shard}{n}"),
            )
    low, high = ShardSlice(4, 0, 1), ShardSlice(4, 2, 3)
    mine = await store.due(NOW, low)
    theirs = await store.due(NOW, high)
    assert len(mine) == len(theirs) == 4
    assert all(low.holds(s.guild_id) and not high.holds(s.guild_id) for s in mine)
    assert {s.key for s in mine} | {s.key for s in theirs} == {s.key for s in await store.due(NOW)}
    assert await store.earliest_due(low) == min(s.next_due for s in mine)
    # Runs left behind by a process that is gone: each slice settles its own servers'.
    gone = ScheduleStore(engine, owner="0123456789abcdef")
    for schedule in mine + theirs:
        await gone.claim(
            schedule,
            schedule.next_due,
            now=NOW,
            next_due=schedule.following(NOW),
            prompt_ids=PROMPTS,
        )
    left = await store.unfinished_runs(low)
    assert sorted(s.key for _, s in left) == sorted(s.key for s in mine)
    with pytest.raises(ValueError, match="not within"):
        ShardSlice(4, 2, 4)
