"""The Bot subclass: receives Services, loads the cogs, syncs commands only when they changed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.config import is_loopback
from bot.domain.shards import ShardSlice
from bot.services import Services
from bot.ui import errors

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "bot.cogs.about",
    "bot.cogs.library",
    "bot.cogs.admin",
    "bot.cogs.checkin",
    "bot.cogs.schedule",
    "bot.cogs.servers",
    "bot.cogs.settings",
    "bot.cogs.health",
)
# Connections to Discord's API open at once. Unbounded (discord.py's default), a burst of
# replies opens one connection each, and setting them all up costs more than waiting for
# one of a few already open.
HTTP_CONNECTIONS = 64
# The longest discord.py may sleep on a rate limit before it raises instead (its
# smallest allowed value). Unset, a long 429 would hold a request for as long as Discord
# says; interaction paths bound their own calls tighter (`bot.ui.window`).
MAX_RATELIMIT_WAIT = 30.0
# discord.py waits 5 seconds between two shards' IDENTIFY, Discord's rule for one bot.
# A Discord stand-in on this machine (the sandbox, in tests and the bench) has no such
# rule; only there is the wait this short.
LOCAL_IDENTIFY_WAIT = 0.05


def command_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> list[dict[str, Any]]:
    return [command.to_dict(tree) for command in tree.get_commands(guild=guild)]


def payload_hash(payload: Sequence[dict[str, Any]]) -> str:
    canonical = json.dumps(
        sorted(payload, key=lambda c: (c.get("type", 1), c["name"])),
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _meta_key(guild_id: int | None) -> str:
    return "commands_hash:global" if guild_id is None else f"commands_hash:guild:{guild_id}"


def gateway_intents() -> discord.Intents:
    """Servers and channels only: Peerlight never receives members' messages.

    Slash commands, buttons and forms arrive as interactions, which need no intent. The
    default intents would subscribe to message events (and Discord sends the text of any
    message that mentions the bot), so they are not used.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


class PeerlightBot(commands.Bot):
    """The bot. `background=False` (for `peerlight sync`) skips scheduled and periodic work."""

    def __init__(
        self,
        services: Services,
        *,
        sync_on_start: bool = True,
        background: bool = True,
        guild_ready_timeout: float = 2.0,
        **sharding: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=gateway_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            **sharding,
        )
        self.services = services
        self._known_dynamic: list[type[discord.ui.DynamicItem[Any]]] = []
        self._unknown_control: type[discord.ui.DynamicItem[Any]] | None = None
        self.sync_on_start = sync_on_start
        self.background = background
        # Where the last start synced commands to: read by the tests that prove an
        # unchanged restart sends no sync.
        self.synced: list[str] = []

    async def login(self, token: str) -> None:
        # A connector belongs to the event loop it is made in, so it is made here, in the
        # loop that runs the bot, just before discord.py would make its unbounded one.
        connector = self.http.connector
        if connector is discord.utils.MISSING or connector.closed:
            self.http.connector = aiohttp.TCPConnector(limit=HTTP_CONNECTIONS)
        await super().login(token)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # discord.py finishes handling a READY a moment after it arrives; when the bot
        # closes within that moment, the late "ready" would be scheduled on a loop the
        # closed client no longer has. Nothing is handled once the bot is closed.
        if self.is_closed():
            return
        super().dispatch(event_name, *args, **kwargs)

    def add_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        """As discord.py's, and the control that answers unknown custom ids learns to
        leave the new ones alone (whoever adds them, whenever)."""
        super().add_dynamic_items(*items)
        self._known_dynamic.extend(items)
        if self._unknown_control is not None:
            self._refresh_unknown_control()

    def remove_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        super().remove_dynamic_items(*items)
        self._known_dynamic = [i for i in self._known_dynamic if i not in items]
        if self._unknown_control is not None:
            self._refresh_unknown_control()

    def _refresh_unknown_control(self) -> None:
        from bot.ui import unknown

        if self._unknown_control is not None:
            super().remove_dynamic_items(self._unknown_control)
        self._unknown_control = unknown.unknown_control(tuple(self._known_dynamic))
        super().add_dynamic_items(self._unknown_control)

    @property
    def sync_targets(self) -> list[int | None]:
        guild_ids = self.services.settings.discord.guild_ids
        return list(guild_ids) if guild_ids else [None]

    async def setup_hook(self) -> None:
        errors.install(self.tree)
        if not self.services.server_settings.loaded:
            count = await self.services.server_settings.load()
            log.debug("settings of %d server(s) loaded", count)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
            log.debug("loaded %s", extension)
        # Last, so it can leave alone every custom id the cogs' controls answer.
        self._refresh_unknown_control()
        for guild_id in self.services.settings.discord.guild_ids:
            self.tree.copy_global_to(guild=discord.Object(guild_id))
        if self.sync_on_start and self.global_duties:
            await self.sync_commands(force=False)
        elif self.sync_on_start:
            log.info("slash commands are synced by the process that runs shard 0")

    async def sync_commands(self, *, force: bool, only: int | None = None) -> list[str]:
        """Sync where the command payload changed since the last sync (or always, if forced).

        Discord rate-limits command syncs, so an unchanged restart must send none.
        """
        done: list[str] = []
        targets = [only] if only is not None else self.sync_targets
        for guild_id in targets:
            guild = discord.Object(guild_id) if guild_id is not None else None
            if (
                guild is not None
                and only is not None
                and guild_id not in self.services.settings.discord.guild_ids
            ):
                self.tree.copy_global_to(guild=guild)
            digest = payload_hash(command_payload(self.tree, guild))
            key = _meta_key(guild_id)
            if not force and await self.services.database.get_meta(key) == digest:
                log.info(
                    "slash commands unchanged since the last sync (%s); not syncing",
                    key.split(":", 1)[1],
                )
                continue
            synced = await self.tree.sync(guild=guild)
            await self.services.database.set_meta(key, digest)
            where = "globally" if guild_id is None else f"to server {guild_id}"
            log.info("synced %d slash commands %s", len(synced), where)
            done.append(where)
        self.synced.extend(done)
        return done

    @property
    def shard_slice(self) -> ShardSlice | None:
        """The shards this process runs (None: not sharded)."""
        return self.services.settings.discord.shard_slice

    @property
    def global_duties(self) -> bool:
        """Whether this process does what is done once for the whole bot (syncing the
        commands): an unsharded bot, or the process that runs shard 0."""
        shards = self.shard_slice
        return shards is None or shards.global_duties

    def on_my_shards(self, guild_id: int) -> bool:
        """Whether a server is on one of this process's shards (always, unsharded)."""
        shards = self.shard_slice
        return shards is None or shards.holds(guild_id)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if _local_discord():
            if not initial:
                await asyncio.sleep(LOCAL_IDENTIFY_WAIT)
            return
        await super().before_identify_hook(shard_id, initial=initial)

    async def on_ready(self) -> None:
        user = self.user
        log.info("Peerlight is ready as %s in %d server(s)", user, len(self.guilds))


class ShardedPeerlightBot(PeerlightBot, commands.AutoShardedBot):
    """The bot on a slice of Discord's shards: one gateway connection per shard."""


def make_bot(
    services: Services,
    *,
    sync_on_start: bool = True,
    background: bool = True,
    guild_ready_timeout: float = 2.0,
) -> PeerlightBot:
    """The bot for these settings: sharded (`discord.shard_count`) or not."""
    shards = services.settings.discord.shard_slice
    if shards is None:
        return PeerlightBot(
            services,
            sync_on_start=sync_on_start,
            background=background,
            guild_ready_timeout=guild_ready_timeout,
        )
    return ShardedPeerlightBot(
        services,
        sync_on_start=sync_on_start,
        background=background,
        guild_ready_timeout=guild_ready_timeout,
        shard_ids=shards.ids,
        shard_count=shards.count,
    )


def _local_discord() -> bool:
    """Whether the gateway this process connects to is a stand-in on this machine."""
    return is_loopback(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY.host or "")
