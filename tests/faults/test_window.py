"""Discord's 3-second window, with the sandbox enforcing it: whatever is slow behind an
interaction, the member is answered in time, and then told what happened."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import PeerlightBot
from bot.config import Settings
from bot.domain.cards.checkin import CHECKIN_NOT_SAVED
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.payloads import SandboxMember
from bot.sandbox.server import Sandbox, SandboxInteraction, SandboxMessage
from bot.storage.content_files import LoadReport
from bot.ui import window

DEADLINE = 3.0
DANGER = "i want to kill myself"
REACH_OUT = "Ask a moderator to reach out"
POST = r"^/channels/\d+/messages$"
LOCK_SECONDS = 10


@pytest.fixture
def deadline(sandbox: Sandbox) -> Sandbox:
    """Discord's window, switched on: a callback later than 3 s is refused with 10062."""
    sandbox.callback_deadline = DEADLINE
    return sandbox


@contextlib.asynccontextmanager
async def bot_on(
    sandbox: Sandbox, settings: Settings, report: LoadReport, tmp_path: Path, **moderation: Any
) -> AsyncIterator[PeerlightBot]:
    if moderation:
        settings = settings.model_copy(
            update={"moderation": settings.moderation.model_copy(update=moderation)}
        )
    configured = sandbox_settings(settings, sandbox, database=tmp_path / "window.sqlite3")
    guild_ids = tuple(sandbox.guilds)
    configured = configured.model_copy(
        update={"discord": configured.discord.model_copy(update={"guild_ids": guild_ids})}
    )
    async with running_bot(sandbox, configured, report=report) as running:
        yield running


def answered_in_time(interaction: SandboxInteraction) -> None:
    assert interaction.responded_after is not None, f"{interaction.label} was never answered"
    assert interaction.responded_after < DEADLINE, interaction.responded_after


async def crisis_reply(sandbox: Sandbox, member: SandboxMember | None = None, **kw: Any) -> Any:
    return await (
        await sandbox.command("cope", {"feeling": DANGER}, member=member, **kw)
    ).response_message()


async def test_a_5_second_rate_limit_on_the_reach_out_post_still_answers_in_time(
    deadline: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    sandbox = deadline
    moderators = await sandbox.add_channel("moderators")
    async with bot_on(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        reach_out_channels={sandbox.guild.id: moderators.id},
    ):
        reply = await crisis_reply(sandbox)
        sandbox.inject_failure(
            "POST", POST, status=429, body={"message": "slow down", "retry_after": 5.0}
        )
        pressed = await sandbox.press(reply, REACH_OUT)
        (confirm,) = await pressed.messages(1, timeout=12)
        answered_in_time(pressed)
        assert pressed.callback_type == 6  # acknowledged after the budget, not answered
        assert pressed.responded_after is not None
        assert pressed.responded_after >= window.ACK_BUDGET * 0.9
        assert confirm.ephemeral
        assert "let the moderators know" in confirm.content
        (request,) = sandbox.channel_messages(moderators.id)  # posted once, after the wait
        assert "asked for a moderator to reach out" in request.content


async def test_a_rate_limit_too_long_to_wait_for_says_so_with_the_lines(
    deadline: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = deadline
    moderators = await sandbox.add_channel("moderators")
    async with bot_on(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        reach_out_channels={sandbox.guild.id: moderators.id},
    ):
        reply = await crisis_reply(sandbox)
        sandbox.inject_failure(
            "POST", POST, status=429, body={"message": "slow down", "retry_after": 120.0}
        )
        pressed = await sandbox.press(reply, REACH_OUT)
        failed = await pressed.response_message()
        answered_in_time(pressed)
        assert failed.ephemeral
        assert failed.content.startswith("I couldn't reach the moderators just now.")
        assert failed.embeds, "the support lines come with the apology"
        assert sandbox.channel_messages(moderators.id) == []
        # Nothing was posted, so the member may ask again at once, and this time it goes.
        again = await (await sandbox.press(reply, REACH_OUT)).response_message()
        assert "let the moderators know" in again.content
        assert len(sandbox.channel_messages(moderators.id)) == 1


async def test_a_stalled_reach_out_post_is_given_up_and_the_member_told(
    deadline: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = deadline
    monkeypatch.setattr(window, "OUTBOUND_TIMEOUT", 2.0)
    moderators = await sandbox.add_channel("moderators")
    async with bot_on(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        reach_out_channels={sandbox.guild.id: moderators.id},
    ):
        reply = await crisis_reply(sandbox)
        stall = sandbox.faults.stall("POST", POST)
        try:
            pressed = await sandbox.press(reply, REACH_OUT)
            (failed,) = await pressed.messages(1, timeout=8)
            answered_in_time(pressed)
            assert pressed.callback_type == 6
            assert failed.content.startswith("I couldn't reach the moderators just now.")
            assert failed.embeds
            assert stall.hits == 1
        finally:
            stall.release()


async def test_the_reach_out_cooldown_is_per_server(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    home_moderators = await sandbox.add_channel("moderators")
    other = await sandbox.add_guild(name="Another Server")
    other_moderators = await sandbox.add_channel("moderators", guild_id=other.id)
    sandbox.add_member(sandbox.member, guild_id=other.id)
    async with bot_on(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        reach_out_channels={sandbox.guild.id: home_moderators.id, other.id: other_moderators.id},
    ) as bot:
        here = await crisis_reply(sandbox)
        there = await crisis_reply(sandbox, guild_id=other.id)
        assert REACH_OUT in [b.get("label") for b in there.buttons()]
        for reply in (here, there):
            done = await (await sandbox.press(reply, REACH_OUT)).response_message()
            assert "let the moderators know" in done.content
        assert len(sandbox.channel_messages(home_moderators.id)) == 1
        assert len(sandbox.channel_messages(other_moderators.id)) == 1
        again = await (await sandbox.press(there, REACH_OUT)).response_message()
        assert "already know" in again.content
        assert bot.services.memory is not None


# -- the database ------------------------------------------------------------------------

HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


@contextlib.contextmanager
def locked_by_another_process(database: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=10)


async def start_checkin(sandbox: Sandbox) -> SandboxMessage:
    prompt = await (await sandbox.command("checkin")).response_message()
    return await (await sandbox.press(prompt, "Struggling")).response_message()


async def test_a_database_locked_for_10_seconds_still_answers_in_time_and_says_not_saved(
    deadline: Sandbox, bot: PeerlightBot
) -> None:
    sandbox = deadline
    step = await start_checkin(sandbox)
    with locked_by_another_process(bot.services.database.path, LOCK_SECONDS) as holder:
        loop = asyncio.get_running_loop()
        began = loop.time()
        pressed = await sandbox.press(step, "Skip")
        (refused,) = await pressed.messages(1, timeout=LOCK_SECONDS)
        waited = loop.time() - began
        answered_in_time(pressed)
        assert pressed.callback_type == 6, refused.content
        assert refused.ephemeral and refused.content == CHECKIN_NOT_SAVED
        # The busy timeout (2 s) ends the wait long before the other process lets go.
        assert waited < LOCK_SECONDS * 0.8, waited
        assert holder.poll() is None, "the lock was still held when the member was told"
    # The lock is gone: trying again saves it, exactly once.
    again = await (await sandbox.press(step, "Skip")).response_message(timeout=10)
    assert again.embeds[0]["description"].startswith("Saved")
    assert await bot.services.checkins.count() == 1
    row = await bot.services.database.fetchone("PRAGMA integrity_check")
    assert row is not None and row[0] == "ok"


async def test_a_quick_check_in_is_answered_once_without_a_deferral(
    deadline: Sandbox, bot: PeerlightBot
) -> None:
    sandbox = deadline
    step = await start_checkin(sandbox)
    pressed = await sandbox.press(step, "Skip")
    saved = await pressed.response_message()
    assert pressed.callback_type == 7  # the message itself, in the one response
    assert saved.embeds[0]["description"].startswith("Saved")
    followups = [r for r in sandbox.requests if r.path.startswith("/webhooks/")]
    assert followups == []


async def test_a_slow_write_is_acknowledged_then_saved(
    deadline: Sandbox, bot: PeerlightBot
) -> None:
    """Locked for less than the busy timeout: the write waits, the member gets a deferral
    in time and then "Saved", and the row is there once."""
    sandbox = deadline
    step = await start_checkin(sandbox)
    with locked_by_another_process(bot.services.database.path, 1.5):
        pressed = await sandbox.press(step, "Skip")
        saved = await pressed.response_message(timeout=8)
    answered_in_time(pressed)
    assert pressed.callback_type == 6, (saved.content, saved.embeds)
    assert saved.id == step.id  # the check-in message itself, edited
    assert saved.embeds[0]["description"].startswith("Saved")
    assert await bot.services.checkins.count() == 1
    with sqlite3.connect(bot.services.database.path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_moderator_commands_and_a_vote_queued_behind_a_locked_database_answer_in_time(
    deadline: Sandbox, bot: PeerlightBot
) -> None:
    """Every database call waits on one connection, so calls queue: with another process
    holding the lock, /schedule pause, a vote, /schedule add, /cope, /schedule list and
    remove, sent together, each wait behind the one before. Each is acknowledged within
    the budget and then told, not left to Discord's "interaction failed"."""
    sandbox = deadline
    added = await sandbox.command(
        "schedule add",
        {"channel": "general", "time": "10:05", "days": "daily", "kind": "reflection"},
        member=sandbox.moderator,
    )
    short_id = (await added.response_message()).embeds[0]["description"].split("`")[1]
    card = await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
    with locked_by_another_process(bot.services.database.path, LOCK_SECONDS):
        pressed = [
            await sandbox.command("schedule pause", {"id": short_id}, member=sandbox.moderator),
            await sandbox.press(card, "This helped"),
            await sandbox.command(
                "schedule add",
                {"channel": "general", "time": "11:05", "days": "daily", "kind": "skill"},
                member=sandbox.moderator,
            ),
            await sandbox.command("cope", {"feeling": "anxious"}),
            await sandbox.command("schedule list", member=sandbox.moderator),
            await sandbox.command("schedule remove", {"id": short_id}, member=sandbox.moderator),
        ]
        for interaction in pressed:
            (answer,) = await interaction.messages(1, timeout=LOCK_SECONDS)
            answered_in_time(interaction)
            assert answer.ephemeral, interaction.label
    # The lock is gone: the schedule is still there, unpaused; the moderator can go on.
    listed = await sandbox.command("schedule list", member=sandbox.moderator)
    (field,) = (await listed.response_message()).embeds[0]["fields"]
    assert short_id in field["name"] + field["value"]
    assert "Not posting" not in field["value"]


async def test_a_slow_vote_is_acknowledged_then_thanked(
    deadline: Sandbox, bot: PeerlightBot
) -> None:
    """A vote's write waiting 1.5 s on another process's lock: acknowledged after the
    budget, not held until the write is done, then thanked; the vote is stored once."""
    sandbox = deadline
    card = await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
    with locked_by_another_process(bot.services.database.path, 1.5):
        pressed = await sandbox.press(card, "This helped")
        (thanks,) = await pressed.messages(1, timeout=8)
    answered_in_time(pressed)
    assert pressed.callback_type == 6, thanks.content
    assert thanks.ephemeral and thanks.content.startswith("Thank you.")
    row = await bot.services.database.fetchone("SELECT SUM(count) FROM vote_counts")
    assert row is not None and row[0] == 1


async def test_a_check_in_started_behind_a_waiting_write_is_acknowledged_in_time(
    deadline: Sandbox, bot: PeerlightBot
) -> None:
    """/checkin reads whether today's check-in is in; behind another member's save that
    waits out a lock, the read waits too. The start is acknowledged after the budget and
    then shows the moods."""
    sandbox = deadline
    step = await start_checkin(sandbox)
    other = sandbox.add_member(SandboxMember(id=1191300000000400000, name="wren"))
    with locked_by_another_process(bot.services.database.path, LOCK_SECONDS):
        saving = await sandbox.press(step, "Skip")
        await asyncio.sleep(0.2)  # the save is waiting on the lock
        started = await sandbox.command("checkin", member=other)
        (question,) = await started.messages(1, timeout=8)
        answered_in_time(started)
        assert started.callback_type == 5, question.content
        assert question.ephemeral and question.buttons()
        (refused,) = await saving.messages(1, timeout=8)
        assert refused.content == CHECKIN_NOT_SAVED
