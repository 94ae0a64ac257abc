"""`peerlight run` as a child process with the shipped content, from start to ready.

"Ready" is the moment the sandbox has accepted the bot's IDENTIFY and sent READY and the
server's GUILD_CREATE: by then the process has imported everything, loaded and checked
the content, opened the database, logged in, loaded the cogs and checked the slash
commands. discord.py then waits `guild_ready_timeout` (2 s in `peerlight run`) for more
servers before it logs "Peerlight is ready"; that wait is idle time, so it is left out of
the target and the log line is reported beside it, less the 2 s.

Each run is a restart: one untimed start first creates the database and syncs the
commands. Every run is stopped with SIGTERM and must exit 0. The floor is
`python -c "import discord"` in the same interpreter, timed from start to exit.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench import Row, median
from bench.process import READY_LINE, START_TIMEOUT, Child, child_env, start_bot, write_config
from bot.sandbox.server import Sandbox

NAME = "startup"
TARGET_S = 1.5
GUILD_READY_WAIT_S = 2.0


async def _bot_once(sandbox: Sandbox, config: Path) -> tuple[float, float]:
    """Seconds from start to IDENTIFY+READY, and to the "ready" line less the guild wait."""
    after = sandbox.sessions_started
    child = await start_bot(config, sandbox.token)
    try:
        await sandbox.wait_until_connected(timeout=START_TIMEOUT, after=after)
        connected = time.perf_counter()
        ready_line = await child.wait_for_line(READY_LINE)
    except BaseException:
        child.kill()
        raise
    code = await child.stop()
    if code != 0 or "Traceback" in child.text:
        raise AssertionError(f"the bot exited with {code} after SIGTERM:\n{child.text}")
    return connected - child.started, ready_line - child.started - GUILD_READY_WAIT_S


async def _import_discord_once() -> float:
    child = await Child.start([sys.executable, "-c", "import discord"], child_env())
    code = await child.wait()
    if code != 0:
        raise AssertionError(f"`import discord` failed:\n{child.text}")
    return time.perf_counter() - child.started


async def _measure(runs: int) -> list[Row]:
    connected: list[float] = []
    ready: list[float] = []
    floor: list[float] = []
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
        async with Sandbox() as sandbox:
            config = write_config(Path(tmp), sandbox, database=Path(tmp) / "startup.sqlite3")
            await _bot_once(sandbox, config)  # creates the database, syncs the commands
            await _import_discord_once()
            for index in range(runs):
                if index % 2 == 0:
                    floor.append(await _import_discord_once())
                    c, r = await _bot_once(sandbox, config)
                else:
                    c, r = await _bot_once(sandbox, config)
                    floor.append(await _import_discord_once())
                connected.append(c)
                ready.append(r)
    value = median(connected)
    floor_value = median(floor)
    return [
        Row(
            NAME,
            f"peerlight run: start → IDENTIFY+READY at the sandbox, median of {runs}",
            value,
            "s",
            floor=floor_value,
            ratio=value / floor_value,
            target=f"< {TARGET_S:g} s",
            passed=value < TARGET_S,
        ),
        Row(
            NAME,
            f"peerlight run: start → 'ready' log line − {GUILD_READY_WAIT_S:g} s guild wait, "
            f"median of {runs}",
            median(ready),
            "s",
            floor=floor_value,
            ratio=median(ready) / floor_value,
        ),
    ]


def run(quick: bool) -> list[Row]:
    runs = 2 if quick else 5
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.ERROR)
    try:
        return asyncio.run(_measure(runs))
    finally:
        discord_logger.setLevel(level)
