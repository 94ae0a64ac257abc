"""Which servers the database holds data for, the notes of servers found missing, and
forgetting a server (SAFETY.md §3).

Every table with a `guild_id` column holds a server's data, whoever added it: `stored`
and `forget` find those tables in the schema itself, so a table added later is covered
without being listed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.storage.engine import Engine

__all__ = ["ServerRecords"]

_NOTES = "absent_guilds"


class ServerRecords:
    def __init__(self, database: Engine) -> None:
        self.database = database

    async def tables(self) -> list[str]:
        """Every table with a `guild_id` column, apart from the notes of absence."""
        if self.database.dialect == "sqlite":
            query = (
                "SELECT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c "
                "WHERE m.type = 'table' AND c.name = 'guild_id' AND m.name != ? ORDER BY m.name"
            )
        else:
            query = (
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = 'guild_id' "
                "AND table_name != ? ORDER BY table_name"
            )
        rows = await self.database.fetchall(query, (_NOTES,))
        return [str(row[0]) for row in rows]

    async def stored(self) -> set[int]:
        """Every server any table holds data for."""
        tables = await self.tables()
        if not tables:
            return set()
        union = " UNION ".join(f'SELECT guild_id FROM "{table}"' for table in tables)
        return {int(row[0]) for row in await self.database.fetchall(union)}

    async def forget(self, guild_id: int) -> int:
        """Delete whatever rows are left of one server, in every table; return how many."""
        deleted = 0
        tables = await self.tables()
        async with self.database.transaction() as tx:
            for table in tables:
                changed = await tx.execute(f'DELETE FROM "{table}" WHERE guild_id = ?', (guild_id,))
                deleted += max(changed, 0)
            await tx.execute(f"DELETE FROM {_NOTES} WHERE guild_id = ?", (guild_id,))
        self.database.request_settle()
        return deleted

    async def absences(self) -> dict[int, dt.datetime]:
        rows = await self.database.fetchall(f"SELECT guild_id, since FROM {_NOTES}")
        return {int(guild): dt.datetime.fromisoformat(str(since)) for guild, since in rows}

    async def note_absent(self, guild_ids: Iterable[int], since: dt.datetime) -> None:
        async with self.database.transaction() as tx:
            await tx.executemany(
                f"INSERT INTO {_NOTES} (guild_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(guild, since.astimezone(dt.UTC).isoformat()) for guild in guild_ids],
            )

    async def drop_notes(self, guild_ids: Iterable[int]) -> None:
        async with self.database.transaction() as tx:
            await tx.executemany(
                f"DELETE FROM {_NOTES} WHERE guild_id = ?", [(guild,) for guild in guild_ids]
            )
