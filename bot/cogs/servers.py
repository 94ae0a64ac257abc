"""Leaving a server: its data goes with it (SAFETY.md §3).

Removed while the bot runs, a server's check-ins, published weeks, schedules and anything
else stored under its id are deleted at once. Removed while the bot was offline, the
server is missing from the list Discord sends at the next start; it is forgotten once it
has been seen missing for `ABSENCE_GRACE` (see `bot.domain.servers`). Servers that are
only unavailable keep their data. The check runs at every READY and then daily.
A process running some of the bot's shards checks only the servers on those shards.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import discord
from discord.ext import commands, tasks

from bot.app import PeerlightBot
from bot.domain.servers import ABSENCE_GRACE, reconcile
from bot.storage.engine import DATABASE_ERRORS

log = logging.getLogger(__name__)

CHECK_INTERVAL = dt.timedelta(days=1)


class ServersCog(commands.Cog):
    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        self.retention_days = bot.services.settings.privacy.retention_days
        # When the last check finished (the bot's clock), for operators and tests.
        self.last_checked: dt.datetime | None = None

    async def cog_load(self) -> None:
        # `peerlight sync` loads every cog only to register the commands: no deleting.
        if getattr(self.bot, "background", True):
            self.check.start()

    async def cog_unload(self) -> None:
        self.check.cancel()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Discord says the bot was removed from this server (not that it is unavailable)."""
        await self.forget(guild.id, "which removed Peerlight")

    async def forget(self, guild_id: int, why: str) -> None:
        """Delete everything stored for one server. Each deletion is tried whatever
        happened to the others."""
        services = self.bot.services
        services.votes.forget_prior(guild_id)
        kept = f"retention deletes them within {self.retention_days} days"
        await _forget(guild_id, why, "check-ins", services.checkins.delete_guild, kept)
        await _forget(guild_id, why, "published weeks", services.publisher.delete_guild, kept)
        await _forget(
            guild_id,
            why,
            "schedules",
            services.schedules.delete_guild,
            "each pauses when Discord refuses its next post",
        )
        await _forget(
            guild_id,
            why,
            "settings",
            services.server_settings.delete_guild,
            "they are used again only if the server adds Peerlight back",
        )
        await _forget(
            guild_id, why, "other records", services.servers.forget, "the next check tries again"
        )

    async def reconcile(self) -> frozenset[int]:
        """Compare the servers the database holds data for with those Discord lists for
        the bot; note the missing, forget those missing for long enough. Returns the
        servers forgotten."""
        services = self.bot.services
        now = services.clock()
        present = {guild.id for guild in self.bot.guilds}
        # Sharded, this process hears only of the servers on its own shards: the others'
        # servers are another process's to judge, never missing from here.
        mine = self.bot.on_my_shards
        stored = {guild_id for guild_id in await services.servers.stored() if mine(guild_id)}
        absences = {
            guild_id: since
            for guild_id, since in (await services.servers.absences()).items()
            if mine(guild_id)
        }
        plan = reconcile(stored, present, absences, now)
        if plan.note:
            await services.servers.note_absent(plan.note, now)
            until = (now + ABSENCE_GRACE).date().isoformat()
            for guild_id in sorted(plan.note):
                log.warning(
                    "server %s is not among Peerlight's servers; its data will be deleted on "
                    "or after %s unless Peerlight is back in it by then",
                    guild_id,
                    until,
                )
        for guild_id in sorted(plan.forget):
            await self.forget(guild_id, f"missing for {ABSENCE_GRACE.days} days or more")
        if plan.drop:
            await services.servers.drop_notes(plan.drop)
        self.last_checked = now
        return plan.forget

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # READY has listed every server the bot is in, unavailable ones included.
        await self._check()

    @tasks.loop(seconds=CHECK_INTERVAL.total_seconds())
    async def check(self) -> None:
        # Before READY the bot knows no servers at all: every one would look missing. The
        # first run (at start-up) is left to `on_ready`.
        if self.bot.is_ready():
            await self._check()

    async def _check(self) -> None:
        try:
            await self.reconcile()
        except DATABASE_ERRORS as error:
            # The next run tries again; an error here must not stop the daily loop.
            log.warning(
                "could not check which servers Peerlight has left (%s: %s)",
                type(error).__name__,
                error,
            )


async def _forget(
    guild_id: int,
    why: str,
    what: str,
    delete: Callable[[int], Awaitable[int]],
    otherwise: str,
) -> None:
    try:
        deleted = await delete(guild_id)
    except DATABASE_ERRORS as error:
        log.warning(
            "could not delete the %s of server %s, %s (%s: %s); %s",
            what,
            guild_id,
            why,
            type(error).__name__,
            error,
            otherwise,
        )
        return
    except Exception:
        log.exception(
            "deleting the %s of server %s, %s, failed; %s", what, guild_id, why, otherwise
        )
        return
    if deleted or what != "other records":
        log.info("Peerlight left server %s: deleted its %d %s", guild_id, deleted, what)


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(ServersCog(bot))
