"""A slash command through the whole stack: sandbox gateway and REST, discord.py, the bot.

Each subject is measured against a floor added to the same bot that sends, with no work
of its own, the very message the subject sends: the subject's first reply (its cards and
its buttons or menu) is captured once, turned into discord.py objects before timing, and
replayed as a constant. The ratio then shows what Peerlight's own work (matching, crisis
detection, memory, rendering) adds to a round trip, not what the size of the message
costs on the wire. A completed check-in is three interactions (the command, a mood
button, the feelings menu); its floor replays the same three messages: a command
replying with the check-in's first message, its mood button replacing it with the second,
its menu replacing that with the third.

The earlier floor, a command answering with a short constant ("ok"; for the check-in, a
button and a one-option menu), is kept as information next to it, so both figures show.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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
CAPTURE_MEMBER_ID = 9_999
SAME_REPLY = "floor: the same reply, precomputed"
OK_REPLY = "floor: a constant 'ok'"
SAME_REPLIES = "floor: the same 3 replies, precomputed"
OK_REPLIES = "floor: 3 short constant replies"
# A replayed component's custom id keeps its length but not Peerlight's prefix, so a
# press on the floor's message reaches the floor and never Peerlight's own buttons.
PEERLIGHT_PREFIX = "peerlight:"
REPLAY_PREFIX = "bench-flr:"
assert len(PEERLIGHT_PREFIX) == len(REPLAY_PREFIX)

Trip = Callable[[], Awaitable[float]]

Button = discord.ui.Button[discord.ui.View]
Select = discord.ui.Select[discord.ui.View]


def _view(item: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(item)
    return view


# -- the short constant floor ("ok") ------------------------------------------------------


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


# -- the same reply, precomputed ----------------------------------------------------------


@dataclass(frozen=True)
class _Constant:
    """A captured message as discord.py objects, built once and sent as they are."""

    content: str | None
    embeds: list[discord.Embed]
    view: discord.ui.View | None


# What pressing a replayed component answers with, by its custom id.
_NEXT: dict[str, _Constant] = {}


class _Replayed(discord.ui.DynamicItem[Any], template=re.escape(REPLAY_PREFIX) + r".+"):
    """A captured button or menu under a floor's message. Dispatched by its custom id as
    Peerlight's own components are, and answered with the next captured message."""

    def __init__(self, item: discord.ui.Item[Any]) -> None:
        super().__init__(item)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
    ) -> _Replayed:
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        following = _NEXT.get(self.custom_id)
        if following is None:
            await interaction.response.send_message("not part of a floor", ephemeral=True)
            return
        await interaction.response.edit_message(
            content=following.content,
            embeds=following.embeds,
            view=following.view,
            allowed_mentions=discord.AllowedMentions.none(),
        )


def _replay_id(custom_id: str) -> str:
    if not custom_id.startswith(PEERLIGHT_PREFIX):
        raise AssertionError(f"a component with a custom id not from Peerlight: {custom_id!r}")
    return REPLAY_PREFIX + custom_id.removeprefix(PEERLIGHT_PREFIX)


def _emoji(component: Mapping[str, Any]) -> discord.PartialEmoji | None:
    emoji = component.get("emoji")
    return discord.PartialEmoji.from_dict(emoji) if emoji else None


def _replay_item(component: Mapping[str, Any], row: int) -> discord.ui.Item[Any]:
    kind = component.get("type")
    custom_id = component.get("custom_id")
    if kind == 2:
        button: Button = discord.ui.Button(
            style=discord.ButtonStyle(component.get("style", 2)),
            label=component.get("label"),
            emoji=_emoji(component),
            disabled=bool(component.get("disabled", False)),
            custom_id=_replay_id(custom_id) if custom_id else None,
            url=component.get("url"),
            row=row,
        )
        return _Replayed(button) if custom_id else button
    if kind == 3 and custom_id:
        select: Select = discord.ui.Select(
            custom_id=_replay_id(custom_id),
            placeholder=component.get("placeholder"),
            min_values=int(component.get("min_values", 1)),
            max_values=int(component.get("max_values", 1)),
            disabled=bool(component.get("disabled", False)),
            options=[
                discord.SelectOption(
                    label=option["label"],
                    value=option["value"],
                    description=option.get("description"),
                    emoji=_emoji(option),
                    default=bool(option.get("default", False)),
                )
                for option in component.get("options") or []
            ],
            row=row,
        )
        return _Replayed(select)
    raise AssertionError(f"a component the floor cannot replay: {dict(component)}")


def constant_of(message: SandboxMessage) -> _Constant:
    """The message as it reached the sandbox, as the objects discord.py sends it from."""
    embeds = [discord.Embed.from_dict(embed) for embed in message.embeds]
    view: discord.ui.View | None = None
    if message.components:
        view = discord.ui.View(timeout=None)
        for row, action_row in enumerate(message.components):
            if action_row.get("type") != 1:
                raise AssertionError(f"not an action row: {action_row}")
            for component in action_row.get("components") or []:
                view.add_item(_replay_item(component, row))
        # Sent as Peerlight sends its views: stopped, so discord.py keeps no track of each
        # message (the floor's components are answered through their custom ids).
        view.stop()
    return _Constant(message.content or None, embeds, view)


def _same_payload(message: SandboxMessage, expected: SandboxMessage) -> bool:
    """The floor's message is the subject's, but for the replayed custom ids."""

    def ids(components: Sequence[Mapping[str, Any]]) -> str:
        return repr(components).replace(REPLAY_PREFIX, PEERLIGHT_PREFIX)

    return (
        message.content == expected.content
        and message.embeds == expected.embeds
        and ids(message.components) == ids(expected.components)
    )


def _snapshot(message: SandboxMessage) -> SandboxMessage:
    # The sandbox edits a message in place; each step of a flow is kept as it was.
    return SandboxMessage(
        id=message.id,
        channel_id=message.channel_id,
        guild_id=message.guild_id,
        author=message.author,
        content=message.content,
        embeds=copy.deepcopy(message.embeds),
        components=copy.deepcopy(message.components),
        flags=message.flags,
    )


def _reply_command(name: str, constant: _Constant) -> app_commands.Command[Any, ..., None]:
    async def reply(interaction: discord.Interaction) -> None:
        if constant.view is None:
            await interaction.response.send_message(
                content=constant.content,
                embeds=constant.embeds,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        await interaction.response.send_message(
            content=constant.content,
            embeds=constant.embeds,
            view=constant.view,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    return app_commands.Command(
        name=name, description="Answers with a precomputed message.", callback=reply
    )


# -- trips ----------------------------------------------------------------------------------


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


async def _checkin_steps(
    sandbox: Sandbox, command: str, member: SandboxMember | None = None
) -> tuple[float, list[SandboxMessage]]:
    """The three steps of a check-in (or of its floor): the seconds they took, and each
    step's message as it was."""
    start = time.perf_counter()
    prompt = await (await sandbox.command(command, member=member)).response_message()
    first = _snapshot(prompt)
    step = await (
        await sandbox.press(prompt, MOOD_LABELS[CHECKIN_MOOD], member=member)
    ).response_message()
    second = _snapshot(step)
    done = await (
        await sandbox.choose(step, list(CHECKIN_FEELINGS), member=member)
    ).response_message()
    elapsed = time.perf_counter() - start
    return elapsed, [first, second, _snapshot(done)]


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


async def _replayed_checkin_once(sandbox: Sandbox, command: str) -> float:
    start = time.perf_counter()
    prompt = await (await sandbox.command(command)).response_message()
    step = await (await sandbox.press(prompt, MOOD_LABELS[CHECKIN_MOOD])).response_message()
    done = await (await sandbox.choose(step, list(CHECKIN_FEELINGS))).response_message()
    elapsed = time.perf_counter() - start
    if not _is_saved(done):
        raise AssertionError(f"the floor's check-in ended with {done.embeds}")
    return elapsed


# -- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    label: str
    command: str
    options: Mapping[str, Any] | None = None


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
                subjects = [
                    _Subject("/cope feeling:anxious", "cope", {"feeling": "anxious"}),
                    _Subject(f"/technique name:{technique}", "technique", {"name": technique}),
                    _Subject("/story", "story"),
                ]
                captured: dict[str, SandboxMessage] = {}
                for subject in subjects:
                    # The first reply, captured once: what each floor trip sends again.
                    interaction = await sandbox.command(subject.command, subject.options)
                    captured[subject.command] = _snapshot(await interaction.response_message())
                checkin_member = SandboxMember(id=CAPTURE_MEMBER_ID, name="capture")
                _, checkin_steps = await _checkin_steps(sandbox, "checkin", checkin_member)
                if not _is_saved(checkin_steps[-1]):
                    raise AssertionError(f"the captured check-in ended with {checkin_steps[-1]}")

                _NEXT.clear()
                floors: dict[str, str] = {}
                for subject in subjects:
                    floors[subject.command] = f"bench-floor-{subject.command}"
                    bot.tree.add_command(
                        _reply_command(
                            floors[subject.command], constant_of(captured[subject.command])
                        ),
                        guild=guild,
                    )
                steps = [constant_of(message) for message in checkin_steps]
                checkin_floor = "bench-floor-checkin"
                bot.tree.add_command(_reply_command(checkin_floor, steps[0]), guild=guild)
                for message, following in zip(checkin_steps, steps[1:], strict=False):
                    acted_on = (
                        message.find_component(MOOD_LABELS[CHECKIN_MOOD])
                        if not message.selects()
                        else message.selects()[0]
                    )
                    _NEXT[_replay_id(acted_on["custom_id"])] = following
                bot.tree.add_command(_floor, guild=guild)
                bot.tree.add_command(_floor_flow, guild=guild)
                bot.add_dynamic_items(_FloorNext, _FloorPick, _Replayed)
                await bot.tree.sync(guild=guild)

                # The floors answer with what the subjects answered, custom ids aside.
                for subject in subjects:
                    interaction = await sandbox.command(floors[subject.command])
                    replayed = await interaction.response_message()
                    if not _same_payload(replayed, captured[subject.command]):
                        raise AssertionError(f"the floor of /{subject.command} sends another reply")
                _, replayed_steps = await _checkin_steps(sandbox, checkin_floor)
                for replayed, expected in zip(replayed_steps, checkin_steps, strict=True):
                    if not _same_payload(replayed, expected):
                        raise AssertionError("the check-in's floor sends other messages")

                def command(name: str, options: Mapping[str, Any] | None = None) -> Trip:
                    return lambda: _once(sandbox, name, options, card=name != FLOOR_COMMAND)

                members = (
                    SandboxMember(id=FIRST_MEMBER_ID + n, name=f"member-{n}")
                    for n in itertools.count()
                )
                ok = command(FLOOR_COMMAND)
                rows: list[Row] = []
                rows += await _compare("/about", command("about"), {OK_REPLY: ok}, runs, warmup)
                for subject in subjects:
                    rows += await _compare(
                        subject.label,
                        command(subject.command, subject.options),
                        {SAME_REPLY: command(floors[subject.command]), OK_REPLY: ok},
                        runs,
                        warmup,
                    )
                rows += await _compare(
                    "/checkin → mood → feelings → saved",
                    lambda: _checkin_once(sandbox, next(members)),
                    {
                        SAME_REPLIES: lambda: _replayed_checkin_once(sandbox, checkin_floor),
                        OK_REPLIES: lambda: _floor_flow_once(sandbox),
                    },
                    runs,
                    warmup,
                )
                rows_saved = await bot.services.checkins.count(sandbox.guild.id)
                expected = runs + warmup + 1  # and the captured one
                if rows_saved != expected:
                    raise AssertionError(f"{rows_saved} check-ins stored, expected {expected}")
                return rows


def _orders(count: int) -> Iterator[tuple[int, ...]]:
    """Every order of `count` trips in turn, so none is always first or always last."""
    return itertools.cycle(itertools.permutations(range(count)))


async def _compare(
    label: str, subject: Trip, floors: Mapping[str, Trip], runs: int, warmup: int
) -> list[Row]:
    """Rows for `subject` against each floor, timed in turn within every round. The
    first floor carries the target; the others are shown for information."""
    trips = [subject, *floors.values()]
    for _ in range(warmup):
        for trip in trips:
            await trip()
    times: list[list[float]] = [[] for _ in trips]
    orders = _orders(len(trips))
    for _ in range(runs):
        round_times = [0.0] * len(trips)
        for index in next(orders):
            round_times[index] = await trips[index]()
        for index, elapsed in enumerate(round_times):
            times[index].append(elapsed)
    ms = 1000.0
    subjects = times[0]
    rows: list[Row] = []
    for number, (name, floor) in enumerate(zip(floors, times[1:], strict=True)):
        ratio = median([s / f for s, f in zip(subjects, floor, strict=True)])
        target = number == 0
        rows.append(
            Row(
                NAME,
                f"{label} ({name}), median of {runs}",
                median(subjects) * ms,
                "ms",
                floor=median(floor) * ms,
                ratio=ratio,
                target=f"ratio <= {TARGET}" if target else "",
                passed=ratio <= TARGET if target else None,
            )
        )
        rows.append(
            Row(
                NAME,
                f"{label} ({name}), p99 of {runs}",
                percentile(subjects, 0.99) * ms,
                "ms",
                floor=percentile(floor, 0.99) * ms,
                ratio=percentile(subjects, 0.99) / percentile(floor, 0.99),
            )
        )
    return rows


def run(quick: bool) -> list[Row]:
    runs, warmup = (30, 3) if quick else (300, 10)
    discord_logger = logging.getLogger("discord")
    level = discord_logger.level
    discord_logger.setLevel(logging.ERROR)
    try:
        return asyncio.run(_measure(runs, warmup))
    finally:
        discord_logger.setLevel(level)
