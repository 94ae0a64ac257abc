"""The sandbox's gateway v10: HELLO, IDENTIFY (token and intents checked), READY and one
GUILD_CREATE per server, RESUME with replay, member chunks, and dispatching events to the
bot's live connection, zlib-stream compressed when the bot asks.

Sharding as Discord does it: an IDENTIFY may name a shard pair [shard id, shard count];
that connection's READY lists only the servers on its shard ((server id >> 22) % count),
and each server's events and interactions go to the connection of its shard. A shard
without a live connection gets nothing: an interaction for one of its servers fails the
way Discord's does when the bot is offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from bot.sandbox.common import (
    SandboxError,
)
from bot.sandbox.payloads import (
    JSON,
    SandboxGuild,
    SandboxMember,
    SandboxMessage,
    guild_create_payload,
    member_payload,
)

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

_log = logging.getLogger(__name__)


_GUILD_MESSAGES_INTENT = 1 << 9


_DIRECT_MESSAGES_INTENT = 1 << 12


_MESSAGE_CONTENT_INTENT = 1 << 15


_PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | _MESSAGE_CONTENT_INTENT


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


class Gateway:
    """The sandbox's gateway: sessions, and the live connection of each shard."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self._sessions: dict[str, _Session] = {}
        self.connections: set[_GatewayConnection] = set()
        # The live connection of each shard (shard 0 alone when the bot is not sharded).
        self.live: dict[int, _GatewayConnection] = {}
        self.shard_count = 1
        self._sessions_started = 0
        self.gateway_received: list[JSON] = []
        self.gateway_queries: list[dict[str, str]] = []

    @property
    def sessions_started(self) -> int:
        """How many IDENTIFYs succeeded so far (pass to `wait_until_connected(after=...)`)."""
        return self._sessions_started

    def shard_of(self, guild_id: int | None) -> int:
        """The shard that carries a server's events (DMs: shard 0, as on Discord)."""
        return 0 if guild_id is None else (guild_id >> 22) % self.shard_count

    def _usable(self, shard: int) -> _GatewayConnection | None:
        live = self.live.get(shard)
        return live if live is not None and live.open and live.session is not None else None

    @property
    def connected(self) -> bool:
        return any(self._usable(shard) for shard in list(self.live))

    def shard_connected(self, shard: int) -> bool:
        return self._usable(shard) is not None

    async def wait_until_connected(self, timeout: float = 10, *, after: int = 0) -> None:
        """Until a client has IDENTIFYed (its session number > `after`) and got READY and
        every GUILD_CREATE. The client dispatches on_ready a little later."""

        def probe() -> bool | None:
            for shard in list(self.live):
                live = self._usable(shard)
                if live is not None and live.session is not None and live.session.ordinal > after:
                    return True
            return None

        await self.world.changes.wait_for(probe, timeout, "a bot to connect to the sandbox gateway")

    async def wait_until_disconnected(self, timeout: float = 10) -> None:
        await self.world.changes.wait_for(
            lambda: True if not self.connected else None, timeout, "the bot to disconnect"
        )

    async def drop_connection(self, code: int = 4000, *, shard: int = 0) -> None:
        """Close a shard's gateway connection the way an outage would; it should RESUME."""
        live = self.live.get(shard)
        if live is None:
            raise SandboxError(f"no bot is connected on shard {shard}")
        await live.close(code, "Dropped by the sandbox")

    def session_shards(self) -> list[list[int]]:
        """The [shard id, shard count] each session IDENTIFYed with, when it named one."""
        return [s.shard for s in self._sessions.values() if s.shard is not None]

    def forget_sessions(self) -> None:
        """Forget every session, as Discord does after a while: a RESUME is then refused
        (op 9), and the client must IDENTIFY again."""
        self._sessions.clear()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=1 << 22, timeout=1.0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        connection = _GatewayConnection(ws, compress=request.query.get("compress") == "zlib-stream")
        self.connections.add(connection)
        silence_limit = self.sandbox.heartbeat_interval_ms / 1000 * 2 + 5
        try:
            await connection.send(
                {"op": 10, "d": {"heartbeat_interval": self.sandbox.heartbeat_interval_ms}}
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
            self.connections.discard(connection)
            for shard, live in list(self.live.items()):
                if live is connection:
                    del self.live[shard]
            await connection.close(1000)
            self.world.changes.notify()
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
        if data.get("token") != self.sandbox.token:
            await connection.close(4004, "Authentication failed")
            return
        intents = int(data.get("intents") or 0)
        if (
            self.sandbox.allowed_intents is not None
            and intents & _PRIVILEGED_INTENTS & ~self.sandbox.allowed_intents
        ):
            await connection.close(4014, "Disallowed intent(s)")
            return
        try:
            shard = _shard_pair(data.get("shard"))
        except ValueError:
            await connection.close(4010, "Invalid shard")
            return
        if shard is not None and self.live and shard[1] != self.shard_count:
            await connection.close(4011, "Sharding required")  # counts must agree
            return
        self._sessions_started += 1
        session = _Session(
            id=uuid.uuid4().hex,
            ordinal=self._sessions_started,
            intents=intents,
            shard=shard,
        )
        self._sessions[session.id] = session
        connection.session = session
        ready: JSON = {
            "v": 10,
            "user": {
                **self.world.bot_user(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "guilds": [
                {"id": str(g.id), "unavailable": True}
                for g in self.world.guilds.values()
                if g.bot_present and _on(session, g.id)
            ],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.sandbox.gateway_url,
            "application": {"id": str(self.sandbox.application_id), "flags": 0},
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
        for guild in self.world.guilds.values():
            if guild.bot_present and not guild.unavailable and _on(session, guild.id):
                await connection.dispatch("GUILD_CREATE", self.guild_create(guild))
        self._go_live(session, connection)

    def guild_create(self, guild: SandboxGuild) -> JSON:
        return guild_create_payload(guild, self.guild_create_bot(guild), self.world.joined_at)

    async def _resume(self, connection: _GatewayConnection, data: JSON) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if (
            session is None
            or data.get("token") != self.sandbox.token
            or connection.session is not None
        ):
            await connection.send({"op": 9, "d": False})
            return
        for other in list(self.connections):
            if other is not connection and other.session is session:
                other.session = None
                await other.close(4000, "Session resumed elsewhere")
        seq = int(data.get("seq") or 0)
        missed = [frame for frame in session.history if int(frame["s"]) > seq]
        connection.session = session
        await connection.replay(missed)
        await connection.dispatch("RESUMED", {"_trace": ["sandbox"]})
        self._go_live(session, connection)

    def _go_live(self, session: _Session, connection: _GatewayConnection) -> None:
        if session.shard is not None:
            self.shard_count = session.shard[1]
            self.live[session.shard[0]] = connection
        else:
            self.shard_count = 1
            self.live[0] = connection
        self.world.changes.notify()

    async def _request_members(self, connection: _GatewayConnection, data: JSON) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        members = [member_payload(m) for m in guild.members.values()]
        members.append(member_payload(self.guild_create_bot(guild)))
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

    def guild_create_bot(self, guild: SandboxGuild) -> SandboxMember:
        return SandboxMember(
            id=self.sandbox.bot_user_id,
            name=self.sandbox.bot_name,
            roles=[guild.bot_role_id],
            permissions=0,
            bot=True,
            joined_at=self.world.joined_at,
        )

    def live_connection(self, event: str, guild_id: int | None = None) -> _GatewayConnection:
        """The live connection of the shard that carries `guild_id`'s events."""
        shard = self.shard_of(guild_id)
        live = self._usable(shard)
        if live is None:
            where = f" on shard {shard} of {self.shard_count}" if self.shard_count > 1 else ""
            raise SandboxError(
                f"cannot send {event}: no bot is connected to the sandbox gateway{where}"
            )
        return live

    async def _dispatch(self, event: str, data: JSON) -> None:
        live = self.live_connection(event, _guild_of(event, data))
        try:
            await live.dispatch(event, data)
        except ConnectionError as exc:
            raise SandboxError(
                f"the bot's gateway connection closed while sending {event}"
            ) from exc

    async def dispatch_if_connected(self, event: str, data: JSON) -> None:
        if self.shard_connected(self.shard_of(_guild_of(event, data))):
            with contextlib.suppress(SandboxError):
                await self._dispatch(event, data)

    async def dispatch_message_event(self, event: str, message: SandboxMessage) -> None:
        live = self._usable(self.shard_of(message.guild_id))
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
            data = self.world.message_json(message)
            from_elsewhere = message.author_id != self.sandbox.bot_user_id
            mentioned = self.sandbox.bot_user_id in message.pinged().users
            if (
                from_elsewhere
                and message.guild_id is not None
                and not mentioned
                and not live.session.intents & _MESSAGE_CONTENT_INTENT
            ):
                data.update(content="", embeds=[], attachments=[], components=[])
            if message.guild_id is not None and from_elsewhere:
                member = self.world.known_members.get(message.author_id)
                if member is not None:
                    data["member"] = {
                        k: v for k, v in member_payload(member).items() if k != "user"
                    }
        await self.dispatch_if_connected(event, data)


def _shard_pair(value: Any) -> list[int] | None:
    """IDENTIFY's shard field: [id, count], None when absent; ValueError when malformed."""
    if value is None:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        and 0 <= value[0] < value[1]
    ):
        return [int(value[0]), int(value[1])]
    raise ValueError(f"not a shard pair: {value!r}")


def _on(session: _Session, guild_id: int) -> bool:
    """Whether a server's events belong on this session's shard."""
    if session.shard is None:
        return True
    shard, count = session.shard
    return (guild_id >> 22) % count == shard


def _guild_of(event: str, data: JSON) -> int | None:
    """The server an event is about: its `id` for the GUILD_ events, else `guild_id`."""
    raw = data.get("id") if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE") else None
    raw = raw if raw is not None else data.get("guild_id")
    return int(raw) if raw is not None else None
