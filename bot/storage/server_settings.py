"""Each server's settings (`bot.domain.server_settings`), stored per server and held in
memory, so that every interaction reads them without waiting on the database and a
change applies at once."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.server_settings import Chosen
from bot.storage.engine import Engine, Row, Tx

__all__ = ["ServerSettingsStore"]

_COLUMNS = {
    "reach_out_channel": "reach_out_channel_id",
    "region": "region",
    "timezone": "timezone",
    "min_group_size": "min_group_size",
}


class ServerSettingsStore:
    def __init__(self, database: Engine) -> None:
        self.database = database
        self._chosen: dict[int, Chosen] | None = None

    async def load(self) -> int:
        """Read every server's row into memory; the number of servers with settings."""
        rows = await self.database.fetchall(
            "SELECT guild_id, reach_out_channel_id, region, timezone, min_group_size, "
            "roles_chosen, first_run_noted FROM server_settings"
        )
        roles: dict[int, set[int]] = {}
        for guild_id, role_id in await self.database.fetchall(
            "SELECT guild_id, role_id FROM server_moderator_roles"
        ):
            roles.setdefault(int(guild_id), set()).add(int(role_id))
        self._chosen = {int(row[0]): _chosen(row, roles.get(int(row[0]), set())) for row in rows}
        return len(self._chosen)

    @property
    def loaded(self) -> bool:
        return self._chosen is not None

    def chosen(self, guild_id: int) -> Chosen:
        if self._chosen is None:
            raise RuntimeError("server settings read before ServerSettingsStore.load()")
        return self._chosen.get(guild_id, Chosen())

    def guild_ids(self) -> list[int]:
        return sorted(self._chosen or {})

    async def set_value(self, guild_id: int, name: str, value: int | str | None) -> Chosen:
        """Store one of reach_out_channel, region, timezone, min_group_size (None: back
        to the host's default)."""
        column = _COLUMNS[name]
        async with self.database.transaction() as tx:
            await _ensure_row(tx, guild_id)
            await tx.execute(
                f"UPDATE server_settings SET {column} = ? WHERE guild_id = ?",
                (value, guild_id),
            )
        return self._remember(guild_id, self.chosen(guild_id).replace(**{name: value}))

    async def set_roles(self, guild_id: int, roles: Iterable[int] | None) -> Chosen:
        """The server's moderator roles; None: back to the host's default."""
        wanted = None if roles is None else frozenset(roles)
        async with self.database.transaction() as tx:
            await _ensure_row(tx, guild_id)
            await tx.execute("DELETE FROM server_moderator_roles WHERE guild_id = ?", (guild_id,))
            await tx.executemany(
                "INSERT INTO server_moderator_roles (guild_id, role_id) VALUES (?, ?)",
                [(guild_id, role) for role in sorted(wanted or ())],
            )
            await tx.execute(
                "UPDATE server_settings SET roles_chosen = ? WHERE guild_id = ?",
                (0 if wanted is None else 1, guild_id),
            )
        return self._remember(guild_id, self.chosen(guild_id).replace(moderator_roles=wanted))

    async def note_first_run(self, guild_id: int) -> bool:
        """Mark the first-run note as shown; True only for the one call that marked it."""
        if self.chosen(guild_id).first_run_noted:
            return False
        async with self.database.transaction() as tx:
            await _ensure_row(tx, guild_id)
            marked = (
                await tx.execute(
                    "UPDATE server_settings SET first_run_noted = 1 "
                    "WHERE guild_id = ? AND first_run_noted = 0",
                    (guild_id,),
                )
                == 1
            )
        self._remember(guild_id, self.chosen(guild_id).replace(first_run_noted=True))
        return marked

    async def delete_guild(self, guild_id: int) -> int:
        async with self.database.transaction() as tx:
            deleted = await tx.execute(
                "DELETE FROM server_settings WHERE guild_id = ?", (guild_id,)
            )
        if self._chosen is not None:
            self._chosen.pop(guild_id, None)
        return deleted

    def _remember(self, guild_id: int, chosen: Chosen) -> Chosen:
        if self._chosen is not None:
            self._chosen[guild_id] = chosen
        return chosen


async def _ensure_row(tx: Tx, guild_id: int) -> None:
    await tx.execute(
        "INSERT INTO server_settings (guild_id) VALUES (?) ON CONFLICT (guild_id) DO NOTHING",
        (guild_id,),
    )


def _chosen(row: Row, roles: set[int]) -> Chosen:
    _, channel, region, timezone, group, roles_chosen, noted = row
    return Chosen(
        moderator_roles=frozenset(roles) if roles_chosen else None,
        reach_out_channel=int(channel) if channel is not None else None,
        region=str(region) if region is not None else None,
        timezone=str(timezone) if timezone is not None else None,
        min_group_size=int(group) if group is not None else None,
        first_run_noted=bool(noted),
    )
