"""/checkin for members, /summary for moderators, and keeping check-ins no longer than needed.

A check-in is anonymous by construction (SAFETY.md §3): the flow in
`bot.ui.checkin` hands the store a server, a day, a mood and feeling ids, nothing
else. Moderators see only what `bot.domain.checkins.summarise` lets through, over windows
that check-ins are kept long enough to fill. Rows older than `privacy.retention_days` are
deleted at start-up and then daily; a server that removes the bot takes its check-ins with
it (`bot.cogs.servers`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.app import PeerlightBot
from bot.domain.cards.base import Card, Rendered
from bot.domain.cards.checkin import summary_card, votes_card
from bot.domain.checkins import Summary, summarise_nested
from bot.domain.errors import UserFacingError
from bot.domain.periods import (
    completed_weeks,
    default_window,
    previous_window_kept,
    summary_windows,
    week_start,
    weeks_for,
    window_from_weeks,
    window_label,
)
from bot.domain.server_settings import group_size_in_force
from bot.domain.text import or_list
from bot.storage.engine import DATABASE_ERRORS
from bot.storage.votes import window_weeks
from bot.ui import checkin as checkin_ui
from bot.ui import window
from bot.ui.charts import render_weekly_moods
from bot.ui.checks import moderator_only
from bot.ui.embeds import message_kwargs

log = logging.getLogger(__name__)

RETENTION_INTERVAL = dt.timedelta(days=1)
CHANGE_FIELD = "Change"


def _with_change(rendered: Rendered, text: str) -> Rendered:
    cards = tuple(
        dataclasses.replace(
            card,
            fields=tuple(
                dataclasses.replace(field, value=text) if field.name == CHANGE_FIELD else field
                for field in card.fields
            ),
        )
        for card in rendered.cards
    )
    return dataclasses.replace(rendered, cards=cards)


class CheckinCog(commands.Cog):
    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        self.retention_days = bot.services.settings.privacy.retention_days
        # Slash-command choices are fixed when the command is registered. The settings are
        # known by then, so /summary offers only windows that check-ins are kept for.
        self.windows = summary_windows(self.retention_days)
        self.default_days = default_window(self.windows)
        self.summary_command = self._summary_command()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*checkin_ui.DYNAMIC_ITEMS)
        self.bot.tree.add_command(self.summary_command)
        # `peerlight sync` loads every cog only to register the commands: no deleting.
        # matplotlib is left for the first /summary chart to import (about half a second,
        # after the defer): loaded up front it costs tens of MB that most servers never use.
        if getattr(self.bot, "background", True):
            self.retention.start()

    async def cog_unload(self) -> None:
        self.retention.cancel()
        self.bot.tree.remove_command(self.summary_command.name)
        self.bot.remove_dynamic_items(*checkin_ui.DYNAMIC_ITEMS)

    # -- members ---------------------------------------------------------------------------

    @app_commands.command(name="checkin")
    @app_commands.guild_only()
    async def checkin(self, interaction: discord.Interaction) -> None:
        """An anonymous check-in: how you are, in two taps. Nothing about who you are is kept."""
        await checkin_ui.start(interaction)

    # -- moderators ------------------------------------------------------------------------

    def _summary_command(self) -> app_commands.Command[Any, ..., None]:
        choices = [
            app_commands.Choice(name=f"{window_label(days)} ({days} days)", value=days)
            for days in self.windows
        ]

        @app_commands.command(name="summary")
        @app_commands.describe(
            days=f"How many days to look back over (default {self.default_days})"
        )
        @app_commands.choices(days=choices)
        @app_commands.guild_only()
        @moderator_only()
        async def summary(interaction: discord.Interaction, days: int | None = None) -> None:
            """How this server's members are doing, from anonymous check-ins (moderators)."""
            await self.send_summary(interaction, self.default_days if days is None else days)

        return summary

    def _check_window(self, days: int) -> None:
        if days in self.windows:
            return
        kept = f"Peerlight keeps check-ins for {self.retention_days} days"
        if not self.windows:
            raise UserFacingError(
                f"{kept}, too few to cover a whole completed week on any day of the week, so "
                "there is no summary to show. An operator can keep them longer with "
                "`privacy.retention_days` (13 days or more)."
            )
        raise UserFacingError(
            f"{kept}, so a summary here covers {or_list(self.windows)} days: the windows "
            "they are kept long enough to fill. Pick one of those."
        )

    async def published(self, guild_id: int, today: dt.date) -> dict[int, Summary]:
        """Every offered window's summary for this server, as of `today`: made of
        completed weeks whose noisy counts are stored once (published now where missing),
        and protected together. The same on every day of a week, and after a restart."""
        services = self.bot.services
        longest = max(weeks_for(days) for days in self.windows)
        wanted = set(completed_weeks(today, longest))
        previous: dict[int, list[dt.date]] = {}
        for days in self.windows:
            if previous_window_kept(days, self.retention_days):
                weeks = weeks_for(days)
                previous[days] = completed_weeks(today, weeks, skip=weeks)
                wanted.update(previous[days])
        mondays = sorted(wanted)
        feelings = tuple(sorted(services.content.catalog.feelings))
        current = services.server(guild_id).min_group_size.value
        await services.checkins.publish_weeks(
            services.publisher, services.budget, guild_id, mondays, feelings, current
        )
        stored = await services.checkins.published_weeks(services.publisher, guild_id, mondays)
        published_under = await services.checkins.published_group_sizes(
            services.publisher, guild_id, mondays
        )
        k = group_size_in_force(
            current, published_under, legacy=services.settings.privacy.min_group_size
        )
        windows = [
            window_from_weeks(
                stored, completed_weeks(today, weeks_for(days)), previous.get(days, ())
            )
            for days in self.windows
        ]
        summaries = summarise_nested(windows, k)
        return dict(zip(self.windows, summaries, strict=True))

    async def send_summary(self, interaction: discord.Interaction, days: int) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        self._check_window(days)
        # Answered at once when the query and chart are quick; acknowledged after
        # `window.ACK_BUDGET` otherwise (the first chart imports matplotlib).
        kwargs = await window.within(interaction, self._summary_message(guild_id, days))
        await window.reply(interaction, **kwargs)

    async def _summary_message(self, guild_id: int, days: int) -> dict[str, Any]:
        services = self.bot.services
        today = services.clock().astimezone(dt.UTC).date()
        summary = (await self.published(guild_id, today))[days]
        mondays = completed_weeks(today, weeks_for(days))
        catalog = services.content.catalog
        rendered = summary_card(
            summary,
            start=mondays[0],
            end=mondays[-1] + dt.timedelta(days=6),
            feeling_labels={f.id: f.label for f in catalog.feelings.values()},
            epsilon=services.settings.privacy.epsilon,
        )
        if not previous_window_kept(days, self.retention_days) and summary.mean is not None:
            rendered = _with_change(
                rendered,
                f"No comparison: check-ins are kept {self.retention_days} days, not long "
                f"enough to cover the {days} days before.",
            )
        rendered = dataclasses.replace(
            rendered, cards=(*rendered.cards, await self._votes_card(guild_id, today))
        )
        kwargs = message_kwargs(rendered)
        if summary.enough:
            # matplotlib is synchronous and takes tens of milliseconds: off the event loop.
            png = await asyncio.to_thread(
                render_weekly_moods,
                summary,
                title=f"Check-ins by mood · {window_label(days).lower()}",
            )
            kwargs["file"] = discord.File(
                io.BytesIO(png), filename=f"checkins-{weeks_for(days)}-weeks.png"
            )
        return kwargs

    async def _votes_card(self, guild_id: int, today: dt.date) -> Card:
        """Per-technique vote totals over the weeks the ranking uses (SAFETY.md §4)."""
        services = self.bot.services
        catalog = services.content.catalog
        k = services.server(guild_id).min_group_size.value
        weeks = window_weeks(self.retention_days)
        mondays = completed_weeks(today, weeks) if weeks else [week_start(today)]
        totals = await services.votes.published_totals(
            services.publisher,
            services.vote_scale,
            guild_id,
            today,
            sorted(catalog.techniques),
            k,
            self.retention_days,
        )
        return votes_card(
            totals,
            {t.id: t.title for t in catalog.techniques.values()},
            start=mondays[0],
            end=mondays[-1] + dt.timedelta(days=6),
            k=k,
            epsilon=services.settings.privacy.epsilon,
        )

    # -- retention -------------------------------------------------------------------------

    async def delete_expired(self) -> int:
        """Delete check-ins, and published weeks starting, before `privacy.retention_days`
        ago, across every server; and the keys and claims of past days (SAFETY.md §3)."""
        services = self.bot.services
        today = services.clock().astimezone(dt.UTC).date()
        cutoff = today - dt.timedelta(days=self.retention_days)
        deleted = await services.checkins.delete_older_than(cutoff)
        votes = await services.votes.delete_older_than(cutoff)
        if votes:
            log.info("deleted the votes of %d days older than %d days", votes, self.retention_days)
        weeks = await services.publisher.delete_before(cutoff)
        await services.checkins.forget_past_days(today)
        if weeks:
            log.info("deleted %d published weeks older than %d days", weeks, self.retention_days)
        if deleted:
            log.info("deleted %d check-ins older than %d days", deleted, self.retention_days)
        return deleted

    @tasks.loop(seconds=RETENTION_INTERVAL.total_seconds())
    async def retention(self) -> None:
        try:
            await self.delete_expired()
        except DATABASE_ERRORS as error:
            # The next run tries again; an error here must not stop the daily loop.
            log.warning("could not delete expired check-ins (%s: %s)", type(error).__name__, error)


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(CheckinCog(bot))
