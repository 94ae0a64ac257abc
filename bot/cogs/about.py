"""/about: what Peerlight is, what it is not, and what it stores."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PeerlightBot
from bot.domain.cards.about import about_card
from bot.ui.embeds import message_kwargs


class AboutCog(commands.Cog):
    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot

    @app_commands.command(name="about")
    async def about(self, interaction: discord.Interaction) -> None:
        """What Peerlight is, what it is not, and exactly what it stores."""
        services = self.bot.services
        privacy = services.settings.privacy
        group = privacy.min_group_size
        if interaction.guild_id is not None:
            group = services.server(interaction.guild_id).min_group_size.value
        card = about_card(
            min_group_size=group,
            retention_days=privacy.retention_days,
            checkin_window_hours=privacy.checkin_window_hours,
            epsilon=privacy.epsilon,
        )
        await interaction.response.send_message(ephemeral=True, **message_kwargs(card))


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(AboutCog(bot))
