"""A slash command through the whole stack: sandbox gateway and REST, discord.py, the bot.

The floor is a command added to the same bot that answers with a constant private
message, so the ratio shows what Peerlight's own work adds to a round trip.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bench import Row, median, percentile
from bot.config import parse_settings
from bot.sandbox.harness import load_content, running_bot, sandbox_settings
from bot.sandbox.server import Sandbox

NAME = "roundtrip"
TARGET = 1.25
FLOOR_COMMAND = "bench-floor"


@app_commands.command(name=FLOOR_COMMAND)
async def _floor(interaction: discord.Interaction) -> None:
    """Answers with a constant private message."""
    await interaction.response.send_message("ok", ephemeral=True)


async def _once(sandbox: Sandbox, name: str, options: Mapping[str, Any] | None) -> float:
    start = time.perf_counter()
    interaction = await sandbox.command(name, options)
    await interaction.response_message()
    return time.perf_counter() - start


async def _measure(runs: int, warmup: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
        base = parse_settings({})
        report = await asyncio.to_thread(load_content, base)
        async with Sandbox() as sandbox:
            settings = sandbox_settings(base, sandbox, database=Path(tmp) / "b.sqlite3")
            async with running_bot(sandbox, settings, report=report) as bot:
                guild = discord.Object(sandbox.guild.id)
                bot.tree.add_command(_floor, guild=guild)
                await bot.tree.sync(guild=guild)
                registered = {c["name"] for c in sandbox.registered_commands(sandbox.guild.id)}
                subjects: list[tuple[str, Mapping[str, Any] | None]] = [("about", None)]
                if "cope" in registered:
                    subjects.append(("cope", {"feeling": "anxious"}))
                rows: list[Row] = []
                for name, options in subjects:
                    rows.extend(await _compare(sandbox, name, options, runs, warmup))
                return rows


async def _compare(
    sandbox: Sandbox, name: str, options: Mapping[str, Any] | None, runs: int, warmup: int
) -> list[Row]:
    for _ in range(warmup):
        await _once(sandbox, FLOOR_COMMAND, None)
        await _once(sandbox, name, options)
    subject: list[float] = []
    floor: list[float] = []
    ratios: list[float] = []
    for index in range(runs):
        if index % 2 == 0:
            f = await _once(sandbox, FLOOR_COMMAND, None)
            s = await _once(sandbox, name, options)
        else:
            s = await _once(sandbox, name, options)
            f = await _once(sandbox, FLOOR_COMMAND, None)
        subject.append(s)
        floor.append(f)
        ratios.append(s / f)
    label = "/" + name + "".join(f" {k}:{v}" for k, v in (options or {}).items())
    ms = 1000.0
    ratio = median(ratios)
    return [
        Row(
            NAME,
            f"{label}, median of {runs}",
            median(subject) * ms,
            "ms",
            floor=median(floor) * ms,
            ratio=ratio,
            target=f"ratio <= {TARGET}",
            passed=ratio <= TARGET,
        ),
        Row(
            NAME,
            f"{label}, p99 of {runs}",
            percentile(subject, 0.99) * ms,
            "ms",
            floor=percentile(floor, 0.99) * ms,
        ),
    ]


def run(quick: bool) -> list[Row]:
    runs, warmup = (30, 3) if quick else (200, 10)
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.ERROR)
    try:
        return asyncio.run(_measure(runs, warmup))
    finally:
        discord_logger.setLevel(level)
