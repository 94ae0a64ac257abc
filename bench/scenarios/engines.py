"""The storage engines side by side: members' check-ins and scheduled claims written
through the stores, on a SQLite file and on PostgreSQL (a throwaway cluster on this
machine), and on PostgreSQL shared by two engines as two processes would share it.

Check-ins: 5,000 from 1,000 members spread over 200 servers (a tenth with --quick),
offered at a steady 100 a second, each `CheckinStore.record` timed from the moment it is
offered to its commit; then the same count offered all at once, for the throughput.
Claims: 200 schedules due in the same minute, claimed by every engine's pass at once;
each must be claimed exactly once ("0 lost, 0 doubled").

The floor is SQLite in the same run: the PostgreSQL figures are shown beside it with the
ratio. There is no target: on a machine with 2 cores shared with the server, the figure
is for hosts to read, not a promise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench import Row, median, percentile
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.sandbox.pgcluster import ThrowawayCluster
from bot.storage.checkins import CheckinStore
from bot.storage.database import Database
from bot.storage.engine import Engine
from bot.storage.postgres import PostgresEngine
from bot.storage.schedule_store import NewSchedule, ScheduleStore

NAME = "engines"
CHECKINS = 5000
MEMBERS = 1000
SERVERS = 200
RATE = 100.0  # check-ins offered per second
SCHEDULES = 200
DAY = dt.date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC)
PROMPTS = [f"prompt-{n}" for n in range(50)]

Opener = Callable[[], AbstractAsyncContextManager[Engine]]


def _offered(count: int) -> list[tuple[int, int, int]]:
    """(server, member, mood) of each check-in: members spread over the servers."""
    return [
        (1_000_000 + (n % MEMBERS) % SERVERS, 5_000_000 + n % MEMBERS, 1 + n % 5)
        for n in range(count)
    ]


async def _steady(stores: list[CheckinStore], count: int) -> tuple[list[float], int]:
    """Latencies (s) of check-ins offered at RATE, and how many were stored."""
    latencies: list[float] = []
    stored = 0

    async def one(n: int, server: int, member: int, mood: int) -> None:
        nonlocal stored
        start = time.perf_counter()
        day = DAY + dt.timedelta(days=n // MEMBERS)  # one per member per day
        if await stores[n % len(stores)].record(server, day, mood, member_id=member):
            stored += 1
        latencies.append(time.perf_counter() - start)

    tasks = []
    begin = time.perf_counter()
    for n, (server, member, mood) in enumerate(_offered(count)):
        delay = begin + n / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, server, member, mood)))
    await asyncio.gather(*tasks)
    return latencies, stored


async def _burst(stores: list[CheckinStore], count: int) -> float:
    """Check-ins stored per second when all are offered at once."""
    start = time.perf_counter()
    await asyncio.gather(
        *(
            stores[n % len(stores)].record(server, DAY + dt.timedelta(days=400), mood)
            for n, (server, _, mood) in enumerate(_offered(count))
        )
    )
    return count / (time.perf_counter() - start)


async def _claims(engines: list[Engine], schedules: int) -> tuple[int, int]:
    """(lost, doubled) when every engine claims the same due schedules at once."""
    first = ScheduleStore(engines[0])
    made = NOW - dt.timedelta(days=1)
    numbers = iter(range(1_000_000))
    for n in range(schedules):
        await first.add(
            NewSchedule(
                guild_id=1_000_000 + n % SERVERS,
                channel_id=7_000_000 + n,
                at=LocalTime(9, 0),
                days=frozenset(range(7)),
                timezone="UTC",
                kind=PromptKind.REFLECTION,
            ),
            now=made,
            make_short_id=lambda: f"b{next(numbers):05d}",
        )

    async def run_pass(store: ScheduleStore) -> list[int]:
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
                claimed.append(run.schedule_key)
        return claimed

    passes = await asyncio.gather(*(run_pass(ScheduleStore(e)) for e in engines))
    counts = Counter(key for claimed in passes for key in claimed)
    lost = schedules - len(counts)
    doubled = sum(count - 1 for count in counts.values())
    return lost, doubled


async def _measure(opener: Opener, processes: int, quick: bool) -> dict[str, float]:
    count = CHECKINS // 10 if quick else CHECKINS
    async with AsyncExitStack() as stack:
        engines = [await stack.enter_async_context(opener()) for _ in range(processes)]
        stores = [CheckinStore(engine) for engine in engines]
        latencies, stored = await _steady(stores, count)
        throughput = await _burst(stores, count)
        lost, doubled = await _claims(engines, SCHEDULES // 10 if quick else SCHEDULES)
    return {
        "offered": count,
        "stored": stored,
        "p50": median(latencies),
        "p99": percentile(latencies, 0.99),
        "throughput": throughput,
        "lost": lost,
        "doubled": doubled,
    }


@asynccontextmanager
async def _pg_database(cluster: ThrowawayCluster, name: str) -> AsyncIterator[str]:
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    yield cluster.url(name)


async def _all(quick: bool) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "engines.sqlite3"
        results["sqlite"] = await _measure(lambda: Database.open(path), 1, quick)
    cluster = await asyncio.to_thread(ThrowawayCluster.start)
    try:
        for label, processes in (("postgresql", 1), ("postgresql x2", 2)):
            name = "bench_" + label.replace(" ", "_")
            async with _pg_database(cluster, name) as url:
                results[label] = await _measure(
                    lambda url=url: PostgresEngine.open(url), processes, quick
                )
    finally:
        await asyncio.to_thread(cluster.stop)
    return results


def run(quick: bool) -> list[Row]:
    results = asyncio.run(_all(quick))
    floor = results["sqlite"]
    rows: list[Row] = []
    for label, figures in results.items():
        offered = int(figures["offered"])
        for figure, unit, key in (
            ("check-in at 100/s, p50", "ms", "p50"),
            ("check-in at 100/s, p99", "ms", "p99"),
        ):
            value = figures[key] * 1000
            base = floor[key] * 1000
            rows.append(
                Row(NAME, f"{label}: {figure}", value, unit, base, value / base if base else None)
            )
        rows.append(
            Row(
                NAME,
                f"{label}: check-ins stored per second, all at once",
                figures["throughput"],
                "/s",
                floor["throughput"],
                figures["throughput"] / floor["throughput"],
            )
        )
        stored = int(figures["stored"])
        rows.append(
            Row(
                NAME,
                f"{label}: {offered:,} offered at 100/s, stored",
                stored,
                "",
                target=f"= {offered:,}",
                passed=stored == offered,
            )
        )
    lost = int(sum(f["lost"] for f in results.values()))
    doubled = int(sum(f["doubled"] for f in results.values()))
    rows.append(
        Row(
            NAME,
            f"due schedules claimed by every engine at once: {lost} lost, {doubled} doubled",
            lost + doubled,
            "",
            target="0 lost, 0 doubled",
            passed=lost == 0 and doubled == 0,
            required=True,
        )
    )
    return rows
