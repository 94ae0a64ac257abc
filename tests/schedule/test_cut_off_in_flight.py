"""A bot cut off while a scheduled post is in flight (the process killed, the host gone):
the occurrence was claimed, the post sent, and no outcome written. The next start settles
it by looking for the post, never by guessing: if Discord created it, it is not posted
again; if Discord never did, it is posted once. Either way the channel holds it once.

The cut-off is the stop a crash amounts to for the database: the post is held open by the
sandbox until the bot has gone (its grace for posts in flight runs out and they are
cancelled), so nothing after the send is written.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.sandbox.server import Sandbox

from ..helpers import poster_of
from .conftest import ManualTime, StartBot
from .test_prompt_poster import DUE, POSTS, add_schedule, posts, run_at, schedule_named


def _statuses(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT status FROM schedule_runs")]


async def _sent(sandbox: Sandbox) -> None:
    """Until the post has reached the sandbox (answered or not)."""
    pattern = re.compile(POSTS)
    for _ in range(1000):
        if any(r.method == "POST" and pattern.search(r.path) for r in sandbox.requests):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the scheduled post was never sent")


async def _cut_off_in_flight(
    sandbox: Sandbox,
    start_bot: StartBot,
    manual_time: ManualTime,
    database: Path,
    *,
    discord_keeps_it: bool,
) -> None:
    async with start_bot() as bot:
        short_id = await add_schedule(sandbox)
        schedule = await schedule_named(bot, sandbox, short_id)
        if discord_keeps_it:
            stall = sandbox.faults.stall("POST", POSTS)  # held; created when released
        else:
            sandbox.inject_failure("POST", POSTS, status=503, delay=8.0, times=None)
        manual_time.move_to(DUE)
        poster_of(bot).wake()
        await _sent(sandbox)
    # The bot is gone with the post unsettled: claimed, no outcome.
    assert _statuses(database) == ["claimed"]
    if discord_keeps_it:
        stall.release()
        await sandbox.wait_for_request("POST", POSTS, timeout=10)
        assert len(posts(sandbox)) == 1  # Discord made it after the bot was gone
    else:
        sandbox.clear_failures()
        assert posts(sandbox) == []
    manual_time.move_to(DUE + timedelta(minutes=5))
    async with start_bot() as bot:
        assert len(posts(sandbox)) == 1
        await run_at(bot, manual_time, DUE + timedelta(minutes=10))
        assert len(posts(sandbox)) == 1
        assert schedule.short_id == (await schedule_named(bot, sandbox, short_id)).short_id
    assert _statuses(database) == ["sent"]


async def test_a_post_discord_created_before_the_cut_off_is_not_posted_again(
    sandbox: Sandbox, start_bot: StartBot, manual_time: ManualTime, tmp_path: Path
) -> None:
    await _cut_off_in_flight(
        sandbox, start_bot, manual_time, tmp_path / "bot.sqlite3", discord_keeps_it=True
    )


async def test_a_post_discord_never_created_is_posted_once_after_the_cut_off(
    sandbox: Sandbox, start_bot: StartBot, manual_time: ManualTime, tmp_path: Path
) -> None:
    await _cut_off_in_flight(
        sandbox, start_bot, manual_time, tmp_path / "bot.sqlite3", discord_keeps_it=False
    )
