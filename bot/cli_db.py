"""`peerlight db migrate-to URL`: copy a SQLite database into an empty PostgreSQL one.

The source is the configured SQLite file (or `--from PATH`); both are brought to the same
schema version first (each engine applies its own migrations), then every table is copied
in one PostgreSQL transaction, parents before the tables that refer to them, and the
counts compared. Check-ins are written in the order of their random ids, and the target
is settled before the command ends, so the copy says no more about arrival order than
the source did. The target must be empty: copying twice would double every check-in.

Stop the bot before migrating (a check-in written during the copy would be left behind),
then point `database` at the URL and start it again.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.config import Settings, database_url_problem, is_database_url
from bot.storage.database import Database, DatabaseError
from bot.storage.engine import Row, StorageError, Tx
from bot.storage.engines import password_from_environment
from bot.storage.postgres import PostgresEngine, redact

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
BATCH = 2000
# Ordered by a column that says nothing about arrival (check-ins: their random id).
_ORDER = {"checkins": "id"}
# Tables whose keys come from an identity sequence on PostgreSQL: moved past the copy.
_IDENTITIES = {"schedules": "key", "schedule_runs": "id"}


class MigrationRefused(Exception):
    """The copy cannot be made; the message says why and what to do."""


async def migrate_to(
    settings: Settings,
    url: str,
    source: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        copied = await _migrate(settings, url, source)
    except (MigrationRefused, DatabaseError) as exc:
        print(f"peerlight: {exc}", file=err)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"peerlight: nothing was copied: {exc}", file=err)
        return EXIT_FAILED
    for table, count in copied.items():
        print(f"{table}: {count} rows", file=out)
    print(
        f"Copied {sum(copied.values())} rows into {redact(url)}. Set `database` to that URL "
        "and start Peerlight again.",
        file=out,
    )
    return EXIT_OK


async def _migrate(settings: Settings, url: str, source: Path | None) -> dict[str, int]:
    if not is_database_url(url):
        raise MigrationRefused(f"{url!r} is not a postgresql:// URL")
    problem = database_url_problem(url)
    if problem is not None:
        raise MigrationRefused(f"the URL {problem}")
    path = source or (None if settings.database_url else settings.database_path)
    if path is None:
        raise MigrationRefused(
            "`database` is already a PostgreSQL URL; name the SQLite file with --from PATH"
        )
    if not path.is_file():
        raise MigrationRefused(f"{path}: no SQLite database there (give it with --from PATH)")
    password = password_from_environment(settings)
    async with (
        Database.open(path) as lite,
        PostgresEngine.open(url, password=password) as target,
    ):
        tables = await _tables_in_order(lite)
        async with target.transaction() as tx:
            await _refuse_unless_empty(tx, tables, redact(url))
            copied = {table: await _copy(lite, tx, table) for table in tables}
            for table, column in _IDENTITIES.items():
                await tx.fetchone(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
                )
            for table, count in copied.items():
                row = await tx.fetchone(f"SELECT count(*) FROM {table}")
                if row is None or int(row[0]) != count:
                    raise StorageError(f"{table}: {count} rows read, another number stored")
        await target.settle()
    return copied


async def _tables_in_order(lite: Database) -> list[str]:
    """Every table, each after the tables its foreign keys refer to."""
    names = [
        str(row[0])
        for row in await lite.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    parents = {
        name: {str(row[2]) for row in await lite.fetchall(f"PRAGMA foreign_key_list({name})")}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered) | {n}]
        if not ready:
            raise MigrationRefused("the SQLite tables refer to each other in a circle")
        ordered.extend(ready)
    return ordered


async def _refuse_unless_empty(tx: Tx, tables: Sequence[str], shown: str) -> None:
    for table in tables:
        if await tx.fetchone(f"SELECT 1 FROM {table} LIMIT 1") is not None:
            raise MigrationRefused(
                f"{shown} already holds data (table {table}); migrate into an empty database"
            )


async def _copy(lite: Database, tx: Tx, table: str) -> int:
    columns = [str(row[1]) for row in await lite.fetchall(f"PRAGMA table_info({table})")]
    listed = ", ".join(columns)
    order = _ORDER.get(table, listed)
    insert = f"INSERT INTO {table} ({listed}) VALUES ({', '.join('?' for _ in columns)})"
    total = 0
    offset = 0
    while True:
        rows: list[Row] = await lite.fetchall(
            f"SELECT {listed} FROM {table} ORDER BY {order} LIMIT {BATCH:d} OFFSET {offset:d}"
        )
        if not rows:
            return total
        await tx.executemany(insert, [tuple(row) for row in rows])
        total += len(rows)
        offset += len(rows)
