"""Two processes × two shards on one PostgreSQL database, one of them killed mid-post.

Through the sandbox, 200 servers (a tenth with --quick) on 4 shards; two `peerlight run`
processes, `--shards 0-1` and `--shards 2-3` of 4, share one PostgreSQL database (a
throwaway cluster on this machine, as the tests and the `engines` scenario start it).
Members check in at a steady rate (each check-in is /checkin, a mood and the feelings:
three interactions), every server has a schedule due in the same second, and the sandbox
holds the post route open so the posts are in flight (each process sends POSTS_AT_ONCE
at a time; the rest wait their turn). Then the process of shards 0-1 is killed (SIGKILL)
and the held posts are let through, except every other one of the killed process's,
which the sandbox drops as a request Discord never took whole; the process is started
again, and on its start it settles the posts it had claimed by looking them up, not by
guessing: found (Discord created it after the kill), it is not posted again; certainly
absent (dropped, or claimed and not yet sent), it is posted once. The counts are
printed.

A post is lost if it never appears and doubled if it appears twice; a check-in is lost
if it was acknowledged ("Saved") and is not stored. Interactions sent to the dead
shards while they are down are counted apart, as unanswered during failover. Anything
lost or doubled fails the scenario's verdict, even in a --quick run. Beside it, the same
check-ins on one process with its own SQLite file: throughput and p99, and the ratio (no
target on a 2-core machine; the figure is for hosts to read).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from bench import Row, percentile
from bench.process import READY_LINE, START_TIMEOUT, Child, child_env
from bot.cogs.prompt_poster import POSTS_AT_ONCE
from bot.domain.checkins import MOOD_LABELS
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.domain.shards import shard_of
from bot.sandbox.pgcluster import ThrowawayCluster
from bot.sandbox.server import Sandbox, SandboxError, SandboxInteraction, SandboxMember
from bot.storage.postgres import PostgresEngine
from bot.storage.schedule_store import NewSchedule, ScheduleStore

NAME = "shards"
SHARD_COUNT = 4
KILLED = "0-1"  # the process killed mid-post
SURVIVOR = "2-3"
FIRST_GUILD = 1191204167300786664
FIRST_MEMBER = 30_000
DISCORD_WINDOW_S = 3.0
RATE = 100.0  # check-ins started a second
POSTS = r"^/channels/\d+/messages$"
ENGINE = "one PostgreSQL database"
DATABASE = "bench_shards"
# What the restarted process logs for each post it finds unsettled (bot/cogs/prompt_poster.py).
FOUND = "went out before the restart; not posting it again"
POSTED_AGAIN = "did not go out before the restart; posting it"
UNDECIDED = "cannot tell whether it went out"
# The last line of the scenario, for `python -m bench` to print at the very end.
LAST_LINE: list[str] = []


@dataclass(frozen=True)
class Size:
    servers: int
    members: int
    checkins: int
    lead_s: float  # from adding the schedules to the members' first check-in


FULL = Size(servers=200, members=1000, checkins=5000, lead_s=25)
QUICK = Size(servers=20, members=100, checkins=500, lead_s=12)


@dataclass
class Load:
    """What the members saw: per check-in, whether it was saved, and every latency."""

    saved: int = 0
    refused: int = 0  # answered, but not saved (a rule said no): not expected here
    unanswered: int = 0  # outside any failover
    failover: int = 0  # sent to the killed process's shards while they were down
    latencies: list[float] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    began: float = 0.0
    ended: float = 0.0

    @property
    def throughput(self) -> float:
        span = self.ended - self.began
        return self.saved / span if span > 0 else 0.0

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


def guild_ids(count: int) -> list[int]:
    """Server ids spread evenly over the shards (one per shard in turn)."""
    return [FIRST_GUILD + (n << 22) for n in range(count)]


def write_config(
    folder: Path, name: str, sandbox: Sandbox, database: Path | str, shards: str | None
) -> Path:
    discord: dict[str, Any] = {
        "api_base": sandbox.api_base,
        "gateway_url": sandbox.gateway_url,
    }
    if shards is not None:
        discord.update(shard_count=SHARD_COUNT, shards=shards)
    data = {"discord": discord, "database": str(database), "log_level": "INFO"}
    config = folder / f"{name}.yaml"
    config.write_text(yaml.safe_dump(data), "utf-8")
    return config


async def start(config: Path, token: str) -> Child:
    child = await Child.start(
        [sys.executable, "-m", "bot", "run", "--config", str(config)], child_env(token)
    )
    await child.wait_for_line(READY_LINE, START_TIMEOUT)
    return child


# -- the members ------------------------------------------------------------------------


class Failover:
    """While the killed process is down, its shards' interactions are counted apart: from
    just before the kill until a Discord window after it is ready again."""

    def __init__(self, shards: set[int] | None = None) -> None:
        self.shards = shards or set()
        self.start: float | None = None
        self.end: float | None = None

    def covers(self, shard: int, failed_at: float) -> bool:
        """Whether a check-in that failed at `failed_at` (the moment its step was refused
        or its wait ran out) met the killed process's shards while they were down."""
        if shard not in self.shards or self.start is None or failed_at < self.start:
            return False
        return self.end is None or failed_at <= self.end + DISCORD_WINDOW_S + 2.0


async def _answered(interaction: SandboxInteraction) -> Any:
    return await interaction.response_message(DISCORD_WINDOW_S + 1.0)


async def check_in(
    sandbox: Sandbox,
    guild_id: int,
    member: SandboxMember,
    mood: int,
    load: Load,
    failover: Failover,
) -> None:
    shard = shard_of(guild_id, SHARD_COUNT)
    steps: list[SandboxInteraction] = []
    try:
        first = await sandbox.command("checkin", member=member, guild_id=guild_id)
        steps.append(first)
        prompt = await _answered(first)
        pressed = await sandbox.press(prompt, MOOD_LABELS[mood], member=member)
        steps.append(pressed)
        step = await _answered(pressed)
        chosen = await sandbox.choose(step, ["tired"], member=member)
        steps.append(chosen)
        final = await _answered(chosen)
    except (SandboxError, TimeoutError, ConnectionError):
        if failover.covers(shard, time.monotonic()):
            load.failover += 1
        else:
            load.unanswered += 1
        return
    load.latencies.extend(s.responded_after for s in steps if s.responded_after is not None)
    if any(str(e.get("description", "")).startswith("Saved:") for e in final.embeds):
        load.saved += 1
    else:
        load.refused += 1
        load.refusals[" / ".join(str(e.get("title")) for e in final.embeds) or "no embed"] += 1


async def steady_load(
    sandbox: Sandbox,
    size: Size,
    guilds: Sequence[int],
    failover: Failover,
    starting_at: float | None = None,
) -> Load:
    """`size.checkins` check-ins started at RATE a second; each member checks in once a
    server (the same member in the same server twice a day would be refused)."""
    load = Load()
    if starting_at is not None:
        await asyncio.sleep(max(0.0, starting_at - time.monotonic()))
    members = [SandboxMember(id=FIRST_MEMBER + n, name=f"member-{n}") for n in range(size.members)]
    per_member = -(-size.checkins // size.members)
    tasks: list[asyncio.Task[None]] = []
    load.began = time.monotonic()
    for n in range(size.checkins):
        member = members[n % size.members]
        guild = guilds[(n % size.members * per_member + n // size.members) % len(guilds)]
        due = load.began + n / RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(
            asyncio.create_task(check_in(sandbox, guild, member, 1 + n % 5, load, failover))
        )
    await asyncio.gather(*tasks)
    load.ended = time.monotonic()
    return load


# -- the schedules ----------------------------------------------------------------------


async def add_schedules(url: str, sandbox: Sandbox, guilds: Sequence[int], due: datetime) -> None:
    """One schedule a server, all due at `due` (the same minute for every one)."""
    async with PostgresEngine.open(url) as db:
        store = ScheduleStore(db)
        for n, guild_id in enumerate(guilds):
            channel = sandbox.guilds[guild_id].channel("general").id
            schedule = await store.add(
                NewSchedule(
                    guild_id=guild_id,
                    channel_id=channel,
                    at=LocalTime(due.hour, due.minute),
                    days=frozenset(range(7)),
                    timezone="UTC",
                    kind=PromptKind.REFLECTION,
                ),
                now=due - timedelta(minutes=1),
                make_short_id=lambda n=n: f"s{n:05d}",
            )
            await store.set_next_due(schedule.key, due)


def post_counts(sandbox: Sandbox, guilds: Sequence[int]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for guild_id in guilds:
        channel = sandbox.guilds[guild_id].channel("general").id
        counts[guild_id] = sum(
            1
            for m in sandbox.channel_messages(channel)
            if m.interaction_id is None and not m.deleted and m.embeds
        )
    return counts


async def _count(url: str, sql: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


async def unsettled(url: str) -> int:
    """Schedule runs still claimed (no outcome yet)."""
    return await _count(url, "SELECT count(*) FROM schedule_runs WHERE status = 'claimed'")


async def stored_checkins(url: str) -> int:
    return await _count(url, "SELECT count(*) FROM checkins")


@dataclass
class Settling:
    """How the posts the killed process held were settled."""

    created_after_kill: int = 0  # Discord made them once the held requests went through
    dropped: int = 0  # held posts the sandbox dropped: Discord never made them
    not_made: int = 0  # no post at the restart: dropped, or not yet sent at the kill
    found: int = 0  # the restarted process looked them up and found them (its log)
    posted_again: int = 0  # it looked, found nothing, and posted them (its log)
    undecided: int = 0  # it could not tell, and posted nothing (its log)


# -- the run ----------------------------------------------------------------------------


@dataclass
class Outcome:
    load: Load
    posts: Counter[int]
    stored: int
    held: int  # posts that were in flight when the process was killed
    restart_s: float
    settling: Settling


async def _shared_database() -> tuple[ThrowawayCluster, str]:
    cluster = await asyncio.to_thread(ThrowawayCluster.start)
    try:
        admin = await asyncpg.connect(cluster.url())
        try:
            await admin.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            await admin.close()
    except BaseException:
        await asyncio.to_thread(cluster.stop)
        raise
    return cluster, cluster.url(DATABASE)


async def _sharded(size: Size, tmp: Path) -> Outcome:
    cluster, url = await _shared_database()
    try:
        return await _sharded_on(size, tmp, url)
    finally:
        await asyncio.to_thread(cluster.stop)


async def _sharded_on(size: Size, tmp: Path, url: str) -> Outcome:
    guilds = guild_ids(size.servers)
    first, last = (int(x) for x in KILLED.split("-"))
    killed_shards = set(range(first, last + 1))
    killed_guilds = [g for g in guilds if shard_of(g, SHARD_COUNT) in killed_shards]
    async with Sandbox(guild_ids=guilds, callback_deadline=DISCORD_WINDOW_S) as sandbox:
        killed_config = write_config(tmp, "killed", sandbox, url, KILLED)
        survivor_config = write_config(tmp, "survivor", sandbox, url, SURVIVOR)
        # Every other post the killed process holds is dropped when the stall is released
        # (its request never reached Discord whole); the others are made by Discord then.
        dropped_channels = {sandbox.guilds[g].channel("general").id for g in killed_guilds[::2]}

        def dropped(path: str) -> bool:
            return any(f"/channels/{channel}/" in path for channel in dropped_channels)

        # Every server's schedule is due at the same second, once both processes are up
        # and the members are checking in; the schedulers sleep until then.
        lead = size.lead_s + size.checkins / RATE / 3
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead)
        await add_schedules(url, sandbox, guilds, due)
        stall = sandbox.faults.stall("POST", POSTS)
        killed, survivor = await asyncio.gather(
            start(killed_config, sandbox.token), start(survivor_config, sandbox.token)
        )
        failover = Failover(killed_shards)
        settling = Settling()
        try:
            # The members' load spans the due time, the kill and the restart.
            until_due = (due - datetime.now(UTC)).total_seconds()
            starting_at = time.monotonic() + until_due - size.checkins / RATE / 3
            load_task = asyncio.create_task(
                steady_load(sandbox, size, guilds, failover, starting_at)
            )
            # Each process holds as many of its posts open as it sends at once.
            survivor_guilds = len(guilds) - len(killed_guilds)
            expected = min(len(killed_guilds), POSTS_AT_ONCE) + min(survivor_guilds, POSTS_AT_ONCE)
            held_routes = await _posts_held(sandbox, due, expected)
            held = len(held_routes)
            failover.start = time.monotonic()
            killed.process.send_signal(signal.SIGKILL)
            await killed.wait(30)
            stall.release(forget=dropped)
            async with asyncio.timeout(30):
                while True:  # until the released posts are made, or dropped
                    if not _held(sandbox):
                        break
                    await asyncio.sleep(0.05)
            # Counted by server: a post retried while it was held was held twice.
            made = post_counts(sandbox, killed_guilds)
            settling.created_after_kill = sum(1 for g in killed_guilds if made[g])
            settling.not_made = sum(1 for g in killed_guilds if not made[g])
            settling.dropped = sum(1 for route in held_routes if dropped(route))
            restarted_at = time.monotonic()
            killed = await start(killed_config, sandbox.token)
            restart_s = time.monotonic() - restarted_at
            failover.end = time.monotonic()
            load = await load_task
            async with asyncio.timeout(120):
                while True:
                    made = sum(post_counts(sandbox, guilds).values())
                    if made >= len(guilds) and not await unsettled(url):
                        break
                    await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # anything doubled would have arrived by now
            posts = post_counts(sandbox, guilds)
            settling.found = killed.text.count(FOUND)
            settling.posted_again = killed.text.count(POSTED_AGAIN)
            settling.undecided = killed.text.count(UNDECIDED)
            stored = await stored_checkins(url)
        finally:
            killed.kill()
            survivor.kill()
            await asyncio.gather(killed.wait(30), survivor.wait(30), return_exceptions=True)
        return Outcome(load, posts, stored, held, restart_s, settling)


def _held(sandbox: Sandbox) -> set[str]:
    """The post routes of the requests the sandbox holds open (taken, not answered)."""
    compiled = re.compile(POSTS)
    return {
        r.path
        for r in sandbox.requests
        if not r.done and r.method == "POST" and compiled.search(r.path)
    }


async def _posts_held(sandbox: Sandbox, due: datetime, expected: int) -> set[str]:
    """Once the posts are due, wait until `expected` posts are held open (each process
    sends at most POSTS_AT_ONCE at a time; the rest wait their turn), so none that will
    be sent before the kill is still on its way; the held posts' routes."""
    wait = (due - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
    async with asyncio.timeout(90):
        while True:
            held = _held(sandbox)
            if len(held) >= expected:
                return held
            await asyncio.sleep(0.05)


async def _single(size: Size, tmp: Path) -> Load:
    guilds = guild_ids(size.servers)
    database = tmp / "single.sqlite3"
    async with Sandbox(guild_ids=guilds, callback_deadline=DISCORD_WINDOW_S) as sandbox:
        config = write_config(tmp, "single", sandbox, database, None)
        child = await start(config, sandbox.token)
        try:
            return await steady_load(sandbox, size, guilds, Failover())
        finally:
            await child.stop()


def run(quick: bool) -> list[Row]:
    size = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as folder:
        tmp = Path(folder)
        outcome = asyncio.run(_sharded(size, tmp))
        load_average = os.getloadavg()[0]
        single = asyncio.run(_single(size, tmp))
    load = outcome.load
    posts = outcome.posts
    settling = outcome.settling
    lost_posts = sum(1 for g in posts if posts[g] == 0)
    doubled_posts = sum(1 for g in posts if posts[g] > 1)
    lost_checkins = max(0, load.saved - outcome.stored)
    doubled_checkins = max(0, outcome.stored - size.checkins)
    throughput_ratio = load.throughput / single.throughput if single.throughput else float("nan")
    p99_ratio = load.p99 / single.p99 if single.p99 else float("nan")
    where = f"2 processes x 2 shards, {size.servers} servers, {ENGINE}"
    rows = [
        Row(NAME, f"check-ins saved ({where})", load.saved, "check-ins"),
        Row(NAME, "unanswered during failover", load.failover, "check-ins"),
        Row(
            NAME,
            "unanswered otherwise",
            load.unanswered,
            "check-ins",
            target="0",
            passed=load.unanswered == 0,
        ),
        Row(NAME, "answered, but not with Saved", load.refused, "check-ins"),
        Row(NAME, "posts in flight at the kill (both processes)", outcome.held, "posts"),
        Row(
            NAME,
            "held posts of the killed process created by Discord after the kill, "
            "found by the lookup and not posted again",
            settling.found,
            "posts",
            target=f"= {settling.created_after_kill} created",
            passed=settling.found == settling.created_after_kill,
            required=True,
        ),
        Row(
            NAME,
            f"posts of the killed process not made at the restart ({settling.dropped} held and "
            "dropped, the rest not yet sent), posted again after the lookup found nothing",
            settling.posted_again,
            "posts",
            target=f">= {settling.dropped}, <= {settling.not_made}",
            passed=settling.dropped <= settling.posted_again <= settling.not_made
            and settling.undecided == 0,
            required=True,
        ),
        Row(
            NAME,
            "posts of the killed process not yet claimed at the kill, posted as usual after it",
            settling.not_made - settling.posted_again,
            "posts",
        ),
        Row(NAME, "restart until ready", outcome.restart_s, "s"),
        Row(
            NAME,
            "this machine's load average (1 min, every program on it) after the sharded run",
            load_average,
            "",
        ),
        Row(
            NAME,
            "check-ins saved a second (the sharded run loses its failover), vs one process",
            load.throughput,
            "check-ins/s",
            floor=single.throughput,
            ratio=throughput_ratio,
        ),
        Row(
            NAME,
            "p99 per interaction, sharded vs one process",
            load.p99,
            "s",
            floor=single.p99,
            ratio=p99_ratio,
        ),
        Row(
            NAME,
            "lost (posts + check-ins)",
            lost_posts + lost_checkins,
            "items",
            target="0",
            passed=lost_posts + lost_checkins == 0,
            required=True,
        ),
        Row(
            NAME,
            "doubled (posts + check-ins)",
            doubled_posts + doubled_checkins,
            "items",
            target="0",
            passed=doubled_posts + doubled_checkins == 0,
            required=True,
        ),
    ]
    if load.refused or single.refused:
        print(f"shards: not saved: {load.refusals + single.refusals}", file=sys.stderr)
    LAST_LINE[:] = [
        f"shards ({ENGINE}): posts {lost_posts} lost, {doubled_posts} doubled of "
        f"{len(posts)}; check-ins {lost_checkins} lost, {doubled_checkins} doubled of "
        f"{load.saved} saved; {load.failover} unanswered during failover; held posts "
        f"settled: {settling.found} created by Discord after the kill, "
        f"{settling.posted_again} posted again after a lookup found nothing; "
        f"{lost_posts + lost_checkins} lost, {doubled_posts + doubled_checkins} doubled"
    ]
    return rows
