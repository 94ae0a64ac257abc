"""A local stand-in for Discord that an unmodified discord.py client can log in to.

One aiohttp server on 127.0.0.1 answers REST v10 under ``/api/v10`` and the gateway v10 at
``/gateway``. Tests drive it as members would (``command``, ``press``, ``choose``,
``submit_modal``) and observe what the bot sent (``requests``, ``channel_messages``,
``SandboxInteraction.messages``). See docs/SANDBOX.md for the protocol facts it relies on.

The `Sandbox` class is a facade over parts composed into it, each with one job: the
world (`world.py`), the gateway (`gateway.py`), the REST routes (`routes.py`), the
members it plays (`driver.py`), and the request recorder with fault injection
(`recorder.py`). Tests use the facade only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from types import TracebackType

from aiohttp import web

from bot.discord_host import connect_client_to
from bot.sandbox.common import (
    API_PREFIX,
    SandboxError,
    SandboxTimeout,
    _HasPermissionValue,
)
from bot.sandbox.driver import MemberDriver
from bot.sandbox.gateway import (
    Gateway,
)
from bot.sandbox.interaction import SandboxInteraction
from bot.sandbox.payloads import (
    APPLICATION_ID,
    ATTACHMENT_SIZE_LIMIT,
    DEFAULT_GUILD_ID,
    DEFAULT_MEMBER_ID,
    JSON,
    MessagePings,
    Overwrite,
    Permission,
    SandboxAttachment,
    SandboxChannel,
    SandboxGuild,
    SandboxMember,
    SandboxMessage,
    SandboxRole,
    channel_payload,
    stable_snowflake,
)
from bot.sandbox.recorder import (
    RecordedFile,
    RecordedRequest,
    Recorder,
)
from bot.sandbox.routes import (
    RestRoutes,
)
from bot.sandbox.world import World

__all__ = [
    "APPLICATION_ID",
    "DEFAULT_GUILD_ID",
    "MessagePings",
    "Permission",
    "RecordedFile",
    "RecordedRequest",
    "Sandbox",
    "SandboxAttachment",
    "SandboxChannel",
    "SandboxError",
    "SandboxGuild",
    "SandboxInteraction",
    "SandboxMember",
    "SandboxMessage",
    "SandboxRole",
    "SandboxTimeout",
]

PermissionsLike = int | _HasPermissionValue


def _permission_bits(value: PermissionsLike) -> int:
    return value if isinstance(value, int) else int(value.value)


class Sandbox:
    """A Discord stand-in on 127.0.0.1 for one bot application."""

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        guild_ids: Sequence[int] = (DEFAULT_GUILD_ID,),
        application_id: int = APPLICATION_ID,
        bot_name: str = "Peerlight",
        members: Sequence[SandboxMember] = (),
        port: int = 0,
        heartbeat_interval_ms: int = 41250,
        callback_deadline: float | None = None,
        allowed_intents: int | None = None,
        attachment_size_limit: int = ATTACHMENT_SIZE_LIMIT,
        refuse_pings: bool = False,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = application_id  # a bot's user id is its application's id
        self.bot_name = bot_name
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.callback_deadline = callback_deadline
        self.allowed_intents = allowed_intents
        self.attachment_size_limit = attachment_size_limit
        # Answer 400 to a message body that would let its text ping anyone (no
        # `allowed_mentions`, or one that allows any): the tests see it at once.
        self.refuse_pings = refuse_pings
        self._port = port

        self.member = SandboxMember(id=DEFAULT_MEMBER_ID, name="river")
        # The application's owner (the host of the bot): a plain member of no server until
        # a test adds them, as on Discord, where the owner need not be in a server.
        self.owner = SandboxMember(id=stable_snowflake("application-owner"), name="sandbox-owner")
        self.moderator = SandboxMember.moderator()
        self.bot_member = SandboxMember(id=self.bot_user_id, name=bot_name, permissions=0, bot=True)
        self._runner: web.AppRunner | None = None
        self.api_base = ""
        self.gateway_url = ""
        self.base_url = ""
        # The parts, each with one job; the world first, as every other part reads it.
        self.world = World(self, guild_ids, members)
        self.recorder = Recorder(self)
        self.gateway = Gateway(self)
        self.driver = MemberDriver(self)
        self.routes = RestRoutes(self)
        # What tests call, answered by the part that does it.
        self.channel = self.world.channel
        self.dm_channel_for = self.world.dm_channel_for
        self.wait_until_connected = self.gateway.wait_until_connected
        self.wait_until_disconnected = self.gateway.wait_until_disconnected
        self.drop_connection = self.gateway.drop_connection
        self.forget_sessions = self.gateway.forget_sessions
        self.session_shards = self.gateway.session_shards
        self.channel_messages = self.world.channel_messages
        self.message = self.world.message
        self.requests_matching = self.recorder.requests_matching
        self.wait_for_request = self.recorder.wait_for_request
        self.inject_failure = self.recorder.inject_failure
        self.clear_failures = self.recorder.clear_failures
        self.command = self.driver.command
        self.autocomplete = self.driver.autocomplete
        self.press = self.driver.press
        self.choose = self.driver.choose
        self.submit_modal = self.driver.submit_modal
        self.post_as_member = self.driver.post_as_member
        self.forge = self.driver.forge
        self.add_bot_message = self.driver.add_bot_message
        self.guilds = self.world.guilds
        self.interactions = self.world.interactions
        self.requests = self.recorder.requests
        self.unhandled = self.recorder.unhandled
        self.faults = self.recorder.faults
        self.gateway_received = self.gateway.gateway_received
        self.gateway_queries = self.gateway.gateway_queries

    @property
    def guild(self) -> SandboxGuild:
        """The first guild: where members act when no guild is named."""
        return self.world.guild

    @property
    def sessions_started(self) -> int:
        """How many IDENTIFYs succeeded so far (pass to `wait_until_connected(after=...)`)."""
        return self.gateway.sessions_started

    @property
    def connected(self) -> bool:
        return self.gateway.connected

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=4 * self.attachment_size_limit + (1 << 20))
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get(
            "/attachments/{channel_id}/{attachment_id}/{filename}", self.recorder.attachment
        )
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.recorder.handle)
        app.router.add_route("*", "/{tail:.*}", self.recorder.handle)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        await site.start()
        self._runner = runner
        port = int(runner.addresses[0][1])
        self.base_url = f"http://127.0.0.1:{port}"
        self.api_base = f"{self.base_url}{API_PREFIX}"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for connection in list(self.gateway.connections):
            await connection.close(1001, "Sandbox stopping")
        self.gateway.live.clear()
        await runner.cleanup()
        self.world.changes.notify()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def connect_client(self) -> None:
        """`connect_client_to(self.api_base, self.gateway_url)`."""
        if not self.api_base:
            raise SandboxError("start the sandbox before pointing a client at it")
        connect_client_to(self.api_base, self.gateway_url)

    def add_member(self, member: SandboxMember, *, guild_id: int | None = None) -> SandboxMember:
        """Make a member known (to GUILD_CREATE, member look-ups and DMs) before it acts."""
        self.world.known_members[member.id] = member
        self.world.find_guild(guild_id).members[member.id] = member
        return member

    def dm_messages(self, member: SandboxMember | int) -> list[SandboxMessage]:
        channel = self.world.dm_channel_for(member)
        return [] if channel is None else self.world.channel_messages(channel.id)

    def bot_permissions(self, channel_id: int) -> int:
        channel = self.world.channel(channel_id)
        if channel.guild_id is None:
            return int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
        return self.world.bot_channel_permissions(self.world.guilds[channel.guild_id], channel)

    async def set_channel_overwrite(
        self,
        channel_id: int,
        target_id: int,
        *,
        target_type: int,
        allow: PermissionsLike = 0,
        deny: PermissionsLike = 0,
    ) -> None:
        """Set (or with allow=deny=0, remove) an overwrite; the bot gets CHANNEL_UPDATE."""
        channel = self.world.channel(channel_id)
        if channel.guild_id is None:
            raise SandboxError("direct message channels have no permission overwrites")
        allow_bits, deny_bits = _permission_bits(allow), _permission_bits(deny)
        if allow_bits == 0 and deny_bits == 0:
            channel.overwrites.pop(target_id, None)
        else:
            channel.overwrites[target_id] = Overwrite(target_id, target_type, allow_bits, deny_bits)
        await self.gateway.dispatch_if_connected("CHANNEL_UPDATE", channel_payload(channel))

    async def set_bot_permissions(
        self, channel_id: int, *, allow: PermissionsLike = 0, deny: PermissionsLike = 0
    ) -> None:
        """A member overwrite for the bot in one channel, e.g. deny Send Messages there."""
        await self.set_channel_overwrite(
            channel_id, self.bot_user_id, target_type=1, allow=allow, deny=deny
        )

    async def remove_guild(self, guild_id: int) -> None:
        """The bot was removed from a server: GUILD_DELETE without `unavailable`."""
        guild = self.world.find_guild(guild_id)
        guild.bot_present = False
        await self.gateway.dispatch_if_connected("GUILD_DELETE", {"id": str(guild.id)})

    async def add_guild(
        self, guild_id: int | None = None, *, name: str = "New Server"
    ) -> SandboxGuild:
        """The bot was invited to a server (or back to one): GUILD_CREATE."""
        if guild_id is None:
            guild_id = stable_snowflake("guild", len(self.world.guilds), name)
        guild = self.world.guilds.get(guild_id)
        if guild is None:
            guild = self.world.guilds[guild_id] = self.world.new_guild(guild_id, name)
        guild.bot_present = True
        await self.gateway.dispatch_if_connected("GUILD_CREATE", self.gateway.guild_create(guild))
        return guild

    async def set_unavailable(self, guild_id: int, unavailable: bool = True) -> None:
        """A Discord outage for one server (GUILD_DELETE with `unavailable`), or its end
        (GUILD_CREATE). While it lasts, READY lists the server as unavailable and sends
        no GUILD_CREATE for it."""
        guild = self.world.find_guild(guild_id)
        guild.unavailable = unavailable
        if not guild.bot_present:
            return
        if unavailable:
            await self.gateway.dispatch_if_connected(
                "GUILD_DELETE", {"id": str(guild.id), "unavailable": True}
            )
        else:
            await self.gateway.dispatch_if_connected(
                "GUILD_CREATE", self.gateway.guild_create(guild)
            )

    async def add_channel(self, name: str, *, guild_id: int | None = None) -> SandboxChannel:
        guild = self.world.find_guild(guild_id)
        channel = SandboxChannel(
            id=stable_snowflake(guild.id, "channel", name),
            guild_id=guild.id,
            name=name,
            position=len(guild.channels),
        )
        guild.channels[channel.id] = channel
        await self.gateway.dispatch_if_connected("CHANNEL_CREATE", channel_payload(channel))
        return channel

    def add_listener(self, listener: Callable[[str, SandboxMessage], None]) -> None:
        """Call `listener(kind, message)` whenever a message is created, updated or deleted
        (kind "create", "update", "delete"), ephemeral ones included."""
        self.world.listeners.append(listener)

    def remove_listener(self, listener: Callable[[str, SandboxMessage], None]) -> None:
        with contextlib.suppress(ValueError):
            self.world.listeners.remove(listener)

    async def wait_for_channel_message(
        self, channel_id: int, *, after_id: int = 0, timeout: float = 5
    ) -> SandboxMessage:
        """The first visible message in a channel whose id is greater than `after_id`."""

        def probe() -> SandboxMessage | None:
            return next(
                (m for m in self.world.channel_messages(channel_id) if m.id > after_id), None
            )

        return await self.world.changes.wait_for(
            probe, timeout, f"a message in channel {channel_id}"
        )

    def registered_commands(self, guild_id: int | None = None) -> list[JSON]:
        """Commands as the bot last synced them: global ones, or one guild's."""
        return [dict(c) for c in self.world.commands.get(guild_id, [])]
