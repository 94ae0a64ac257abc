"""A local stand-in for Discord that an unmodified discord.py client can log in to.

One aiohttp server on 127.0.0.1 answers REST v10 under ``/api/v10`` and the gateway v10 at
``/gateway``. Tests drive it as members would (``command``, ``press``, ``choose``,
``submit_modal``) and observe what the bot sent (``requests``, ``channel_messages``,
``SandboxInteraction.messages``). See SANDBOX.md for the protocol facts it relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
import uuid
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar

import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

from bot.sandbox.faults import Faults
from bot.sandbox.payloads import (
    APPLICATION_ID,
    ATTACHMENT_SIZE_LIMIT,
    DEFAULT_GUILD_ID,
    DEFAULT_MEMBER_ID,
    EPHEMERAL,
    IS_COMPONENTS_V2,
    JSON,
    LOADING,
    SELECT_TYPES,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    FormError,
    MessagePings,
    Overwrite,
    Permission,
    SandboxAttachment,
    SandboxChannel,
    SandboxGuild,
    SandboxMember,
    SandboxMessage,
    SandboxRole,
    SnowflakeFactory,
    channel_payload,
    channel_permissions,
    guild_create_payload,
    guild_payload,
    guild_permissions,
    member_payload,
    member_user_payload,
    message_payload,
    role_payload,
    stable_snowflake,
    user_payload,
    validate_choices,
    validate_commands,
    validate_message,
    validate_modal,
)

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
    "client_pointed_at",
    "connect_client_to",
]

_log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
_INTERACTION_TOKEN_PREFIX = "aW50ZXJhY3Rpb246"  # base64 of "interaction:", like Discord's
_MESSAGE_FLAGS_A_BOT_MAY_SET = (
    EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
)

_GUILD_MESSAGES_INTENT = 1 << 9
_DIRECT_MESSAGES_INTENT = 1 << 12
_MESSAGE_CONTENT_INTENT = 1 << 15
_PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | _MESSAGE_CONTENT_INTENT

_T = TypeVar("_T")


def connect_client_to(api_base: str, gateway_url: str) -> None:
    """Point every discord.py client in this process at another Discord (e.g. a Sandbox).

    Interaction callbacks go through the webhook adapter, which builds its URLs from the
    same ``Route`` class, so these two attributes redirect everything.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@contextlib.contextmanager
def client_pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """`connect_client_to` for the duration of a block, then back to what it was."""
    previous_base = discord.http.Route.BASE
    previous_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    connect_client_to(api_base, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = previous_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = previous_gateway


class SandboxError(Exception):
    """The test asked for something a Discord client could not do (or the bot is absent)."""


class SandboxTimeout(SandboxError, TimeoutError):
    """A bounded wait on the sandbox ran out."""


class _HasPermissionValue(Protocol):
    @property
    def value(self) -> int: ...


PermissionsLike = int | _HasPermissionValue


def _permission_bits(value: PermissionsLike) -> int:
    return value if isinstance(value, int) else int(value.value)


@dataclass
class RecordedFile:
    field: str
    filename: str | None
    data: bytes
    content_type: str | None = None

    @property
    def name(self) -> str | None:
        return self.filename


@dataclass
class RecordedRequest:
    """One HTTP request the sandbox received. `path` is relative to ``/api/v10``."""

    index: int
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    time: float
    authorized: bool
    status: int = 0  # 0 while the sandbox is still answering it
    injected: bool = False

    @property
    def done(self) -> bool:
        return self.status != 0


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"message": message, "code": code}


def _unknown(what: str, code: int) -> _ApiError:
    return _ApiError(404, code, f"Unknown {what}")


_MISSING_ACCESS = (403, 50001, "Missing Access")
_MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")


@dataclass
class _Call:
    request: web.Request
    record: RecordedRequest
    params: dict[str, str]

    @property
    def body(self) -> JSON:
        if self.record.json is None:
            return {}
        if not isinstance(self.record.json, dict):
            raise FormError([], message="Invalid Form Body")
        return self.record.json

    def snowflake(self, name: str) -> int:
        return int(self.params[name])


_Reply = tuple[int, Any]
_Handler = Callable[[_Call], Awaitable[_Reply]]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: _Handler
    auth: bool


class _Changes:
    """Lets waits sleep until something in the sandbox changed, never past a deadline."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(
        self,
        probe: Callable[[], _T | None],
        timeout: float,
        what: str,
        *,
        deadline: float | None = None,
    ) -> _T:
        loop = asyncio.get_running_loop()
        end = deadline if deadline is not None else loop.time() + timeout
        while True:
            result = probe()
            if result is not None:
                return result
            remaining = end - loop.time()
            if remaining <= 0:
                raise SandboxTimeout(f"timed out after {timeout:g}s waiting for {what}")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            await asyncio.wait({waiter}, timeout=remaining)
            if not waiter.done():
                waiter.cancel()


@dataclass
class _Session:
    id: str
    ordinal: int
    intents: int
    shard: list[int] | None
    seq: int = 0
    history: deque[JSON] = field(default_factory=lambda: deque(maxlen=2000))


class _GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse, *, compress: bool) -> None:
        self.ws = ws
        # One compressor for the connection's whole life: zlib-stream is a single stream.
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()
        self.session: _Session | None = None

    @property
    def open(self) -> bool:
        return not self.ws.closed

    async def _send_locked(self, frame: JSON) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        if self._zlib is None:
            await self.ws.send_str(text)
        else:
            data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)

    async def send(self, frame: JSON) -> None:
        async with self._lock:
            await self._send_locked(frame)

    async def dispatch(self, event: str, data: Any) -> None:
        session = self.session
        if session is None:
            raise SandboxError(f"cannot send {event} before IDENTIFY")
        # Numbering and sending under one lock keeps sequence order equal to wire order.
        async with self._lock:
            session.seq += 1
            frame: JSON = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.history.append(frame)
            await self._send_locked(frame)

    async def replay(self, frames: Sequence[JSON]) -> None:
        async with self._lock:
            for frame in frames:
                await self._send_locked(frame)

    async def close(self, code: int, message: str = "") -> None:
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close(code=code, message=message.encode())


class SandboxInteraction:
    """One interaction the sandbox dispatched, and everything the bot answered to it."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        id: int,
        token: str,
        type: int,
        member: SandboxMember,
        guild_id: int,
        channel_id: int,
        data: JSON,
        payload: JSON,
        source_message: SandboxMessage | None,
        parent: SandboxInteraction | None,
        created_at: float,
        label: str,
    ) -> None:
        self._sandbox = sandbox
        self.id = id
        self.token = token
        self.type = type
        self.member = member
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.data = data
        self.payload = payload
        self.source_message = source_message
        self.parent = parent
        self.created_at = created_at
        self.label = label
        self.callback: JSON | None = None
        self.callback_type: int | None = None
        self.callback_files: list[RecordedFile] = []
        self.responded_after: float | None = None
        self.original: SandboxMessage | None = None
        self.followups: list[SandboxMessage] = []
        self.original_edited = False

    def __repr__(self) -> str:
        return f"<SandboxInteraction {self.label} id={self.id} callback_type={self.callback_type}>"

    @property
    def ephemeral(self) -> bool:
        """Whether the initial response is visible only to the member."""
        if self.callback_type in (4, 5) and self.callback is not None:
            return bool(int((self.callback.get("data") or {}).get("flags") or 0) & EPHEMERAL)
        if self.callback_type in (6, 7) and self.source_message is not None:
            return self.source_message.ephemeral
        return False

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (callback type 9), as sent."""
        if self.callback_type == 9 and self.callback is not None:
            data: JSON = self.callback.get("data") or {}
            return data
        return None

    def _visible_original(self) -> SandboxMessage | None:
        original = self.original
        if original is None:
            return None
        if self.callback_type in (4, 7):
            return original
        if self.callback_type == 5 and not original.loading:
            return original
        if self.callback_type == 6 and self.original_edited:
            return original
        return None

    def visible_messages(self) -> list[SandboxMessage]:
        """The response and follow-ups so far, each in its latest version."""
        original = self._visible_original()
        return ([original] if original is not None else []) + list(self.followups)

    async def response(self, timeout: float = 5) -> SandboxMessage | JSON:
        """The initial response: a message for types 4 and 7 (and, after a defer of type 5
        or 6, the message once the bot filled it in); the raw callback for types 8 and 9."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changes = self._sandbox._changes
        await changes.wait_for(
            lambda: True if self.callback_type is not None else None,
            timeout,
            f"the bot to respond to {self.label}",
            deadline=deadline,
        )
        if self.callback_type not in (4, 5, 6, 7):
            assert self.callback is not None
            return self.callback
        what = {
            5: f"the bot to fill in its deferred response to {self.label}",
            6: f"the bot to edit the message after deferring the update for {self.label}",
        }.get(self.callback_type or 0, f"the response message of {self.label}")
        return await changes.wait_for(self._visible_original, timeout, what, deadline=deadline)

    async def response_message(self, timeout: float = 5) -> SandboxMessage:
        """`response()` for when a message is expected; a modal or choices fail clearly."""
        result = await self.response(timeout)
        if not isinstance(result, SandboxMessage):
            raise SandboxError(
                f"{self.label} was answered with callback type {self.callback_type}, not a message"
            )
        return result

    async def messages(self, count: int = 1, timeout: float = 5) -> list[SandboxMessage]:
        """Wait until at least `count` messages answer this interaction; return them all."""

        def enough() -> list[SandboxMessage] | None:
            messages = self.visible_messages()
            return messages if len(messages) >= count else None

        return await self._sandbox._changes.wait_for(
            enough,
            timeout,
            f"{count} message(s) answering {self.label} (have {len(self.visible_messages())})",
        )


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
        self._known_members: dict[int, SandboxMember] = {}
        everyone = [self.member, self.moderator, *members]
        for member in everyone:
            self._known_members[member.id] = member

        self.guilds: dict[int, SandboxGuild] = {}
        for index, guild_id in enumerate(guild_ids):
            name = "Peer Support Sandbox" if index == 0 else f"Sandbox Guild {index + 1}"
            self.guilds[guild_id] = self._new_guild(guild_id, name)

        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.gateway_received: list[JSON] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.interactions: list[SandboxInteraction] = []

        self._ids = SnowflakeFactory()
        self._changes = _Changes()
        self.faults = Faults()
        self._commands: dict[int | None, list[JSON]] = {None: []}
        self._messages: dict[int, SandboxMessage] = {}
        self._channel_messages: dict[int, list[SandboxMessage]] = {}
        self._attachments: dict[int, SandboxAttachment] = {}
        self._listeners: list[Callable[[str, SandboxMessage], None]] = []
        self._dm_channels: dict[int, SandboxChannel] = {}
        self._interactions: dict[int, SandboxInteraction] = {}
        self._interactions_by_token: dict[str, SandboxInteraction] = {}
        self._sessions: dict[str, _Session] = {}
        # (channel, nonce) -> message id, for `enforce_nonce`: Discord answers a repeat
        # with the message it already made, for a few minutes (the sandbox: while it runs).
        self._nonces: dict[tuple[int, str], int] = {}
        self._connections: set[_GatewayConnection] = set()
        self._live: _GatewayConnection | None = None
        self._sessions_started = 0
        self._joined_at = datetime.now(UTC)
        self._routes = self._build_routes()
        self._runner: web.AppRunner | None = None
        self.api_base = ""
        self.gateway_url = ""
        self.base_url = ""

    def _new_guild(self, guild_id: int, name: str) -> SandboxGuild:
        guild = SandboxGuild.create(
            guild_id, name=name, bot_user_id=self.bot_user_id, members=self._known_members.values()
        )
        return guild

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=4 * self.attachment_size_limit + (1 << 20))
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_api)
        app.router.add_route("*", "/{tail:.*}", self._handle_api)
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
        for connection in list(self._connections):
            await connection.close(1001, "Sandbox stopping")
        self._live = None
        await runner.cleanup()
        self._changes.notify()

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

    # -- the server's world ------------------------------------------------------------

    @property
    def guild(self) -> SandboxGuild:
        """The first guild: where members act when no guild is named."""
        for guild in self.guilds.values():
            return guild
        raise SandboxError("the sandbox was created without guilds")

    def channel(self, name_or_id: str | int, *, guild_id: int | None = None) -> SandboxChannel:
        if isinstance(name_or_id, int) and name_or_id in self._dm_channels:
            return self._dm_channels[name_or_id]
        if guild_id is None and isinstance(name_or_id, int):
            for guild in self.guilds.values():
                if name_or_id in guild.channels:
                    return guild.channels[name_or_id]
        return self._guild(guild_id).channel(name_or_id)

    def add_member(self, member: SandboxMember, *, guild_id: int | None = None) -> SandboxMember:
        """Make a member known (to GUILD_CREATE, member look-ups and DMs) before it acts."""
        self._known_members[member.id] = member
        self._guild(guild_id).members[member.id] = member
        return member

    def dm_channel_for(self, member: SandboxMember | int) -> SandboxChannel | None:
        member_id = member if isinstance(member, int) else member.id
        return self._dm_channels.get(stable_snowflake("dm", self.bot_user_id, member_id))

    def dm_messages(self, member: SandboxMember | int) -> list[SandboxMessage]:
        channel = self.dm_channel_for(member)
        return [] if channel is None else self.channel_messages(channel.id)

    def bot_permissions(self, channel_id: int) -> int:
        channel = self.channel(channel_id)
        if channel.guild_id is None:
            return int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
        return self._bot_channel_permissions(self.guilds[channel.guild_id], channel)

    def _bot_channel_permissions(self, guild: SandboxGuild, channel: SandboxChannel) -> int:
        return channel_permissions(guild, channel, self.bot_user_id, [guild.bot_role_id], 0)

    def _guild(self, guild_id: int | None) -> SandboxGuild:
        if guild_id is None:
            return self.guild
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise SandboxError(f"the sandbox has no guild {guild_id}") from None

    def _bot_user(self) -> JSON:
        return user_payload(self.bot_user_id, self.bot_name, bot=True)

    # -- permissions -------------------------------------------------------------------

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
        channel = self.channel(channel_id)
        if channel.guild_id is None:
            raise SandboxError("direct message channels have no permission overwrites")
        allow_bits, deny_bits = _permission_bits(allow), _permission_bits(deny)
        if allow_bits == 0 and deny_bits == 0:
            channel.overwrites.pop(target_id, None)
        else:
            channel.overwrites[target_id] = Overwrite(target_id, target_type, allow_bits, deny_bits)
        await self._dispatch_if_connected("CHANNEL_UPDATE", channel_payload(channel))

    async def set_bot_permissions(
        self, channel_id: int, *, allow: PermissionsLike = 0, deny: PermissionsLike = 0
    ) -> None:
        """A member overwrite for the bot in one channel, e.g. deny Send Messages there."""
        await self.set_channel_overwrite(
            channel_id, self.bot_user_id, target_type=1, allow=allow, deny=deny
        )

    # -- gateway -----------------------------------------------------------------------

    @property
    def sessions_started(self) -> int:
        """How many IDENTIFYs succeeded so far (pass to `wait_until_connected(after=...)`)."""
        return self._sessions_started

    @property
    def connected(self) -> bool:
        live = self._live
        return live is not None and live.open and live.session is not None

    async def wait_until_connected(self, timeout: float = 10, *, after: int = 0) -> None:
        """Until a client has IDENTIFYed (its session number > `after`) and got READY and
        every GUILD_CREATE. The client dispatches on_ready a little later."""

        def probe() -> bool | None:
            live = self._live
            if live is not None and live.open and live.session is not None:
                return True if live.session.ordinal > after else None
            return None

        await self._changes.wait_for(probe, timeout, "a bot to connect to the sandbox gateway")

    async def wait_until_disconnected(self, timeout: float = 10) -> None:
        await self._changes.wait_for(
            lambda: True if not self.connected else None, timeout, "the bot to disconnect"
        )

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the bot's gateway connection the way an outage would; it should RESUME."""
        live = self._live
        if live is None:
            raise SandboxError("no bot is connected")
        await live.close(code, "Dropped by the sandbox")

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=1 << 22, timeout=1.0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        connection = _GatewayConnection(ws, compress=request.query.get("compress") == "zlib-stream")
        self._connections.add(connection)
        silence_limit = self.heartbeat_interval_ms / 1000 * 2 + 5
        try:
            await connection.send(
                {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            while not ws.closed:
                try:
                    message = await ws.receive(timeout=silence_limit)
                except TimeoutError:
                    await connection.close(4009, "Session timed out")
                    break
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    try:
                        frame = json.loads(message.data)
                    except ValueError:
                        await connection.close(4002, "Decode error")
                        break
                    if not isinstance(frame, dict):
                        await connection.close(4002, "Decode error")
                        break
                    self.gateway_received.append(frame)
                    await self._gateway_frame(connection, frame)
                else:
                    break
        except ConnectionError:
            pass
        finally:
            self._connections.discard(connection)
            if self._live is connection:
                self._live = None
            await connection.close(1000)
            self._changes.notify()
        return ws

    async def _gateway_frame(self, connection: _GatewayConnection, frame: JSON) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            await connection.send({"op": 11})
        elif op == 2 and isinstance(data, dict):
            await self._identify(connection, data)
        elif op == 6 and isinstance(data, dict):
            await self._resume(connection, data)
        elif connection.session is None:
            await connection.close(4003, "Not authenticated")
        elif op == 8 and isinstance(data, dict):
            await self._request_members(connection, data)
        elif op in (3, 4):
            pass
        else:
            await connection.close(4001, "Unknown opcode")

    async def _identify(self, connection: _GatewayConnection, data: JSON) -> None:
        if connection.session is not None:
            await connection.close(4005, "Already authenticated")
            return
        if data.get("token") != self.token:
            await connection.close(4004, "Authentication failed")
            return
        intents = int(data.get("intents") or 0)
        if (
            self.allowed_intents is not None
            and intents & _PRIVILEGED_INTENTS & ~self.allowed_intents
        ):
            await connection.close(4014, "Disallowed intent(s)")
            return
        self._sessions_started += 1
        shard = data.get("shard")
        session = _Session(
            id=uuid.uuid4().hex,
            ordinal=self._sessions_started,
            intents=intents,
            shard=list(shard) if isinstance(shard, list) else None,
        )
        self._sessions[session.id] = session
        connection.session = session
        ready: JSON = {
            "v": 10,
            "user": {**self._bot_user(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [
                {"id": str(g.id), "unavailable": True}
                for g in self.guilds.values()
                if g.bot_present
            ],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["sandbox"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await connection.dispatch("READY", ready)
        for guild in self.guilds.values():
            if guild.bot_present and not guild.unavailable:
                await connection.dispatch("GUILD_CREATE", self._guild_create(guild))
        self._live = connection
        self._changes.notify()

    def _guild_create(self, guild: SandboxGuild) -> JSON:
        return guild_create_payload(guild, self._guild_create_bot(guild), self._joined_at)

    async def _resume(self, connection: _GatewayConnection, data: JSON) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.token or connection.session is not None:
            await connection.send({"op": 9, "d": False})
            return
        for other in list(self._connections):
            if other is not connection and other.session is session:
                other.session = None
                await other.close(4000, "Session resumed elsewhere")
        seq = int(data.get("seq") or 0)
        missed = [frame for frame in session.history if int(frame["s"]) > seq]
        connection.session = session
        await connection.replay(missed)
        await connection.dispatch("RESUMED", {"_trace": ["sandbox"]})
        self._live = connection
        self._changes.notify()

    async def _request_members(self, connection: _GatewayConnection, data: JSON) -> None:
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        members = [member_payload(m) for m in guild.members.values()]
        members.append(member_payload(self._guild_create_bot(guild)))
        wanted = {str(u) for u in data.get("user_ids") or []}
        if wanted:
            members = [m for m in members if m["user"]["id"] in wanted]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await connection.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def _guild_create_bot(self, guild: SandboxGuild) -> SandboxMember:
        return SandboxMember(
            id=self.bot_user_id,
            name=self.bot_name,
            roles=[guild.bot_role_id],
            permissions=0,
            bot=True,
            joined_at=self._joined_at,
        )

    def _live_connection(self, event: str) -> _GatewayConnection:
        live = self._live
        if live is None or not live.open or live.session is None:
            raise SandboxError(f"cannot send {event}: no bot is connected to the sandbox gateway")
        return live

    async def _dispatch(self, event: str, data: JSON) -> None:
        live = self._live_connection(event)
        try:
            await live.dispatch(event, data)
        except ConnectionError as exc:
            raise SandboxError(
                f"the bot's gateway connection closed while sending {event}"
            ) from exc

    async def _dispatch_if_connected(self, event: str, data: JSON) -> None:
        if self.connected:
            with contextlib.suppress(SandboxError):
                await self._dispatch(event, data)

    async def _dispatch_message_event(self, event: str, message: SandboxMessage) -> None:
        live = self._live
        if message.ephemeral or live is None or live.session is None:
            return
        intent = _DIRECT_MESSAGES_INTENT if message.guild_id is None else _GUILD_MESSAGES_INTENT
        if not live.session.intents & intent:
            return
        if event == "MESSAGE_DELETE":
            data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
        else:
            data = self._message_json(message)
            from_elsewhere = message.author_id != self.bot_user_id
            mentioned = self.bot_user_id in message.pinged().users
            if (
                from_elsewhere
                and message.guild_id is not None
                and not mentioned
                and not live.session.intents & _MESSAGE_CONTENT_INTENT
            ):
                data.update(content="", embeds=[], attachments=[], components=[])
            if message.guild_id is not None and from_elsewhere:
                member = self._known_members.get(message.author_id)
                if member is not None:
                    data["member"] = {
                        k: v for k, v in member_payload(member).items() if k != "user"
                    }
        await self._dispatch_if_connected(event, data)

    # -- guild membership --------------------------------------------------------------

    async def remove_guild(self, guild_id: int) -> None:
        """The bot was removed from a server: GUILD_DELETE without `unavailable`."""
        guild = self._guild(guild_id)
        guild.bot_present = False
        await self._dispatch_if_connected("GUILD_DELETE", {"id": str(guild.id)})

    async def add_guild(
        self, guild_id: int | None = None, *, name: str = "New Server"
    ) -> SandboxGuild:
        """The bot was invited to a server (or back to one): GUILD_CREATE."""
        if guild_id is None:
            guild_id = stable_snowflake("guild", len(self.guilds), name)
        guild = self.guilds.get(guild_id)
        if guild is None:
            guild = self.guilds[guild_id] = self._new_guild(guild_id, name)
        guild.bot_present = True
        await self._dispatch_if_connected("GUILD_CREATE", self._guild_create(guild))
        return guild

    async def set_unavailable(self, guild_id: int, unavailable: bool = True) -> None:
        """A Discord outage for one server (GUILD_DELETE with `unavailable`), or its end
        (GUILD_CREATE). While it lasts, READY lists the server as unavailable and sends
        no GUILD_CREATE for it."""
        guild = self._guild(guild_id)
        guild.unavailable = unavailable
        if not guild.bot_present:
            return
        if unavailable:
            await self._dispatch_if_connected(
                "GUILD_DELETE", {"id": str(guild.id), "unavailable": True}
            )
        else:
            await self._dispatch_if_connected("GUILD_CREATE", self._guild_create(guild))

    async def add_channel(self, name: str, *, guild_id: int | None = None) -> SandboxChannel:
        guild = self._guild(guild_id)
        channel = SandboxChannel(
            id=stable_snowflake(guild.id, "channel", name),
            guild_id=guild.id,
            name=name,
            position=len(guild.channels),
        )
        guild.channels[channel.id] = channel
        await self._dispatch_if_connected("CHANNEL_CREATE", channel_payload(channel))
        return channel

    # -- observation -------------------------------------------------------------------

    def channel_messages(self, channel_id: int) -> list[SandboxMessage]:
        """Messages everyone in the channel can see, oldest first, in their latest version."""
        return [m for m in self._channel_messages.get(channel_id, []) if not m.deleted]

    def message(self, message_id: int) -> SandboxMessage:
        try:
            return self._messages[message_id]
        except KeyError:
            raise SandboxError(f"the sandbox has no message {message_id}") from None

    def add_listener(self, listener: Callable[[str, SandboxMessage], None]) -> None:
        """Call `listener(kind, message)` whenever a message is created, updated or deleted
        (kind "create", "update", "delete"), ephemeral ones included."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[str, SandboxMessage], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def wait_for_channel_message(
        self, channel_id: int, *, after_id: int = 0, timeout: float = 5
    ) -> SandboxMessage:
        """The first visible message in a channel whose id is greater than `after_id`."""

        def probe() -> SandboxMessage | None:
            return next((m for m in self.channel_messages(channel_id) if m.id > after_id), None)

        return await self._changes.wait_for(probe, timeout, f"a message in channel {channel_id}")

    def registered_commands(self, guild_id: int | None = None) -> list[JSON]:
        """Commands as the bot last synced them: global ones, or one guild's."""
        return [dict(c) for c in self._commands.get(guild_id, [])]

    def requests_matching(
        self, method: str, path_pattern: str, *, after: int = 0
    ) -> list[RecordedRequest]:
        pattern = re.compile(path_pattern)
        return [
            r
            for r in self.requests[after:]
            if _method_matches(method, r.method) and pattern.search(r.path)
        ]

    async def wait_for_request(
        self, method: str, path_pattern: str, *, timeout: float = 5, after: int = 0
    ) -> RecordedRequest:
        """The first answered request from index `after` on whose path matches (re.search)."""
        pattern = re.compile(path_pattern)

        def probe() -> RecordedRequest | None:
            for record in self.requests[after:]:
                if (
                    record.done
                    and _method_matches(method, record.method)
                    and pattern.search(record.path)
                ):
                    return record
            return None

        return await self._changes.wait_for(probe, timeout, f"a request {method} {path_pattern}")

    def inject_failure(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int | None = 500,
        delay: float = 0.0,
        times: int | None = 1,
        body: JSON | None = None,
    ) -> None:
        """The next `times` matching requests wait `delay` seconds, then fail with `status`
        (with status 0 or None they are only delayed). Method "*" matches any method.
        See `bot.sandbox.faults` for latency on every request and stalls."""
        self.faults.add(method, path_pattern, status=status, delay=delay, times=times, body=body)

    def clear_failures(self) -> None:
        self.faults.clear()

    # -- members acting ----------------------------------------------------------------

    def _remember(self, member: SandboxMember, guild: SandboxGuild) -> SandboxMember:
        self._known_members.setdefault(member.id, member)
        guild.members.setdefault(member.id, member)
        return member

    def _text_channel(self, guild: SandboxGuild, channel_id: int | None) -> SandboxChannel:
        if channel_id is None:
            channels = guild.text_channels
            if not channels:
                raise SandboxError(f"guild {guild.id} has no text channel")
            return channels[0]
        try:
            return guild.channels[channel_id]
        except KeyError:
            raise SandboxError(f"guild {guild.id} has no channel {channel_id}") from None

    def _member_permissions(
        self, guild: SandboxGuild, channel: SandboxChannel, member: SandboxMember
    ) -> int:
        return channel_permissions(guild, channel, member.id, member.roles, member.permissions)

    def _find_command(
        self, name: str, guild: SandboxGuild, kind: int = 1
    ) -> tuple[JSON, int | None]:
        for scope in (guild.id, None):
            for command in self._commands.get(scope, []):
                if command.get("name") == name and int(command.get("type", 1)) == kind:
                    return command, scope
        known = sorted(
            {str(c.get("name")) for s in (guild.id, None) for c in self._commands.get(s, [])}
        )
        raise SandboxError(
            f"no slash command /{name} is registered for guild {guild.id} or globally; "
            f"registered: {known or 'none (did the bot sync its command tree?)'}"
        )

    def _check_can_use(
        self,
        command: JSON,
        guild: SandboxGuild,
        channel: SandboxChannel,
        member: SandboxMember,
        *,
        overridden: bool,
    ) -> int:
        permissions = self._member_permissions(guild, channel, member)
        if not permissions & Permission.VIEW_CHANNEL:
            raise SandboxError(f"{member.name} cannot see #{channel.name}")
        if not permissions & Permission.USE_APPLICATION_COMMANDS:
            raise SandboxError(f"{member.name} may not use application commands in #{channel.name}")
        required = command.get("default_member_permissions")
        if required is not None and not overridden and not permissions & Permission.ADMINISTRATOR:
            needed = int(required)
            if needed == 0 or permissions & needed != needed:
                raise SandboxError(
                    f"Discord hides /{command.get('name')} from {member.name}: it needs "
                    f"permissions {needed} (default_member_permissions); pass "
                    "override_default_permissions=True to act as if an admin granted it"
                )
        return permissions

    async def command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        member: SandboxMember | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str | None = None,
        override_default_permissions: bool = False,
    ) -> SandboxInteraction:
        """A member runs a slash command. `name` may be "group sub" or "group subgroup sub";
        option values are converted with the types of the command the bot registered.

        Like Discord, a member lacking a command's `default_member_permissions` cannot run
        it, unless `override_default_permissions` (a server admin granted it to them in
        Server Settings → Integrations)."""
        return await self._slash(
            name,
            dict(options or {}),
            None,
            member=member,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            overridden=override_default_permissions,
        )

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        member: SandboxMember | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str | None = None,
        timeout: float = 5,
        override_default_permissions: bool = False,
    ) -> list[JSON]:
        """A member types into option `focused`; returns the choices the bot offered."""
        values = dict(options)
        values.setdefault(focused, "")
        interaction = await self._slash(
            name,
            values,
            focused,
            member=member,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            overridden=override_default_permissions,
        )
        result = await interaction.response(timeout)
        if interaction.callback_type != 8 or not isinstance(result, dict):
            raise SandboxError(
                f"autocomplete for /{name} was answered with callback type "
                f"{interaction.callback_type}, not 8"
            )
        choices: list[JSON] = (result.get("data") or {}).get("choices") or []
        return choices

    async def _slash(
        self,
        name: str,
        values: dict[str, Any],
        focused: str | None,
        *,
        member: SandboxMember | None,
        guild_id: int | None,
        channel_id: int | None,
        locale: str | None,
        overridden: bool,
    ) -> SandboxInteraction:
        guild = self._guild(guild_id)
        if not guild.bot_present:
            raise SandboxError(f"the bot is not in guild {guild.id}")
        channel = self._text_channel(guild, channel_id)
        member = self._remember(member or self.member, guild)
        tokens = name.removeprefix("/").split()
        if not tokens:
            raise SandboxError("name a command")
        definition, scope = self._find_command(tokens[0], guild)
        self._check_can_use(definition, guild, channel, member, overridden=overridden)
        definitions: list[JSON] = list(definition.get("options") or [])
        path: list[JSON] = []
        for token in tokens[1:]:
            sub = next(
                (o for o in definitions if o.get("name") == token and o.get("type") in (1, 2)), None
            )
            if sub is None:
                subs = [o.get("name") for o in definitions if o.get("type") in (1, 2)]
                raise SandboxError(
                    f"/{' '.join(tokens[:1])} has no subcommand {token!r}; it has {subs}"
                )
            path.append(sub)
            definitions = list(sub.get("options") or [])
        if any(o.get("type") in (1, 2) for o in definitions):
            subs = [o.get("name") for o in definitions if o.get("type") in (1, 2)]
            raise SandboxError(
                f"/{' '.join(tokens)} is a group; name one of its subcommands: {subs}"
            )
        resolved: dict[str, dict[str, JSON]] = {}
        built = self._build_options(definitions, values, focused, guild, member, resolved, tokens)
        for sub in reversed(path):
            built = [{"type": sub["type"], "name": sub["name"], "options": built}]
        data: JSON = {
            "id": definition["id"],
            "name": definition["name"],
            "type": 1,
            "options": built,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        kind = 2 if focused is None else 4
        label = f"/{' '.join(tokens)}" + (" (autocomplete)" if focused is not None else "")
        return await self._interact(kind, data, member, guild, channel, locale=locale, label=label)

    def _build_options(
        self,
        definitions: Sequence[JSON],
        values: Mapping[str, Any],
        focused: str | None,
        guild: SandboxGuild,
        member: SandboxMember,
        resolved: dict[str, dict[str, JSON]],
        tokens: Sequence[str],
    ) -> list[JSON]:
        command = "/" + " ".join(tokens)
        by_name = {str(d.get("name")): d for d in definitions}
        unknown = [key for key in values if key not in by_name]
        if unknown:
            raise SandboxError(f"{command} has no option {unknown[0]!r}; it has {list(by_name)}")
        for definition in definitions:
            option_name = str(definition.get("name"))
            if definition.get("required") and option_name not in values and focused is None:
                raise SandboxError(f"{command} needs option {option_name!r}; Discord requires it")
        built: list[JSON] = []
        for definition in definitions:
            option_name = str(definition.get("name"))
            if option_name not in values:
                continue
            kind = int(definition["type"])
            if option_name == focused:
                built.append(
                    {
                        "type": kind,
                        "name": option_name,
                        "value": str(values[option_name]),
                        "focused": True,
                    }
                )
                continue
            value = self._option_value(
                definition, values[option_name], guild, member, resolved, command
            )
            built.append({"type": kind, "name": option_name, "value": value})
        return built

    def _option_value(
        self,
        definition: JSON,
        value: Any,
        guild: SandboxGuild,
        member: SandboxMember,
        resolved: dict[str, dict[str, JSON]],
        command: str,
    ) -> Any:
        kind = int(definition["type"])
        option = f"{command} {definition.get('name')}"
        converted: Any
        if kind == 3:
            converted = str(value)
            min_length, max_length = definition.get("min_length"), definition.get("max_length")
            if min_length is not None and len(converted) < int(min_length):
                raise SandboxError(f"{option}: Discord requires at least {min_length} characters")
            if max_length is not None and len(converted) > int(max_length):
                raise SandboxError(f"{option}: Discord allows at most {max_length} characters")
        elif kind in (4, 10):
            if isinstance(value, bool):
                raise SandboxError(f"{option} takes a number, not {value!r}")
            number = float(value)
            if kind == 4:
                if number != int(number):
                    raise SandboxError(f"{option} takes a whole number, not {value!r}")
                converted = int(number)
            else:
                converted = number
            low, high = definition.get("min_value"), definition.get("max_value")
            if (low is not None and converted < low) or (high is not None and converted > high):
                raise SandboxError(f"{option}: Discord only accepts {low}..{high}, not {value!r}")
        elif kind == 5:
            if not isinstance(value, bool):
                raise SandboxError(f"{option} takes True or False, not {value!r}")
            converted = value
        elif kind == 6:
            user = self._resolve_member(value, option)
            converted = str(user.id)
            self._add_resolved_user(resolved, user, guild)
        elif kind == 7:
            channel = self._resolve_channel_option(value, guild, option)
            types = definition.get("channel_types")
            if types and channel.type not in types:
                raise SandboxError(f"{option} only accepts channel types {types}")
            resolved.setdefault("channels", {})[str(channel.id)] = channel_payload(
                channel, permissions=self._member_permissions(guild, channel, member)
            )
            converted = str(channel.id)
        elif kind == 8:
            role = self._resolve_role(value, guild, option)
            resolved.setdefault("roles", {})[str(role.id)] = role_payload(role)
            converted = str(role.id)
        elif kind == 9:
            if isinstance(value, SandboxRole) or (
                isinstance(value, str) and _is_role_name(guild, value)
            ):
                role = self._resolve_role(value, guild, option)
                resolved.setdefault("roles", {})[str(role.id)] = role_payload(role)
                converted = str(role.id)
            else:
                user = self._resolve_member(value, option)
                self._add_resolved_user(resolved, user, guild)
                converted = str(user.id)
        elif kind == 11:
            attachment = self._resolve_attachment(value, option)
            resolved.setdefault("attachments", {})[str(attachment.id)] = {
                "id": str(attachment.id),
                "filename": attachment.filename,
                "size": len(attachment.data),
                "url": f"{self.base_url}/attachments/0/{attachment.id}/{attachment.filename}",
                "proxy_url": f"{self.base_url}/attachments/0/{attachment.id}/{attachment.filename}",
                "content_type": attachment.content_type,
                "ephemeral": True,
            }
            converted = str(attachment.id)
        else:
            raise SandboxError(f"{option}: option type {kind} is not supported by the sandbox")
        choices = definition.get("choices")
        if choices and converted not in [c.get("value") for c in choices]:
            allowed = [c.get("value") for c in choices]
            raise SandboxError(f"{option} only accepts its choices {allowed}, not {value!r}")
        return converted

    def _resolve_member(self, value: Any, option: str) -> SandboxMember:
        if isinstance(value, SandboxMember):
            return value
        if isinstance(value, int) and value in self._known_members:
            return self._known_members[value]
        if isinstance(value, int) and value == self.bot_user_id:
            return self.bot_member
        if isinstance(value, str):
            for member in self._known_members.values():
                if member.name == value.removeprefix("@"):
                    return member
        raise SandboxError(f"{option}: no known member {value!r} (use add_member first)")

    def _add_resolved_user(
        self, resolved: dict[str, dict[str, JSON]], user: SandboxMember, guild: SandboxGuild
    ) -> None:
        resolved.setdefault("users", {})[str(user.id)] = member_user_payload(user)
        if user.id in guild.members or user.id == self.bot_user_id:
            member_data = member_payload(user)
            del member_data["user"]
            member_data["permissions"] = str(
                guild_permissions(guild, user.id, user.roles, user.permissions)
            )
            resolved.setdefault("members", {})[str(user.id)] = member_data

    def _resolve_channel_option(
        self, value: Any, guild: SandboxGuild, option: str
    ) -> SandboxChannel:
        target = value.id if isinstance(value, SandboxChannel) else value
        try:
            return guild.channel(target)
        except KeyError as exc:
            raise SandboxError(f"{option}: {exc.args[0]}") from None

    def _resolve_role(self, value: Any, guild: SandboxGuild, option: str) -> SandboxRole:
        target = value.id if isinstance(value, SandboxRole) else value
        try:
            return guild.role(target)
        except KeyError as exc:
            raise SandboxError(f"{option}: {exc.args[0]}") from None

    def _resolve_attachment(self, value: Any, option: str) -> SandboxAttachment:
        if isinstance(value, SandboxAttachment):
            attachment = value
        elif isinstance(value, tuple) and len(value) == 2:
            filename, data = value
            attachment = SandboxAttachment(
                id=self._new_id(), filename=str(filename), data=bytes(data)
            )
        else:
            raise SandboxError(f"{option} takes a SandboxAttachment or (filename, bytes)")
        self._attachments[attachment.id] = attachment
        return attachment

    def _current(self, message: SandboxMessage | int) -> SandboxMessage:
        message_id = message if isinstance(message, int) else message.id
        current = self._messages.get(message_id)
        if current is None:
            raise SandboxError(f"the sandbox has no message {message_id}")
        if current.deleted:
            raise SandboxError(f"message {message_id} was deleted")
        return current

    def _member_for_message(
        self, message: SandboxMessage, member: SandboxMember | None
    ) -> SandboxMember:
        owner_id: int | None = None
        if message.interaction_metadata is not None:
            owner_id = int(message.interaction_metadata["user"]["id"])
        if member is None:
            member = self._known_members.get(owner_id or 0, self.member)
        if message.ephemeral and owner_id is not None and member.id != owner_id:
            raise SandboxError(
                f"message {message.id} is ephemeral: only its member ({owner_id}) can see it"
            )
        return member

    def _message_place(self, message: SandboxMessage) -> tuple[SandboxGuild, SandboxChannel]:
        if message.guild_id is None:
            raise SandboxError("the sandbox only sends interactions from guild channels")
        guild = self._guild(message.guild_id)
        return guild, self._text_channel(guild, message.channel_id)

    async def press(
        self,
        message: SandboxMessage | int,
        label_or_custom_id: str,
        *,
        member: SandboxMember | None = None,
    ) -> SandboxInteraction:
        """A member presses a button (found by custom_id or label) on the latest version
        of a message. Ephemeral messages default to the member they were shown to."""
        current = self._current(message)
        component = current.find_component(label_or_custom_id)
        if component.get("type") != 2:
            raise SandboxError(f"{label_or_custom_id!r} is not a button; use choose() for selects")
        if component.get("disabled"):
            raise SandboxError(f"button {label_or_custom_id!r} is disabled")
        if component.get("style") in (5, 6) or not component.get("custom_id"):
            raise SandboxError(f"button {label_or_custom_id!r} is a link; it sends no interaction")
        acting = self._member_for_message(current, member)
        guild, channel = self._message_place(current)
        data: JSON = {"custom_id": component["custom_id"], "component_type": 2}
        if "id" in component:
            data["id"] = component["id"]
        return await self._interact(
            3,
            data,
            self._remember(acting, guild),
            guild,
            channel,
            message=current,
            label=f"press {label_or_custom_id!r}",
        )

    async def choose(
        self,
        message: SandboxMessage | int,
        values: Sequence[Any],
        *,
        custom_id: str | None = None,
        member: SandboxMember | None = None,
    ) -> SandboxInteraction:
        """A member picks `values` in a select menu (the message's only one, or the one with
        this custom_id/placeholder). Values are option values, or ids/objects for entity
        selects."""
        current = self._current(message)
        if custom_id is None:
            selects = current.selects()
            if len(selects) != 1:
                raise SandboxError(
                    f"message {current.id} has {len(selects)} selects; pass custom_id to choose one"
                )
            select = selects[0]
        else:
            select = current.find_component(custom_id)
            if select.get("type") not in SELECT_TYPES:
                raise SandboxError(f"{custom_id!r} is not a select menu")
        if select.get("disabled"):
            raise SandboxError(f"select {select.get('custom_id')!r} is disabled")
        guild, channel = self._message_place(current)
        acting = self._remember(self._member_for_message(current, member), guild)
        chosen, resolved = self._select_values(select, values, guild, acting)
        data: JSON = {
            "custom_id": select["custom_id"],
            "component_type": select["type"],
            "values": chosen,
        }
        if "id" in select:
            data["id"] = select["id"]
        if resolved:
            data["resolved"] = resolved
        return await self._interact(
            3,
            data,
            acting,
            guild,
            channel,
            message=current,
            label=f"choose {chosen} in {select['custom_id']!r}",
        )

    def _select_values(
        self, select: JSON, values: Sequence[Any], guild: SandboxGuild, member: SandboxMember
    ) -> tuple[list[str], dict[str, dict[str, JSON]]]:
        name = repr(select.get("custom_id"))
        low = int(select.get("min_values", 1))
        high = int(select.get("max_values", 1))
        if not low <= len(values) <= high:
            raise SandboxError(f"select {name} takes {low}..{high} values, not {len(values)}")
        resolved: dict[str, dict[str, JSON]] = {}
        kind = int(select["type"])
        chosen: list[str] = []
        if kind == 3:
            offered = [str(o.get("value")) for o in select.get("options") or []]
            for value in values:
                if str(value) not in offered:
                    raise SandboxError(
                        f"select {name} has no option {value!r}; it offers {offered}"
                    )
                chosen.append(str(value))
            return chosen, resolved
        for value in values:
            if kind == 8 or (kind == 7 and isinstance(value, SandboxChannel)):
                channel = self._resolve_channel_option(value, guild, f"select {name}")
                resolved.setdefault("channels", {})[str(channel.id)] = channel_payload(
                    channel, permissions=self._member_permissions(guild, channel, member)
                )
                chosen.append(str(channel.id))
            elif kind == 6 or (
                kind == 7 and (isinstance(value, SandboxRole) or _is_role_name(guild, value))
            ):
                role = self._resolve_role(value, guild, f"select {name}")
                resolved.setdefault("roles", {})[str(role.id)] = role_payload(role)
                chosen.append(str(role.id))
            else:
                user = self._resolve_member(value, f"select {name}")
                self._add_resolved_user(resolved, user, guild)
                chosen.append(str(user.id))
        return chosen, resolved

    async def submit_modal(
        self,
        interaction_or_modal: SandboxInteraction | Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        member: SandboxMember | None = None,
    ) -> SandboxInteraction:
        """A member fills in and submits the modal the bot opened. `values` are keyed by a
        field's custom_id or its label; required fields must be given."""
        if isinstance(interaction_or_modal, SandboxInteraction):
            parent = interaction_or_modal
            modal = parent.modal
            if modal is None:
                raise SandboxError(
                    f"{parent.label} got callback type {parent.callback_type}, not a modal"
                )
        else:
            raw = dict(interaction_or_modal)
            modal = raw["data"] if raw.get("type") == 9 and "data" in raw else raw
            parent = self._modal_opener(str(modal.get("custom_id")))
        guild = self._guild(parent.guild_id)
        channel = self._text_channel(guild, parent.channel_id)
        acting = self._remember(member or parent.member, guild)
        remaining = dict(values)
        components = self._modal_submission(modal.get("components") or [], remaining)
        if remaining:
            raise SandboxError(
                f"the modal {modal.get('title')!r} has no field(s) {list(remaining)}"
            )
        data: JSON = {"custom_id": modal["custom_id"], "components": components}
        source = parent.source_message
        return await self._interact(
            5,
            data,
            acting,
            guild,
            channel,
            message=source if source is not None and not source.deleted else None,
            parent=parent,
            label=f"submit modal {modal.get('title')!r}",
        )

    def _modal_opener(self, custom_id: str) -> SandboxInteraction:
        for interaction in reversed(self.interactions):
            modal = interaction.modal
            if modal is not None and modal.get("custom_id") == custom_id:
                return interaction
        raise SandboxError(f"no interaction opened a modal with custom_id {custom_id!r}")

    def _modal_submission(self, components: Sequence[JSON], values: dict[str, Any]) -> list[JSON]:
        submitted: list[JSON] = []
        for component in components:
            kind = component.get("type")
            if kind == 1:
                row = [
                    self._modal_field(c, c.get("label"), values)
                    for c in component.get("components") or []
                ]
                submitted.append({"type": 1, "components": row})
            elif kind == 18:
                child = component.get("component") or {}
                entry: JSON = {
                    "type": 18,
                    "component": self._modal_field(child, component.get("label"), values),
                }
                if "id" in component:
                    entry["id"] = component["id"]
                submitted.append(entry)
            elif kind == 10 and "id" in component:
                submitted.append({"type": 10, "id": component["id"]})
        return submitted

    def _modal_field(self, component: JSON, label: Any, values: dict[str, Any]) -> JSON:
        custom_id = str(component.get("custom_id"))
        kind = int(component.get("type", 4))
        given: Any = None
        for key in (custom_id, label):
            if isinstance(key, str) and key in values:
                given = values.pop(key)
                break
        entry: JSON = {"type": kind, "custom_id": custom_id}
        if "id" in component:
            entry["id"] = component["id"]
        if kind == 4:
            text = "" if given is None else str(given)
            required = component.get("required", True)
            if required and not text:
                raise SandboxError(f"the modal field {label or custom_id!r} is required")
            low, high = component.get("min_length"), component.get("max_length")
            if text and low is not None and len(text) < int(low):
                raise SandboxError(
                    f"the modal field {label or custom_id!r} needs {low}+ characters"
                )
            if high is not None and len(text) > int(high):
                raise SandboxError(
                    f"the modal field {label or custom_id!r} allows {high} characters"
                )
            entry["value"] = text
        else:
            chosen = [] if given is None else [given] if isinstance(given, str) else list(given)
            entry["values"] = [str(v) for v in chosen]
        return entry

    async def post_as_member(
        self,
        content: str,
        *,
        channel_id: int | None = None,
        member: SandboxMember | None = None,
        guild_id: int | None = None,
    ) -> SandboxMessage:
        """A member writes an ordinary message in a channel (MESSAGE_CREATE to the bot)."""
        guild = self._guild(guild_id)
        channel = self._text_channel(guild, channel_id)
        author = self._remember(member or self.member, guild)
        message = self._store_message(
            SandboxMessage(
                id=self._new_id(),
                channel_id=channel.id,
                guild_id=guild.id,
                author=member_user_payload(author),
                content=content,
            )
        )
        await self._dispatch_message_event("MESSAGE_CREATE", message)
        return message

    async def _interact(
        self,
        kind: int,
        data: JSON,
        member: SandboxMember,
        guild: SandboxGuild,
        channel: SandboxChannel,
        *,
        locale: str | None = None,
        message: SandboxMessage | None = None,
        parent: SandboxInteraction | None = None,
        label: str,
        patch: Callable[[JSON], None] | None = None,
    ) -> SandboxInteraction:
        live = self._live_connection("INTERACTION_CREATE")
        interaction_id = self._new_id()
        token = _INTERACTION_TOKEN_PREFIX + secrets.token_urlsafe(48)
        member_permissions = self._member_permissions(guild, channel, member)
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel_payload(
                channel,
                permissions=member_permissions,
                last_message_id=self._last_message_id(channel.id),
            ),
            "member": member_payload(member, permissions=member_permissions),
            "token": token,
            "version": 1,
            "locale": locale or member.locale,
            "guild_locale": guild.preferred_locale,
            "app_permissions": str(self._bot_channel_permissions(guild, channel)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": self.attachment_size_limit,
        }
        if message is not None:
            payload["message"] = self._message_json(message)
        if patch is not None:
            patch(payload)
        interaction = SandboxInteraction(
            self,
            id=interaction_id,
            token=token,
            type=kind,
            member=member,
            guild_id=guild.id,
            channel_id=channel.id,
            data=data,
            payload=payload,
            source_message=message,
            parent=parent,
            created_at=time.monotonic(),
            label=f"{label} by {member.name}",
        )
        self._interactions[interaction_id] = interaction
        self._interactions_by_token[token] = interaction
        self.interactions.append(interaction)
        try:
            await live.dispatch("INTERACTION_CREATE", payload)
        except ConnectionError as exc:
            raise SandboxError(
                "the bot's gateway connection closed during INTERACTION_CREATE"
            ) from exc
        return interaction

    async def forge(
        self,
        kind: int,
        data: JSON,
        *,
        member: SandboxMember | None = None,
        place: str = "server",
        message: SandboxMessage | None = None,
    ) -> SandboxInteraction:
        """An interaction as a modified client could send it: any custom id, any select
        values, any option values, from `place` "server" (the first one), "unknown" (a
        server the bot was never told about) or "dm" (a direct message). Discord passes
        such interactions on, so the bot must answer them kindly."""
        acting = member or self.member
        if place == "unknown":
            guild = SandboxGuild.create(
                stable_snowflake("forged-guild", len(self.interactions)),
                name="Unknown Server",
                bot_user_id=self.bot_user_id,
                members=[acting],
            )
        else:
            guild = self.guild
            self._remember(acting, guild)
        channel = guild.text_channels[0]

        def as_dm(payload: JSON) -> None:
            for key in ("guild_id", "guild", "member", "guild_locale"):
                payload.pop(key, None)
            payload["user"] = member_user_payload(acting)
            payload["channel_id"] = str(stable_snowflake("forged-dm", acting.id))
            payload["channel"] = {"id": payload["channel_id"], "type": 1, "flags": 0}
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"1": str(acting.id)}

        return await self._interact(
            kind,
            data,
            acting,
            guild,
            channel,
            message=message,
            label=f"forged {kind} in {place}",
            patch=as_dm if place == "dm" else None,
        )

    def add_bot_message(self, components: list[JSON], *, content: str = "") -> SandboxMessage:
        """A message the bot posted in the first channel before this run (by an earlier
        version, say), carrying `components` as they were then."""
        channel = self.guild.text_channels[0]
        return self._store_message(
            SandboxMessage(
                id=self._new_id(),
                channel_id=channel.id,
                guild_id=channel.guild_id,
                author=self._bot_user(),
                content=content,
                components=components,
            )
        )

    # -- messages ----------------------------------------------------------------------

    def _new_id(self) -> int:
        return self._ids.next(int(time.time() * 1000))

    def _last_message_id(self, channel_id: int) -> int | None:
        messages = self.channel_messages(channel_id)
        return messages[-1].id if messages else None

    def _message_json(self, message: SandboxMessage) -> JSON:
        return message_payload(message, attachments_base_url=self.base_url)

    def _store_message(self, message: SandboxMessage) -> SandboxMessage:
        self._messages[message.id] = message
        if not message.ephemeral:
            self._channel_messages.setdefault(message.channel_id, []).append(message)
        for attachment in message.attachments:
            self._attachments[attachment.id] = attachment
        self._changes.notify()
        self._emit("create", message)
        return message

    def _delete_message(self, message: SandboxMessage) -> None:
        message.deleted = True
        self._changes.notify()
        self._emit("delete", message)

    def _emit(self, kind: str, message: SandboxMessage) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, message)
            except Exception:
                # A broken observer must not turn into an HTTP 500 the bot would retry.
                _log.exception("sandbox message listener failed on %s of %s", kind, message.id)

    def _attachments_from(
        self, payload: JSON, files: Sequence[RecordedFile], existing: Sequence[SandboxAttachment]
    ) -> list[SandboxAttachment] | None:
        by_index: dict[int, RecordedFile] = {}
        for position, upload in enumerate(files):
            match = re.fullmatch(r"files\[(\d+)\]", upload.field)
            by_index[int(match.group(1)) if match else 1000 + position] = upload
        for upload in by_index.values():
            if len(upload.data) > self.attachment_size_limit:
                raise _ApiError(413, 40005, "Request entity too large")
        if "attachments" not in payload and not by_index:
            return None
        result: list[SandboxAttachment] = []
        if "attachments" in payload:
            kept = {a.id: a for a in existing}
            for entry in payload.get("attachments") or []:
                reference = int(entry.get("id"))
                if reference in by_index:
                    upload = by_index.pop(reference)
                    result.append(self._new_attachment(upload, entry))
                elif reference in kept:
                    result.append(kept[reference])
                else:
                    raise FormError([], message=f"Unknown attachment reference {reference}")
        else:
            result.extend(existing)
        result.extend(self._new_attachment(u, {}) for u in by_index.values())
        return result

    def _new_attachment(self, upload: RecordedFile, entry: Mapping[str, Any]) -> SandboxAttachment:
        return SandboxAttachment(
            id=self._new_id(),
            filename=str(entry.get("filename") or upload.filename or "file"),
            data=upload.data,
            description=entry.get("description"),
            content_type=upload.content_type,
        )

    def _apply_edit(
        self, message: SandboxMessage, payload: JSON, files: Sequence[RecordedFile]
    ) -> None:
        attachments = self._attachments_from(payload, files, message.attachments)
        content = (payload.get("content") or "") if "content" in payload else message.content
        embeds = (
            _normalised_embeds(payload.get("embeds")) if "embeds" in payload else message.embeds
        )
        components = (
            list(payload.get("components") or []) if "components" in payload else message.components
        )
        kept_attachments = message.attachments if attachments is None else attachments
        if not (content or embeds or components or kept_attachments):
            raise FormError([], code=50006, message="Cannot send an empty message")
        was_loading = message.loading
        message.content, message.embeds, message.components = content, embeds, components
        message.attachments = kept_attachments
        for attachment in kept_attachments:
            self._attachments[attachment.id] = attachment
        if payload.get("flags") is not None:
            settable = SUPPRESS_EMBEDS | IS_COMPONENTS_V2
            message.flags = (message.flags & ~settable) | (int(payload["flags"]) & settable)
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload.get("allowed_mentions")
        message.flags &= ~LOADING
        if not was_loading:
            message.edited_at = datetime.now(UTC)
            message.edit_count += 1
        self._changes.notify()
        self._emit("update", message)

    def _interaction_metadata(
        self, interaction: SandboxInteraction, *, followup_of: SandboxMessage | None = None
    ) -> JSON:
        metadata: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": member_user_payload(interaction.member),
            "authorizing_integration_owners": {"0": str(interaction.guild_id)},
        }
        if interaction.type == 2:
            metadata["name"] = interaction.data.get("name")
            metadata["command_type"] = 1
        if interaction.source_message is not None and interaction.type == 3:
            metadata["interacted_message_id"] = str(interaction.source_message.id)
        if interaction.parent is not None and interaction.type == 5:
            metadata["triggering_interaction_metadata"] = self._interaction_metadata(
                interaction.parent
            )
        if followup_of is not None:
            metadata["original_response_message_id"] = str(followup_of.id)
        return metadata

    def _interaction_message(
        self,
        interaction: SandboxInteraction,
        payload: JSON,
        files: Sequence[RecordedFile],
        *,
        flags: int,
        followup_of: SandboxMessage | None = None,
    ) -> SandboxMessage:
        message = SandboxMessage(
            id=self._new_id(),
            channel_id=interaction.channel_id,
            guild_id=interaction.guild_id,
            author=self._bot_user(),
            content=payload.get("content") or "",
            embeds=_normalised_embeds(payload.get("embeds")),
            components=list(payload.get("components") or []),
            flags=flags,
            attachments=self._attachments_from(payload, files, []) or [],
            allowed_mentions=payload.get("allowed_mentions"),
            interaction_id=interaction.id,
            interaction_metadata=self._interaction_metadata(interaction, followup_of=followup_of),
            webhook_id=self.application_id,
            application_id=self.application_id,
            type=20 if interaction.type == 2 else 0,
            tts=bool(payload.get("tts")),
        )
        return self._store_message(message)

    # -- HTTP --------------------------------------------------------------------------

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        attachment = self._attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404)
        return web.Response(
            body=attachment.data, content_type=attachment.content_type or "application/octet-stream"
        )

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
            path = path[len(API_PREFIX) :] or "/"
        body_error = False
        try:
            body, files = await _read_body(request)
        except ValueError:
            body, files, body_error = None, [], True
        authorization = request.headers.get("Authorization")
        record = RecordedRequest(
            index=len(self.requests),
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            time=time.monotonic(),
            authorized=authorization == f"Bot {self.token}",
        )
        self.requests.append(record)
        self._changes.notify()
        try:
            status, reply, headers = await self._answer(request, record, body_error)
        except BaseException:
            record.status = 500
            self._changes.notify()
            raise
        record.status = status
        self._changes.notify()
        return _json_response(status, reply, headers)

    async def _answer(
        self, request: web.Request, record: RecordedRequest, body_error: bool
    ) -> tuple[int, Any, dict[str, str]]:
        injected = await self.faults.apply(record.method, record.path)
        if injected is not None:
            record.injected = True
            return injected
        if not request.path.startswith(API_PREFIX + "/"):
            self.unhandled.append(record)
            return 404, {"message": "404: Not Found", "code": 0}, {}
        if self.refuse_pings:
            problem = _ping_problem(record)
            if problem is not None:
                return 400, FormError([], message=problem).body(), {}
        for route in self._routes:
            match = route.pattern.fullmatch(record.path)
            if match is None or route.method != record.method:
                continue
            if route.auth and not record.authorized:
                return 401, {"message": "401: Unauthorized", "code": 0}, {}
            if body_error:
                return (
                    400,
                    {"message": "The request body contains invalid JSON.", "code": 50109},
                    {},
                )
            try:
                status, reply = await route.handler(_Call(request, record, match.groupdict()))
            except _ApiError as error:
                return error.status, error.body, {}
            except FormError as error:
                return 400, error.body(), {}
            return status, reply, {}
        self.unhandled.append(record)
        return 404, {"message": "404: Not Found", "code": 0}, {}

    def _build_routes(self) -> list[_Route]:
        app = r"/applications/(?P<app_id>\d+)"
        guild_commands = app + r"/guilds/(?P<guild_id>\d+)/commands"
        hook = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
        channel = r"/channels/(?P<channel_id>\d+)"
        message = channel + r"/messages/(?P<message_id>\d+)"
        guild = r"/guilds/(?P<guild_id>\d+)"
        table: list[tuple[str, str, _Handler, bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user, True),
            ("POST", r"/users/@me/channels", self._create_dm, True),
            ("GET", r"/users/@me/guilds", self._get_my_guilds, True),
            ("DELETE", r"/users/@me/guilds/(?P<guild_id>\d+)", self._leave_guild, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/applications/@me", self._get_application, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("GET", app + r"/commands", self._get_commands, True),
            ("PUT", app + r"/commands", self._put_commands, True),
            ("POST", app + r"/commands", self._post_command, True),
            ("GET", app + r"/commands/(?P<command_id>\d+)", self._get_command, True),
            ("PATCH", app + r"/commands/(?P<command_id>\d+)", self._patch_command, True),
            ("DELETE", app + r"/commands/(?P<command_id>\d+)", self._delete_command, True),
            ("GET", guild_commands, self._get_commands, True),
            ("PUT", guild_commands, self._put_commands, True),
            ("POST", guild_commands, self._post_command, True),
            ("GET", guild_commands + r"/(?P<command_id>\d+)", self._get_command, True),
            ("PATCH", guild_commands + r"/(?P<command_id>\d+)", self._patch_command, True),
            ("DELETE", guild_commands + r"/(?P<command_id>\d+)", self._delete_command, True),
            (
                "POST",
                r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback",
                self._interaction_callback,
                False,
            ),
            ("POST", hook, self._execute_webhook, False),
            (
                "GET",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._get_webhook_message,
                False,
            ),
            (
                "PATCH",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._edit_webhook_message,
                False,
            ),
            (
                "DELETE",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._delete_webhook_message,
                False,
            ),
            ("GET", channel, self._get_channel, True),
            ("GET", channel + r"/messages", self._get_channel_messages, True),
            ("POST", channel + r"/messages", self._post_channel_message, True),
            ("POST", channel + r"/typing", self._typing, True),
            ("GET", message, self._get_channel_message, True),
            ("PATCH", message, self._edit_channel_message, True),
            ("DELETE", message, self._delete_channel_message, True),
            ("PUT", message + r"/reactions/(?P<emoji>[^/]+)/@me", self._add_reaction, True),
            ("DELETE", message + r"/reactions/(?P<emoji>[^/]+)/@me", self._remove_reaction, True),
            ("GET", guild, self._get_guild, True),
            ("GET", guild + r"/channels", self._get_guild_channels, True),
            ("GET", guild + r"/roles", self._get_guild_roles, True),
            ("GET", guild + r"/members", self._get_guild_members, True),
            ("GET", guild + r"/members/(?P<user_id>\d+)", self._get_guild_member, True),
        ]
        return [_Route(m, re.compile(p), h, a) for m, p, h, a in table]

    # users, application, gateway

    async def _get_me(self, call: _Call) -> _Reply:
        return 200, {
            **self._bot_user(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
            "bio": "",
        }

    async def _get_user(self, call: _Call) -> _Reply:
        user_id = call.snowflake("user_id")
        if user_id == self.bot_user_id:
            return 200, self._bot_user()
        member = self._known_members.get(user_id)
        if member is None:
            raise _unknown("User", 10013)
        return 200, member_user_payload(member)

    async def _create_dm(self, call: _Call) -> _Reply:
        recipient = int(call.body.get("recipient_id") or 0)
        member = self._known_members.get(recipient)
        if member is None:
            raise _unknown("User", 10013)
        channel_id = stable_snowflake("dm", self.bot_user_id, member.id)
        channel = self._dm_channels.get(channel_id)
        if channel is None:
            channel = SandboxChannel(
                id=channel_id, guild_id=None, name="", type=1, recipient=member
            )
            self._dm_channels[channel_id] = channel
        return 200, channel_payload(channel, last_message_id=self._last_message_id(channel_id))

    async def _get_my_guilds(self, call: _Call) -> _Reply:
        """The servers the bot is in, as Discord lists them: each with the bot's server-wide
        permissions (its roles, without channel overwrites)."""
        listed: list[JSON] = []
        for guild in self.guilds.values():
            if not guild.bot_present:
                continue
            permissions = guild_permissions(guild, self.bot_user_id, [guild.bot_role_id], 0)
            listed.append(
                {
                    "id": str(guild.id),
                    "name": guild.name,
                    "icon": None,
                    "owner": False,
                    "permissions": str(permissions),
                    "features": [],
                }
            )
        return 200, listed

    async def _leave_guild(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        guild.bot_present = False
        await self._dispatch_if_connected("GUILD_DELETE", {"id": str(guild.id)})
        return 204, None

    async def _get_application(self, call: _Call) -> _Reply:
        owner = user_payload(self.owner.id, self.owner.name)
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": owner,
            "team": None,
            "flags": 0,
            "bot": self._bot_user(),
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": sum(1 for g in self.guilds.values() if g.bot_present),
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
        }

    async def _get_gateway(self, call: _Call) -> _Reply:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, call: _Call) -> _Reply:
        return 200, {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    # application commands

    def _command_scope(self, call: _Call) -> int | None:
        if call.snowflake("app_id") != self.application_id:
            raise _unknown("Application", 10002)
        if "guild_id" not in call.params or call.params["guild_id"] is None:
            return None
        guild_id = call.snowflake("guild_id")
        if guild_id not in self.guilds:
            raise _unknown("Guild", 10004)
        if not self.guilds[guild_id].bot_present:
            raise _ApiError(*_MISSING_ACCESS)
        return guild_id

    def _stored_command(self, scope: int | None, incoming: JSON, previous: JSON | None) -> JSON:
        command: JSON = {
            "type": 1,
            "description": "",
            "default_member_permissions": None,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **incoming,
        }
        if command.get("type") != 1:
            command["description"] = ""
        if command.get("default_member_permissions") is not None:
            # Discord stores any integer form it accepts and answers with a string.
            command["default_member_permissions"] = str(int(command["default_member_permissions"]))
        unchanged = previous is not None and _command_shape(previous) == _command_shape(command)
        command["id"] = previous["id"] if previous is not None else str(self._new_id())
        command["application_id"] = str(self.application_id)
        command["version"] = previous["version"] if unchanged and previous else str(self._new_id())
        if scope is not None:
            command["guild_id"] = str(scope)
        return command

    async def _get_commands(self, call: _Call) -> _Reply:
        return 200, self._commands.get(self._command_scope(call), [])

    async def _put_commands(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        incoming = call.record.json
        if not isinstance(incoming, list):
            raise FormError([], message="Invalid Form Body")
        validate_commands(incoming)
        existing = {(c["name"], int(c.get("type", 1))): c for c in self._commands.get(scope, [])}
        stored = [
            self._stored_command(scope, c, existing.get((c.get("name"), int(c.get("type", 1)))))
            for c in incoming
        ]
        self._commands[scope] = stored
        self._changes.notify()
        return 200, stored

    async def _post_command(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        incoming = call.body
        validate_commands([incoming])
        commands = self._commands.setdefault(scope, [])
        key = (incoming.get("name"), int(incoming.get("type", 1)))
        for index, command in enumerate(commands):
            if (command["name"], int(command.get("type", 1))) == key:
                commands[index] = self._stored_command(scope, incoming, command)
                return 200, commands[index]
        stored = self._stored_command(scope, incoming, None)
        commands.append(stored)
        self._changes.notify()
        return 201, stored

    def _command_by_id(self, call: _Call) -> tuple[list[JSON], int]:
        commands = self._commands.get(self._command_scope(call), [])
        for index, command in enumerate(commands):
            if command["id"] == call.params["command_id"]:
                return commands, index
        raise _unknown("application command", 10063)

    async def _get_command(self, call: _Call) -> _Reply:
        commands, index = self._command_by_id(call)
        return 200, commands[index]

    async def _patch_command(self, call: _Call) -> _Reply:
        commands, index = self._command_by_id(call)
        merged = {**commands[index], **call.body}
        validate_commands([merged])
        commands[index] = self._stored_command(self._command_scope(call), merged, commands[index])
        return 200, commands[index]

    async def _delete_command(self, call: _Call) -> _Reply:
        commands, index = self._command_by_id(call)
        del commands[index]
        return 204, None

    # interactions

    async def _interaction_callback(self, call: _Call) -> _Reply:
        interaction = self._interactions.get(call.snowflake("interaction_id"))
        if interaction is None or interaction.token != call.params["token"]:
            raise _unknown("interaction", 10062)
        elapsed = time.monotonic() - interaction.created_at
        if self.callback_deadline is not None and elapsed > self.callback_deadline:
            raise _unknown("interaction", 10062)
        if interaction.callback_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = call.body
        kind = body.get("type")
        data: JSON = body.get("data") or {}
        allowed = {2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7)}[interaction.type]
        if kind not in allowed:
            raise FormError(
                [],
                message=f"Interaction callback type {kind} is not valid for interaction type "
                f"{interaction.type}",
            )
        source = interaction.source_message
        if kind in (6, 7) and (source is None or source.deleted):
            raise FormError([], message="There is no message to update for this interaction")
        files = call.record.files
        resource: SandboxMessage | None = None
        if kind == 4:
            validate_message(data, files=len(files))
            flags = int(data.get("flags") or 0) & _MESSAGE_FLAGS_A_BOT_MAY_SET
            resource = self._interaction_message(interaction, data, files, flags=flags)
            interaction.original = resource
        elif kind == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            resource = self._store_message(
                SandboxMessage(
                    id=self._new_id(),
                    channel_id=interaction.channel_id,
                    guild_id=interaction.guild_id,
                    author=self._bot_user(),
                    flags=flags,
                    interaction_id=interaction.id,
                    interaction_metadata=self._interaction_metadata(interaction),
                    webhook_id=self.application_id,
                    application_id=self.application_id,
                    type=20 if interaction.type == 2 else 0,
                )
            )
            interaction.original = resource
        elif kind == 7:
            assert source is not None
            validate_message(data, editing=True, files=len(files))
            self._apply_edit(source, data, files)
            interaction.original = resource = source
        elif kind == 6:
            interaction.original = source
        elif kind == 8:
            validate_choices(data.get("choices") or [])
        elif kind == 9:
            validate_modal(data)
        interaction.callback = body
        interaction.callback_type = int(kind)
        interaction.callback_files = list(files)
        interaction.responded_after = elapsed
        self._changes.notify()
        if resource is not None:
            event = "MESSAGE_UPDATE" if kind == 7 else "MESSAGE_CREATE"
            await self._dispatch_message_event(event, resource)
        if call.record.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        info: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(resource is not None and resource.ephemeral),
        }
        reply: JSON = {"interaction": info}
        if resource is not None:
            info["response_message_id"] = str(resource.id)
            reply["resource"] = {"type": kind, "message": self._message_json(resource)}
        return 200, reply

    def _webhook_interaction(self, call: _Call) -> SandboxInteraction:
        interaction = self._interactions_by_token.get(call.params["token"])
        if interaction is None or call.snowflake("app_id") != self.application_id:
            raise _unknown("Webhook", 10015)
        if interaction.callback_type is None:
            raise _unknown("Webhook", 10015)
        return interaction

    def _webhook_message(self, call: _Call) -> tuple[SandboxInteraction, SandboxMessage]:
        interaction = self._webhook_interaction(call)
        wanted = call.params["message_id"]
        message: SandboxMessage | None = None
        if wanted == "@original":
            message = interaction.original
        else:
            for candidate in [interaction.original, *interaction.followups]:
                if candidate is not None and candidate.id == int(wanted):
                    message = candidate
        if message is None or message.deleted:
            raise _unknown("Message", 10008)
        return interaction, message

    async def _execute_webhook(self, call: _Call) -> _Reply:
        interaction = self._webhook_interaction(call)
        payload = call.body
        files = call.record.files
        validate_message(payload, files=len(files))
        original = interaction.original
        if interaction.callback_type == 5 and original is not None and original.loading:
            # Discord turns the first follow-up after a deferral into the deferred message.
            self._apply_edit(original, payload, files)
            message = original
            await self._dispatch_message_event("MESSAGE_UPDATE", message)
        else:
            flags = int(payload.get("flags") or 0) & _MESSAGE_FLAGS_A_BOT_MAY_SET
            message = self._interaction_message(
                interaction, payload, files, flags=flags, followup_of=original
            )
            interaction.followups.append(message)
            self._changes.notify()
            await self._dispatch_message_event("MESSAGE_CREATE", message)
        if call.record.query.get("wait") in ("1", "true", "True"):
            return 200, self._message_json(message)
        return 204, None

    async def _get_webhook_message(self, call: _Call) -> _Reply:
        _, message = self._webhook_message(call)
        return 200, self._message_json(message)

    async def _edit_webhook_message(self, call: _Call) -> _Reply:
        interaction, message = self._webhook_message(call)
        validate_message(call.body, editing=True, files=len(call.record.files))
        self._apply_edit(message, call.body, call.record.files)
        if message is interaction.original:
            interaction.original_edited = True
        self._changes.notify()
        await self._dispatch_message_event("MESSAGE_UPDATE", message)
        return 200, self._message_json(message)

    async def _delete_webhook_message(self, call: _Call) -> _Reply:
        _, message = self._webhook_message(call)
        self._delete_message(message)
        await self._dispatch_message_event("MESSAGE_DELETE", message)
        return 204, None

    # channels and messages

    def _present_guild(self, guild_id: int) -> SandboxGuild:
        guild = self.guilds.get(guild_id)
        if guild is None:
            raise _unknown("Guild", 10004)
        if not guild.bot_present:
            raise _ApiError(*_MISSING_ACCESS)
        return guild

    def _visible_channel(self, channel_id: int) -> tuple[SandboxChannel, int]:
        """The channel and the bot's permissions in it; 403/404 as Discord answers."""
        dm = self._dm_channels.get(channel_id)
        if dm is not None:
            return dm, int(
                Permission.VIEW_CHANNEL
                | Permission.SEND_MESSAGES
                | Permission.EMBED_LINKS
                | Permission.ATTACH_FILES
                | Permission.READ_MESSAGE_HISTORY
            )
        for guild in self.guilds.values():
            channel = guild.channels.get(channel_id)
            if channel is None:
                continue
            if not guild.bot_present:
                raise _ApiError(*_MISSING_ACCESS)
            permissions = self._bot_channel_permissions(guild, channel)
            if not permissions & Permission.VIEW_CHANNEL:
                raise _ApiError(*_MISSING_ACCESS)
            return channel, permissions
        raise _unknown("Channel", 10003)

    def _channel_message(self, call: _Call) -> tuple[SandboxChannel, int, SandboxMessage]:
        channel, permissions = self._visible_channel(call.snowflake("channel_id"))
        message = self._messages.get(call.snowflake("message_id"))
        if (
            message is None
            or message.deleted
            or message.channel_id != channel.id
            or message.ephemeral
        ):
            raise _unknown("Message", 10008)
        return channel, permissions, message

    async def _get_channel(self, call: _Call) -> _Reply:
        channel, _ = self._visible_channel(call.snowflake("channel_id"))
        return 200, channel_payload(channel, last_message_id=self._last_message_id(channel.id))

    async def _get_channel_messages(self, call: _Call) -> _Reply:
        channel, permissions = self._visible_channel(call.snowflake("channel_id"))
        if not permissions & Permission.READ_MESSAGE_HISTORY:
            return 200, []
        messages = list(reversed(self.channel_messages(channel.id)))
        before, after = call.record.query.get("before"), call.record.query.get("after")
        if before:
            messages = [m for m in messages if m.id < int(before)]
        if after:
            messages = [m for m in messages if m.id > int(after)]
        limit = max(1, min(100, int(call.record.query.get("limit") or 50)))
        return 200, [self._message_json(m) for m in messages[:limit]]

    async def _post_channel_message(self, call: _Call) -> _Reply:
        channel, permissions = self._visible_channel(call.snowflake("channel_id"))
        payload = call.body
        files = call.record.files
        if channel.recipient is not None and not channel.recipient.accepts_dms:
            raise _ApiError(403, 50007, "Cannot send messages to this user")
        if not permissions & Permission.SEND_MESSAGES:
            raise _ApiError(*_MISSING_PERMISSIONS)
        if files and not permissions & Permission.ATTACH_FILES:
            raise _ApiError(*_MISSING_PERMISSIONS)
        validate_message(payload, files=len(files))
        reference = payload.get("message_reference")
        if reference is not None:
            referenced = self._messages.get(int(reference.get("message_id") or 0))
            if (referenced is None or referenced.channel_id != channel.id) and reference.get(
                "fail_if_not_exists", True
            ):
                raise FormError([], message="Unknown message reference")
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            earlier = self._messages.get(self._nonces.get((channel.id, str(nonce)), 0))
            if earlier is not None:
                return 200, self._message_json(earlier)
        embeds = _normalised_embeds(payload.get("embeds"))
        if not permissions & Permission.EMBED_LINKS:
            # Discord accepts the message but shows no embeds from a bot without Embed Links.
            embeds = []
        message = self._store_message(
            SandboxMessage(
                id=self._new_id(),
                channel_id=channel.id,
                guild_id=channel.guild_id,
                author=self._bot_user(),
                content=payload.get("content") or "",
                embeds=embeds,
                components=list(payload.get("components") or []),
                flags=int(payload.get("flags") or 0)
                & (SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2),
                attachments=self._attachments_from(payload, files, []) or [],
                allowed_mentions=payload.get("allowed_mentions"),
                type=19 if reference is not None else 0,
                tts=bool(payload.get("tts")),
                message_reference=reference,
            )
        )
        if nonce is not None and payload.get("enforce_nonce"):
            self._nonces[(channel.id, str(nonce))] = message.id
        await self._dispatch_message_event("MESSAGE_CREATE", message)
        return 200, self._message_json(message)

    async def _typing(self, call: _Call) -> _Reply:
        self._visible_channel(call.snowflake("channel_id"))
        return 204, None

    async def _get_channel_message(self, call: _Call) -> _Reply:
        _, _, message = self._channel_message(call)
        return 200, self._message_json(message)

    async def _edit_channel_message(self, call: _Call) -> _Reply:
        _, permissions, message = self._channel_message(call)
        if message.author_id != self.bot_user_id:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        payload = call.body
        validate_message(payload, editing=True, files=len(call.record.files))
        if "embeds" in payload and not permissions & Permission.EMBED_LINKS:
            payload = {**payload, "embeds": []}
        self._apply_edit(message, payload, call.record.files)
        await self._dispatch_message_event("MESSAGE_UPDATE", message)
        return 200, self._message_json(message)

    async def _delete_channel_message(self, call: _Call) -> _Reply:
        _, permissions, message = self._channel_message(call)
        if message.author_id != self.bot_user_id and not permissions & Permission.MANAGE_MESSAGES:
            raise _ApiError(*_MISSING_PERMISSIONS)
        self._delete_message(message)
        await self._dispatch_message_event("MESSAGE_DELETE", message)
        return 204, None

    async def _add_reaction(self, call: _Call) -> _Reply:
        _, permissions, message = self._channel_message(call)
        if not permissions & Permission.ADD_REACTIONS:
            raise _ApiError(*_MISSING_PERMISSIONS)
        if call.params["emoji"] not in message.reactions:
            message.reactions.append(call.params["emoji"])
        self._changes.notify()
        return 204, None

    async def _remove_reaction(self, call: _Call) -> _Reply:
        _, _, message = self._channel_message(call)
        if call.params["emoji"] in message.reactions:
            message.reactions.remove(call.params["emoji"])
        return 204, None

    # guilds

    async def _get_guild(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        payload = guild_payload(guild)
        if call.record.query.get("with_counts") in ("1", "true", "True"):
            payload["approximate_member_count"] = len(guild.members) + 1
            payload["approximate_presence_count"] = 0
        return 200, payload

    async def _get_guild_channels(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        return 200, [channel_payload(c) for c in guild.channels.values()]

    async def _get_guild_roles(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        return 200, [role_payload(r) for r in guild.roles.values()]

    async def _get_guild_members(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        members = [self._guild_create_bot(guild), *guild.members.values()]
        after = int(call.record.query.get("after") or 0)
        limit = max(1, min(1000, int(call.record.query.get("limit") or 1)))
        chosen = sorted((m for m in members if m.id > after), key=lambda m: m.id)[:limit]
        return 200, [member_payload(m) for m in chosen]

    async def _get_guild_member(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        user_id = call.snowflake("user_id")
        if user_id == self.bot_user_id:
            return 200, member_payload(self._guild_create_bot(guild))
        member = guild.members.get(user_id)
        if member is None:
            raise _unknown("Member", 10007)
        return 200, member_payload(member)


_CALLBACK_PATH = re.compile(r"^/interactions/\d+/[^/]+/callback$")
_MESSAGE_CREATE = re.compile(r"^/channels/\d+/messages$|^/webhooks/\d+/[^/]+$")
_MESSAGE_EDIT = re.compile(r"/messages/(@original|\d+)$")


def _ping_problem(record: RecordedRequest) -> str | None:
    """Why a message body could ping someone, for a sandbox that refuses that."""
    body = record.json
    if not isinstance(body, dict):
        return None
    if _CALLBACK_PATH.search(record.path):
        if body.get("type") not in (4, 7):
            return None
        data = body.get("data")
        body = data if isinstance(data, dict) else {}
        required = True
    elif record.method == "POST" and _MESSAGE_CREATE.search(record.path):
        required = True
    elif record.method == "PATCH" and _MESSAGE_EDIT.search(record.path):
        required = False
    else:
        return None
    allowed = body.get("allowed_mentions")
    if allowed is None:
        return (
            "allowed_mentions is missing: Discord would let this message ping" if required else None
        )
    if (
        not isinstance(allowed, dict)
        or allowed.get("parse")
        or allowed.get("users")
        or allowed.get("roles")
        or allowed.get("replied_user")
    ):
        return f"allowed_mentions {allowed!r} lets this message ping"
    return None


def _method_matches(wanted: str, actual: str) -> bool:
    return wanted == "*" or wanted.upper() == actual.upper()


def _is_role_name(guild: SandboxGuild, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        guild.role(value)
    except KeyError:
        return False
    return True


def _normalised_embeds(embeds: Any) -> list[JSON]:
    return [{"type": "rich", **embed} for embed in embeds or []]


def _command_shape(command: Mapping[str, Any]) -> JSON:
    return {
        k: v for k, v in command.items() if k not in ("id", "application_id", "version", "guild_id")
    }


def _json_response(status: int, payload: Any, headers: Mapping[str, str]) -> web.Response:
    if status == 204 or payload is None:
        return web.Response(status=204, headers=dict(headers))
    # Exactly "application/json": discord.py compares the header verbatim, and aiohttp's
    # json_response would append "; charset=utf-8".
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """The JSON body (payload_json for multipart) and any uploaded files."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            raw = bytes(await part.read(decode=False))
            if part.name == "payload_json":
                payload = json.loads(raw)
            else:
                files.append(
                    RecordedFile(
                        field=part.name or "",
                        filename=part.filename,
                        data=raw,
                        content_type=part.headers.get("Content-Type"),
                    )
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    return json.loads(raw), []
