"""Many members finish a check-in at the same moment.

Every member first runs /checkin and presses a mood, so each holds a private message with
the feelings menu (the last step). Then every member's choice is dispatched at once, and
each member's latency runs from the dispatch of their choice to the bot's "Saved" reply
reaching the sandbox. The sandbox refuses replies after Discord's three-second window,
so a late answer counts as not answered.

The target is measured with the bot as `python -m bot run` in a child process, as in
production, where Discord is not in the bot's process: the bot has a core to itself and
the sandbox another. Its CPU time during the burst, read from /proc, is the bot's own
cost per check-in, whatever the sandbox costs. The same burst is also run with the bot in
this process, on the same event loop as the sandbox, like every in-process scenario; its
latencies are shown for information (the sandbox's own work is on that loop too), and
what it stored is checked all the same.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import Row, median, percentile
from bench.process import READY_LINE, START_TIMEOUT, start_bot, write_config
from bot.config import parse_settings
from bot.domain.checkins import MOOD_LABELS
from bot.sandbox.harness import load_content, running_bot, sandbox_settings
from bot.sandbox.server import Sandbox, SandboxInteraction, SandboxMember, SandboxMessage

NAME = "burst"
TARGET_P99_S = 1.0
DISCORD_WINDOW_S = 3.0
FIRST_MEMBER_ID = 20_000
PREPARE_BATCH = 50
FEELINGS = (("anxious",), ("tired", "low"), ("calm",), ("stressed", "restless", "irritable"))
MOODS = (2, 2, 4, 3)
LOCKED = "database is locked"
IGNORED_LOG = "voice will NOT be supported"
_SEVERE = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b")


class _Records(logging.Handler):
    """Every record at WARNING or above, from any logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if IGNORED_LOG not in record.getMessage():
            self.records.append(record)

    def lines(self) -> list[str]:
        out = []
        for record in self.records:
            text = f"{record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            out.append(text)
        return out


@dataclass
class Burst:
    members: int
    saved: int
    stored: int
    latencies: list[float]  # seconds, dispatch → reply, of the members answered in time
    dispatched: float  # seconds from the first dispatch to the last
    finished: float  # seconds from the first dispatch to the last answer
    logged: list[str]  # warnings and errors
    bot_cpu: float | None = None  # seconds of the bot process's CPU during the burst

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99) if self.latencies else float("inf")

    @property
    def locked(self) -> list[str]:
        return [line for line in self.logged if LOCKED in line]


async def _prepare(sandbox: Sandbox, member: SandboxMember, mood: int) -> SandboxMessage:
    prompt = await (await sandbox.command("checkin", member=member)).response_message(30)
    pressed = await sandbox.press(prompt, MOOD_LABELS[mood], member=member)
    step = await pressed.response_message(30)
    if len(step.selects()) != 1:
        raise AssertionError(f"member {member.id} has no feelings menu: {step.embeds}")
    return step


async def _until_answered(interactions: Sequence[SandboxInteraction], timeout: float) -> None:
    # One poller rather than a waiter per member: a thousand waiters, all woken on every
    # change in the sandbox, would compete with the bot for the event loop.
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while any(i.callback_type is None for i in interactions):
        if loop.time() > end:
            break
        await asyncio.sleep(0.005)


def _stored(database: Path, guild_id: int) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        (count,) = connection.execute(
            "SELECT count(*) FROM checkins WHERE guild_id = ?", (guild_id,)
        ).fetchone()
    finally:
        connection.close()
    return int(count)


def _is_saved(message: SandboxMessage) -> bool:
    return any(
        embed.get("title") == "Thank you for checking in"
        and str(embed.get("description", "")).startswith("Saved:")
        for embed in message.embeds
    )


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text("utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _burst(sandbox: Sandbox, members: int, database: Path, pid: int | None) -> Burst:
    """Prepare every member at the last step, then fire all their choices at once."""
    people = [SandboxMember(id=FIRST_MEMBER_ID + n, name=f"member-{n}") for n in range(members)]
    steps: list[SandboxMessage] = []
    for start in range(0, members, PREPARE_BATCH):
        batch = people[start : start + PREPARE_BATCH]
        steps += await asyncio.gather(
            *(_prepare(sandbox, m, MOODS[(start + i) % len(MOODS)]) for i, m in enumerate(batch))
        )
    picks = [list(FEELINGS[n % len(FEELINGS)]) for n in range(members)]
    cpu_before = _cpu_seconds(pid) if pid is not None else 0.0
    began = time.monotonic()
    interactions = await asyncio.gather(
        *(
            sandbox.choose(step, pick, member=member)
            for step, pick, member in zip(steps, picks, people, strict=True)
        )
    )
    dispatched = time.monotonic() - began
    # An answer after the window is refused, so waiting longer tells nothing.
    await _until_answered(interactions, DISCORD_WINDOW_S + 1.0)
    cpu = _cpu_seconds(pid) - cpu_before if pid is not None else None
    finished = max(i.created_at + (i.responded_after or 0.0) for i in interactions)
    answered = [i for i in interactions if i.callback_type == 7]
    return Burst(
        members=members,
        saved=sum(1 for i in answered if i.original is not None and _is_saved(i.original)),
        stored=0,
        latencies=[i.responded_after for i in answered if i.responded_after is not None],
        dispatched=dispatched,
        finished=finished - began,
        logged=[],
        bot_cpu=cpu,
    )


async def _in_process(members: int) -> Burst:
    records = _Records()
    root = logging.getLogger()
    root.addHandler(records)
    try:
        with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
            database = Path(tmp) / "burst.sqlite3"
            base = parse_settings({})
            report = await asyncio.to_thread(load_content, base)
            async with Sandbox(callback_deadline=DISCORD_WINDOW_S) as sandbox:
                settings = sandbox_settings(base, sandbox, database=database)
                async with running_bot(sandbox, settings, report=report):
                    result = await _burst(sandbox, members, database, None)
                result.stored = _stored(database, sandbox.guild.id)
    finally:
        root.removeHandler(records)
    result.logged = records.lines()
    return result


async def _child_process(members: int) -> Burst:
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
        database = Path(tmp) / "burst.sqlite3"
        async with Sandbox(callback_deadline=DISCORD_WINDOW_S) as sandbox:
            config = write_config(Path(tmp), sandbox, database=database)
            child = await start_bot(config, sandbox.token)
            try:
                await sandbox.wait_until_connected(timeout=START_TIMEOUT)
                await child.wait_for_line(READY_LINE)
                result = await _burst(sandbox, members, database, child.process.pid)
            except BaseException:
                child.kill()
                raise
            code = await child.stop()
            if code != 0:
                raise AssertionError(f"the bot exited with {code} after SIGTERM:\n{child.text}")
            result.stored = _stored(database, sandbox.guild.id)
    result.logged = [
        line.strip()
        for _, line in child.output
        if (_SEVERE.search(line) or LOCKED in line or "Traceback" in line)
        and IGNORED_LOG not in line
    ]
    return result


def _checked_rows(result: Burst, where: str) -> list[Row]:
    """That every member was answered in time and stored exactly once, and nothing was
    refused for a locked database."""
    members = result.members
    return [
        Row(
            NAME,
            f"{where}: answered with Saved in time",
            result.saved,
            "",
            target=f"= {members}",
            passed=result.saved == members,
        ),
        Row(
            NAME,
            f"{where}: rows stored for the server",
            result.stored,
            "",
            target=f"= {members}",
            passed=result.stored == members,
        ),
        Row(
            NAME,
            f"{where}: '{LOCKED}' in the logs",
            len(result.locked),
            "",
            target="= 0",
            passed=not result.locked,
        ),
        Row(NAME, f"{where}: warnings and errors logged", len(result.logged), ""),
    ]


def _latency_rows(result: Burst, where: str, *, target: bool) -> list[Row]:
    ms = 1000.0
    latencies = result.latencies
    p99_passed = result.p99 < TARGET_P99_S and result.saved == result.members
    return [
        Row(NAME, f"{where}, p50 (dispatch → Saved)", median(latencies) * ms, "ms"),
        Row(
            NAME,
            f"{where}, p99 (dispatch → Saved)",
            result.p99 * ms,
            "ms",
            target=f"p99 < {TARGET_P99_S * ms:g} ms" if target else "",
            passed=p99_passed if target else None,
        ),
        Row(NAME, f"{where}, max (dispatch → Saved)", max(latencies, default=0.0) * ms, "ms"),
        Row(NAME, f"{where}: all dispatched after", result.dispatched * ms, "ms"),
        Row(NAME, f"{where}: last answer after the first dispatch", result.finished * ms, "ms"),
    ]


def _child_rows(result: Burst) -> list[Row]:
    where = f"bot as a child process, {result.members} check-ins at once"
    return [
        *_checked_rows(result, where),
        *_latency_rows(result, where, target=True),
        Row(
            NAME,
            f"{where}: the bot's CPU per check-in",
            (result.bot_cpu or 0.0) / result.members * 1000.0,
            "ms",
        ),
    ]


def _in_process_rows(result: Burst) -> list[Row]:
    where = f"bot in this process, {result.members} check-ins at once"
    return [*_checked_rows(result, where), *_latency_rows(result, where, target=False)]


def run(quick: bool) -> list[Row]:
    members = 100 if quick else 1000
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.WARNING)
    try:
        in_process = asyncio.run(_in_process(members))
        child = asyncio.run(_child_process(members))
    finally:
        discord_logger.setLevel(level)
    for line in (in_process.logged + child.logged)[:5]:
        print(f"  {NAME}: logged: {line}", file=sys.stderr)
    return _child_rows(child) + _in_process_rows(in_process)
