"""/content status (moderators) and /content reload (the host of the bot only)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PeerlightBot
from bot.domain.cards.admin import (
    content_reload_failed_card,
    content_reloaded_card,
    content_status_card,
)
from bot.ui.checks import host_only, moderator_only
from bot.ui.embeds import message_kwargs

log = logging.getLogger(__name__)


@app_commands.guild_only()
class AdminCog(commands.GroupCog, group_name="content"):
    """The content library: what is loaded, and loading it again (moderators)."""

    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        super().__init__()

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
        await interaction.followup.send(ephemeral=True, **message_kwargs(card))


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(AdminCog(bot))
