"""Peak memory of the bot with a large library, after many interactions.

The bot runs as `python -m bot run --config FILE` in a child process, with `content_dir`
pointing at a generated library, so the resident set measured is its own. After it is
ready, members run a mix of /cope, /technique and /about against it; then its peak
resident set (VmHWM in /proc) is read, before it is stopped with SIGTERM.

The floor is a bare discord.py `Client` in a child process, with the intents Peerlight
asks for (servers only), connected to the same sandbox and idle until SIGTERM: what any
discord.py bot costs before it does anything.
It points discord.py at the sandbox with the same two assignments as
`bot.discord_host.connect_client_to`, written out so the floor imports nothing of
Peerlight's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

from bench import Row
from bench.library import generate
from bench.process import (
    READY_LINE,
    START_TIMEOUT,
    Child,
    child_env,
    start_bot,
    write_config,
)
from bot.sandbox.server import Sandbox, SandboxMember

NAME = "memory"
TARGET_MB = 60.0
MB = 1024 * 1024
FIRST_MEMBER_ID = 30_000
MEMBERS = 200
FLOOR_READY_LINE = "floor client ready"
COPE_FEELINGS = ("anxious", "stressed", "overwhelmed", "low", "lonely", "angry", "tired")

FLOOR_CLIENT = """
import asyncio
import os
import signal
import sys

import discord
import yarl

discord.http.Route.BASE = sys.argv[1].rstrip("/")
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])


async def main() -> None:
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents)

    @client.event
    async def on_ready() -> None:
        print("floor client ready", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with client:
        task = asyncio.create_task(client.start(os.environ["DISCORD_TOKEN"]))
        await stop.wait()
        await client.close()
        await task


asyncio.run(main())
"""


async def _stop(child: Child, what: str) -> None:
    code = await child.stop()
    if code != 0 or "Traceback" in child.text:
        raise AssertionError(f"{what} exited with {code} after SIGTERM:\n{child.text}")


async def _floor(sandbox: Sandbox, folder: Path) -> dict[str, int]:
    script = folder / "floor_client.py"
    script.write_text(FLOOR_CLIENT, "utf-8")
    after = sandbox.sessions_started
    child = await Child.start(
        [sys.executable, str(script), sandbox.api_base, sandbox.gateway_url],
        child_env(sandbox.token),
    )
    try:
        await sandbox.wait_until_connected(timeout=START_TIMEOUT, after=after)
        await child.wait_for_line(FLOOR_READY_LINE)
        used = child.memory()
    except BaseException:
        child.kill()
        raise
    await _stop(child, "the floor client")
    return used


async def _bot(
    sandbox: Sandbox,
    folder: Path,
    interactions: int,
    techniques: list[str],
    content_dir: Path | None,
) -> tuple[dict[str, int], dict[str, int], float]:
    """The bot's memory when ready and after the interactions, and their mean seconds."""
    config = write_config(
        folder, sandbox, database=folder / "memory.sqlite3", content_dir=content_dir
    )
    after = sandbox.sessions_started
    child = await start_bot(config, sandbox.token)
    rng = random.Random(7)
    try:
        await sandbox.wait_until_connected(timeout=START_TIMEOUT, after=after)
        await child.wait_for_line(READY_LINE)
        at_ready = child.memory()
        start = time.perf_counter()
        for n in range(interactions):
            member = SandboxMember(id=FIRST_MEMBER_ID + n % MEMBERS, name=f"member-{n % MEMBERS}")
            kind = n % 5
            if kind in (0, 1):
                interaction = await sandbox.command(
                    "cope", {"feeling": rng.choice(COPE_FEELINGS)}, member=member
                )
            elif kind in (2, 3):
                interaction = await sandbox.command(
                    "technique", {"name": rng.choice(techniques)}, member=member
                )
            else:
                interaction = await sandbox.command("about", member=member)
            message = await interaction.response_message(timeout=30)
            if not message.embeds:
                raise AssertionError(f"{interaction.label} got no card: {message.content!r}")
        mean = (time.perf_counter() - start) / max(1, interactions)
        after_work = child.memory()
    except BaseException:
        child.kill()
        raise
    await _stop(child, "the bot")
    return at_ready, after_work, mean


async def _measure(techniques: int, stories: int, interactions: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
        folder = Path(tmp)
        library = await asyncio.to_thread(
            generate, folder / "content", techniques=techniques, stories=stories
        )
        ids = sorted(p.stem for p in (library.root / "techniques").glob("*.yaml"))
        async with Sandbox() as sandbox:
            floor = await _floor(sandbox, folder)
            _, shipped, _ = await _bot(sandbox, folder, 0, [], None)
            at_ready, after_work, mean = await _bot(
                sandbox, folder, interactions, ids, library.root
            )
    items = f"{techniques + stories:,} items"
    peak = after_work["VmHWM"] / MB
    floor_peak = floor["VmHWM"] / MB
    extra = peak - floor_peak
    return [
        Row(
            NAME,
            f"bot peak RSS, {items}, after {interactions:,} interactions",
            peak,
            "MB",
            floor=floor_peak,
            ratio=peak / floor_peak,
            target=f"<= floor + {TARGET_MB:g} MB",
            passed=extra <= TARGET_MB,
        ),
        Row(NAME, "bot peak RSS over the floor", extra, "MB"),
        Row(
            NAME,
            f"bot RSS when ready, {items}",
            at_ready["VmRSS"] / MB,
            "MB",
            floor=floor["VmRSS"] / MB,
        ),
        Row(NAME, f"bot RSS after {interactions:,} interactions", after_work["VmRSS"] / MB, "MB"),
        Row(
            NAME,
            "bot peak RSS with the shipped content, when ready",
            shipped["VmHWM"] / MB,
            "MB",
            floor=floor_peak,
            ratio=shipped["VmHWM"] / floor["VmHWM"],
        ),
        Row(NAME, f"{interactions:,} interactions, mean round trip", mean * 1000, "ms"),
    ]


def run(quick: bool) -> list[Row]:
    techniques, stories, interactions = (800, 200, 100) if quick else (8000, 2000, 1000)
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.ERROR)
    try:
        return asyncio.run(_measure(techniques, stories, interactions))
    finally:
        discord_logger.setLevel(level)
