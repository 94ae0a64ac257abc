"""A slash command through the whole stack: sandbox gateway and REST, discord.py, the bot.

The floor is a command added to the same bot that answers with a constant private
message, so the ratio shows what Peerlight's own work adds to a round trip. A completed
check-in is three interactions (the command, a mood button, the feelings menu); its floor
is the same three kinds of interaction in sequence, each answered with a constant: a
command replying with a button, the button replacing the message with a select, the
select replacing it with a line of text.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bench import Row, median, percentile
from bot.config import parse_settings
from bot.domain.checkins import MOOD_LABELS
from bot.sandbox.harness import load_content, running_bot, sandbox_settings
from bot.sandbox.server import Sandbox, SandboxMember, SandboxMessage

NAME = "roundtrip"
TARGET = 1.25
FLOOR_COMMAND = "bench-floor"
FLOOR_FLOW_COMMAND = "bench-floor-flow"
CHECKIN_MOOD = 2
CHECKIN_FEELINGS = ("anxious",)
FIRST_MEMBER_ID = 10_000

Trip = Callable[[], Awaitable[float]]

Button = discord.ui.Button[discord.ui.View]
Select = discord.ui.Select[discord.ui.View]


def _view(item: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(item)
    return view


class _FloorNext(discord.ui.DynamicItem[Button], template=r"bench:floor:next"):
    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="Next", custom_id="bench:floor:next"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
    ) -> _FloorNext:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.edit_message(content="pick", view=_view(_FloorPick()))


class _FloorPick(discord.ui.DynamicItem[Select], template=r"bench:floor:pick"):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id="bench:floor:pick",
                options=[discord.SelectOption(label="one", value="one")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
    ) -> _FloorPick:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.edit_message(content="ok", view=None)


@app_commands.command(name=FLOOR_COMMAND)
async def _floor(interaction: discord.Interaction) -> None:
    """Answers with a constant private message."""
    await interaction.response.send_message("ok", ephemeral=True)


@app_commands.command(name=FLOOR_FLOW_COMMAND)
async def _floor_flow(interaction: discord.Interaction) -> None:
    """Answers with a constant private message and a button."""
    await interaction.response.send_message("next", ephemeral=True, view=_view(_FloorNext()))


async def _once(
    sandbox: Sandbox, name: str, options: Mapping[str, Any] | None, *, card: bool
) -> float:
    start = time.perf_counter()
    interaction = await sandbox.command(name, options)
    message = await interaction.response_message()
    elapsed = time.perf_counter() - start
    if card and not message.embeds:
        # A refusal or an error is a short text: timing it would flatter the subject.
        raise AssertionError(f"/{name} answered without a card: {message.content!r}")
    return elapsed


async def _floor_flow_once(sandbox: Sandbox) -> float:
    start = time.perf_counter()
    first = await (await sandbox.command(FLOOR_FLOW_COMMAND)).response_message()
    second = await (await sandbox.press(first, "Next")).response_message()
    done = await (await sandbox.choose(second, ["one"])).response_message()
    elapsed = time.perf_counter() - start
    if done.content != "ok":
        raise AssertionError(f"the floor flow ended with {done.content!r}")
    return elapsed


def _is_saved(message: SandboxMessage) -> bool:
    return any(str(embed.get("description", "")).startswith("Saved:") for embed in message.embeds)


async def _checkin_once(sandbox: Sandbox, member: SandboxMember) -> float:
    start = time.perf_counter()
    prompt = await (await sandbox.command("checkin", member=member)).response_message()
    step = await (
        await sandbox.press(prompt, MOOD_LABELS[CHECKIN_MOOD], member=member)
    ).response_message()
    done = await (
        await sandbox.choose(step, list(CHECKIN_FEELINGS), member=member)
    ).response_message()
    elapsed = time.perf_counter() - start
    if not _is_saved(done):
        raise AssertionError(f"the check-in of member {member.id} was not saved: {done.embeds}")
    return elapsed


async def _measure(runs: int, warmup: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
        base = parse_settings({})
        report = await asyncio.to_thread(load_content, base)
        assert report.catalog is not None
        technique = "box-breathing"
        assert technique in report.catalog.techniques, f"no technique {technique!r} shipped"
        async with Sandbox() as sandbox:
            settings = sandbox_settings(base, sandbox, database=Path(tmp) / "b.sqlite3")
            async with running_bot(sandbox, settings, report=report) as bot:
                guild = discord.Object(sandbox.guild.id)
                bot.tree.add_command(_floor, guild=guild)
                bot.tree.add_command(_floor_flow, guild=guild)
                bot.add_dynamic_items(_FloorNext, _FloorPick)
                await bot.tree.sync(guild=guild)

                def command(name: str, options: Mapping[str, Any] | None = None) -> Trip:
                    return lambda: _once(sandbox, name, options, card=name != FLOOR_COMMAND)

                members = (
                    SandboxMember(id=FIRST_MEMBER_ID + n, name=f"member-{n}")
                    for n in itertools.count()
                )
                floor = command(FLOOR_COMMAND)
                rows: list[Row] = []
                rows += await _compare("/about", command("about"), floor, runs, warmup)
                rows += await _compare(
                    "/cope feeling:anxious",
                    command("cope", {"feeling": "anxious"}),
                    floor,
                    runs,
                    warmup,
                )
                rows += await _compare(
                    f"/technique name:{technique}",
                    command("technique", {"name": technique}),
                    floor,
                    runs,
                    warmup,
                )
                rows += await _compare("/story", command("story"), floor, runs, warmup)
                rows += await _compare(
                    "/checkin → mood → feelings → saved (floor: 3 constant replies)",
                    lambda: _checkin_once(sandbox, next(members)),
                    lambda: _floor_flow_once(sandbox),
                    runs,
                    warmup,
                )
                rows_saved = await bot.services.checkins.count(sandbox.guild.id)
                expected = runs + warmup
                if rows_saved != expected:
                    raise AssertionError(f"{rows_saved} check-ins stored, expected {expected}")
                return rows


async def _compare(label: str, subject: Trip, floor: Trip, runs: int, warmup: int) -> list[Row]:
    for _ in range(warmup):
        await floor()
        await subject()
    subjects: list[float] = []
    floors: list[float] = []
    ratios: list[float] = []
    for index in range(runs):
        if index % 2 == 0:
            f = await floor()
            s = await subject()
        else:
            s = await subject()
            f = await floor()
        subjects.append(s)
        floors.append(f)
        ratios.append(s / f)
    ms = 1000.0
    ratio = median(ratios)
    return [
        Row(
            NAME,
            f"{label}, median of {runs}",
            median(subjects) * ms,
            "ms",
            floor=median(floors) * ms,
            ratio=ratio,
            target=f"ratio <= {TARGET}",
            passed=ratio <= TARGET,
        ),
        Row(
            NAME,
            f"{label}, p99 of {runs}",
            percentile(subjects, 0.99) * ms,
            "ms",
            floor=percentile(floors, 0.99) * ms,
            ratio=percentile(subjects, 0.99) / percentile(floors, 0.99),
        ),
    ]


def run(quick: bool) -> list[Row]:
    runs, warmup = (30, 3) if quick else (300, 10)
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.ERROR)
    try:
        return asyncio.run(_measure(runs, warmup))
    finally:
        discord_logger.setLevel(level)
