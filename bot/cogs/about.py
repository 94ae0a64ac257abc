"""/about: what Peerlight is, what it is not, and what it stores."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PeerlightBot
from bot.domain.cards.about import ServerSwitches, about_card
from bot.ui import crisis
from bot.ui.embeds import message_kwargs


class AboutCog(commands.Cog):
    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot

    @app_commands.command(name="about")
    async def about(self, interaction: discord.Interaction) -> None:
        """What Peerlight is, what it is not, what it stores, and what is on here."""
        services = self.bot.services
        privacy = services.settings.privacy
        group = privacy.min_group_size
        here: ServerSwitches | None = None
        if interaction.guild_id is not None:
            # From memory only: /about answers at once, without the database.
            here = self._switches(interaction.guild_id)
            group = here.min_group_size
        card = about_card(
            min_group_size=group,
            retention_days=privacy.retention_days,
            checkin_window_hours=privacy.checkin_window_hours,
            epsilon=privacy.epsilon,
            here=here,
        )
        await interaction.response.send_message(ephemeral=True, **message_kwargs(card))

    def _switches(self, guild_id: int) -> ServerSwitches:
        services = self.bot.services
        settings = services.server(guild_id)
        regions = services.content.catalog.regions

        def name(code: str) -> str:
            region = regions.get(code)
            return region.name if region is not None else code

        return ServerSwitches(
            reach_out=crisis.reach_out_channel_id(services, guild_id) is not None,
            region=name(settings.region.value) if settings.region.value else None,
            fallback_region=name(settings.host_region),
            min_group_size=settings.min_group_size.value,
        )


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(AboutCog(bot))
