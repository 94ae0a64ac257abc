"""/summary on a large database: the window query and the weekly chart.

The database is seeded directly with SQL (one transaction, `executemany`) with check-ins
spread over many servers and the last 90 days. The query timed is `CheckinStore.window`,
the call /summary makes; the chart is `render_weekly_moods` of the summarised window, as
/summary draws it. Then the whole /summary command, through the sandbox, for the same
server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import Row, median, percentile
from bot.config import parse_settings
from bot.domain.checkins import summarise
from bot.sandbox.harness import load_content, running_bot, sandbox_settings
from bot.sandbox.server import Sandbox
from bot.services import utc_now
from bot.storage.checkins import ID_BYTES, CheckinStore
from bot.storage.database import Database
from bot.ui.charts import render_weekly_moods

NAME = "summary"
TARGET_QUERY_MS = 50.0
TARGET_CHART_MS = 500.0
SERVERS = 100
DAYS = 90
SEED = 20261129
# Moods lean to the middle of the scale; days and servers are picked uniformly.
MOOD_WEIGHTS = (8, 20, 34, 26, 12)
FEELINGS_PER_CHECKIN = (35, 35, 20, 10)  # weights of picking 0, 1, 2 or 3 feelings

_INSERT = "INSERT INTO checkins (id, guild_id, day, mood, feelings) VALUES (?, ?, ?, ?, ?)"


def _rows(
    count: int, guild_ids: list[int], end: dt.date, feelings: list[str], rng: random.Random
) -> Iterator[tuple[bytes, int, str, int, str]]:
    days = [(end - dt.timedelta(days=n)).isoformat() for n in range(DAYS)]
    moods = rng.choices(range(1, 6), weights=MOOD_WEIGHTS, k=count)
    sizes = rng.choices(range(4), weights=FEELINGS_PER_CHECKIN, k=count)
    servers = rng.choices(guild_ids, k=count)
    picked_days = rng.choices(days, k=count)
    ids = rng.randbytes(ID_BYTES * count)
    for n in range(count):
        chosen = " ".join(sorted(rng.sample(feelings, sizes[n]))) if sizes[n] else ""
        start = n * ID_BYTES
        yield ids[start : start + ID_BYTES], servers[n], picked_days[n], moods[n], chosen


def _seed(path: Path, rows: list[tuple[bytes, int, str, int, str]]) -> None:
    # In id order, so the primary key is filled front to back.
    rows.sort()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("BEGIN")
        connection.executemany(_INSERT, rows)
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _timed_many(work: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        out.append(time.perf_counter() - start)
    return out


async def _measure(checkins: int, runs: int, chart_runs: int) -> list[Row]:
    base = parse_settings({})
    report = await asyncio.to_thread(load_content, base)
    assert report.catalog is not None
    feelings = list(report.catalog.feelings)
    k = base.privacy.min_group_size
    ms = 1000.0
    rows_out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
        path = Path(tmp) / "summary.sqlite3"
        async with Sandbox() as sandbox:
            guild_id = sandbox.guild.id
            guild_ids = [guild_id, *(guild_id + n for n in range(1, SERVERS))]
            end = utc_now().date()
            async with Database.open(path):
                pass  # the schema, from the migrations
            rng = random.Random(SEED)
            seeded = time.perf_counter()
            rows = list(_rows(checkins, guild_ids, end, feelings, rng))
            await asyncio.to_thread(_seed, path, rows)
            seed_seconds = time.perf_counter() - seeded
            del rows

            async with Database.open(path) as database:
                store = CheckinStore(database)
                total = await store.count()
                assert total == checkins, f"{total} rows seeded, expected {checkins}"
                server_rows = await store.count(guild_id)
                await store.window(guild_id, end, DAYS)  # the first read pages the index in
                query: list[float] = []
                for _ in range(runs):
                    start = time.perf_counter()
                    data = await store.window(guild_id, end, DAYS)
                    query.append(time.perf_counter() - start)
            assert sum(data.moods.values()) == server_rows
            summary = summarise(data, k)
            assert summary.enough
            title = f"Check-ins per week · last {DAYS} days"
            render_weekly_moods(summary, title=title)  # matplotlib's import and first draw
            chart = _timed_many(lambda: render_weekly_moods(summary, title=title), chart_runs)
            summarised = _timed_many(lambda: summarise(data, k), runs)

            settings = sandbox_settings(base, sandbox, database=path)
            async with running_bot(sandbox, settings, report=report):
                command: list[float] = []
                for _ in range(chart_runs + 1):
                    start = time.perf_counter()
                    interaction = await sandbox.command(
                        "summary", {"days": DAYS}, member=sandbox.moderator
                    )
                    message = await interaction.response_message(timeout=30)
                    command.append(time.perf_counter() - start)
                    if not message.attachments:
                        raise AssertionError(f"/summary sent no chart: {message.embeds}")
                command = command[1:]  # the first waits for the chart warm-up at start-up

    where = f"{checkins:,} check-ins, {SERVERS} servers, {DAYS} days"
    query_ms = median(query) * ms
    chart_ms = median(chart) * ms
    rows_out += [
        Row(NAME, f"seed {where} (one transaction)", seed_seconds, "s"),
        Row(
            NAME,
            f"CheckinStore.window, one server ({server_rows:,} rows), {DAYS} days, "
            f"median of {runs}",
            query_ms,
            "ms",
            target=f"< {TARGET_QUERY_MS:g} ms",
            passed=query_ms < TARGET_QUERY_MS,
        ),
        Row(NAME, f"CheckinStore.window, p99 of {runs}", percentile(query, 0.99) * ms, "ms"),
        Row(NAME, f"summarise, median of {runs}", median(summarised) * ms, "ms"),
        Row(
            NAME,
            f"render_weekly_moods ({len(summary.weekly)} weeks), median of {chart_runs}",
            chart_ms,
            "ms",
            target=f"< {TARGET_CHART_MS:g} ms",
            passed=chart_ms < TARGET_CHART_MS,
        ),
        Row(
            NAME,
            f"/summary days:{DAYS} through the sandbox, median of {chart_runs}",
            median(command) * ms,
            "ms",
        ),
    ]
    return rows_out


def run(quick: bool) -> list[Row]:
    checkins, runs, chart_runs = (100_000, 20, 3) if quick else (1_000_000, 20, 10)
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.ERROR)
    try:
        return asyncio.run(_measure(checkins, runs, chart_runs))
    finally:
        discord_logger.setLevel(level)
