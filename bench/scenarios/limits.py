"""How much one process holds on PostgreSQL: servers per process, and check-ins a second.

One `peerlight run` process on a PostgreSQL database (a throwaway cluster on this
machine, a fresh database for each step), through the sandbox:

- Servers per process: for each size in turn (1,000, 2,500, 5,000, 10,000 and 20,000
  servers; 100 and 250 with --quick), the process connects (one shard per 2,500 servers, Discord's
  limit, all in this process) and receives READY and a GUILD_CREATE for every server;
  then members check in at a steady 20 a second spread over every server (each check-in
  is /checkin, a mood and the feelings: three interactions). The process holds that many
  servers when every check-in is answered and saved and the p99 per interaction stays
  within HOLD_P99_S, half of Discord's 3-second window. Time until ready and peak memory
  are printed beside it.
- Check-ins a second at saturation: on 1,000 servers (100 with --quick), 64 members (16)
  check in back to back, each starting the next as soon as the last is saved, for 20
  seconds (4): check-ins saved a second, and the p99 per interaction under that load.

The sandbox, the PostgreSQL server and the bot share this machine's cores, so these are
the figures of one small machine running everything, not of a bot process on its own: a
host with the database elsewhere has more room. No target: the figures are for hosts to
read (README, "Beyond one machine"). The sandbox's servers are small (a few channels, no
member list), so the memory figures are a floor: a real server's members and roles add
to them.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from bench import Row
from bench.process import READY_LINE, Child, child_env
from bench.scenarios.shards import DISCORD_WINDOW_S, Failover, Load, check_in, guild_ids
from bot.sandbox.pgcluster import ThrowawayCluster
from bot.sandbox.server import Sandbox, SandboxMember

NAME = "limits"
SERVERS_PER_SHARD = 2500  # Discord's most for one shard
HOLD_P99_S = DISCORD_WINDOW_S / 2
STEADY_RATE = 20.0  # check-ins started a second while measuring how many servers a process holds
FIRST_MEMBER = 50_000
READY_TIMEOUT = 300.0


@dataclass(frozen=True)
class Size:
    servers: tuple[int, ...]
    steady_s: float  # seconds of steady check-ins at each size
    saturation_servers: int
    saturation_members: int
    saturation_s: float


FULL = Size((1000, 2500, 5000, 10000, 20000), 10.0, 1000, 64, 20.0)
QUICK = Size((100, 250), 3.0, 100, 16, 4.0)


@dataclass
class Step:
    servers: int
    shards: int
    ready_s: float
    peak_rss: int  # bytes
    load: Load
    offered: int

    @property
    def held(self) -> bool:
        return (
            self.load.saved == self.offered
            and not self.load.unanswered
            and self.load.p99 <= HOLD_P99_S
        )


def write_config(folder: Path, sandbox: Sandbox, url: str, servers: int) -> tuple[Path, int]:
    shards = math.ceil(servers / SERVERS_PER_SHARD)
    discord: dict[str, Any] = {"api_base": sandbox.api_base, "gateway_url": sandbox.gateway_url}
    if shards > 1:
        discord["shard_count"] = shards
    data = {"discord": discord, "database": url, "log_level": "INFO"}
    config = folder / f"limits-{servers}.yaml"
    config.write_text(yaml.safe_dump(data), "utf-8")
    return config, shards


class Members:
    """A new member for every check-in, so no rule about repeated check-ins says no."""

    def __init__(self) -> None:
        self._ids = itertools.count(FIRST_MEMBER)

    def next(self) -> SandboxMember:
        number = next(self._ids)
        return SandboxMember(id=number, name=f"member-{number}")


async def _database(cluster: ThrowawayCluster, name: str) -> str:
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return cluster.url(name)


async def _steady(sandbox: Sandbox, guilds: list[int], seconds: float) -> tuple[Load, int]:
    load, members = Load(), Members()
    count = int(STEADY_RATE * seconds)
    tasks: list[asyncio.Task[None]] = []
    load.began = time.monotonic()
    for n in range(count):
        delay = load.began + n / STEADY_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        guild = guilds[(n * 7919) % len(guilds)]  # a prime stride: every server in turn
        check = check_in(sandbox, guild, members.next(), 1 + n % 5, load, Failover())
        tasks.append(asyncio.create_task(check))
    await asyncio.gather(*tasks)
    load.ended = time.monotonic()
    return load, count


async def _saturated(sandbox: Sandbox, guilds: list[int], size: Size) -> Load:
    load, members = Load(), Members()
    turns = itertools.count()
    load.began = time.monotonic()
    stop_at = load.began + size.saturation_s

    async def member_after_member() -> None:
        while time.monotonic() < stop_at:
            n = next(turns)
            guild = guilds[(n * 7919) % len(guilds)]
            await check_in(sandbox, guild, members.next(), 1 + n % 5, load, Failover())

    await asyncio.gather(*(member_after_member() for _ in range(size.saturation_members)))
    load.ended = time.monotonic()
    return load


def _peak(child: Child) -> int:
    """The process's peak resident memory in bytes (0 once it has exited)."""
    try:
        return child.memory()["VmHWM"]
    except OSError:
        return 0


async def _step(cluster: ThrowawayCluster, tmp: Path, servers: int, size: Size) -> Step:
    url = await _database(cluster, f"bench_limits_{servers}")
    guilds = guild_ids(servers)
    async with Sandbox(guild_ids=guilds, callback_deadline=DISCORD_WINDOW_S) as sandbox:
        config, shards = write_config(tmp, sandbox, url, servers)
        child = await Child.start(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            child_env(sandbox.token),
        )
        try:
            try:
                ready_at = await child.wait_for_line(READY_LINE, READY_TIMEOUT)
            except (TimeoutError, AssertionError):
                # Not ready in five minutes (or gone): this many is more than it holds.
                print(f"limits: {servers:,} servers: not ready", file=sys.stderr)
                return Step(servers, shards, math.nan, _peak(child), Load(), 1)
            ready_s = ready_at - child.started
            load, offered = await _steady(sandbox, guilds, size.steady_s)
            peak = _peak(child)
        finally:
            await child.stop()
    return Step(servers, shards, ready_s, peak, load, offered)


async def _saturation(cluster: ThrowawayCluster, tmp: Path, size: Size) -> Load:
    url = await _database(cluster, "bench_limits_saturation")
    guilds = guild_ids(size.saturation_servers)
    async with Sandbox(guild_ids=guilds, callback_deadline=DISCORD_WINDOW_S) as sandbox:
        config, _ = write_config(tmp, sandbox, url, size.saturation_servers)
        child = await Child.start(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            child_env(sandbox.token),
        )
        try:
            await child.wait_for_line(READY_LINE, READY_TIMEOUT)
            return await _saturated(sandbox, guilds, size)
        finally:
            await child.stop()


async def _all(size: Size, tmp: Path) -> tuple[list[Step], Load]:
    cluster = await asyncio.to_thread(ThrowawayCluster.start)
    try:
        steps = [await _step(cluster, tmp, servers, size) for servers in size.servers]
        saturated = await _saturation(cluster, tmp, size)
    finally:
        await asyncio.to_thread(cluster.stop)
    return steps, saturated


def run(quick: bool) -> list[Row]:
    size = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as folder:
        steps, saturated = asyncio.run(_all(size, Path(folder)))
    rows: list[Row] = []
    for step in steps:
        where = f"{step.servers:,} servers on {step.shards} shard{'s' * (step.shards > 1)}"
        rows.append(Row(NAME, f"one process, {where}: until ready", step.ready_s, "s"))
        rows.append(Row(NAME, f"{where}: peak memory", step.peak_rss / 2**20, "MB"))
        verdict = "held" if step.held else "not held"
        rows.append(
            Row(
                NAME,
                f"{where}: {step.load.saved:,} of {step.offered:,} check-ins at "
                f"{STEADY_RATE:g}/s saved ({verdict}); p99 per interaction",
                step.load.p99,
                "s",
            )
        )
    held = [s.servers for s in steps if s.held]
    most = max(held) if held else 0
    tried = ", ".join(f"{s:,}" for s in size.servers)
    rows.append(
        Row(
            NAME,
            f"servers one process held on PostgreSQL (of {tried} tried; all saved, "
            f"p99 <= {HOLD_P99_S:g} s at {STEADY_RATE:g} check-ins/s)",
            most,
            "servers",
        )
    )
    rows.append(
        Row(
            NAME,
            f"check-ins saved a second at saturation, one process, "
            f"{size.saturation_servers:,} servers, {size.saturation_members} members back to back",
            saturated.throughput,
            "check-ins/s",
        )
    )
    rows.append(Row(NAME, "p99 per interaction at saturation", saturated.p99, "s"))
    rows.append(
        Row(
            NAME,
            "this machine's load average (1 min, every program on it) at the end",
            os.getloadavg()[0],
            "",
        )
    )
    if saturated.unanswered or saturated.refused:
        print(
            f"limits: at saturation {saturated.unanswered} unanswered, "
            f"{saturated.refused} not saved ({dict(saturated.refusals)})",
            file=sys.stderr,
        )
    return rows
