"""Scheduled prompts end to end, on the real clock: the sandbox, discord.py, the bot.

A schedule is added with /schedule add, then its next post is set a moment ahead through
the store (the smallest step a moderator can choose is a minute). The post must reach the
right channel exactly once, carry the Check in button, and the button must start a
check-in. Restarts around the due moment, including the two ways a crash can split a
post from its record, never produce a second post.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import PeerlightBot
from bot.cogs.prompt_poster import nonce_for
from bot.config import Settings, parse_settings
from bot.domain.content import PromptKind
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.server import Permission, Sandbox, SandboxMessage
from bot.storage.content_files import LoadReport
from bot.storage.database import Database
from bot.storage.schedule_store import RunStatus, Schedule, ScheduleStore
from bot.ui.checkin import START_CUSTOM_ID

from ..helpers import poster_of

LEAD = timedelta(seconds=0.8)
POSTS = r"^/channels/\d+/messages$"


async def add_schedule(sandbox: Sandbox, bot: PeerlightBot, channel: str) -> Schedule:
    interaction = await sandbox.command(
        "schedule add",
        {"channel": channel, "time": "09:00", "days": "daily", "kind": "check-in"},
        member=sandbox.moderator,
    )
    reply = await interaction.response_message()
    short_id = reply.embeds[0]["description"].split("`")[1]
    schedule = await bot.services.schedules.get(sandbox.guild.id, short_id)
    assert schedule is not None
    return schedule


async def due_soon(bot: PeerlightBot, schedule: Schedule) -> datetime:
    """Make the schedule's next post due a moment from now, and tell the scheduler."""
    due = datetime.now(UTC) + LEAD
    await bot.services.schedules.set_next_due(schedule.key, due)
    poster_of(bot).wake()
    return due


def posts(sandbox: Sandbox, channel: str) -> list[SandboxMessage]:
    return [
        m
        for m in sandbox.channel_messages(sandbox.guild.channel(channel).id)
        if m.interaction_id is None
    ]


async def test_a_due_schedule_posts_once_in_its_channel_and_the_button_starts_a_check_in(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    schedule = await add_schedule(sandbox, bot, "check-ins")
    await due_soon(bot, schedule)
    channel_id = sandbox.guild.channel("check-ins").id
    post = await sandbox.wait_for_channel_message(channel_id, timeout=LEAD.total_seconds() + 5)
    await poster_of(bot).run_pending()
    assert posts(sandbox, "check-ins") == [post]
    assert posts(sandbox, "general") == []
    assert len(sandbox.requests_matching("POST", POSTS)) == 1

    (embed,) = post.embeds
    catalog = bot.services.content.catalog
    texts = {catalog.prompts[p].text for p in catalog.prompts_of_kind(PromptKind.CHECK_IN)}
    assert embed["description"] in texts
    ((button,),) = [row["components"] for row in post.components]
    assert (button["custom_id"], button["label"]) == (START_CUSTOM_ID, "Check in")

    (run,) = await bot.services.schedules.runs(schedule.key)
    assert (run.status, run.message_id) == (RunStatus.SENT, post.id)

    pressed = await sandbox.press(post, "Check in", member=sandbox.member)
    question = await pressed.response_message()
    assert question.ephemeral
    assert question.embeds[0]["title"] == "How are you doing right now?"
    mood_ids = [c["custom_id"] for row in question.components for c in row["components"]]
    assert mood_ids and all(i.startswith("peerlight:checkin:mood:") for i in mood_ids)
    assert posts(sandbox, "check-ins") == [post]  # the public post is never edited


# -- restarts -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def bot_on(
    sandbox: Sandbox, settings: Settings, report: LoadReport
) -> AsyncIterator[PeerlightBot]:
    async with running_bot(sandbox, settings, report=report) as bot:
        # What the previous run left unfinished is settled before the first pass.
        await poster_of(bot).run_pending()
        yield bot


def restart_settings(sandbox: Sandbox, tmp_path: Path) -> Settings:
    return sandbox_settings(parse_settings({}), sandbox, database=tmp_path / "bot.sqlite3")


async def wait_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.2)


async def test_a_bot_stopped_over_the_due_moment_posts_once_when_it_is_back(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    settings = restart_settings(sandbox, tmp_path)
    async with bot_on(sandbox, settings, shipped_report) as bot:
        schedule = await add_schedule(sandbox, bot, "general")
        due = await due_soon(bot, schedule)
    await wait_until(due)
    assert posts(sandbox, "general") == []
    async with bot_on(sandbox, settings, shipped_report) as bot:
        assert len(posts(sandbox, "general")) == 1
        await poster_of(bot).run_pending()
    async with bot_on(sandbox, settings, shipped_report):
        pass
    assert len(posts(sandbox, "general")) == 1
    assert len(sandbox.requests_matching("POST", POSTS)) == 1


async def test_a_crash_after_the_post_went_out_does_not_post_it_again(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path, caplog: Any
) -> None:
    settings = restart_settings(sandbox, tmp_path)
    async with bot_on(sandbox, settings, shipped_report) as bot:
        schedule = await add_schedule(sandbox, bot, "general")
        await due_soon(bot, schedule)
        post = await sandbox.wait_for_channel_message(sandbox.guild.channel("general").id)
        await poster_of(bot).settle()
    # What a crash between sending and recording leaves: the run claimed, no message id.
    async with (
        Database.open(settings.database_path) as database,
        database.transaction() as connection,
    ):
        await connection.execute("UPDATE schedule_runs SET status = 'claimed', message_id = NULL")
    with caplog.at_level(logging.INFO, logger="bot.cogs.prompt_poster"):
        async with bot_on(sandbox, settings, shipped_report) as bot:
            (run,) = await bot.services.schedules.runs(schedule.key)
            assert (run.status, run.message_id) == (RunStatus.SENT, post.id)
    assert posts(sandbox, "general") == [post]
    assert len(sandbox.requests_matching("POST", POSTS)) == 1
    assert any("went out before the restart" in r.getMessage() for r in caplog.records)


async def test_a_crash_after_the_claim_but_before_sending_posts_once_on_restart(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    settings = restart_settings(sandbox, tmp_path)
    async with bot_on(sandbox, settings, shipped_report) as bot:
        schedule = await add_schedule(sandbox, bot, "general")
    # What a crash between claiming and sending leaves: a claimed run and nothing posted.
    now = datetime.now(UTC)
    async with Database.open(settings.database_path) as database:
        store = ScheduleStore(database)
        prompts = shipped_report.catalog.prompts_of_kind(PromptKind.CHECK_IN)  # type: ignore[union-attr]
        run = await store.claim(
            schedule, now, now=now, next_due=schedule.following(now), prompt_ids=prompts
        )
        assert run is not None and run.prompt_id is not None
    async with bot_on(sandbox, settings, shipped_report) as bot:
        await poster_of(bot).settle()
        (post,) = posts(sandbox, "general")
        (finished,) = await bot.services.schedules.runs(schedule.key)
        assert (finished.status, finished.message_id) == (RunStatus.SENT, post.id)
        text = shipped_report.catalog.prompts[run.prompt_id].text  # type: ignore[union-attr]
        assert post.embeds[0]["description"] == text
        (request,) = sandbox.requests_matching("POST", POSTS)
        assert request.json["nonce"] == nonce_for(schedule.key, run.due)
    async with bot_on(sandbox, settings, shipped_report):
        pass
    assert len(posts(sandbox, "general")) == 1


async def test_when_the_bot_cannot_check_after_a_crash_it_does_not_post_again(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path, caplog: Any
) -> None:
    settings = restart_settings(sandbox, tmp_path)
    async with bot_on(sandbox, settings, shipped_report) as bot:
        schedule = await add_schedule(sandbox, bot, "general")
    now = datetime.now(UTC)
    async with Database.open(settings.database_path) as database:
        prompts = shipped_report.catalog.prompts_of_kind(PromptKind.CHECK_IN)  # type: ignore[union-attr]
        await ScheduleStore(database).claim(
            schedule, now, now=now, next_due=schedule.following(now), prompt_ids=prompts
        )
    await sandbox.set_bot_permissions(
        sandbox.guild.channel("general").id, deny=Permission.READ_MESSAGE_HISTORY
    )
    with caplog.at_level(logging.WARNING, logger="bot.cogs.prompt_poster"):
        async with bot_on(sandbox, settings, shipped_report) as bot:
            (run,) = await bot.services.schedules.runs(schedule.key)
            assert run.status is RunStatus.UNKNOWN
    assert sandbox.requests_matching("POST", POSTS) == []
    assert any("cannot tell whether it went out" in r.getMessage() for r in caplog.records)
