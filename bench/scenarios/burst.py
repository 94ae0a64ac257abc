"""Many members finish a check-in at the same moment.

Every member first runs /checkin and presses a mood, so each holds a private message with
the feelings menu (the last step). Then every member's choice is dispatched at once, and
each member's latency runs from the dispatch of their choice to the bot's "Saved" reply
reaching the sandbox. The sandbox refuses replies after Discord's three-second window,
so a late answer counts as not answered.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import Row, median, percentile
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
WAIT_S = 60.0


class _Records(logging.Handler):
    """Every record at WARNING or above, from any logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "voice will NOT be supported" not in record.getMessage():
            self.records.append(record)

    def lines(self) -> list[str]:
        out = []
        for record in self.records:
            text = f"{record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            out.append(text)
        return out


async def _prepare(sandbox: Sandbox, member: SandboxMember, mood: int) -> SandboxMessage:
    prompt = await (await sandbox.command("checkin", member=member)).response_message(30)
    step = await (await sandbox.press(prompt, MOOD_LABELS[mood], member=member)).response_message(
        30
    )
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


async def _measure(members: int) -> list[Row]:
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
                    people = [
                        SandboxMember(id=FIRST_MEMBER_ID + n, name=f"member-{n}")
                        for n in range(members)
                    ]
                    steps: list[SandboxMessage] = []
                    for start in range(0, members, PREPARE_BATCH):
                        batch = people[start : start + PREPARE_BATCH]
                        steps += await asyncio.gather(
                            *(
                                _prepare(sandbox, m, MOODS[(start + i) % len(MOODS)])
                                for i, m in enumerate(batch)
                            )
                        )
                    picks = [list(FEELINGS[n % len(FEELINGS)]) for n in range(members)]
                    began = time.monotonic()
                    interactions = await asyncio.gather(
                        *(
                            sandbox.choose(step, pick, member=member)
                            for step, pick, member in zip(steps, picks, people, strict=True)
                        )
                    )
                    dispatched = time.monotonic() - began
                    await _until_answered(interactions, WAIT_S)
                    finished = max(
                        (i.created_at + (i.responded_after or 0.0) for i in interactions),
                        default=began,
                    )
                    answered = [i for i in interactions if i.callback_type == 7]
                    latencies = [i.responded_after for i in answered if i.responded_after]
                    saved = [i for i in answered if i.original and _is_saved(i.original)]
                stored = _stored(database, sandbox.guild.id)
    finally:
        root.removeHandler(records)

    logged = records.lines()
    locked = [line for line in logged if "database is locked" in line]
    ms = 1000.0
    p99 = percentile(latencies, 0.99) if latencies else float("inf")
    where = f"{members} check-ins at once"
    rows = [
        Row(
            NAME,
            f"{where}: answered with Saved in time",
            len(saved),
            "",
            target=f"= {members}",
            passed=len(saved) == members,
        ),
        Row(
            NAME,
            f"{where}: rows stored for the server",
            stored,
            "",
            target=f"= {members}",
            passed=stored == members,
        ),
        Row(
            NAME,
            f"{where}: 'database is locked' in the logs",
            len(locked),
            "",
            target="= 0",
            passed=not locked,
        ),
        Row(NAME, f"{where}: warnings and errors logged", len(logged), ""),
        Row(NAME, f"{where}, p50 (dispatch → Saved)", median(latencies) * ms, "ms"),
        Row(
            NAME,
            f"{where}, p99 (dispatch → Saved)",
            p99 * ms,
            "ms",
            target=f"p99 < {TARGET_P99_S * ms:g} ms",
            passed=p99 < TARGET_P99_S and len(saved) == members,
        ),
        Row(NAME, f"{where}, max (dispatch → Saved)", max(latencies, default=0) * ms, "ms"),
        Row(NAME, f"{where}: all dispatched after", dispatched * ms, "ms"),
        Row(
            NAME,
            f"{where}: last answer after the first dispatch",
            (finished - began) * ms,
            "ms",
        ),
    ]
    for line in logged[:5]:
        print(f"  {NAME}: logged: {line}", file=sys.stderr)
    return rows


def run(quick: bool) -> list[Row]:
    members = 100 if quick else 1000
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.WARNING)
    try:
        return asyncio.run(_measure(members))
    finally:
        discord_logger.setLevel(level)
