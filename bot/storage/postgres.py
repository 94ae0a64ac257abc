"""The PostgreSQL engine: a pool of asyncpg connections shared by the bot's tasks, and a
database several Peerlight processes can share.

Migrations are `migrations/postgresql/NNNN_name.sql`, numbered in step with SQLite's
(the same number means the same change), and the last applied is kept in
`peerlight_schema`. They are applied at start while holding a session advisory lock, so
processes starting together apply them once: the first applies, the others wait for the
lock and then find nothing left to do.

Settling (SAFETY.md §5, SECURITY.md). PostgreSQL appends new rows to the table's heap
in arrival order, and stamps each with the id of the transaction that wrote it (`xmin`,
a counter), so both the physical order and `xmin` tell in which order check-ins came;
deleted rows stay in their pages until the table is vacuumed. A settle rewrites every
row of the check-ins and the day's claims and keys in one transaction (so they all carry
that one transaction's id) and then rebuilds each table in the order of its primary key
(`CLUSTER`: check-ins in the order of their random ids) into new files, leaving no dead
row behind. Only one process settles at a time (a try-lock); the others skip. What a
server's write-ahead log, archives, replicas and logs keep is the host's to configure:
`check_server` warns at start about settings that would record it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.storage.database import DatabaseError, Migration, load_migrations
from bot.storage.engine import Engine, Row, StorageError, Tx

log = logging.getLogger(__name__)

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations" / "postgresql"
# Advisory lock numbers: any 64-bit value no other program on the database uses.
MIGRATION_LOCK = 0x7065_6572_6C69_6701  # "peerlig" + 1
SETTLE_LOCK = 0x7065_6572_6C69_6702
SETTLE_DELAY = 5.0
# A settle rewrites whole tables, and check-ins wait while it does: on a large table the
# next one waits this many times as long as the last one took, so settling never takes
# more than about a tenth of the time (SECURITY.md).
SETTLE_SPACING = 10.0
CONNECT_TIMEOUT = 10.0
POOL_MIN = 1
POOL_MAX = 10
# Tables whose rows must not keep the order they arrived in (SAFETY.md §3).
SETTLED_TABLES = ("checkins", "day_claims", "day_keys")
_SETTLE_REWRITE = {
    "checkins": "UPDATE checkins SET mood = mood",
    "day_claims": "UPDATE day_claims SET topic = topic",
    "day_keys": "UPDATE day_keys SET key = key",
}
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.TimeoutError)
# Settings under which the server itself records when or in which order rows were
# written: (setting, whether its value does, what to set instead). SECURITY.md.
_SERVER_CHECKS: tuple[tuple[str, Callable[[str], bool], str], ...] = (
    ("log_statement", lambda v: v in ("mod", "all"), "set log_statement = 'ddl' or 'none'"),
    ("log_min_duration_statement", lambda v: v != "-1", "set log_min_duration_statement = -1"),
    ("track_commit_timestamp", lambda v: v == "on", "set track_commit_timestamp = off"),
    ("archive_mode", lambda v: v != "off", "see SECURITY.md on archives and replicas"),
)


def redact(url: str) -> str:
    """The URL without a password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """`?` parameters as PostgreSQL's `$1, $2, …`; a `?` inside quotes is left alone."""
    out: list[str] = []
    count = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)


_STATUS_COUNT = re.compile(r"(\d+)$")


def _changed(status: str) -> int:
    """Rows changed, from a status such as "INSERT 0 5", "DELETE 3" or "UPDATE 0"."""
    match = _STATUS_COUNT.search(status or "")
    return int(match.group(1)) if match else 0


@asynccontextmanager
async def _translated(what: str) -> AsyncIterator[None]:
    """The driver's errors as StorageError, with what was being done."""
    try:
        yield
    except _DRIVER_ERRORS as exc:
        raise StorageError(f"PostgreSQL {what}: {type(exc).__name__}: {exc}") from exc


class _PgTx:
    """A transaction on one pooled connection (`Tx`)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with _translated("refused a change"):
            return _changed(await self.connection.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with _translated("refused a change"):
            await self.connection.executemany(numbered(sql), [tuple(row) for row in rows])

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        async with _translated("refused a read"):
            return cast("Row | None", await self.connection.fetchrow(numbered(sql), *params))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        async with _translated("refused a read"):
            return cast("list[Row]", await self.connection.fetch(numbered(sql), *params))


class PostgresEngine(Engine):
    dialect = "postgresql"
    claim_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(self, pool: asyncpg.Pool, url: str, settle_delay: float = SETTLE_DELAY) -> None:
        self.pool = pool
        # The owner token is the number of the session advisory lock `_presence` holds
        # while this process has the database open, in hexadecimal.
        self.owner = f"{secrets.randbits(63):016x}"
        self._presence: asyncpg.Connection[Any] | None = None
        self.url = redact(url)
        self.settle_delay = settle_delay
        self.last_settle_seconds = 0.0
        self._settler: asyncio.Task[None] | None = None
        self._unsettled = False

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str,
        *,
        password: str | None = None,
        migrations: Iterable[Migration] | None = None,
        max_size: int = POOL_MAX,
        settle_delay: float = SETTLE_DELAY,
    ) -> AsyncIterator[PostgresEngine]:
        steps = list(migrations) if migrations is not None else load_migrations(MIGRATIONS_DIR)
        shown = redact(url)
        try:
            pool = await asyncpg.create_pool(
                dsn=url,
                password=password,
                min_size=POOL_MIN,
                max_size=max_size,
                timeout=CONNECT_TIMEOUT,
            )
        except (*_DRIVER_ERRORS, ValueError) as exc:
            raise DatabaseError(
                f"{shown}: cannot connect to PostgreSQL ({type(exc).__name__}: {exc}); check "
                "that the server is running, the URL, and the password's environment variable"
            ) from None
        engine = cls(pool, url, settle_delay)
        try:
            await engine._prepare(steps)
            engine._presence = await engine._hold_presence(url, password)
            yield engine
            engine._cancel_settler()
            try:
                await engine.settle()
            except StorageError as error:
                log.warning("could not settle the check-ins on closing (%s)", error)
        finally:
            engine._cancel_settler()
            if engine._presence is not None:
                await engine._presence.close()
            await pool.close()

    async def _prepare(self, migrations: list[Migration]) -> None:
        try:
            async with self.pool.acquire() as connection:
                await migrate(connection, migrations, self.url)
                await check_server(connection)
        except _DRIVER_ERRORS as exc:
            raise DatabaseError(
                f"{self.url}: PostgreSQL refused to prepare the database "
                f"({type(exc).__name__}: {exc}); check the role's rights on the database"
            ) from None

    def describe(self) -> str:
        return self.url

    async def _hold_presence(self, url: str, password: str | None) -> asyncpg.Connection[Any]:
        """A connection of its own holding the owner's lock until the process ends or
        loses the server (pooled connections drop advisory locks when released)."""
        try:
            presence = await asyncpg.connect(url, password=password, timeout=CONNECT_TIMEOUT)
            await presence.execute("SELECT pg_advisory_lock($1)", int(self.owner, 16))
        except _DRIVER_ERRORS as exc:
            raise DatabaseError(f"{self.url}: cannot hold a connection ({exc})") from None
        return presence

    async def live_owners(self) -> set[str]:
        """Owners whose lock is held now: the processes with the database open."""
        rows = await self.fetchall(
            "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 1 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return {f"{int(row[0]):016x}" for row in rows}

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with _translated("could not be reached"):
            connection = await self.pool.acquire()
        try:
            async with _translated("refused a transaction"), connection.transaction():
                yield _PgTx(connection)
        finally:
            async with _translated("could not take back a connection"):
                await self.pool.release(connection)

    async def hold(self, tx: Tx, lock: int) -> None:
        await tx.execute("SELECT pg_advisory_xact_lock(?)", (lock,))

    async def execute_alone(self, sql: str, params: Iterable[Any] = ()) -> None:
        async with _translated("refused a change"):
            await self.pool.execute(numbered(sql), *params)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        async with _translated("refused a read"):
            return cast("Row | None", await self.pool.fetchrow(numbered(sql), *params))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        async with _translated("refused a read"):
            return cast("list[Row]", await self.pool.fetch(numbered(sql), *params))

    # -- settling ----------------------------------------------------------------------

    def request_settle(self) -> None:
        self._unsettled = True
        if self._settler is None or self._settler.done():
            self._settler = asyncio.get_running_loop().create_task(
                self._settle_later(), name="peerlight-settle"
            )

    def _cancel_settler(self) -> None:
        if self._settler is not None:
            self._settler.cancel()

    def next_settle_delay(self) -> float:
        return max(self.settle_delay, SETTLE_SPACING * self.last_settle_seconds)

    async def _settle_later(self) -> None:
        # Writes that arrive while a settle runs, or while another process's settle
        # holds the lock, are settled on a later round.
        while self._unsettled:
            await asyncio.sleep(self.next_settle_delay())
            try:
                await self._settle_once()
            except StorageError as error:
                log.warning("could not settle the check-ins (%s)", error)
                return

    async def settle(self) -> None:
        """See the module docstring. When another process is settling, this one waits
        for it and then settles what it wrote meanwhile."""
        await self._settle_once(wait=True)

    async def _settle_once(self, *, wait: bool = False) -> bool:
        """Settle; without `wait`, not while another process is (False: skipped)."""
        self._unsettled = False
        async with _translated("could not settle"), self.pool.acquire() as connection:
            if wait:
                await connection.execute("SELECT pg_advisory_lock($1)", SETTLE_LOCK)
            elif not await connection.fetchval("SELECT pg_try_advisory_lock($1)", SETTLE_LOCK):
                self._unsettled = True
                return False
            started = time.monotonic()
            try:
                async with connection.transaction():
                    for table in SETTLED_TABLES:
                        await connection.execute(_SETTLE_REWRITE[table])
                for table in SETTLED_TABLES:
                    await connection.execute(f"CLUSTER {table} USING {table}_pkey")
            finally:
                self.last_settle_seconds = time.monotonic() - started
                await connection.execute("SELECT pg_advisory_unlock($1)", SETTLE_LOCK)
        return True


async def migrate(connection: Connection, migrations: list[Migration], shown: str) -> int:
    """Apply what is missing, under the migration lock; the number applied."""
    latest = migrations[-1].version if migrations else 0
    await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS peerlight_schema (version INTEGER NOT NULL)"
        )
        current = await connection.fetchval("SELECT max(version) FROM peerlight_schema") or 0
        if current > latest:
            raise DatabaseError(
                f"{shown}: this database was written by a newer Peerlight (schema {current}, "
                f"this version knows up to {latest}); upgrade Peerlight or use another database"
            )
        pending = [m for m in migrations if m.version > current]
        if pending:
            async with connection.transaction():
                for migration in pending:
                    await connection.execute(migration.sql)
                await connection.execute("DELETE FROM peerlight_schema")
                await connection.execute(
                    "INSERT INTO peerlight_schema (version) VALUES ($1)", pending[-1].version
                )
            log.info("applied %d database migrations, now at %d", len(pending), latest)
        return len(pending)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def check_server(connection: Connection) -> list[str]:
    """Warn about server settings that record when or in which order check-ins were
    written (SECURITY.md); the warnings, also returned."""
    warnings: list[str] = []
    for name, records, advice in _SERVER_CHECKS:
        value = str(await connection.fetchval("SELECT current_setting($1)", name))
        if records(value):
            warnings.append(f"PostgreSQL has {name} = {value}: {advice}")
    for warning in warnings:
        log.warning(
            "%s; otherwise the server keeps when check-ins were written (SECURITY.md)", warning
        )
    return warnings
