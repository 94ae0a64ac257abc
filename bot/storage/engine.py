"""What the stores need from a database, whichever engine holds it.

Two engines stand behind this interface: SQLite (`bot.storage.database`, the default: one
file, nothing to install) and PostgreSQL (`bot.storage.postgres`, shared by several
processes). The stores (check-ins, schedules, published weeks, day claims) speak only to
`Engine` and `Tx`, in SQL both engines read the same way:

- parameters are written `?` (the PostgreSQL engine numbers them);
- conflicts are handled with `INSERT … ON CONFLICT … DO NOTHING / DO UPDATE`, and new
  keys are read back with `RETURNING`, never from a driver's `lastrowid`;
- days and instants are ISO text, ids are 64-bit integers, random ids are bytes;
- `Engine.claim_lock` is appended to a `SELECT` that takes a row to change it: on
  PostgreSQL it is `FOR UPDATE SKIP LOCKED` (a row another process is changing is passed
  over, not waited for); SQLite has one writer at a time and needs nothing.

An error of the database itself (unreachable, refused, full, damaged) is raised as one of
`DATABASE_ERRORS`, so the bot answers "nothing was saved" whichever engine refused.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Protocol

from bot.domain.errors import DATABASE_ERRORS, StorageError

__all__ = ["DATABASE_ERRORS", "Engine", "Row", "StorageError", "Tx"]

# A row as both drivers return it: indexable by position, and unpackable.
Row = Sequence[Any]


class Tx(Protocol):
    """One transaction: every statement in it commits together or not at all."""

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]: ...


class Engine(ABC):
    """An open database. Reads outside a transaction see what is committed."""

    # "sqlite" or "postgresql".
    dialect: ClassVar[str]
    # Appended to a SELECT that takes rows to change them (see the module docstring).
    claim_lock: ClassVar[str] = ""

    # A random token naming this process while the database is open (`live_owners`).
    owner: str

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """BEGIN … COMMIT; rolled back on any error."""

    @abstractmethod
    async def execute_alone(self, sql: str, params: Iterable[Any] = ()) -> None:
        """One statement, committed atomically on its own."""

    @abstractmethod
    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def request_settle(self) -> None:
        """Ask for the stored order of rows to be erased soon (SAFETY.md §5): called after
        writes that add or delete check-ins, claims or keys."""

    @abstractmethod
    async def settle(self) -> None:
        """Erase now what the files say about the order rows arrived in."""

    @abstractmethod
    def describe(self) -> str:
        """Where the database is, for messages and logs: never a password."""

    async def hold(self, tx: Tx, lock: int) -> None:
        """Inside `tx`, wait for and hold until it ends the lock named by `lock` (a 63-bit
        number): transactions that read, decide and write the same thing in several
        processes take one first. SQLite runs one write transaction at a time, so there
        it holds already."""
        del tx, lock

    async def live_owners(self) -> set[str]:
        """The owners (processes) with this database open now. SQLite serves one process
        per file, so that is this one; PostgreSQL asks the server (bot/storage/postgres.py)."""
        return {self.owner}

    async def get_meta(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
