"""The scheduler's channel post, route by route (issue 13, Build 2): every way Discord can
fail `POST /channels/{id}/messages`, one occurrence each, in one bot start.

For each fault the test counts what reached the channel and reads the run's state in the
database: a post is never lost where Discord lets it through (discord.py waits out a short
429 and tries 500/502/504 again; the scheduler tries a 503, a timeout and a rate limit too
long for discord.py again, with the same nonce), never doubled (a timeout that was really
a slow success is answered by Discord with the first message), and where Discord refuses
(403 permission removed, 404 channel deleted) the schedule is paused with a WARNING, not
an ERROR (the shared `sandbox` fixture fails the test on any ERROR record). After each
fault the bot still answers a member.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import PeerlightBot
from bot.sandbox.server import Sandbox
from bot.storage.schedule_store import RunStatus

from .conftest import ManualTime
from .test_prompt_poster import POSTS, add_schedule, at_10_05, posts, run_at, schedule_named

LIMITED = {"message": "You are being rate limited.", "global": False}


@dataclass(frozen=True)
class Fault:
    """One fault on the next post, and what must follow it."""

    status: int | None
    body: dict[str, Any] | None = None
    delay: float = 0.0
    # What the run must end as, after how many tries, and whether a post is in the channel.
    outcome: RunStatus = RunStatus.SENT
    attempts: int = 1
    # Requests that reach Discord: discord.py's own retries are not the scheduler's tries.
    requests: int = 2
    # Text of the WARNING the fault must leave, and of the pause reason, if any.
    warning: str | None = None
    paused: str | None = None


FAULTS = {
    "429 short": Fault(429, {**LIMITED, "retry_after": 0.3}),
    "500": Fault(500),
    "502": Fault(502),
    "504": Fault(504),
    # discord.py hands a 503 straight on; the scheduler's back-off tries it again.
    "503": Fault(503, attempts=2),
    # Longer than discord.py waits (`MAX_RATELIMIT_WAIT`): it raises RateLimited, which is
    # tried again like any passing refusal, not taken for a bug.
    "429 long": Fault(429, {**LIMITED, "retry_after": 60.0}, attempts=2),
    # Discord answers after the send timeout (2 s here): the post was made, the bot gave up
    # waiting and tries again with the same nonce; Discord gives back the first message.
    "slow success": Fault(None, delay=2.3, attempts=2),
    # A timeout where Discord never made the post: tried again, posted once.
    "timeout": Fault(503, delay=2.3, attempts=2),
    "403": Fault(
        403,
        {"message": "Missing Permissions", "code": 50013},
        outcome=RunStatus.FAILED,
        requests=1,
        warning="paused",
        paused="Discord refused the post",
    ),
    "404": Fault(
        404,
        {"message": "Unknown Channel", "code": 10003},
        outcome=RunStatus.FAILED,
        requests=1,
        warning="paused",
        paused="no longer exists",
    ),
}


async def test_every_fault_on_the_scheduled_post_neither_loses_nor_doubles_it(
    sandbox: Sandbox,
    scheduled_bot: PeerlightBot,
    manual_time: ManualTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = scheduled_bot
    short_id = await add_schedule(sandbox)
    key = (await schedule_named(bot, sandbox, short_id)).key
    expected_posts = 0
    caplog.set_level(logging.INFO, logger="bot.cogs.prompt_poster")
    for day, (name, fault) in enumerate(FAULTS.items()):
        caplog.clear()
        due = at_10_05(5 + day)  # 10:05 in New York, one day per fault
        assert (await schedule_named(bot, sandbox, short_id)).next_due == due, name
        before = len(sandbox.requests_matching("POST", POSTS))
        sandbox.inject_failure(
            "POST", POSTS, status=fault.status, body=fault.body, delay=fault.delay, times=1
        )
        await run_at(bot, manual_time, due)
        if fault.outcome is RunStatus.SENT:
            expected_posts += 1
        assert len(posts(sandbox)) == expected_posts, name
        requests = len(sandbox.requests_matching("POST", POSTS)) - before
        assert requests == fault.requests, (name, requests)
        run = (await bot.services.schedules.runs(key))[-1]
        assert (run.due, run.status, run.attempts) == (due, fault.outcome, fault.attempts), name
        if fault.outcome is RunStatus.SENT:
            assert run.message_id == posts(sandbox)[-1].id, name
        schedule = await schedule_named(bot, sandbox, short_id)
        if fault.paused is not None:
            assert schedule.paused_reason and fault.paused in schedule.paused_reason, name
            assert any(
                r.levelno == logging.WARNING and fault.warning in r.getMessage()
                for r in caplog.records
            ), name
            # The moderator puts it back, as `/schedule list` tells them to.
            resumed = await sandbox.command(
                "schedule resume", {"id": short_id}, member=sandbox.moderator
            )
            assert (await resumed.response_message()).ephemeral
        else:
            assert not schedule.paused, name
        # The bot is still serving.
        answer = await sandbox.command("cope", {"feeling": "anxious"})
        assert (await answer.response_message()).embeds, name
    # Every run of the schedule has its outcome; none is left claimed.
    runs = await bot.services.schedules.runs(key)
    assert [r.status for r in runs] == [f.outcome for f in FAULTS.values()]
