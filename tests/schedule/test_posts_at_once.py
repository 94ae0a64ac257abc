"""Many scheduled posts due together while Discord is slow to take them: at most
POSTS_AT_ONCE are sent at once, so each holds a connection to Discord and the rest wait
their turn, and a member's interaction is still answered in time while they are all
held open (with one connection per post, 100 held posts took every connection the bot
has and members' check-ins went unanswered). Every post still goes out once."""

from __future__ import annotations

import asyncio

from bot.app import HTTP_CONNECTIONS, PeerlightBot
from bot.cogs.prompt_poster import POSTS_AT_ONCE
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.sandbox.server import Sandbox
from bot.storage.schedule_store import NewSchedule

from ..helpers import poster_of
from .conftest import START, ManualTime
from .test_prompt_poster import DUE, POSTS

SCHEDULES = HTTP_CONNECTIONS + 6  # more than the bot's connections to Discord


async def test_posts_held_open_leave_room_for_members(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    channels = [await sandbox.add_channel(f"room-{n}") for n in range(SCHEDULES)]
    await asyncio.sleep(0.2)  # the channels reach the bot's cache
    # Through the store: /schedule add allows 15 a server, fewer than this test needs.
    for n, channel in enumerate(channels):
        await scheduled_bot.services.schedules.add(
            NewSchedule(
                guild_id=sandbox.guild.id,
                channel_id=channel.id,
                at=LocalTime(10, 5),
                days=frozenset(range(7)),
                timezone="America/New_York",
                kind=PromptKind.REFLECTION,
            ),
            now=START,
            make_short_id=lambda n=n: f"many{n:02d}",
        )
    stall = sandbox.faults.stall("POST", POSTS)

    manual_time.move_to(DUE)
    poster_of(scheduled_bot).wake()
    async with asyncio.timeout(10):
        while True:
            if stall.hits >= POSTS_AT_ONCE:
                break
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # time for any more to arrive, were they not held back

    about = await sandbox.command("about")
    reply = await about.response_message(3.0)
    assert reply.embeds
    assert stall.hits == POSTS_AT_ONCE

    stall.release()
    async with asyncio.timeout(10):
        while True:
            made = [
                m
                for c in channels
                for m in sandbox.channel_messages(c.id)
                if m.interaction_id is None
            ]
            if len(made) >= SCHEDULES:
                break
            await asyncio.sleep(0.02)
    await poster_of(scheduled_bot).settle()
    for channel in channels:
        assert (
            len([m for m in sandbox.channel_messages(channel.id) if m.interaction_id is None]) == 1
        )
