"""/checkin for members, /summary for moderators, and keeping check-ins no longer than needed.

A check-in is anonymous by construction (SAFETY.md §3): the flow in
`bot.ui.checkin_views` hands the store a server, a day, a mood and feeling ids, nothing
else. Moderators see only what `bot.domain.checkins.summarise` lets through. Rows older
than `privacy.retention_days` are deleted at start-up and then daily, and a server's rows
as soon as the bot is removed from it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import sqlite3

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.app import PeerlightBot
from bot.domain.cards import summary_card
from bot.domain.checkins import MIN_GROUP_SIZE_FLOOR, MIN_WINDOW_DAYS, WindowData, summarise
from bot.ui import checkin_views
from bot.ui.charts import render_weekly_moods
from bot.ui.checks import moderator_only
from bot.ui.embeds import message_kwargs

log = logging.getLogger(__name__)

SUMMARY_DAYS = (7, 30, 90)
DEFAULT_SUMMARY_DAYS = 30
RETENTION_INTERVAL = dt.timedelta(days=1)


class Checkin(commands.Cog):
    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*checkin_views.DYNAMIC_ITEMS)
        self.retention.start()
        self._warm_up = asyncio.create_task(self._warm_up_charts(), name="peerlight-charts")

    async def cog_unload(self) -> None:
        self.retention.cancel()
        self._warm_up.cancel()
        self.bot.remove_dynamic_items(*checkin_views.DYNAMIC_ITEMS)

    async def _warm_up_charts(self) -> None:
        # Importing matplotlib takes most of a second; paid here, at start-up, in a worker
        # thread, rather than by the first moderator who asks for a /summary.
        empty = summarise(WindowData(days=MIN_WINDOW_DAYS, moods={}), MIN_GROUP_SIZE_FLOOR)
        try:
            await asyncio.to_thread(render_weekly_moods, empty, title="")
        except Exception as error:
            log.warning("could not prepare the summary chart (%s: %s)", type(error).__name__, error)

    # -- members ---------------------------------------------------------------------------

    @app_commands.command(name="checkin")
    @app_commands.guild_only()
    async def checkin(self, interaction: discord.Interaction) -> None:
        """An anonymous check-in: how you are, in two taps. Nothing about who you are is kept."""
        await checkin_views.start(interaction)

    # -- moderators ------------------------------------------------------------------------

    @app_commands.command(name="summary")
    @app_commands.describe(days="How many days to look back over (default 30)")
    @app_commands.choices(
        days=[app_commands.Choice(name=f"Last {n} days", value=n) for n in SUMMARY_DAYS]
    )
    @app_commands.guild_only()
    @moderator_only()
    async def summary(
        self, interaction: discord.Interaction, days: int = DEFAULT_SUMMARY_DAYS
    ) -> None:
        """How this server's members are doing, from anonymous check-ins (moderators)."""
        services = self.bot.services
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        await interaction.response.defer(thinking=True, ephemeral=True)
        end = services.clock().astimezone(dt.UTC).date()
        data = await services.checkins.window(guild_id, end, days)
        summary = summarise(data, services.settings.privacy.min_group_size)
        catalog = services.content.catalog
        rendered = summary_card(
            summary,
            start=end - dt.timedelta(days=days - 1),
            end=end,
            feeling_labels={f.id: f.label for f in catalog.feelings.values()},
        )
        kwargs = message_kwargs(rendered)
        if summary.enough:
            # matplotlib is synchronous and takes tens of milliseconds: off the event loop.
            png = await asyncio.to_thread(
                render_weekly_moods, summary, title=f"Check-ins per week · last {days} days"
            )
            kwargs["file"] = discord.File(
                io.BytesIO(png), filename=f"checkins-last-{days}-days.png"
            )
        await interaction.followup.send(ephemeral=True, **kwargs)

    # -- retention -------------------------------------------------------------------------

    async def delete_expired(self) -> int:
        """Delete check-ins older than `privacy.retention_days`, across every server."""
        services = self.bot.services
        retention_days = services.settings.privacy.retention_days
        today = services.clock().astimezone(dt.UTC).date()
        deleted = await services.checkins.delete_older_than(
            today - dt.timedelta(days=retention_days)
        )
        if deleted:
            log.info("deleted %d check-ins older than %d days", deleted, retention_days)
        return deleted

    @tasks.loop(seconds=RETENTION_INTERVAL.total_seconds())
    async def retention(self) -> None:
        try:
            await self.delete_expired()
        except sqlite3.Error as error:
            # The next run tries again; an error here must not stop the daily loop.
            log.warning("could not delete expired check-ins (%s: %s)", type(error).__name__, error)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        try:
            deleted = await self.bot.services.checkins.delete_guild(guild.id)
        except sqlite3.Error as error:
            log.warning(
                "could not delete the check-ins of server %s, which removed Peerlight "
                "(%s: %s); retention deletes them within %d days",
                guild.id,
                type(error).__name__,
                error,
                self.bot.services.settings.privacy.retention_days,
            )
            return
        log.info("Peerlight left server %s: deleted its %d check-ins", guild.id, deleted)


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(Checkin(bot))
