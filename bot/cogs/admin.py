"""/content status (moderators) and /content reload (the host of the bot only).

Run on several processes (sharded), a reload is announced through the database, and
every other process loads the content again within `FOLLOW_INTERVAL`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.app import PeerlightBot
from bot.domain.cards.admin import (
    content_reload_failed_card,
    content_reloaded_card,
    content_status_card,
)
from bot.storage.content_files import ContentLibrary, LoadReport
from bot.storage.engine import DATABASE_ERRORS, Engine
from bot.ui import window
from bot.ui.checks import host_only, moderator_only
from bot.ui.embeds import message_kwargs

log = logging.getLogger(__name__)

RELOAD_KEY = "content_reload:latest"
FOLLOW_INTERVAL = dt.timedelta(seconds=30)


class ReloadBroadcast:
    """One process's side of the reloads every process shares a database for: it says
    when it reloaded, and follows the reloads the others said they made."""

    def __init__(
        self, database: Engine, content: ContentLibrary, clock: Callable[[], dt.datetime]
    ) -> None:
        self.database = database
        self.content = content
        self.clock = clock
        self.seen: str | None = None

    async def start(self) -> None:
        """From now on: reloads announced before this process started are in its content."""
        self.seen = await self.database.get_meta(RELOAD_KEY)

    async def announce(self) -> None:
        stamp = f"{self.clock().isoformat()} {uuid.uuid4().hex}"
        await self.database.set_meta(RELOAD_KEY, stamp)
        self.seen = stamp

    async def follow(self) -> LoadReport | None:
        """Reload if another process announced a reload since; the report, or None."""
        latest = await self.database.get_meta(RELOAD_KEY)
        if latest is None or latest == self.seen:
            return None
        self.seen = latest
        report = await self.content.reload(self.clock())
        if report.catalog is None:
            log.warning(
                "another process reloaded the content; here it has errors and the current "
                "library stays: %s",
                report.summary(),
            )
        else:
            log.info("content reloaded after another process did: %s", report.summary())
        return report


@app_commands.guild_only()
class AdminCog(commands.GroupCog, group_name="content"):
    """The content library: what is loaded, and loading it again (moderators)."""

    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        services = bot.services
        self.broadcast = ReloadBroadcast(services.database, services.content, services.clock)
        super().__init__()

    @property
    def shared(self) -> bool:
        """Whether other processes serve the bot's other shards from the same database."""
        return self.bot.shard_slice is not None

    async def cog_load(self) -> None:
        if self.shared and getattr(self.bot, "background", True):
            await self.broadcast.start()
            self.follow.start()

    async def cog_unload(self) -> None:
        self.follow.cancel()

    @tasks.loop(seconds=FOLLOW_INTERVAL.total_seconds())
    async def follow(self) -> None:
        try:
            await self.broadcast.follow()
        except DATABASE_ERRORS as error:
            log.warning(
                "could not check for content reloads by other processes (%s: %s)",
                type(error).__name__,
                error,
            )

    @app_commands.command(name="status")
    @moderator_only()
    async def status(self, interaction: discord.Interaction) -> None:
        """What the content library holds, when it was loaded, and how many warnings it has."""
        content = self.bot.services.content
        catalog = content.catalog
        card = content_status_card(
            catalog.counts(), content.loaded_at, catalog.revision, len(content.warnings)
        )
        await interaction.response.send_message(ephemeral=True, **message_kwargs(card))

    @app_commands.command(name="reload")
    @host_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        """Load the content files again (host only); if they have errors, the current library
        stays."""
        services = self.bot.services
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await services.content.reload(services.clock())
        if report.catalog is None:
            log.warning("content reload refused: %s", report.summary())
            card = content_reload_failed_card(
                [problem.format() for problem in report.errors], report.summary()
            )
        else:
            log.info("content reloaded: %s", report.summary())
            card = content_reloaded_card(report.catalog.counts(), len(report.warnings))
            if self.shared:
                await self.broadcast.announce()
        await window.follow_up(interaction, ephemeral=True, **message_kwargs(card))


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(AdminCog(bot))
