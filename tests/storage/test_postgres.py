"""The PostgreSQL engine on a real server (the session's throwaway cluster): migrations
in step with SQLite's, applied once when processes start together, the password only from
the environment, and the settle that erases arrival order."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
from pathlib import Path

import asyncpg
import pytest

from bot.config import parse_settings
from bot.sandbox.pgcluster import PASSWORD_ROLE, ThrowawayCluster
from bot.storage.checkins import CheckinStore
from bot.storage.database import MIGRATIONS_DIR, DatabaseError, Migration, load_migrations
from bot.storage.engine import StorageError
from bot.storage.engines import open_database
from bot.storage.postgres import MIGRATIONS_DIR as PG_MIGRATIONS_DIR
from bot.storage.postgres import POOL_MAX, SETTLE_LOCK, PostgresEngine, numbered, redact

DAY = dt.date(2026, 12, 7)


def test_migrations_are_numbered_and_named_in_step_on_both_engines() -> None:
    sqlite = [m.name for m in load_migrations(MIGRATIONS_DIR)]
    postgres = [m.name for m in load_migrations(PG_MIGRATIONS_DIR)]
    assert sqlite == postgres, (
        "every migration in bot/storage/migrations/ needs its PostgreSQL twin of the same "
        "number and name in bot/storage/migrations/postgresql/"
    )


def test_parameters_are_numbered_outside_quotes() -> None:
    assert numbered("SELECT ? WHERE a = '?' AND b = ?") == "SELECT $1 WHERE a = '?' AND b = $2"


def test_a_password_in_the_url_is_refused_and_never_shown() -> None:
    with pytest.raises(Exception, match="database: must not hold the password") as raised:
        parse_settings({"database": "postgresql://peerlight:hunter2@db/peerlight"})
    assert "hunter2" not in str(raised.value)
    assert redact("postgresql://u:hunter2@db:5432/x") == "postgresql://u@db:5432/x"


async def test_tables_match_sqlites(pg_url: str, tmp_path: Path) -> None:
    from bot.storage.database import Database

    async with Database.open(tmp_path / "x.sqlite3") as lite:
        names = {
            str(r[0])
            for r in await lite.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            )
        }
    async with PostgresEngine.open(pg_url) as engine:
        found = {
            str(r[0])
            for r in await engine.fetchall(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
    assert found - {"peerlight_schema"} == names


async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    async def start() -> int:
        async with PostgresEngine.open(pg_url, max_size=2) as engine:
            row = await engine.fetchone("SELECT count(*) FROM peerlight_schema")
            assert row is not None and row[0] == 1
            version = await engine.fetchone("SELECT version FROM peerlight_schema")
            assert version is not None
            return int(version[0])

    versions = await asyncio.gather(*(start() for _ in range(4)))
    assert versions == [load_migrations(PG_MIGRATIONS_DIR)[-1].version] * 4


async def test_a_failing_migration_leaves_nothing_behind(pg_url: str) -> None:
    steps = [
        Migration(1, "0001_ok", "CREATE TABLE a (x INTEGER);"),
        Migration(2, "0002_broken", "CREATE TABLE b (y INTEGER);\nINSERT INTO missing VALUES (1);"),
    ]
    with pytest.raises(DatabaseError, match="missing"):
        async with PostgresEngine.open(pg_url, migrations=steps):
            pass
    async with PostgresEngine.open(pg_url, migrations=steps[:1]) as engine:
        tables = {str(r[0]) for r in await engine.fetchall("SELECT tablename FROM pg_tables")}
        assert "a" in tables and "b" not in tables


async def test_a_newer_database_is_refused(pg_url: str) -> None:
    async with PostgresEngine.open(pg_url) as engine:
        await engine.execute_alone("UPDATE peerlight_schema SET version = 999")
    with pytest.raises(DatabaseError, match="newer Peerlight"):
        async with PostgresEngine.open(pg_url):
            pass


async def test_an_unreachable_server_is_a_clear_error(pg_cluster: ThrowawayCluster) -> None:
    with pytest.raises(DatabaseError, match="cannot connect to PostgreSQL"):
        async with PostgresEngine.open("postgresql://peerlight@127.0.0.1:1/nothing"):
            pass


async def test_the_password_comes_from_the_environment_and_is_never_logged(
    pg_cluster: ThrowawayCluster,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = secrets.token_urlsafe(16)
    name = f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(pg_cluster.url())
    try:
        await admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_ROLE}")
        await admin.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{password}'")
        await admin.execute(f"CREATE DATABASE {name} OWNER {PASSWORD_ROLE}")
    finally:
        await admin.close()
    settings = parse_settings(
        {"database": pg_cluster.url(name, PASSWORD_ROLE), "database_password_env": "PL_PG_PW"}
    )
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("PL_PG_PW", raising=False)
    with pytest.raises(DatabaseError, match="password"):
        async with open_database(settings):
            pass
    monkeypatch.setenv("PL_PG_PW", password)
    async with open_database(settings) as engine:
        assert engine.dialect == "postgresql"
        assert password not in engine.describe()
        await engine.set_meta("k", "v")
        assert await engine.get_meta("k") == "v"
    assert password not in caplog.text


async def test_settle_leaves_no_trace_of_arrival_order(pg_url: str) -> None:
    """Heap order and each row's transaction id (xmin) follow arrival until a settle;
    after it, every row carries one transaction id and the heap is in random-id order."""
    async with PostgresEngine.open(pg_url, settle_delay=3600) as engine:
        store = CheckinStore(engine)
        for n in range(30):  # one transaction each, so each has its own xmin
            await store.record(1, DAY, 1 + n % 5)
        before = await engine.fetchall("SELECT xmin::text, id FROM checkins ORDER BY ctid")
        assert len({row[0] for row in before}) == 30  # the order is there to be read
        await store.delete_older_than(DAY)  # nothing older: deletes nothing
        await engine.settle()
        after = await engine.fetchall("SELECT xmin::text, id FROM checkins ORDER BY ctid")
        assert len({row[0] for row in after}) == 1
        assert [bytes(row[1]) for row in after] == sorted(bytes(row[1]) for row in after)
        # No sequence grows with check-ins: the only ones belong to schedules and runs.
        sequences = await engine.fetchall(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' ORDER BY 1"
        )
        assert [str(r[0]) for r in sequences] == ["schedule_runs_id_seq", "schedules_key_seq"]
        # Deleted rows are not left in the table's pages after a settle.
        await store.delete_guild(1)
        await engine.settle()
        pages = await engine.fetchone("SELECT pg_relation_size('checkins')")
        assert pages is not None and pages[0] == 0


async def test_settings_that_record_arrival_are_warned_about(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"ALTER DATABASE {name} SET log_statement = 'mod'")
        await admin.execute(f"ALTER DATABASE {name} SET log_min_duration_statement = 0")
    finally:
        await admin.close()
    caplog.set_level(logging.WARNING)
    async with PostgresEngine.open(pg_url):
        pass
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(re.search(r"log_statement = mod: set log_statement", w) for w in warned)
    assert any("log_min_duration_statement = 0" in w for w in warned)


async def test_one_process_settles_at_a_time_and_none_leaves_its_writes_unsettled(
    pg_url: str,
) -> None:
    async with PostgresEngine.open(pg_url, settle_delay=3600) as engine:
        store = CheckinStore(engine)
        for n in range(5):
            await store.record(1, DAY, 1 + n)
        other = await asyncpg.connect(pg_url)  # another process, settling right now
        try:
            await other.execute("SELECT pg_advisory_lock($1)", SETTLE_LOCK)
            assert await engine._settle_once() is False
            assert engine._unsettled  # tried again on a later round
            waiting = asyncio.create_task(engine.settle())
            await asyncio.sleep(0.2)
            assert not waiting.done()  # waits for the other to finish
            await other.execute("SELECT pg_advisory_unlock($1)", SETTLE_LOCK)
            await asyncio.wait_for(waiting, timeout=10)
        finally:
            await other.close()
        xmins = await engine.fetchall("SELECT DISTINCT xmin::text FROM checkins")
        assert len(xmins) == 1


async def test_a_slow_settle_spaces_out_the_next(pg_url: str) -> None:
    async with PostgresEngine.open(pg_url, settle_delay=5) as engine:
        await engine.settle()
        assert engine.last_settle_seconds > 0  # measured
        engine.last_settle_seconds = 0.1
        assert engine.next_settle_delay() == 5
        engine.last_settle_seconds = 2.0
        assert engine.next_settle_delay() == 20.0


async def test_a_lost_connection_fails_its_write_cleanly_and_the_next_succeeds(
    pg_url: str,
) -> None:
    async with PostgresEngine.open(pg_url, settle_delay=3600) as engine:
        store = CheckinStore(engine)
        assert await store.record(1, DAY, 3, member_id=1)
        admin = await asyncpg.connect(pg_url)
        try:
            with pytest.raises(StorageError):
                async with engine.transaction() as tx:
                    row = await tx.fetchone("SELECT pg_backend_pid()")
                    assert row is not None
                    await admin.execute("SELECT pg_terminate_backend($1)", row[0])
                    await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            # Every idle connection dropped too: the pool opens new ones.
            name = pg_url.rsplit("/", 1)[1]
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid != pg_backend_pid()",
                name,
            )
        finally:
            await admin.close()
        # A pooled connection whose end has not been noticed yet fails its one use
        # (StorageError, nothing stored) and is replaced: within the pool's size, the
        # database answers again.
        failures = 0
        for _ in range(POOL_MAX + 1):
            try:
                assert await store.record(1, DAY, 3, member_id=2)
                break
            except StorageError:
                failures += 1
        assert failures <= POOL_MAX
        assert await engine.get_meta("k") is None
        assert await store.count(1) == 2
