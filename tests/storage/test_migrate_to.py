"""`peerlight db migrate-to URL`: a SQLite database with every kind of row is copied into
an empty PostgreSQL database, table for table, and the bot's stores read it back alike."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.sandbox.pgcluster import ThrowawayCluster
from bot.storage.checkins import CheckinStore
from bot.storage.database import Database
from bot.storage.engine import Engine
from bot.storage.postgres import PostgresEngine
from bot.storage.schedule_store import ScheduleStore
from tests.conftest import fresh_pg_database
from tests.storage.test_shared import NOW, OTHER, SERVER, fill, schedule_for, short_ids


async def run(argv: list[str]) -> int:
    """The command as a user runs it: its own event loop, in a thread of its own."""
    return await asyncio.to_thread(main, argv)


DAYS = [dt.date(2026, 11, 2), dt.date(2026, 11, 30), dt.date(2026, 12, 7)]


async def contents(engine: Engine, tables: list[str]) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for table in tables:
        rows = await engine.fetchall(f"SELECT * FROM {table}")
        out[table] = sorted(
            (tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows), key=repr
        )
    return out


def config(tmp_path: Path, database: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": str(database)}), "utf-8")
    return path


async def test_every_row_is_copied_and_reads_back_alike(
    tmp_path: Path, pg_cluster: ThrowawayCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "peerlight.sqlite3"
    async with Database.open(source) as lite:
        await fill(lite, SERVER, DAYS)
        await fill(lite, OTHER, DAYS[1:])
        tables = [
            str(r[0])
            for r in await lite.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            )
        ]
        before = await contents(lite, tables)
    assert all(before[t] for t in ("checkins", "schedule_runs", "published_cells", "day_claims"))
    async with fresh_pg_database(pg_cluster) as url:
        code = await run(["db", "migrate-to", url, "--config", str(config(tmp_path, source))])
        printed = capsys.readouterr()
        assert code == 0, printed.err
        assert f"checkins: {len(before['checkins'])} rows" in printed.out
        async with PostgresEngine.open(url) as target:
            assert await contents(target, tables) == before
            # The stores go on from there: a new schedule gets a key past the copied ones.
            store = ScheduleStore(target)
            added = await store.add(
                schedule_for(SERVER, 900), now=NOW, make_short_id=short_ids("new")
            )
            assert added.key > max(int(r[0]) for r in before["schedules"])
            assert await CheckinStore(target).count(SERVER) == len(DAYS) + 1
        # A second copy into the same database would double everything: refused.
        code = await run(["db", "migrate-to", url, "--config", str(config(tmp_path, source))])
        assert code == 2
        assert "already holds data (table" in capsys.readouterr().err


async def test_a_url_with_a_password_or_no_source_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(config(tmp_path, tmp_path / "missing.sqlite3"))
    assert (
        await run(["db", "migrate-to", "postgresql://u:hunter2@127.0.0.1/x", "--config", cfg]) == 2
    )
    err = capsys.readouterr().err
    assert "must not hold the password" in err and "hunter2" not in err
    assert await run(["db", "migrate-to", "postgresql://u@127.0.0.1/x", "--config", cfg]) == 2
    assert "no SQLite database there" in capsys.readouterr().err
    assert not (tmp_path / "missing.sqlite3").exists()
