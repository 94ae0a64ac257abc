"""/schedule add|list|remove|pause|resume|preview through the sandbox, as moderators and
members would use them, with the clock held near the US spring-forward night."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import PeerlightBot
from bot.cogs.schedule import MAX_SCHEDULES_PER_SERVER
from bot.domain.cards.base import card_limit_problems, fits_one_message
from bot.domain.cards.crisis import CRISIS_TITLE
from bot.domain.cards.schedule import ScheduleSummary, schedule_list_card
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.sandbox.server import Permission, Sandbox, SandboxMessage
from bot.storage.schedule_store import NewSchedule

from ..helpers import poster_of
from .conftest import ManualTime

NOT_ALLOWED = "This command is for moderators"
OTHER_GUILD = 987654321


async def run(
    sandbox: Sandbox, name: str, options: dict[str, Any] | None = None, *, moderator: bool = True
) -> SandboxMessage:
    interaction = await sandbox.command(
        name, options or {}, member=sandbox.moderator if moderator else sandbox.member
    )
    message = await interaction.response_message()
    assert message.ephemeral
    return message


async def add(sandbox: Sandbox, **options: Any) -> SandboxMessage:
    values = {"channel": "general", "time": "9:00", "days": "weekdays", "kind": "check-in"}
    values.update(options)
    return await run(sandbox, "schedule add", values)


def short_id_in(message: SandboxMessage) -> str:
    return str(message.embeds[0]["description"].split("`")[1])


async def test_a_moderator_sees_the_next_three_posts_in_local_time_across_the_dst_change(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    reply = await add(sandbox, time="09:00", timezone="America/New_York", kind="reflection")
    (embed,) = reply.embeds
    assert embed["title"] == "Schedule added"
    short_id = short_id_in(reply)
    assert re.fullmatch(r"[0-9a-f]{6}", short_id), short_id
    assert embed["description"].startswith(
        "Reflection prompts in #general, 09:00 weekdays, America/New_York."
    )
    (field,) = embed["fields"]
    assert field["name"] == "Next posts"
    # The clock reads Thursday 5 March; New York springs forward on Sunday the 8th.
    assert field["value"].split("\n") == [
        "Fri 6 Mar 2026, 09:00 EST",
        "Mon 9 Mar 2026, 09:00 EDT",
        "Tue 10 Mar 2026, 09:00 EDT",
    ]
    schedule = await scheduled_bot.services.schedules.get(sandbox.guild.id, short_id)
    assert schedule is not None
    assert schedule.next_due == datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    assert schedule.following(schedule.next_due) == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


async def test_a_members_schedule_commands_are_refused_and_change_nothing(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    short_id = short_id_in(await add(sandbox))
    store = scheduled_bot.services.schedules
    before = await store.for_guild(sandbox.guild.id)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("schedule add", {"channel": "general", "time": "9:00", "days": "daily", "kind": "skill"}),
        ("schedule list", {}),
        ("schedule pause", {"id": short_id}),
        ("schedule resume", {"id": short_id}),
        ("schedule remove", {"id": short_id}),
        ("schedule preview", {"id": short_id}),
    ]
    for name, options in attempts:
        refusal = await run(sandbox, name, options, moderator=False)
        assert refusal.content.startswith(NOT_ALLOWED), name
        assert "Nothing was changed" in refusal.content
    assert await store.for_guild(sandbox.guild.id) == before
    assert sandbox.requests_matching("POST", r"^/channels/\d+/messages$") == []
    choices = await sandbox.autocomplete("schedule remove", {}, "id", member=sandbox.member)
    assert choices == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"time": "25:00"}, "Try 09:00, 9:00 or 9am."),
        ({"days": "someday"}, "Try daily, weekdays, weekends"),
        ({"timezone": "America/New_Yrok"}, "Did you mean America/New_York"),
    ],
)
async def test_input_that_cannot_be_read_gets_an_example_and_saves_nothing(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, options: dict[str, str], expected: str
) -> None:
    reply = await add(sandbox, **options)
    assert expected in reply.content
    assert await scheduled_bot.services.schedules.count(sandbox.guild.id) == 0


@pytest.mark.parametrize(
    ("denied", "named"),
    [
        (Permission.SEND_MESSAGES, "Send Messages permission"),
        (Permission.EMBED_LINKS, "Embed Links permission"),
        (Permission.VIEW_CHANNEL | Permission.EMBED_LINKS, "View Channel permission"),
        (Permission.SEND_MESSAGES | Permission.EMBED_LINKS, "Send Messages permission"),
    ],
)
async def test_add_names_the_permission_the_bot_lacks_in_the_channel(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, denied: Permission, named: str
) -> None:
    await sandbox.set_bot_permissions(sandbox.guild.channel("general").id, deny=denied)
    reply = await add(sandbox)
    assert named in reply.content and "#general" in reply.content
    assert "Nothing was saved" in reply.content
    assert await scheduled_bot.services.schedules.count(sandbox.guild.id) == 0


async def test_without_a_timezone_the_configured_default_is_used(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    reply = await add(sandbox, days="mon,wed,fri", kind="gratitude")
    assert "09:00 Mon, Wed, Fri, UTC." in reply.embeds[0]["description"]
    assert reply.embeds[0]["fields"][0]["value"].startswith("Fri 6 Mar 2026, 09:00 UTC")


async def test_timezone_autocomplete_offers_matching_zones(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    options = {"channel": "general", "time": "9:00", "days": "daily", "kind": "skill"}
    choices = await sandbox.autocomplete(
        "schedule add", {**options, "timezone": "new york"}, "timezone", member=sandbox.moderator
    )
    assert choices[0] == {"name": "America/New_York", "value": "America/New_York"}
    lord_howe = await sandbox.autocomplete(
        "schedule add", {**options, "timezone": "lord"}, "timezone", member=sandbox.moderator
    )
    assert lord_howe[0]["value"] == "Australia/Lord_Howe"


async def test_list_pause_resume_and_remove(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    empty = await run(sandbox, "schedule list")
    assert "No scheduled prompts in this server yet" in empty.embeds[0]["description"]

    short_id = short_id_in(await add(sandbox, timezone="America/New_York"))
    listing = (await run(sandbox, "schedule list")).embeds[0]
    (field,) = listing["fields"]
    assert field["name"] == f"`{short_id}` · Check-in in #general"
    assert field["value"] == ("09:00 weekdays, America/New_York\nNext: Fri 6 Mar 2026, 09:00 EST")

    paused = (await run(sandbox, "schedule pause", {"id": short_id})).embeds[0]
    assert paused["title"] == "Schedule paused"
    assert "Paused by a moderator." in paused["fields"][0]["value"]
    again = await run(sandbox, "schedule pause", {"id": short_id.upper()})
    assert again.embeds[0]["description"] == "It was already paused; nothing changed."

    # Paused over the weekend and the DST change: resuming posts nothing that was missed.
    manual_time.move_to(datetime(2026, 3, 9, 14, 30, tzinfo=UTC))
    await poster_of(scheduled_bot).run_pending()
    resumed = (await run(sandbox, "schedule resume", {"id": short_id})).embeds[0]
    assert resumed["title"] == "Schedule resumed"
    assert resumed["fields"][0]["value"].split("\n")[0] == "Tue 10 Mar 2026, 09:00 EDT"
    await poster_of(scheduled_bot).run_pending()
    assert sandbox.requests_matching("POST", r"^/channels/\d+/messages$") == []

    removed = (await run(sandbox, "schedule remove", {"id": short_id})).embeds[0]
    assert removed["title"] == "Schedule removed"
    assert await scheduled_bot.services.schedules.count(sandbox.guild.id) == 0
    gone = await run(sandbox, "schedule remove", {"id": short_id})
    assert gone.content.startswith(f"There is no schedule with the id “{short_id}”")


async def test_an_id_from_another_server_is_not_found(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    store = scheduled_bot.services.schedules
    elsewhere = await store.add(
        NewSchedule(OTHER_GUILD, 1, LocalTime(9, 0), frozenset({0}), "UTC", PromptKind.SKILL),
        now=scheduled_bot.services.clock(),
        make_short_id=lambda: "c0ffee",
    )
    for name in ("schedule remove", "schedule pause", "schedule resume", "schedule preview"):
        reply = await run(sandbox, name, {"id": "c0ffee"})
        assert reply.content.startswith("There is no schedule with the id “c0ffee”"), name
    assert await store.get(OTHER_GUILD, "c0ffee") == elsewhere
    assert "fields" not in (await run(sandbox, "schedule list")).embeds[0]


async def test_list_warns_when_a_kind_is_running_low(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    short_id = short_id_in(await add(sandbox, kind="reflection"))
    store = scheduled_bot.services.schedules
    schedule = await store.get(sandbox.guild.id, short_id)
    assert schedule is not None
    prompts = scheduled_bot.services.content.catalog.prompts_of_kind(PromptKind.REFLECTION)
    due = schedule.next_due
    for _ in range(len(prompts) - 3):
        following = schedule.following(due)
        await store.claim(schedule, due, now=due, next_due=following, prompt_ids=prompts)
        due = following
    description = (await run(sandbox, "schedule list")).embeds[0]["description"]
    assert "Reflection: 3 unused prompts left before they start to repeat." in description
    assert "content/prompts/" in description


async def test_id_autocomplete_lists_this_servers_schedules_for_moderators(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    first = short_id_in(await add(sandbox))
    second = short_id_in(await add(sandbox, channel="check-ins", kind="skill", time="18:30"))
    choices = await sandbox.autocomplete("schedule pause", {}, "id", member=sandbox.moderator)
    assert {c["value"] for c in choices} == {first, second}
    narrowed = await sandbox.autocomplete(
        "schedule pause", {"id": "skill"}, "id", member=sandbox.moderator
    )
    assert narrowed == [
        {"name": f"{second} · Skill to try in #check-ins at 18:30 weekdays", "value": second}
    ]


async def test_a_server_can_have_at_most_fifteen_schedules(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    for hour in range(MAX_SCHEDULES_PER_SERVER):  # a schedule may not be added twice
        await add(sandbox, time=f"{hour}:00")
    refused = await add(sandbox, time="23:30")
    assert "already has 15 scheduled prompts" in refused.content
    assert await scheduled_bot.services.schedules.count(sandbox.guild.id) == 15
    listing = await run(sandbox, "schedule list")
    assert len(listing.embeds[0]["fields"]) == 15


def test_the_longest_list_still_fits_one_discord_message() -> None:
    summary = ScheduleSummary(
        short_id="abcdef",
        channel="#" + "c" * 100,
        kind=PromptKind.CONNECTION,
        when="23:59 Mon, Tue, Wed, Thu, Sat, America/Argentina/ComodRivadavia",
        upcoming=("Wed 30 Sep 2026, 23:59 UTC+10:30",),
        paused_reason="x" * 400,
        last_problem="y" * 400,
    )
    rendered = schedule_list_card(
        [summary] * MAX_SCHEDULES_PER_SERVER, dict.fromkeys(PromptKind, 0)
    )
    assert card_limit_problems(rendered) == []
    assert fits_one_message(rendered)


async def test_leaving_a_server_deletes_its_schedules(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    await add(sandbox)
    await add(sandbox, kind="skill")
    store = scheduled_bot.services.schedules
    await sandbox.remove_guild(sandbox.guild.id)
    for _ in range(100):
        if await store.count(sandbox.guild.id) == 0:
            break
        await asyncio.sleep(0.02)
    assert await store.count(sandbox.guild.id) == 0
    assert await store.earliest_due() is None


async def test_a_time_that_is_now_starts_tomorrow(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, manual_time: ManualTime
) -> None:
    assert manual_time.now == datetime(2026, 3, 5, 15, 0, tzinfo=UTC)  # 10:00 in New York
    reply = await add(sandbox, time="10:00", timezone="America/New_York", days="daily")
    first = reply.embeds[0]["fields"][0]["value"].split("\n")[0]
    assert first == "Fri 6 Mar 2026, 10:00 EST"


async def test_the_same_schedule_twice_is_refused_naming_the_first(
    sandbox: Sandbox, scheduled_bot: PeerlightBot
) -> None:
    first = short_id_in(await add(sandbox, timezone="Europe/London"))
    again = await add(sandbox, timezone="europe/london", time="9am")
    text = again.embeds[0]["description"] if again.embeds else again.content
    assert f"already exists as {first}" in text
    assert "Nothing was saved" in text
    assert len(await scheduled_bot.services.schedules.for_guild(sandbox.guild.id)) == 1
    other = await add(sandbox, timezone="Europe/London", kind="gratitude")
    assert other.embeds[0]["title"] == "Schedule added"  # another kind is another schedule


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("EST", "America/New_York"),
        ("est", "America/New_York"),
        ("CST", "Asia/Shanghai"),
        ("PST", "America/Los_Angeles"),
        ("GMT", "Europe/London"),
        ("EST5EDT", "America/New_York"),
    ],
)
async def test_a_time_zone_abbreviation_is_refused_with_the_places_it_may_mean(
    sandbox: Sandbox, scheduled_bot: PeerlightBot, typed: str, meant: str
) -> None:
    reply = await add(sandbox, timezone=typed)
    text = reply.embeds[0]["description"] if reply.embeds else reply.content
    assert "abbreviation" in text and meant in text, text
    assert await scheduled_bot.services.schedules.for_guild(sandbox.guild.id) == []


@pytest.mark.parametrize(
    ("name", "options", "moderator"),
    [
        ("schedule add", {"time": "i want to kill myself"}, True),
        ("schedule add", {"days": "9am", "timezone": "I want to kill myself"}, True),
        ("schedule pause", {"id": "i want to kill myself"}, True),
        ("schedule preview", {"id": "i want to kill myself"}, True),
        # Whoever types it: a member who is not a moderator sees the lines, not a refusal.
        ("schedule remove", {"id": "i want to kill myself"}, False),
    ],
)
async def test_words_of_danger_in_any_schedule_option_get_the_crisis_lines_first(
    sandbox: Sandbox,
    scheduled_bot: PeerlightBot,
    name: str,
    options: dict[str, str],
    moderator: bool,
) -> None:
    values = {"channel": "general", "time": "9:00", "days": "weekdays", "kind": "check-in"}
    if name != "schedule add":
        values = {}
    values.update(options)
    message = await run(sandbox, name, values, moderator=moderator)
    assert message.embeds[0]["title"] == CRISIS_TITLE
    assert message.embeds[0]["fields"][0]["name"].startswith("Support lines · ")
    assert "All support lines" in [b.get("label") for b in message.buttons()]
    assert NOT_ALLOWED not in message.content
    assert await scheduled_bot.services.schedules.count(sandbox.guild.id) == 0
    # The block is the whole answer: nothing else was sent.
    assert sandbox.requests_matching("POST", r"^/webhooks/") == []
