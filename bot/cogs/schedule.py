"""/schedule: moderators plan prompts once, and the scheduler posts them on time.

The commands only read and change the schedules; `bot.cogs.prompt_poster.PromptPoster` posts, and is
woken whenever a command changes what is due. Every reply is private to the moderator.
A server's schedules are deleted with its check-ins when the bot leaves it, by the one
listener in `bot.cogs.servers` (SAFETY.md §3); the scheduler reads the schedules afresh on
every pass, so it never posts for them again.
"""

from __future__ import annotations

import logging
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PeerlightBot
from bot.cogs.prompt_poster import PromptPoster
from bot.domain.cards.base import Rendered
from bot.domain.cards.schedule import (
    PROMPT_KIND_LABELS,
    ScheduleSummary,
    schedule_changed_card,
    schedule_list_card,
    schedule_preview_card,
    schedule_saved_card,
)
from bot.domain.content import PromptKind
from bot.domain.errors import UserFacingError
from bot.domain.recurrence import (
    describe_occurrence,
    format_days,
    parse_days,
    parse_time,
    parse_timezone,
    search_timezones,
)
from bot.domain.text import cut
from bot.storage.schedule_store import (
    NewSchedule,
    Run,
    RunStatus,
    Schedule,
    ScheduleLimitReached,
    ScheduleStore,
)
from bot.ui import window
from bot.ui.checks import is_moderator, moderator_only, words_first
from bot.ui.embeds import message_kwargs
from bot.ui.schedule import (
    POST_PERMISSIONS,
    checkin_view,
    missing_permission_reason,
    missing_post_permissions,
)

log = logging.getLogger(__name__)

MAX_SCHEDULES_PER_SERVER = 15
UPCOMING_SHOWN = 3
PAUSED_BY_MODERATOR = "Paused by a moderator."

KIND_CHOICES = [
    app_commands.Choice(name=PROMPT_KIND_LABELS[kind], value=kind.value) for kind in PromptKind
]

ID_DESCRIPTION = "The schedule's id, as /schedule list shows it (like 3fa9c2)"


@app_commands.guild_only()
class ScheduleCog(commands.GroupCog, group_name="schedule"):
    """Prompts Peerlight posts in a channel on a schedule (moderators)."""

    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        self.poster = PromptPoster(bot, bot.services)
        super().__init__()

    async def cog_load(self) -> None:
        # `peerlight sync` loads every cog only to register the commands: nothing is posted.
        if getattr(self.bot, "background", True):
            self.poster.start()

    async def cog_unload(self) -> None:
        await self.poster.stop()

    @property
    def store(self) -> ScheduleStore:
        return self.bot.services.schedules

    # -- commands ------------------------------------------------------------------------

    @app_commands.command(name="add")
    @app_commands.describe(
        channel="The channel to post in",
        time="Time of day, like 09:00, 9:00 or 9am",
        days="daily, weekdays, weekends, or days like mon,wed,fri",
        kind="Which kind of prompt to post",
        timezone="The time zone the time is in, like America/New_York",
    )
    @app_commands.choices(kind=KIND_CHOICES)
    @moderator_only()
    @words_first()
    async def add(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        days: str,
        kind: str,
        timezone: str | None = None,
    ) -> None:
        """Post a prompt in a channel at a local time on chosen days (moderators)."""
        guild = _guild(interaction)
        services = self.bot.services
        at = parse_time(time)
        day_set = parse_days(days)
        zone = parse_timezone(timezone or services.server(guild.id).timezone.value)
        prompt_kind = PromptKind(kind)
        if not services.content.catalog.prompts_of_kind(prompt_kind):
            raise UserFacingError(
                f"The content library has no {PROMPT_KIND_LABELS[prompt_kind].lower()} prompts "
                "yet, so there would be nothing to post. Pick another kind. Nothing was saved."
            )
        _require_moderator_can_post(interaction, channel)
        _require_post_permissions(channel)
        existing = await self.store.for_guild(guild.id)
        same = next(
            (
                s
                for s in existing
                if (s.channel_id, s.at, s.days, s.timezone, s.kind)
                == (channel.id, at, day_set, zone.key, prompt_kind)
            ),
            None,
        )
        if same is not None:
            state = " (paused; `/schedule resume` starts it again)" if same.paused else ""
            raise UserFacingError(
                f"This schedule already exists as {same.short_id}{state}: the same kind of "
                f"prompt, in #{channel.name}, at {at} {zone.key} on the same days. Nothing was "
                "saved. `/schedule list` shows every schedule."
            )
        adding = self.store.add(
            NewSchedule(
                guild_id=guild.id,
                channel_id=channel.id,
                at=at,
                days=day_set,
                timezone=zone.key,
                kind=prompt_kind,
            ),
            now=services.clock(),
            make_short_id=lambda: f"{services.rng.getrandbits(24):06x}",
            limit=MAX_SCHEDULES_PER_SERVER,
        )
        try:
            schedule = await window.within(interaction, adding)
        except ScheduleLimitReached:
            raise UserFacingError(
                f"This server already has {MAX_SCHEDULES_PER_SERVER} scheduled prompts, the "
                "most Peerlight keeps. Remove one with /schedule remove first. Nothing was saved."
            ) from None
        self.poster.wake()
        log.info("schedule %s added in server %s", schedule.short_id, guild.id)
        card = schedule_saved_card(self._summary(guild, schedule))
        await window.reply(interaction, **message_kwargs(card))

    @add.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in search_timezones(current)]

    @app_commands.command(name="list")
    @moderator_only()
    async def list_schedules(self, interaction: discord.Interaction) -> None:
        """This server's scheduled prompts: when each posts next, and why any is paused."""
        guild = _guild(interaction)
        card = await window.within(interaction, self._list_card(guild))
        await window.reply(interaction, **message_kwargs(card))

    async def _list_card(self, guild: discord.Guild) -> Rendered:
        schedules = await self.store.for_guild(guild.id)
        last_runs = await self.store.last_runs(guild.id)
        catalog = self.bot.services.content.catalog
        prompts_left = {
            kind: await self.store.unused_prompts(guild.id, kind, catalog.prompts_of_kind(kind))
            for kind in {schedule.kind for schedule in schedules}
        }
        summaries = [
            self._summary(guild, s, upcoming=1, last_run=last_runs.get(s.key)) for s in schedules
        ]
        return schedule_list_card(summaries, prompts_left)

    @app_commands.command(name="remove")
    @app_commands.describe(id=ID_DESCRIPTION)
    @moderator_only()
    @words_first()
    async def remove(self, interaction: discord.Interaction, id: str) -> None:
        """Stop and delete a scheduled prompt (moderators)."""
        guild = _guild(interaction)
        removed = await window.within(interaction, self.store.remove(guild.id, id))
        if removed is None:
            raise _not_found(id)
        self.poster.wake()
        log.info("schedule %s removed in server %s", removed.short_id, guild.id)
        card = schedule_changed_card(
            self._summary(guild, removed, upcoming=0),
            title="Schedule removed",
            note="It will not post again.",
        )
        await window.reply(interaction, **message_kwargs(card))

    @app_commands.command(name="pause")
    @app_commands.describe(id=ID_DESCRIPTION)
    @moderator_only()
    @words_first()
    async def pause(self, interaction: discord.Interaction, id: str) -> None:
        """Stop a scheduled prompt for now, keeping it to resume later (moderators)."""
        guild = _guild(interaction)
        card = await window.within(interaction, self._pause_card(guild, id))
        await window.reply(interaction, **message_kwargs(card))

    async def _pause_card(self, guild: discord.Guild, id: str) -> Rendered:
        found = await self._find(guild, id)
        note = "It was already paused; nothing changed."
        paused: Schedule | None = found
        if not found.paused:
            paused = await self.store.pause(guild.id, found.short_id, PAUSED_BY_MODERATOR)
            self.poster.wake()
            note = "It will not post until someone resumes it."
        if paused is None:
            raise _not_found(id)
        return schedule_changed_card(
            self._summary(guild, paused), title="Schedule paused", note=note
        )

    @app_commands.command(name="resume")
    @app_commands.describe(id=ID_DESCRIPTION)
    @moderator_only()
    @words_first()
    async def resume(self, interaction: discord.Interaction, id: str) -> None:
        """Start a paused scheduled prompt again, from its next time (moderators)."""
        guild = _guild(interaction)
        card = await window.within(interaction, self._resume_card(interaction, guild, id))
        await window.reply(interaction, **message_kwargs(card))

    async def _resume_card(
        self, interaction: discord.Interaction, guild: discord.Guild, id: str
    ) -> Rendered:
        found = await self._find(guild, id)
        channel = guild.get_channel(found.channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise UserFacingError(
                f"The channel schedule `{found.short_id}` posts to no longer exists. Remove it "
                "with /schedule remove and add a new one. Nothing was changed."
            )
        _require_moderator_can_post(interaction, channel)
        _require_post_permissions(channel)
        title = "Schedule resumed"
        if found.paused:
            resumed = await self.store.resume(
                guild.id, found.short_id, now=self.bot.services.clock()
            )
            if resumed is None:
                raise _not_found(id)
            self.poster.wake()
        else:
            resumed, title = found, "Schedule already running"
        return schedule_saved_card(self._summary(guild, resumed), title=title)

    @app_commands.command(name="preview")
    @app_commands.describe(id="The schedule to preview; leave empty for the next one to post")
    @moderator_only()
    @words_first()
    async def preview(self, interaction: discord.Interaction, id: str | None = None) -> None:
        """See privately what a scheduled prompt will post next (moderators)."""
        guild = _guild(interaction)
        rendered = await window.within(interaction, self._preview_card(guild, id))
        # The real button, switched off: a preview shows the post, it starts no check-in.
        view = checkin_view(disabled=True)
        await window.reply(interaction, view=view, **message_kwargs(rendered))

    async def _preview_card(self, guild: discord.Guild, id: str | None) -> Rendered:
        schedules = await self.store.for_guild(guild.id)
        if id is not None:
            schedule = await self._find(guild, id)
        elif schedules:
            schedule = schedules[0]  # active ones first, soonest first
        else:
            raise UserFacingError(
                "There are no scheduled prompts in this server yet. /schedule add plans one."
            )
        catalog = self.bot.services.content.catalog
        prompt_id = await self.store.next_prompt(
            guild.id, schedule.kind, catalog.prompts_of_kind(schedule.kind)
        )
        prompt = catalog.prompts.get(prompt_id or "")
        if prompt is None:
            raise UserFacingError(
                f"The content library has no {PROMPT_KIND_LABELS[schedule.kind].lower()} "
                "prompts right now, so this schedule would post nothing."
            )
        shared = any(
            other.kind == schedule.kind and other.key != schedule.key and not other.paused
            for other in schedules
        )
        return schedule_preview_card(self._summary(guild, schedule), prompt, shared=shared)

    @remove.autocomplete("id")
    @pause.autocomplete("id")
    @resume.autocomplete("id")
    @preview.autocomplete("id")
    async def id_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        guild = interaction.guild
        if guild is None or not is_moderator(interaction, self.bot.services):
            return []
        typed = current.strip().lower()
        choices: list[app_commands.Choice[str]] = []
        for schedule in await self.store.for_guild(guild.id):
            label = self._label(guild, schedule)
            if typed and typed not in schedule.short_id and typed not in label.lower():
                continue
            choices.append(app_commands.Choice(name=cut(label), value=schedule.short_id))
        return choices[:25]

    # -- the server around the schedules -------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        paused = await self.store.pause_channel(channel.id, f"#{channel.name} was deleted.")
        if paused:
            self.poster.wake()
            log.info("paused %d schedule(s) whose channel was deleted", paused)

    # -- helpers -------------------------------------------------------------------------

    async def _find(self, guild: discord.Guild, short_id: str) -> Schedule:
        found = await self.store.get(guild.id, short_id)
        if found is None:
            raise _not_found(short_id)
        return found

    def _label(self, guild: discord.Guild, schedule: Schedule) -> str:
        state = " (paused)" if schedule.paused else ""
        return (
            f"{schedule.short_id} · {PROMPT_KIND_LABELS[schedule.kind]} in "
            f"{_channel_name(guild, schedule.channel_id)} at {schedule.at} "
            f"{format_days(schedule.days)}{state}"
        )

    def _summary(
        self,
        guild: discord.Guild,
        schedule: Schedule,
        *,
        upcoming: int = UPCOMING_SHOWN,
        last_run: Run | None = None,
    ) -> ScheduleSummary:
        zone = schedule.zone
        moments: list[datetime] = []
        if not schedule.paused and upcoming:
            moments.append(schedule.next_due)
            while len(moments) < upcoming:
                moments.append(schedule.following(moments[-1]))
        return ScheduleSummary(
            short_id=schedule.short_id,
            channel=_channel_name(guild, schedule.channel_id),
            kind=schedule.kind,
            when=f"{schedule.at} {format_days(schedule.days)}, {schedule.timezone}",
            upcoming=tuple(describe_occurrence(moment, zone) for moment in moments),
            paused_reason=schedule.paused_reason,
            last_problem=_last_problem(last_run, schedule),
        )


def _guild(interaction: discord.Interaction) -> discord.Guild:
    guild = interaction.guild
    if guild is None:
        raise UserFacingError("Scheduled prompts belong to a server; use this in one.")
    return guild


def _channel_name(guild: discord.Guild, channel_id: int) -> str:
    channel = guild.get_channel(channel_id)
    return f"#{channel.name}" if channel is not None else "a deleted channel"


def _not_found(short_id: str) -> UserFacingError:
    shown = cut(short_id.strip(), 20)
    return UserFacingError(
        f"There is no schedule with the id “{shown}” in this server. /schedule list shows the ids."
    )


def _require_moderator_can_post(
    interaction: discord.Interaction, channel: discord.TextChannel
) -> None:
    """A moderator may have the bot post only where they could post themselves: it is
    never a way round the channel's own permissions."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        raise UserFacingError("Scheduled prompts belong to a server; use this in one.")
    permissions = channel.permissions_for(member)
    if not (permissions.view_channel and permissions.send_messages):
        raise UserFacingError(
            f"You can't send messages in #{channel.name} yourself, so Peerlight won't post "
            "there for you. Pick a channel you can post in, or ask someone who can. "
            "Nothing was saved."
        )


def _require_post_permissions(channel: discord.TextChannel) -> None:
    missing = missing_post_permissions(channel)
    if missing:
        raise UserFacingError(
            f"{missing_permission_reason(channel.name, missing)} To post prompts there it "
            f"needs {POST_PERMISSIONS}; grant them in the channel's settings, then try "
            "again. Nothing was saved."
        )


def _last_problem(run: Run | None, schedule: Schedule) -> str | None:
    if run is None or run.status in (RunStatus.SENT, RunStatus.CLAIMED):
        return None
    when = describe_occurrence(run.due, schedule.zone)
    return f"the one due {when} did not go out: {run.detail or run.status.value}."


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(ScheduleCog(bot))
