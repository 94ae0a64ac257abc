"""Migrations on real SQLite files: idempotent, atomic, and refusing a newer schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage.database import Database, DatabaseError, Migration, load_migrations


async def test_fresh_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    latest = load_migrations()[-1].version
    async with Database.open(tmp_path / "p.sqlite3") as db:
        assert await db.user_version() == latest
        row = await db.fetchone("PRAGMA journal_mode")
        assert row is not None and row[0] == "wal"
        row = await db.fetchone("PRAGMA foreign_keys")
        assert row is not None and row[0] == 1


async def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    async with Database.open(path) as db:
        await db.set_meta("k", "v")
    async with Database.open(path) as db:
        assert await db.migrate(load_migrations()) == 0
        assert await db.get_meta("k") == "v"


async def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    steps = [
        Migration(1, "0001_ok", "CREATE TABLE a (x INTEGER);"),
        Migration(2, "0002_broken", "CREATE TABLE b (y INTEGER);\nINSERT INTO missing VALUES (1);"),
    ]
    with pytest.raises(Exception, match="missing"):
        async with Database.open(path, steps):
            pass
    async with Database.open(path, steps[:1]) as db:
        assert await db.user_version() == 1
        tables = {
            r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert "b" not in tables


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    async with Database.open(path) as db:
        await db.connection.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseError, match="newer Peerlight"):
        async with Database.open(path):
            pass


async def test_a_corrupt_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match=str(path)):
        async with Database.open(path):
            pass


async def test_a_path_that_cannot_be_created_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatabaseError, match="cannot create the folder"):
        async with Database.open(blocker / "sub" / "p.sqlite3"):
            pass


async def test_transactions_roll_back_on_error(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "p.sqlite3") as db:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
                raise RuntimeError("boom")
        assert await db.get_meta("a") is None


async def test_one_statement_on_its_own_is_all_or_nothing(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "p.sqlite3") as db:
        await db.execute_alone("INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)", "abcd")
        assert await db.get_meta("a") == "b" and await db.get_meta("c") == "d"
        # The second row breaks the primary key: neither row of the statement is kept.
        with pytest.raises(Exception, match="UNIQUE"):
            await db.execute_alone("INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)", "xyab")
        assert await db.get_meta("x") is None
