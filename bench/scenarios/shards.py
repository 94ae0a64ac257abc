"""Two processes × two shards on one database, one of them killed mid-post.

Through the sandbox, 200 servers (a tenth with --quick) on 4 shards; two `peerlight run`
processes, `--shards 0-1` and `--shards 2-3` of 4, share one database. Members check in
at a steady rate (each check-in is /checkin, a mood and the feelings: three
interactions), every server has a schedule due in the same minute, and the sandbox holds
the post route open so the posts are in flight. Then the process of shards 0-1 is
killed (SIGKILL), the held posts are let through, and it is started again: on its start
it settles the posts it had in flight by looking them up, not by guessing.

A post is lost if it never appears and doubled if it appears twice; a check-in is lost
if it was acknowledged ("Saved") and is not stored. Interactions sent to the dead
shards while they are down are counted apart, as unanswered during failover. Beside it,
the same check-ins on one process with its own SQLite file: throughput and p99, and the
ratio (no target on a 2-core machine; the figure is for hosts to read).

The shared database is a SQLite file (the scenario does not start a PostgreSQL server
yet), and the output says so.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench import Row, percentile
from bench.process import READY_LINE, START_TIMEOUT, Child, child_env
from bot.domain.checkins import MOOD_LABELS
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.domain.shards import shard_of
from bot.sandbox.server import Sandbox, SandboxError, SandboxInteraction, SandboxMember
from bot.storage.database import Database
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
ENGINE = "SQLite shared file; this scenario does not run on PostgreSQL yet"
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
    folder: Path, name: str, sandbox: Sandbox, database: Path, shards: str | None
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


async def add_schedules(
    database: Path, sandbox: Sandbox, guilds: Sequence[int], due: datetime
) -> None:
    """One schedule a server, all due at `due` (the same minute for every one)."""
    async with Database.open(database) as db:
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


def settled(database: Path) -> int:
    """Schedule runs still claimed (no outcome yet)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        (count,) = connection.execute(
            "SELECT count(*) FROM schedule_runs WHERE status = 'claimed'"
        ).fetchone()
        return int(count)
    finally:
        connection.close()


def stored_checkins(database: Path) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        (count,) = connection.execute("SELECT count(*) FROM checkins").fetchone()
        return int(count)
    finally:
        connection.close()


# -- the run ----------------------------------------------------------------------------


@dataclass
class Outcome:
    load: Load
    posts: Counter[int]
    stored: int
    held: int  # posts that were in flight when the process was killed
    restart_s: float


async def _sharded(size: Size, tmp: Path) -> Outcome:
    guilds = guild_ids(size.servers)
    database = tmp / "shared.sqlite3"
    async with Sandbox(guild_ids=guilds, callback_deadline=DISCORD_WINDOW_S) as sandbox:
        killed_config = write_config(tmp, "killed", sandbox, database, KILLED)
        survivor_config = write_config(tmp, "survivor", sandbox, database, SURVIVOR)
        # Every server's schedule is due at the same second, once both processes are up
        # and the members are checking in; the schedulers sleep until then.
        lead = size.lead_s + size.checkins / RATE / 3
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead)
        await add_schedules(database, sandbox, guilds, due)
        stall = sandbox.faults.stall("POST", POSTS)
        killed, survivor = await asyncio.gather(
            start(killed_config, sandbox.token), start(survivor_config, sandbox.token)
        )
        first, last = (int(x) for x in KILLED.split("-"))
        failover = Failover(set(range(first, last + 1)))
        try:
            # The members' load spans the due time, the kill and the restart.
            until_due = (due - datetime.now(UTC)).total_seconds()
            starting_at = time.monotonic() + until_due - size.checkins / RATE / 3
            load_task = asyncio.create_task(
                steady_load(sandbox, size, guilds, failover, starting_at)
            )
            held = await _posts_held(stall, due)
            failover.start = time.monotonic()
            killed.process.send_signal(signal.SIGKILL)
            await killed.wait(30)
            stall.release()
            restarted_at = time.monotonic()
            killed = await start(killed_config, sandbox.token)
            restart_s = time.monotonic() - restarted_at
            failover.end = time.monotonic()
            load = await load_task
            async with asyncio.timeout(120):
                while settled(database) or sum(post_counts(sandbox, guilds).values()) < len(guilds):
                    await asyncio.sleep(0.2)
                    if sum(post_counts(sandbox, guilds).values()) >= len(guilds) and not settled(
                        database
                    ):
                        break
            await asyncio.sleep(1.0)  # anything doubled would have arrived by now
            posts = post_counts(sandbox, guilds)
        finally:
            killed.kill()
            survivor.kill()
            await asyncio.gather(killed.wait(30), survivor.wait(30), return_exceptions=True)
        return Outcome(load, posts, stored_checkins(database), held, restart_s)


async def _posts_held(stall: Any, due: datetime) -> int:
    """Once the posts are due, wait until the held posts stop coming in; how many."""
    wait = (due - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
    seen, quiet_since = -1, time.monotonic()
    async with asyncio.timeout(60):
        while stall.hits == 0 or time.monotonic() - quiet_since < 1.0:
            if stall.hits != seen:
                seen, quiet_since = stall.hits, time.monotonic()
            await asyncio.sleep(0.05)
    return int(stall.hits)


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
        single = asyncio.run(_single(size, tmp))
    load = outcome.load
    posts = outcome.posts
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
        Row(NAME, "posts in flight at the kill", outcome.held, "posts"),
        Row(NAME, "restart until ready", outcome.restart_s, "s"),
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
        ),
        Row(
            NAME,
            "doubled (posts + check-ins)",
            doubled_posts + doubled_checkins,
            "items",
            target="0",
            passed=doubled_posts + doubled_checkins == 0,
        ),
    ]
    if load.refused or single.refused:
        print(f"shards: not saved: {load.refusals + single.refusals}", file=sys.stderr)
    LAST_LINE[:] = [
        f"shards ({ENGINE}): posts {lost_posts} lost, {doubled_posts} doubled of "
        f"{len(posts)}; check-ins {lost_checkins} lost, {doubled_checkins} doubled of "
        f"{load.saved} saved; {load.failover} unanswered during failover; "
        f"{lost_posts + lost_checkins} lost, {doubled_posts + doubled_checkins} doubled"
    ]
    return rows
