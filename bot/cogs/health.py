"""The health endpoint: each shard's state and last heartbeat, and whether the database
answers, as JSON on 127.0.0.1 (`health.port`); `peerlight status` reads it.

GET /health answers 200 when every shard of this process is ready and the database
would take a write, else 503, so a service manager or a load balancer can use it as it is.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from discord.ext import commands

from bot.app import PeerlightBot
from bot.config import HEALTH_HOST as HOST

log = logging.getLogger(__name__)


@dataclass
class ShardState:
    state: str  # connecting, connected, ready, disconnected
    since: dt.datetime


class HealthCog(commands.Cog):
    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        self.started = _now()
        shards = bot.shard_slice
        ids = shards.ids if shards is not None else [0]
        self.states = {shard_id: ShardState("connecting", self.started) for shard_id in ids}
        self._runner: web.AppRunner | None = None
        # The port bound (health.port, or the one the system chose for port 0).
        self.port: int | None = None

    async def cog_load(self) -> None:
        port = self.bot.services.settings.health.port
        if port is None or not getattr(self.bot, "background", True):
            return
        app = web.Application()
        app.router.add_get("/health", self._health)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            log.warning(
                "the health endpoint could not listen on %s:%s (%s); the bot runs without it",
                HOST,
                port,
                error.strerror or error,
            )
            return
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("health endpoint on http://%s:%s/health", HOST, self.port)

    async def cog_unload(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what the gateway says ------------------------------------------------------------

    def _set(self, shard_id: int | None, state: str) -> None:
        key = 0 if shard_id is None else shard_id
        if key in self.states:
            self.states[key] = ShardState(state, _now())

    @property
    def _sharded(self) -> bool:
        return self.bot.shard_slice is not None

    @commands.Cog.listener()
    async def on_shard_connect(self, shard_id: int) -> None:
        self._set(shard_id, "connected")

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self._set(shard_id, "ready")

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        self._set(shard_id, "ready")

    @commands.Cog.listener()
    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._set(shard_id, "disconnected")

    @commands.Cog.listener()
    async def on_connect(self) -> None:
        if not self._sharded:
            self._set(None, "connected")

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if not self._sharded:
            self._set(None, "ready")

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        if not self._sharded:
            self._set(None, "ready")

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        if not self._sharded:
            self._set(None, "disconnected")

    # -- the report ---------------------------------------------------------------------

    async def report(self) -> dict[str, Any]:
        shards = [self._shard(shard_id, state) for shard_id, state in sorted(self.states.items())]
        database = await self._database()
        healthy = database["answers"] and all(s["state"] == "ready" for s in shards)
        return {
            "healthy": healthy,
            "pid": os.getpid(),
            "started": self.started.isoformat(),
            "now": _now().isoformat(),
            "shard_count": self.bot.shard_slice.count if self._sharded else 1,  # type: ignore[union-attr]
            "shards": shards,
            "database": database,
        }

    def _shard(self, shard_id: int, state: ShardState) -> dict[str, Any]:
        heartbeat = _last_heartbeat(self.bot, shard_id) if state.state != "connecting" else None
        return {
            "id": shard_id,
            "state": state.state,
            "since": state.since.isoformat(),
            "last_heartbeat": heartbeat.isoformat() if heartbeat is not None else None,
            "latency_ms": self._latency_ms(shard_id),
        }

    def _latency_ms(self, shard_id: int) -> float | None:
        if self._sharded:
            info = self.bot.get_shard(shard_id)  # type: ignore[attr-defined]
            latency = info.latency if info is not None else float("nan")
        else:
            latency = self.bot.latency
        return None if latency != latency or latency == float("inf") else round(latency * 1000, 1)

    async def _database(self) -> dict[str, Any]:
        """Whether the database would take a write now: a transaction that writes
        nothing. A database held locked by another program fails after the busy timeout;
        nothing is cancelled half-way, so the bot's own connection is left as it was."""
        started = time.perf_counter()
        try:
            async with self.bot.services.database.transaction():
                pass
        except Exception as error:  # any failure means: it does not answer
            detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return {"answers": False, "detail": detail}
        return {"answers": True, "ms": round((time.perf_counter() - started) * 1000, 1)}

    async def _health(self, request: web.Request) -> web.Response:
        body = await self.report()
        return web.json_response(body, status=200 if body["healthy"] else 503)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _last_heartbeat(bot: PeerlightBot, shard_id: int) -> dt.datetime | None:
    """When Discord last acknowledged a heartbeat on this shard's connection.

    discord.py keeps this only as a monotonic time inside its keep-alive thread, not as
    public API; read defensively, and None where it cannot be found.
    """
    if bot.shard_slice is not None:
        info = bot.get_shard(shard_id)  # type: ignore[attr-defined]
        ws = getattr(getattr(info, "_parent", None), "ws", None)
    else:
        ws = getattr(bot, "ws", None)
    acked = getattr(getattr(ws, "_keep_alive", None), "_last_ack", None)
    if not isinstance(acked, float):
        return None
    return _now() - dt.timedelta(seconds=max(0.0, time.perf_counter() - acked))


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(HealthCog(bot))
