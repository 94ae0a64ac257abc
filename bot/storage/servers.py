"""Which servers the database holds data for, the notes of servers found missing, and
forgetting a server (SAFETY.md §3).

Every table with a `guild_id` column holds a server's data, whoever added it: `stored`
and `forget` find those tables in the schema itself, so a table added later is covered
without being listed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.storage.database import Database

__all__ = ["ServerRecords"]

_NOTES = "absent_guilds"


class ServerRecords:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def tables(self) -> list[str]:
        """Every table with a `guild_id` column, apart from the notes of absence."""
        rows = await self.database.fetchall(
            "SELECT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c "
            "WHERE m.type = 'table' AND c.name = 'guild_id' AND m.name != ? ORDER BY m.name",
            (_NOTES,),
        )
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
        async with self.database.transaction() as connection:
            for table in await self.tables():
                cursor = await connection.execute(
                    f'DELETE FROM "{table}" WHERE guild_id = ?', (guild_id,)
                )
                deleted += max(cursor.rowcount, 0)
            await connection.execute(f"DELETE FROM {_NOTES} WHERE guild_id = ?", (guild_id,))
        self.database.request_settle()
        return deleted

    async def absences(self) -> dict[int, dt.datetime]:
        rows = await self.database.fetchall(f"SELECT guild_id, since FROM {_NOTES}")
        return {int(guild): dt.datetime.fromisoformat(str(since)) for guild, since in rows}

    async def note_absent(self, guild_ids: Iterable[int], since: dt.datetime) -> None:
        async with self.database.transaction() as connection:
            await connection.executemany(
                f"INSERT OR IGNORE INTO {_NOTES} (guild_id, since) VALUES (?, ?)",
                [(guild, since.astimezone(dt.UTC).isoformat()) for guild in guild_ids],
            )

    async def drop_notes(self, guild_ids: Iterable[int]) -> None:
        async with self.database.transaction() as connection:
            await connection.executemany(
                f"DELETE FROM {_NOTES} WHERE guild_id = ?", [(guild,) for guild in guild_ids]
            )
