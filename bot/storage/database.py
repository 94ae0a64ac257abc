"""The SQLite database: one aiosqlite connection, WAL, foreign keys, numbered migrations.

Migrations are the files `migrations/NNNN_name.sql`, applied in order inside one
transaction; the number of the last one applied is kept in `PRAGMA user_version`. A file
written by a newer Peerlight is refused instead of being half-understood.

Settling (SAFETY.md §5). The write-ahead log keeps a page image per commit, which records
the order in which check-ins arrived, and SQLite places new cells on a page in arrival
order until the page is rebuilt; rows that were deleted can linger in both. So a few
seconds after writes (`request_settle`), and when the database closes, `settle` rebuilds
the whole file (VACUUM: every table written afresh in key order, check-ins in the order of
their random ids) and checkpoints the log into it, truncating the log to nothing. After a
settle the files hold the current rows only, in an order that says nothing about when
they came.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from bot.storage.engine import Engine, Row, Tx

log = logging.getLogger(__name__)

# Seconds from the first write after a settle to the next settle.
SETTLE_DELAY = 5.0
SETTLE_ATTEMPTS = 50
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 2000


class DatabaseError(Exception):
    """The database cannot be used; the message names the path and what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise DatabaseError(f"{path}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text("utf-8")))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise DatabaseError(
            f"{directory}: migrations must be numbered 0001, 0002, ... without gaps"
        )
    return migrations


class _SqliteTx:
    """A transaction on the one connection (`Tx`)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self.connection.execute(sql, tuple(params)) as cursor:
            return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.connection.executemany(sql, [tuple(row) for row in rows])

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        for row in await self.connection.execute_fetchall(sql, tuple(params)):
            return row
        return None

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self.connection.execute_fetchall(sql, tuple(params)))


class Database(Engine):
    """The SQLite engine: one connection. Use `Database.open(path)` as an async context
    manager."""

    dialect = "sqlite"

    def __init__(
        self, connection: aiosqlite.Connection, path: Path, settle_delay: float = SETTLE_DELAY
    ) -> None:
        self.connection = connection
        self.path = path
        self.settle_delay = settle_delay
        self.owner = f"{secrets.randbits(63):016x}"
        # One connection serves every task; SQLite allows one transaction on it at a time.
        self._write_lock = asyncio.Lock()
        self._settler: asyncio.Task[None] | None = None
        self._unsettled = False

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: Path, migrations: Iterable[Migration] | None = None, *, mode: str = "rwc"
    ) -> AsyncIterator[Database]:
        """`mode` is SQLite's URI mode: "rwc" (read, write, create) for the bot; "ro"
        opens read-only, as a file the bot may not write behaves (file modes do not stop
        root, SQLite's mode does)."""
        steps = list(migrations) if migrations is not None else load_migrations()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"{path}: cannot create the folder for the database ({exc.strerror or exc})"
            ) from None
        try:
            uri = f"file:{quote(str(path))}?mode={mode}"
            connection = await aiosqlite.connect(uri, isolation_level=None, uri=True)
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(f"{path}: cannot open the database ({exc})") from None
        db = cls(connection, path)
        try:
            await db._prepare(steps)
            yield db
            if db._settler is not None:
                db._settler.cancel()
            try:
                await db.settle()
            except sqlite3.Error as error:
                log.warning("could not rebuild the database file on closing (%s)", error)
        finally:
            if db._settler is not None:
                db._settler.cancel()
            await connection.close()

    async def _prepare(self, migrations: list[Migration]) -> None:
        try:
            async with self.connection.execute("PRAGMA journal_mode=WAL") as cursor:
                await cursor.fetchall()
            await self.connection.execute("PRAGMA foreign_keys=ON")
            await self.connection.execute("PRAGMA synchronous=NORMAL")
            # How long a write waits for another connection's lock (a backup, the sqlite3
            # shell) before it fails. The one connection serves every task, so this also
            # bounds how long the others wait behind it; a member is told "not saved".
            await self.connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}")
            # Deleted check-ins are overwritten, not left readable in free pages.
            await self.connection.execute("PRAGMA secure_delete=ON")
            if await self.migrate(migrations):
                # What a migration moved or dropped is not left in free pages.
                await self.settle()
            # Every start proves the file can be written: a read-only file would otherwise
            # be found out by the first member whose check-in it could not store.
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                await self.connection.execute("CREATE TABLE peerlight_write_check (x)")
            finally:
                await self.connection.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "readonly" in text or "read-only" in text or "read only" in text:
                raise DatabaseError(
                    f"{self.path}: the database is read-only ({text}); give Peerlight write "
                    "access to the file and its folder, or point `database` at a writable path"
                ) from None
            if "locked" in text or "busy" in text:
                raise DatabaseError(
                    f"{self.path}: another program is holding the database locked ({text}); "
                    "stop it (or another Peerlight using the same file) and start again"
                ) from None
            raise DatabaseError(
                f"{self.path}: the database cannot be used ({text}); check the disk and the "
                "file, or point `database` at another path"
            ) from None
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"{self.path}: this file is not a Peerlight database or it is damaged ({exc}); "
                "move it aside to start a new one"
            ) from None

    async def settle(self) -> None:
        """Rebuild the file and empty the write-ahead log (see the module docstring)."""
        async with self._write_lock:
            self._unsettled = False
            # Reads take no lock: one that another task has started and not yet fetched
            # makes VACUUM refuse ("SQL statements in progress"). Reads finish in moments,
            # so it is tried again shortly.
            for attempt in range(SETTLE_ATTEMPTS):
                try:
                    await self.connection.execute("VACUUM")
                    break
                except sqlite3.OperationalError:
                    if attempt == SETTLE_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.02)
            # Its row (busy, log and checkpointed pages) is read to the end, so the
            # statement is finished and never holds up the next VACUUM.
            async with self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                await cursor.fetchall()

    def request_settle(self) -> None:
        """Settle `settle_delay` seconds from now, unless a settle is already waiting."""
        self._unsettled = True
        if self._settler is None or self._settler.done():
            self._settler = asyncio.get_running_loop().create_task(
                self._settle_later(), name="peerlight-settle"
            )

    async def _settle_later(self) -> None:
        await asyncio.sleep(self.settle_delay)
        if not self._unsettled:
            return
        try:
            await self.settle()
        except sqlite3.Error as error:
            # Tried again after the next write, and always when the database closes.
            log.warning("could not rebuild the database file (%s: %s)", type(error).__name__, error)

    async def user_version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: list[Migration]) -> int:
        """Apply what is missing in one transaction; return the number applied. The
        version is read inside the write transaction, so a second process starting at the
        same moment waits, then finds the migrations applied."""
        latest = migrations[-1].version if migrations else 0
        await self.connection.execute("BEGIN IMMEDIATE")
        try:
            current = await self.user_version()
            if current > latest:
                raise DatabaseError(
                    f"{self.path}: this database was written by a newer Peerlight "
                    f"(schema {current}, this version knows up to {latest}); "
                    "upgrade Peerlight or point `database` at another file"
                )
            pending = [m for m in migrations if m.version > current]
            for migration in pending:
                for statement in _statements(migration.sql):
                    await self.connection.execute(statement)
            if pending:
                await self.connection.execute(f"PRAGMA user_version = {pending[-1].version:d}")
        except BaseException:
            await self.connection.execute("ROLLBACK")
            raise
        await self.connection.execute("COMMIT")
        return len(pending)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """BEGIN IMMEDIATE … COMMIT, one at a time; rolled back on any error."""
        async with self._write_lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self.connection)
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk): a second
                # ROLLBACK would fail and hide the error that matters.
                if self.connection.in_transaction:
                    await self.connection.execute("ROLLBACK")
                raise
            await self.connection.execute("COMMIT")

    async def execute_alone(self, sql: str, params: Iterable[Any] = ()) -> None:
        """One statement outside any transaction: SQLite commits it atomically on its own,
        in a single round trip to the database thread (a transaction costs three)."""
        async with self._write_lock:
            await self.connection.execute(sql, tuple(params))

    # Reads run to the end in one call to the database thread. A statement left open
    # between calls (a cursor not yet closed) holds a read snapshot, and a write queued
    # behind it while another process holds the write lock fails at once with "database
    # is locked" instead of waiting out the busy timeout.

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.connection.execute_fetchall(sql, tuple(params))
        for row in rows:
            return row
        return None

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self.connection.execute_fetchall(sql, tuple(params)))

    def describe(self) -> str:
        return str(self.path)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements; sqlite3.complete_statement handles ; in strings."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        statements.append(buffer.strip())
    return statements
