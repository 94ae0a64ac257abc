"""The scheduler inside the real bot, on the sandbox, with a clock the test moves.

Each test adds schedules the way a moderator does (/schedule add), moves the clock, lets
the scheduler run, and counts what reached the channel.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import PeerlightBot
from bot.cogs.prompt_poster import UNWORKABLE, latest_occurrence, nonce_for
from bot.domain.cards.schedule import PROMPT_TITLES
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.sandbox.server import Permission, Sandbox, SandboxMessage
from bot.storage.schedule_store import RunStatus, Schedule
from bot.ui.checkin import START_CUSTOM_ID

from ..helpers import poster_of
from .conftest import ManualTime, StartBot

POSTS = r"^/channels/\d+/messages$"


async def add_schedule(
    sandbox: Sandbox,
    *,
    time: str = "10:05",
    days: str = "daily",
    kind: str = "reflection",
    channel: str = "general",
    timezone: str = "America/New_York",
) -> str:
    interaction = await sandbox.command(
        "schedule add",
        {"channel": channel, "time": time, "days": days, "kind": kind, "timezone": timezone},
        member=sandbox.moderator,
    )
    reply = await interaction.response_message()
    assert reply.ephemeral
    assert reply.embeds[0]["title"] == "Schedule added", reply.embeds[0]
    short_id = reply.embeds[0]["description"].split("`")[1]
    return short_id


async def schedule_named(bot: PeerlightBot, sandbox: Sandbox, short_id: str) -> Schedule:
    found = await bot.services.schedules.get(sandbox.guild.id, short_id)
    assert found is not None
    return found


def posts(sandbox: Sandbox, channel: str = "general") -> list[SandboxMessage]:
    return [
        m
        for m in sandbox.channel_messages(sandbox.guild.channel(channel).id)
        if m.interaction_id is None
    ]


def button_ids(message: SandboxMessage) -> list[str]:
    return [
        component["custom_id"]
        for row in message.components
        for component in row["components"]
        if component.get("custom_id")
    ]


async def run_at(bot: PeerlightBot, manual_time: ManualTime, moment: datetime) -> None:
    manual_time.move_to(moment)
    await poster_of(bot).run_pending()


NEW_YORK = ZoneInfo("America/New_York")


def at_10_05(day: int) -> datetime:
    """10:05 in New York on a day of March 2026, in UTC: 15:05 until the 8th, then 14:05."""
    return datetime(2026, 3, day, 10, 5, tzinfo=NEW_YORK).astimezone(UTC)


DUE = at_10_05(5)  # Thursday


async def test_a_due_schedule_posts_once_with_the_prompt_and_the_check_in_button(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    short_id = await add_schedule(sandbox)
    schedule = await schedule_named(scheduled_bot, sandbox, short_id)
    assert schedule.next_due == DUE

    await run_at(scheduled_bot, manual_time, DUE - timedelta(seconds=1))
    assert posts(sandbox) == []
    await run_at(scheduled_bot, manual_time, DUE)
    (post,) = posts(sandbox)
    (embed,) = post.embeds
    assert embed["title"] == PROMPT_TITLES[PromptKind.REFLECTION]
    catalog = scheduled_bot.services.content.catalog
    texts = {catalog.prompts[p].text for p in catalog.prompts_of_kind(PromptKind.REFLECTION)}
    assert embed["description"] in texts
    assert button_ids(post) == [START_CUSTOM_ID]
    button = post.components[0]["components"][0]
    assert (button["label"], button["emoji"]["name"], button["style"]) == ("Check in", "📝", 1)

    (request,) = sandbox.requests_matching("POST", POSTS)
    assert request.json["allowed_mentions"] == {"parse": []}
    assert request.json["nonce"] == nonce_for(schedule.key, DUE)
    assert request.json["enforce_nonce"] is True

    (run,) = await scheduled_bot.services.schedules.runs(schedule.key)
    assert (run.status, run.message_id, run.attempts) == (RunStatus.SENT, post.id, 1)
    later = await schedule_named(scheduled_bot, sandbox, short_id)
    assert later.next_due == DUE + timedelta(days=1)

    # Nothing more until the next day's time, however often the scheduler looks.
    for minutes in (1, 30, 600):
        await run_at(scheduled_bot, manual_time, DUE + timedelta(minutes=minutes))
    assert len(posts(sandbox)) == 1
    await run_at(scheduled_bot, manual_time, DUE + timedelta(days=1))
    assert len(posts(sandbox)) == 2


async def test_the_scheduler_sleeps_until_the_next_post_instead_of_polling(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    scheduler = poster_of(scheduled_bot)
    assert scheduler.planned_sleep is None  # nothing scheduled: asleep until woken
    await add_schedule(sandbox)
    await scheduler.run_pending()
    assert scheduler.planned_sleep == pytest.approx(5 * 60)
    await run_at(scheduled_bot, manual_time, DUE)
    # The next post is a day away; the sleep is only capped at a quarter of an hour.
    assert scheduler.planned_sleep == pytest.approx(15 * 60)
    assert manual_time.sleeps and min(manual_time.sleeps) > 0


async def test_two_schedules_due_the_same_minute_post_twice_with_different_prompts(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    await add_schedule(sandbox)
    await add_schedule(sandbox, days="weekdays")  # the same one twice would be refused
    await add_schedule(sandbox, channel="check-ins", kind="gratitude")
    await run_at(scheduled_bot, manual_time, DUE)
    general = posts(sandbox)
    assert len(general) == 2
    assert general[0].embeds[0]["description"] != general[1].embeds[0]["description"]
    (gratitude,) = posts(sandbox, "check-ins")
    assert gratitude.embeds[0]["title"] == PROMPT_TITLES[PromptKind.GRATITUDE]


async def test_a_restart_inside_the_grace_posts_the_missed_prompt_once(
    sandbox: Sandbox, start_bot: StartBot, manual_time: ManualTime
) -> None:
    async with start_bot():
        await add_schedule(sandbox)
    manual_time.move_to(DUE + timedelta(minutes=40))
    async with start_bot() as bot:
        assert len(posts(sandbox)) == 1
        for minutes in (41, 50, 120):
            await run_at(bot, manual_time, DUE + timedelta(minutes=minutes))
        assert len(posts(sandbox)) == 1
    async with start_bot():
        assert len(posts(sandbox)) == 1


async def test_a_restart_after_days_away_does_not_flood_the_channel(
    sandbox: Sandbox, start_bot: StartBot, manual_time: ManualTime, caplog: Any
) -> None:
    async with start_bot():
        short_id = await add_schedule(sandbox)
    manual_time.move_to(at_10_05(8) + timedelta(hours=2))
    with caplog.at_level(logging.WARNING, logger="bot.cogs.prompt_poster"):
        async with start_bot() as bot:
            assert posts(sandbox) == []
            schedule = await schedule_named(bot, sandbox, short_id)
            assert schedule.next_due == at_10_05(9)
            (skipped,) = await bot.services.schedules.runs(schedule.key)
            assert (skipped.status, skipped.due) == (RunStatus.SKIPPED, at_10_05(8))
            await run_at(bot, manual_time, at_10_05(9))
            assert len(posts(sandbox)) == 1
    assert any("more than the catch-up window" in r.getMessage() for r in caplog.records)


async def test_days_away_but_back_within_the_grace_posts_only_the_latest(
    sandbox: Sandbox, start_bot: StartBot, manual_time: ManualTime
) -> None:
    async with start_bot():
        short_id = await add_schedule(sandbox)
    manual_time.move_to(at_10_05(8) + timedelta(minutes=20))
    async with start_bot() as bot:
        assert len(posts(sandbox)) == 1
        schedule = await schedule_named(bot, sandbox, short_id)
        (run,) = await bot.services.schedules.runs(schedule.key)
        assert (run.status, run.due) == (RunStatus.SENT, at_10_05(8))


async def test_server_errors_twice_then_success_post_once(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    short_id = await add_schedule(sandbox)
    # discord.py hands a 503 straight on (it retries 500, 502, 504 and 524 itself, on
    # its own timer); the scheduler's back-off covers it.
    sandbox.inject_failure("POST", POSTS, status=503, times=2)
    await run_at(scheduled_bot, manual_time, DUE)
    (post,) = posts(sandbox)
    assert len(sandbox.requests_matching("POST", POSTS)) == 3
    schedule = await schedule_named(scheduled_bot, sandbox, short_id)
    (run,) = await scheduled_bot.services.schedules.runs(schedule.key)
    assert (run.status, run.message_id, run.attempts) == (RunStatus.SENT, post.id, 3)


async def test_a_timeout_is_tried_again_and_posts_once(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    short_id = await add_schedule(sandbox)
    scheduled_bot.services.scheduler_timing = type(scheduled_bot.services.scheduler_timing)(
        sleep=manual_time.sleep, retry_delays=(0.01, 0.01, 0.01), send_timeout=0.3
    )
    sandbox.inject_failure("POST", POSTS, status=503, delay=1.0, times=1)
    await run_at(scheduled_bot, manual_time, DUE)
    assert len(posts(sandbox)) == 1
    schedule = await schedule_named(scheduled_bot, sandbox, short_id)
    (run,) = await scheduled_bot.services.schedules.runs(schedule.key)
    assert (run.status, run.attempts) == (RunStatus.SENT, 2)


async def test_an_occurrence_is_given_up_after_three_retries_and_the_next_one_posts(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime, caplog: Any
) -> None:
    short_id = await add_schedule(sandbox)
    sandbox.inject_failure("POST", POSTS, status=503, times=4)
    with caplog.at_level(logging.WARNING, logger="bot.cogs.prompt_poster"):
        await run_at(scheduled_bot, manual_time, DUE)
    assert posts(sandbox) == []
    assert len(sandbox.requests_matching("POST", POSTS)) == 4
    assert any("gave up the post due" in r.getMessage() for r in caplog.records)
    schedule = await schedule_named(scheduled_bot, sandbox, short_id)
    assert not schedule.paused
    (run,) = await scheduled_bot.services.schedules.runs(schedule.key)
    assert (run.status, run.attempts) == (RunStatus.FAILED, 4)
    assert "after 4 tries" in (run.detail or "")

    listing = await sandbox.command("schedule list", member=sandbox.moderator)
    (field,) = (await listing.response_message()).embeds[0]["fields"]
    assert "did not go out" in field["value"] and "after 4 tries" in field["value"]

    await run_at(scheduled_bot, manual_time, DUE + timedelta(days=1))
    assert len(posts(sandbox)) == 1


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (403, {"message": "Missing Permissions", "code": 50013}, "Discord refused the post"),
        (403, {"message": "Missing Access", "code": 50001}, "can no longer see #general"),
        (404, {"message": "Unknown Channel", "code": 10003}, "no longer exists"),
    ],
)
async def test_discord_refusing_pauses_the_schedule_with_the_reason(
    sandbox: Sandbox,
    scheduled_bot: PeerlightBot,
    manual_time: ManualTime,
    status: int,
    body: dict[str, Any],
    reason: str,
) -> None:
    short_id = await add_schedule(sandbox)
    sandbox.inject_failure("POST", POSTS, status=status, body=body, times=1)
    await run_at(scheduled_bot, manual_time, DUE)
    assert posts(sandbox) == []
    assert len(sandbox.requests_matching("POST", POSTS)) == 1
    schedule = await schedule_named(scheduled_bot, sandbox, short_id)
    assert schedule.paused_reason is not None and reason in schedule.paused_reason

    listing = await sandbox.command("schedule list", member=sandbox.moderator)
    (field,) = (await listing.response_message()).embeds[0]["fields"]
    assert "Not posting:" in field["value"] and reason in field["value"]
    assert f"/schedule resume id:{short_id}" in field["value"]

    # Paused means paused: the following days pass without a post or a request.
    await run_at(scheduled_bot, manual_time, DUE + timedelta(days=2))
    assert len(sandbox.requests_matching("POST", POSTS)) == 1


async def test_a_permission_lost_before_posting_pauses_without_sending(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    short_id = await add_schedule(sandbox)
    await sandbox.set_bot_permissions(
        sandbox.guild.channel("general").id, deny=Permission.EMBED_LINKS
    )
    await run_at(scheduled_bot, manual_time, DUE)
    assert sandbox.requests_matching("POST", POSTS) == []
    schedule = await schedule_named(scheduled_bot, sandbox, short_id)
    assert schedule.paused_reason == (
        "Peerlight is missing the Embed Links permission in #general."
    )


async def test_one_refused_schedule_does_not_stop_the_others(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    broken = await add_schedule(sandbox, channel="announcements")
    working = await add_schedule(sandbox, channel="general")
    announcements = sandbox.guild.channel("announcements").id
    sandbox.inject_failure("POST", rf"^/channels/{announcements}/messages$", status=403, times=5)
    await run_at(scheduled_bot, manual_time, DUE)
    assert len(posts(sandbox)) == 1
    assert (await schedule_named(scheduled_bot, sandbox, broken)).paused
    assert not (await schedule_named(scheduled_bot, sandbox, working)).paused


async def test_a_schedule_that_breaks_is_set_aside_and_the_others_still_post(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime, error_records: Any
) -> None:
    broken = await add_schedule(sandbox, channel="check-ins")
    await add_schedule(sandbox)
    async with scheduled_bot.services.database.transaction() as connection:
        await connection.execute(
            "UPDATE schedules SET timezone = 'Mars/Olympus_Mons' WHERE short_id = ?", (broken,)
        )
    await run_at(scheduled_bot, manual_time, DUE)
    assert len(posts(sandbox)) == 1
    assert (await schedule_named(scheduled_bot, sandbox, broken)).paused_reason == UNWORKABLE
    scheduler = poster_of(scheduled_bot)
    assert scheduler.planned_sleep is not None and scheduler.planned_sleep > 0
    assert [r.getMessage() for r in error_records.records] == [
        f"scheduled prompt {broken} in server {sandbox.guild.id} could not be handled"
    ]
    error_records.records.clear()  # the one expected error record


async def test_preview_shows_the_prompt_that_is_posted_next(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    short_id = await add_schedule(sandbox)
    for day, when in enumerate(("Thu 5 Mar 2026, 10:05 EST", "Fri 6 Mar 2026, 10:05 EST")):
        preview = await sandbox.command(
            "schedule preview", {"id": short_id}, member=sandbox.moderator
        )
        shown = await preview.response_message()
        assert shown.ephemeral
        assert shown.content == f"Preview of `{short_id}`: the next post in #general, {when}."
        assert button_ids(shown) == [START_CUSTOM_ID]
        assert shown.components[0]["components"][0]["disabled"] is True
        await run_at(scheduled_bot, manual_time, DUE + timedelta(days=day))
        assert len(posts(sandbox)) == day + 1
        assert posts(sandbox)[-1].embeds == shown.embeds


def test_latest_occurrence_picks_the_most_recent_missed_one() -> None:
    schedule = Schedule(
        key=1,
        guild_id=1,
        short_id="abc123",
        channel_id=1,
        at=LocalTime(9, 0),
        days=frozenset(range(7)),
        timezone="Europe/London",
        kind=PromptKind.SKILL,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        next_due=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        paused_reason=None,
    )
    assert latest_occurrence(schedule, datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) == schedule.next_due
    assert latest_occurrence(schedule, datetime(2026, 3, 1, 8, 0, tzinfo=UTC)) == schedule.next_due
    # Back a month later, after the clocks went forward: 09:00 BST is 08:00 UTC.
    assert latest_occurrence(schedule, datetime(2026, 4, 1, 8, 30, tzinfo=UTC)) == datetime(
        2026, 4, 1, 8, 0, tzinfo=UTC
    )
