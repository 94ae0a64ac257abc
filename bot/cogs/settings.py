"""/settings: a server's moderators set Peerlight up for their server, in Discord.

Moderator roles, the moderators' channel for reach-out requests, the crisis region, the
schedules' time zone and the smallest group size for summaries, stored per server
(`bot.storage.server_settings`) and in force from the next interaction: every reader asks
`Services.server`. The host's config file keeps the defaults and the floor. Only this
server's moderators (Manage Server, or a moderator role of this server) see or change its
settings, and only roles and channels of this server can be chosen. Each change is logged
as "server X changed setting Y", without who changed it or to what.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PeerlightBot
from bot.domain.catalog import Catalog
from bot.domain.errors import UserFacingError
from bot.domain.recurrence import parse_timezone, search_timezones
from bot.domain.server_settings import (
    SETTING_NAMES,
    ServerSettings,
    SettingError,
    checked_group_size,
)
from bot.domain.text import cut
from bot.services import Services
from bot.storage.engine import DATABASE_ERRORS
from bot.ui import crisis, window
from bot.ui import settings as settings_text
from bot.ui.checks import is_moderator, moderator_only, words_first

log = logging.getLogger(__name__)

# The longest a first-run note may take to send, and the bot's close waits for one.
NOTE_TIMEOUT = 5.0
RESET_CHOICES = [
    app_commands.Choice(name=label.capitalize(), value=name)
    for name, label in SETTING_NAMES.items()
]


def _guild(interaction: discord.Interaction) -> discord.Guild:
    guild = interaction.guild
    if guild is None:  # guild_only: Discord sends these commands from servers only
        raise UserFacingError("Settings belong to a server: use /settings in one.")
    return guild


def own_role(guild: discord.Guild, role: discord.Role) -> discord.Role:
    """`role` if it is a role of this server other than @everyone, else a clear refusal."""
    known = guild.get_role(role.id)
    if known is None:
        raise UserFacingError(
            "That role isn't one of this server's roles, so it can't be a moderator role "
            "here. Nothing was changed."
        )
    if known.is_default():
        raise UserFacingError(
            "@everyone can't be a moderator role: every member would become a moderator. "
            "Pick the role your moderators have. Nothing was changed."
        )
    return known


def own_channel(client: discord.Client, guild: discord.Guild, channel_id: int) -> str | None:
    """Why requests could not be posted in this channel of this server, or None."""
    channel = client.get_channel(channel_id)
    if not isinstance(channel, discord.abc.GuildChannel) or channel.guild.id != guild.id:
        return "that channel isn't one of this server's channels"
    return crisis.reach_out_problem(client, guild.id, channel_id)


def region_code(catalog: Catalog, text: str) -> str:
    """A shipped region by code (`gb`) or name (`United Kingdom`), else a refusal naming
    the regions there are lines for."""
    wanted = " ".join(text.split()).casefold()
    for region in catalog.regions.values():
        if wanted in (region.region.casefold(), region.name.casefold()):
            return region.region
    names = ", ".join(f"{r.name} ({r.region})" for r in catalog.regions.values())
    raise UserFacingError(
        f"I don't have support lines for “{cut(text, 40)}”. Pick one of: {names}. Nothing "
        "was changed."
    )


@app_commands.guild_only()
class SettingsCog(commands.GroupCog, group_name="settings"):
    """This server's Peerlight settings (moderators)."""

    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        # First-run notes being sent: finished before the bot closes its connection.
        self._notes: set[asyncio.Task[Any]] = set()
        self._migrated = False
        self._closing = False
        super().__init__()

    async def cog_unload(self) -> None:
        # A command answered just before the bot closes gets no note: the note would go
        # out on a connection that is closing. Notes already on their way finish first.
        self._closing = True
        pending = {task for task in self._notes if not task.done()}
        if pending:
            await asyncio.wait(pending, timeout=NOTE_TIMEOUT)

    @property
    def services(self) -> Services:
        return self.bot.services

    # -- view ----------------------------------------------------------------------------

    @app_commands.command(name="view")
    @moderator_only()
    async def view(self, interaction: discord.Interaction) -> None:
        """Every setting of this server and where it comes from (moderators)."""
        guild = _guild(interaction)
        text = settings_text.overview(self.services, guild, self.bot)
        await window.reply(interaction, content=text)

    # -- changes -------------------------------------------------------------------------

    @app_commands.command(name="moderator-roles")
    @app_commands.describe(
        role="A role whose members may use moderator commands here",
        second_role="Another moderator role (optional)",
        third_role="Another moderator role (optional)",
    )
    @moderator_only()
    async def moderator_roles(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        second_role: discord.Role | None = None,
        third_role: discord.Role | None = None,
    ) -> None:
        """Set the roles whose members are Peerlight moderators here (moderators)."""
        guild = _guild(interaction)
        picked = [own_role(guild, r) for r in (role, second_role, third_role) if r is not None]
        roles = sorted({r.id for r in picked})
        before = self.services.server(guild.id)
        await self._change(
            interaction, guild, "moderator_roles", self.services.server_settings.set_roles, roles
        )
        await self._answer(interaction, guild, "moderator_roles", before)

    @app_commands.command(name="reach-out")
    @app_commands.describe(
        channel="Your moderators' private channel, where requests to reach out are posted"
    )
    @moderator_only()
    async def reach_out(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        """Turn on "Ask a moderator to reach out", posting to this channel (moderators)."""
        guild = _guild(interaction)
        problem = own_channel(self.bot, guild, channel.id)
        if problem is not None:
            raise UserFacingError(
                f"I can't use that channel for requests: {problem}. Pick a text channel of "
                "this server where I can view the channel and send messages. Nothing was "
                "changed."
            )
        before = self.services.server(guild.id)
        await self._set(interaction, guild, "reach_out_channel", channel.id)
        await self._answer(
            interaction,
            guild,
            "reach_out_channel",
            before,
            extra="I checked: I can post there. Members in a crisis now see the button "
            "“Ask a moderator to reach out”.",
        )

    @app_commands.command(name="region")
    @app_commands.describe(region="Whose support lines members here see first, like GB or US")
    @moderator_only()
    @words_first()
    async def region(self, interaction: discord.Interaction, region: str) -> None:
        """Set whose crisis lines members here see, unless they ask for another (moderators)."""
        guild = _guild(interaction)
        code = region_code(self.services.content.catalog, region)
        before = self.services.server(guild.id)
        await self._set(interaction, guild, "region", code)
        await self._answer(interaction, guild, "region", before)

    @region.autocomplete("region")
    async def _region_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        index = self.services.content.catalog.region_index
        return [
            app_commands.Choice(name=cut(hit.label), value=hit.key) for hit in index.search(current)
        ]

    @app_commands.command(name="timezone")
    @app_commands.describe(timezone="The time zone new schedules use, like Europe/London")
    @moderator_only()
    @words_first()
    async def timezone(self, interaction: discord.Interaction, timezone: str) -> None:
        """Set the time zone /schedule add uses when none is given (moderators)."""
        guild = _guild(interaction)
        zone = parse_timezone(timezone).key
        before = self.services.server(guild.id)
        await self._set(interaction, guild, "timezone", zone)
        await self._answer(
            interaction,
            guild,
            "timezone",
            before,
            extra="Schedules made before keep their own time zone.",
        )

    @timezone.autocomplete("timezone")
    async def _timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in search_timezones(current)]

    @app_commands.command(name="group-size")
    @app_commands.describe(size="The smallest group a summary shows; smaller counts read hidden")
    @moderator_only()
    async def group_size(
        self, interaction: discord.Interaction, size: app_commands.Range[int, 5, 1000]
    ) -> None:
        """Set the smallest group size for summaries (moderators)."""
        guild = _guild(interaction)
        before = self.services.server(guild.id)
        try:
            value = checked_group_size(size, before.min_group_size_floor)
        except SettingError as error:
            raise UserFacingError(str(error)) from None
        await self._set(interaction, guild, "min_group_size", value)
        await self._answer(
            interaction,
            guild,
            "min_group_size",
            before,
            extra=settings_text.GROUP_SIZE_NOTE,
        )

    @app_commands.command(name="reset")
    @app_commands.describe(setting="The setting to set back to the host's default")
    @app_commands.choices(setting=RESET_CHOICES)
    @moderator_only()
    async def reset(self, interaction: discord.Interaction, setting: str) -> None:
        """Set one setting back to the host's default (moderators)."""
        guild = _guild(interaction)
        if setting not in SETTING_NAMES:
            raise UserFacingError("Pick a setting from the list. Nothing was changed.")
        before = self.services.server(guild.id)
        store = self.services.server_settings
        if setting == "moderator_roles":
            await self._change(interaction, guild, setting, store.set_roles, None)
        else:
            await self._set(interaction, guild, setting, None)
        await self._answer(interaction, guild, setting, before)

    # -- settings from the config file --------------------------------------------------

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """`moderation.role` and `moderation.reach_out_channels` are read once into the
        servers' own settings, then reported as deprecated at every start."""
        if self._migrated:
            return
        self._migrated = True
        moderation = self.services.settings.moderation
        try:
            if moderation.role is not None:
                await self._copy_role(moderation.role)
            for guild_id, channel_id in sorted(moderation.reach_out_channels.items()):
                await self._copy_channel(guild_id, channel_id)
        except DATABASE_ERRORS as error:
            log.warning("could not copy the config's server settings (%s)", error)
        if moderation.role is not None:
            log.warning(
                "moderation.role is deprecated: each server now chooses its moderator roles "
                "with /settings moderator-roles. Its value was copied into the settings of "
                "the server that has that role; remove moderation.role from the config file"
            )
        if moderation.reach_out_channels:
            log.warning(
                "moderation.reach_out_channels is deprecated: each server now chooses its "
                "moderators' channel with /settings reach-out. Its entries were copied into "
                "those servers' settings; remove moderation.reach_out_channels from the "
                "config file"
            )

    async def _copy_role(self, role_id: int) -> None:
        key = f"settings_copied:moderation.role:{role_id}"
        database = self.services.database
        if await database.get_meta(key) is not None:
            return
        guild = next((g for g in self.bot.guilds if g.get_role(role_id) is not None), None)
        if guild is None:
            return  # not in that role's server (yet): tried again at the next start
        store = self.services.server_settings
        if store.chosen(guild.id).moderator_roles is None:
            await store.set_roles(guild.id, [role_id])
            log.info(
                "moderation.role: role %s copied into the settings of server %s "
                "(/settings moderator-roles there changes it)",
                role_id,
                guild.id,
            )
        await database.set_meta(key, str(guild.id))

    async def _copy_channel(self, guild_id: int, channel_id: int) -> None:
        key = f"settings_copied:moderation.reach_out_channels:{guild_id}"
        database = self.services.database
        if await database.get_meta(key) is not None:
            return
        store = self.services.server_settings
        if store.chosen(guild_id).reach_out_channel is None:
            await store.set_value(guild_id, "reach_out_channel", channel_id)
            log.info(
                "moderation.reach_out_channels: channel %s copied into the settings of "
                "server %s (/settings reach-out there changes it)",
                channel_id,
                guild_id,
            )
        await database.set_meta(key, str(channel_id))

    # -- first run -----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command[Any, ..., Any]
    ) -> None:
        """The first time a moderator of a server uses any command there, a private note
        says what is not set up yet and offers /settings. Once per server; nothing is ever
        posted publicly, on joining or later."""
        guild = interaction.guild
        if self._closing or guild is None or self.services.server(guild.id).first_run_noted:
            return
        if not is_moderator(interaction, self.services):
            return
        task = asyncio.current_task()
        if task is not None:
            self._notes.add(task)
            task.add_done_callback(self._notes.discard)
        await self._first_run(interaction, guild, command.qualified_name)

    async def _first_run(
        self, interaction: discord.Interaction, guild: discord.Guild, command: str
    ) -> None:
        try:
            marked = await self.services.server_settings.note_first_run(guild.id)
        except DATABASE_ERRORS as error:
            log.warning("could not note the first run in server %s (%s)", guild.id, error)
            return
        # A moderator who found /settings first needs no pointer to it.
        if not marked or command.startswith("settings"):
            return
        note = settings_text.first_run(self.services, guild, self.bot)
        if note is None:
            return
        try:
            await window.bounded(interaction.followup.send(note, ephemeral=True), NOTE_TIMEOUT)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, RuntimeError) as error:
            # RuntimeError: aiohttp's "Session is closed", when the bot closes while the
            # note is on its way. The note is a courtesy; the command was already answered.
            status = error.status if isinstance(error, discord.HTTPException) else repr(error)
            log.warning("could not send the first-run note in server %s (%s)", guild.id, status)

    # -- shared --------------------------------------------------------------------------

    async def _set(
        self, interaction: discord.Interaction, guild: discord.Guild, name: str, value: Any
    ) -> None:
        store = self.services.server_settings

        async def write(guild_id: int, stored: Any) -> Any:
            return await store.set_value(guild_id, name, stored)

        await self._change(interaction, guild, name, write, value)

    async def _change(
        self,
        interaction: discord.Interaction,
        guild: discord.Guild,
        name: str,
        write: Any,
        value: Any,
    ) -> None:
        # A database write: acknowledged if slow, so the moderator is always answered.
        await window.within(interaction, write(guild.id, value))
        log.info("server %s changed setting %s", guild.id, name)

    async def _answer(
        self,
        interaction: discord.Interaction,
        guild: discord.Guild,
        name: str,
        before: ServerSettings,
        *,
        extra: str = "",
    ) -> None:
        after = self.services.server(guild.id)
        text = settings_text.changed(self.services, guild, self.bot, name, before, after)
        if extra:
            text = f"{text}\n{extra}"
        await window.reply(interaction, content=text)


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(SettingsCog(bot))
