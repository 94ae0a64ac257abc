"""/cope, /technique, /story, /resources and their buttons, through the whole stack.

Also the crisis path: the lines first, privately, every time (the whole block at most once
in ten minutes, a shorter one with the lines and the emergency number in between), the
helper tier for a member worried about someone else, its choices, and a request to
moderators only when the server opted in and the member pressed for it, posted only in
that server. (That no message the bot sent could
ping is checked after every test by the shared `sandbox` fixture.)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import PeerlightBot
from bot.config import Settings
from bot.domain.cards.base import FOOTER, card_limit_problems
from bot.domain.cards.crisis import (
    CRISIS_ACKNOWLEDGEMENT,
    CRISIS_TITLE,
    HELPER_TITLE,
    RESOURCES_POINTER,
    crisis_card,
)
from bot.domain.cards.library import technique_card
from bot.domain.catalog import Catalog
from bot.domain.content import Area, Audience, ContentWarning
from bot.domain.crisis import CrisisLevel, CrisisMatch
from bot.sandbox.harness import load_content, running_bot, sandbox_settings
from bot.sandbox.payloads import SandboxMember
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.storage.content_files import LoadReport
from bot.ui import crisis, library, replies, sharing
from bot.ui.embeds import message_kwargs
from bot.ui.errors import APOLOGY

NO_MENTIONS = {"parse": []}
DANGER = "i want to kill myself"
GB_EMERGENCY = "If you are in immediate danger, call 999 or 112 now."


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


@contextlib.asynccontextmanager
async def bot_with(
    sandbox: Sandbox,
    settings: Settings,
    report: LoadReport,
    tmp_path: Path,
    name: str,
    *,
    guild_ids: tuple[int, ...] = (),
    **moderation: Any,
) -> AsyncIterator[PeerlightBot]:
    """The bot with these moderation settings; commands in `guild_ids` too, when given."""
    if moderation:
        settings = settings.model_copy(
            update={"moderation": settings.moderation.model_copy(update=moderation)}
        )
    configured = sandbox_settings(settings, sandbox, database=tmp_path / f"{name}.sqlite3")
    if guild_ids:
        configured = configured.model_copy(
            update={"discord": configured.discord.model_copy(update={"guild_ids": guild_ids})}
        )
    async with running_bot(sandbox, configured, report=report) as running:
        yield running


def without_type(embed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in embed.items() if k != "type"}


async def logged(caplog: pytest.LogCaptureFixture, text: str, *, timeout: float = 2) -> bool:
    """Whether a WARNING containing `text` was logged, waiting a little for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if any(r.levelno == logging.WARNING and text in r.getMessage() for r in caplog.records):
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)


def only_embed(message: SandboxMessage) -> dict[str, Any]:
    (embed,) = message.embeds
    return embed


def labels(message: SandboxMessage) -> list[str]:
    return [str(b.get("label")) for b in message.buttons()]


def titles(message: SandboxMessage) -> list[str]:
    return [str(e.get("title")) for e in message.embeds]


def technique_by_title(catalog: Catalog, title: str) -> str:
    return next(t.id for t in catalog.techniques.values() if t.title == title)


def _strings(value: Any) -> list[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def is_crisis_block(message: SandboxMessage) -> bool:
    """Whether the message starts with the crisis lines, whole or shorter."""
    return bool(message.embeds) and message.embeds[0].get("title") in (CRISIS_TITLE, HELPER_TITLE)


def is_whole_block(message: SandboxMessage) -> bool:
    return is_crisis_block(message) and bool(message.embeds[0].get("description"))


def is_repeat_block(message: SandboxMessage) -> bool:
    """The shorter block: the lines and the emergency number, without the longer text."""
    if not is_crisis_block(message):
        return False
    first = message.embeds[0]
    names = [f["name"] for f in first["fields"]]
    return (
        names[0].startswith("Support lines · ")
        and "In an emergency" in names
        and (first["title"] == HELPER_TITLE or not first.get("description"))
        and CRISIS_ACKNOWLEDGEMENT not in message.text()
    )


# -- /cope -------------------------------------------------------------------------------


async def test_cope_anxious_gives_a_matching_technique_with_steps_and_why(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    message = await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
    assert message.ephemeral
    embed = only_embed(message)
    technique = catalog.techniques[technique_by_title(catalog, embed["title"])]
    assert "anxious" in technique.helps_with.main
    minutes = technique.duration_minutes
    assert message.content == f"Why this one: for {technique.best_for}, {minutes} minutes."
    assert "**Steps**\n1. " in embed["description"]
    names = [f["name"] for f in embed["fields"]]
    assert names[:2] == ["Why it works", "When to use it"]
    assert embed["footer"]["text"] == FOOTER
    assert "Another one" in labels(message)
    assert not is_crisis_block(message)


async def test_another_one_gives_a_different_technique_each_press(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    message = await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
    shown = [only_embed(message)["title"]]
    for _ in range(4):
        pressed = await sandbox.press(message, "Another one")
        message = await pressed.response_message()
        assert pressed.callback_type == 7  # the same message, updated in place
        assert message.ephemeral
        shown.append(only_embed(message)["title"])
    assert all(a != b for a, b in itertools.pairwise(shown))
    assert len(set(shown)) == len(shown)
    for title in shown:
        technique = catalog.techniques[technique_by_title(catalog, title)]
        assert "anxious" in technique.helps_with.main


async def test_cope_anxious_never_offers_a_supporter_or_craving_only_card(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    main = set(catalog.techniques_for_feeling("anxious"))
    shown = []
    for _ in range(40):
        message = await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
        technique = catalog.techniques[technique_by_title(catalog, only_embed(message)["title"])]
        assert technique.audience is Audience.SELF, technique.id
        assert "anxious" in technique.helps_with.feelings, technique.id
        assert technique.helps_with.main != ("craving",), technique.id
        shown.append(technique.id)
    # Every technique mainly for anxiety comes first; only then, for variety, the ones
    # that also help with it.
    assert set(shown[: len(main)]) == main
    assert main < set(shown)


async def test_supporter_cards_only_when_asked_for(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    supporters = set(catalog.techniques_for_supporters())
    for _ in range(15):
        message = await (await sandbox.command("cope")).response_message()
        title = only_embed(message)["title"]
        assert technique_by_title(catalog, title) not in supporters
    seen = set()
    for words in ("worried", "anxious", "my friend relapsed"):
        asked = await (
            await sandbox.command("cope", {"feeling": words, "for": "supporter"})
        ).response_message()
        seen.add(technique_by_title(catalog, only_embed(asked)["title"]))
        pressed = await sandbox.press(asked, "Another one")
        again = await pressed.response_message()
        seen.add(technique_by_title(catalog, only_embed(again)["title"]))
    assert seen == supporters


async def test_cope_by_area_and_with_nothing_still_helps(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    message = await (await sandbox.command("cope", {"area": "physical"})).response_message()
    technique = catalog.techniques[technique_by_title(catalog, only_embed(message)["title"])]
    assert Area.PHYSICAL in technique.areas
    shown = set()
    for _ in range(3):
        message = await (await sandbox.command("cope")).response_message()
        shown.add(only_embed(message)["title"])
        assert "Another one" in labels(message)
    assert len(shown) == 3  # varied, not the same technique every time


async def test_a_feeling_i_do_not_know_gets_the_closest_ones_to_press(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    message = await (await sandbox.command("cope", {"feeling": "xyzzy plugh"})).response_message()
    assert message.ephemeral
    assert message.embeds == []
    assert "couldn't match that to a feeling" in message.content
    offered = message.buttons()
    assert 1 <= len(offered) <= 3
    first = offered[0]
    feeling = str(first["custom_id"]).split(":")[3]
    reply = await (await sandbox.press(message, str(first["custom_id"]))).response_message()
    technique = catalog.techniques[technique_by_title(catalog, only_embed(reply)["title"])]
    assert feeling in technique.helps_with


async def test_share_posts_only_the_technique_in_the_channel(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    general = sandbox.guild.channel("general").id
    interaction = await sandbox.command("cope", {"feeling": "anxious", "share": True})
    acknowledged = await interaction.response_message()
    assert acknowledged.ephemeral and acknowledged.content == sharing.SHARED
    message = await sandbox.wait_for_channel_message(general)
    assert not message.ephemeral
    assert message.content == ""
    assert message.components == []
    technique = catalog.techniques[technique_by_title(catalog, only_embed(message)["title"])]
    assert "anxious" in technique.helps_with
    # The post is the technique's own card, exactly: nothing about the member (their
    # feeling word, their name) is added to it anywhere.
    card = [e.to_dict() for e in message_kwargs(technique_card(technique))["embeds"]]
    assert [without_type(e) for e in message.embeds] == [without_type(dict(e)) for e in card]
    own_text = "\n".join(str(value) for value in _strings(card)).lower()
    assert message.text().lower().count("anxious") == own_text.count("anxious")
    member = sandbox.member
    assert str(member.id) not in str(message.embeds)
    assert member.name not in message.text().lower().split()


async def test_share_without_a_technique_posts_nothing(sandbox: Sandbox, bot: PeerlightBot) -> None:
    general = sandbox.guild.channel("general").id
    interaction = await sandbox.command("cope", {"feeling": "xyzzy plugh", "share": True})
    message = await interaction.response_message()
    assert message.ephemeral
    assert "couldn't match" in message.content
    assert sandbox.channel_messages(general) == []


async def test_share_with_words_of_distress_stays_private(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    general = sandbox.guild.channel("general").id
    interaction = await sandbox.command("cope", {"feeling": "i feel hopeless", "share": True})
    message = await interaction.response_message()
    assert message.ephemeral
    assert message.content.startswith(RESOURCES_POINTER)
    assert not is_crisis_block(message)
    assert sandbox.channel_messages(general) == []


# -- crisis --------------------------------------------------------------------------------


async def test_danger_answers_with_the_crisis_block_first(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    sandbox.member.locale = "en-GB"  # the member's Discord language, on commands and presses
    interaction = await sandbox.command("cope", {"feeling": DANGER})
    message = await interaction.response_message()
    assert message.ephemeral
    assert message.content == ""
    assert titles(message) == [CRISIS_TITLE]  # the block is the whole answer for /cope
    text = message.text()
    assert text.index(CRISIS_ACKNOWLEDGEMENT) < text.index("not a crisis service")
    assert "Samaritans" in text and "116 123" in text and "Shout" in text
    assert "findahelpline.com" in text
    assert message.embeds[0]["fields"][-1]["value"] == f"**{GB_EMERGENCY}**"
    assert labels(message) == ["Try a grounding exercise", "All support lines"]

    grounding = await (await sandbox.press(message, "Try a grounding exercise")).response_message()
    assert only_embed(grounding)["title"] == catalog.techniques["grounding-5-4-3-2-1"].title
    lines = await (await sandbox.press(message, "All support lines")).response_message()
    assert only_embed(lines)["title"] == "Support lines · United Kingdom"
    assert "Samaritans" in lines.text() and "Find A Helpline" in lines.text()


async def test_danger_is_never_shared(sandbox: Sandbox, bot: PeerlightBot) -> None:
    general = sandbox.guild.channel("general").id
    interaction = await sandbox.command("cope", {"feeling": DANGER, "share": True})
    message = await interaction.response_message()
    assert message.ephemeral and is_crisis_block(message)
    assert sandbox.channel_messages(general) == []


async def test_a_turn_of_phrase_is_not_a_crisis(sandbox: Sandbox, bot: PeerlightBot) -> None:
    interaction = await sandbox.command("cope", {"feeling": "this traffic is killing me"})
    message = await interaction.response_message()
    assert not is_crisis_block(message)
    assert CRISIS_ACKNOWLEDGEMENT not in message.text()
    assert not message.content.startswith(RESOURCES_POINTER)


async def test_a_repeat_within_ten_minutes_still_shows_the_lines_first(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    bot.services.clock = lambda: now
    sandbox.member.locale = "en-GB"
    first = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
    assert is_whole_block(first)

    now += dt.timedelta(minutes=9)
    again = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
    # Shorter, never a bare pointer: the lines and the emergency number first, then the
    # grounding exercise itself rather than a button for it.
    assert is_repeat_block(again) and not is_whole_block(again)
    assert again.content == ""
    assert titles(again) == [CRISIS_TITLE, "Five senses grounding"]
    block = again.embeds[0]
    assert "Samaritans" in block["fields"][0]["value"] and "116 123" in block["fields"][0]["value"]
    assert "findahelpline.com" in block["fields"][1]["value"]
    assert block["fields"][-1]["value"] == f"**{GB_EMERGENCY}**"
    assert labels(again) == ["All support lines"]
    # Every danger message, in any command, starts with the lines again.
    third = await (await sandbox.command("technique", {"name": DANGER})).response_message()
    assert is_repeat_block(third)
    # /resources always works, cooldown or not.
    lines = await (await sandbox.command("resources", locale="en-US")).response_message()
    assert "988" in lines.text()

    now += dt.timedelta(minutes=1)
    later = await (await sandbox.command("technique", {"name": DANGER})).response_message()
    assert is_whole_block(later)


async def test_danger_in_another_command_puts_the_block_before_the_answer(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    interaction = await sandbox.command("story", {"theme": "grief", "skip": "i want to die"})
    message = await interaction.response_message()
    # The block first; "i want to die" isn't a content note, so no story is picked.
    assert titles(message) == [CRISIS_TITLE]
    assert "Content notes" not in message.text()


async def test_distress_gets_the_answer_and_a_line_about_resources(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    message = await (await sandbox.command("technique", {"name": "hopeless"})).response_message()
    assert message.ephemeral
    assert message.content.startswith(RESOURCES_POINTER)
    assert not is_crisis_block(message)


@pytest.mark.parametrize(
    ("command", "options"), [("cope", {"feeling": DANGER}), ("technique", {"name": DANGER})]
)
async def test_a_crisis_block_that_could_not_be_sent_is_shown_on_the_next_try(
    sandbox: Sandbox,
    bot: PeerlightBot,
    error_records: Any,
    command: str,
    options: dict[str, str],
) -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    bot.services.clock = lambda: now
    # A 400 is not retried by discord.py: the block's one send fails.
    sandbox.inject_failure(
        "POST",
        r"^/interactions/\d+/[^/]+/callback$",
        status=400,
        body={"message": "Invalid Form Body", "code": 50035},
        times=1,
    )
    failed = await sandbox.command(command, options)
    apology = await failed.response_message()
    (rejected,) = [r for r in sandbox.requests if r.injected]
    assert rejected.json["data"]["embeds"][0]["title"] == CRISIS_TITLE
    assert apology.ephemeral and apology.content == APOLOGY
    assert not is_crisis_block(apology)

    now += dt.timedelta(minutes=1)
    retry = await (await sandbox.command(command, options)).response_message()
    assert titles(retry)[0] == CRISIS_TITLE
    assert "All support lines" in labels(retry)
    assert is_whole_block(retry)

    now += dt.timedelta(minutes=1)  # delivered this time, so now it cools down
    again = await (await sandbox.command(command, options)).response_message()
    assert is_repeat_block(again) and not is_whole_block(again)

    # The failed send was reported like any failure, naming the command only; it is
    # expected here, so it is not left for the shared check on ERROR records.
    assert [r.getMessage() for r in error_records.records] == [f"command /{command} failed"]
    error_records.records.clear()


REACH_OUT = "Ask a moderator to reach out"


async def test_reach_out_is_offered_and_posted_only_in_the_server_that_opted_in(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    home = sandbox.guild
    moderators = await sandbox.add_channel("moderators")
    other = await sandbox.add_guild(name="Another Server")
    other_moderators = await sandbox.add_channel("moderators", guild_id=other.id)
    elsewhere = sandbox.add_member(
        SandboxMember(id=1191199223139090001, name="sky"), guild_id=other.id
    )
    async with bot_with(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        "reach",
        guild_ids=(home.id, other.id),
        reach_out_channels={home.id: moderators.id},
    ):
        # A server that did not opt in: no button, in the block or within its cooldown.
        block = await (
            await sandbox.command("cope", {"feeling": DANGER}, member=elsewhere, guild_id=other.id)
        ).response_message()
        assert is_whole_block(block)
        assert REACH_OUT not in labels(block)
        cooling = await (
            await sandbox.command("cope", {"feeling": DANGER}, member=elsewhere, guild_id=other.id)
        ).response_message()
        assert is_repeat_block(cooling)
        assert labels(cooling) == ["All support lines"]

        # The server that did: the button, and only a press sends anything.
        interaction = await sandbox.command("cope", {"feeling": DANGER})
        message = await interaction.response_message()
        assert labels(message)[-1] == REACH_OUT
        assert sandbox.channel_messages(moderators.id) == []

        confirm = await (await sandbox.press(message, REACH_OUT)).response_message()
        assert confirm.ephemeral
        assert "let the moderators know" in confirm.content
        (request,) = sandbox.channel_messages(moderators.id)
        member = sandbox.member
        assert request.content.startswith(f"<@{member.id}> asked for a moderator to reach out")
        assert DANGER not in request.content
        assert request.allowed_mentions == NO_MENTIONS
        assert not request.pinged()
        for guild in (home, other):
            for channel in guild.text_channels:
                if channel.id != moderators.id:
                    assert sandbox.channel_messages(channel.id) == [], channel.name
        assert sandbox.channel_messages(other_moderators.id) == []

        again = await (await sandbox.press(message, REACH_OUT)).response_message()
        assert "already know" in again.content
        assert len(sandbox.channel_messages(moderators.id)) == 1


async def test_reach_out_refuses_a_channel_of_another_server(
    sandbox: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    home = sandbox.guild
    moderators = await sandbox.add_channel("moderators")
    other = await sandbox.add_guild(name="Another Server")
    elsewhere = sandbox.add_member(
        SandboxMember(id=1191199223139090001, name="sky"), guild_id=other.id
    )
    unseen = 1191199223139099999
    caplog.set_level(logging.WARNING, logger="bot")
    async with bot_with(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        "misrouted",
        guild_ids=(home.id, other.id),
        # A copy-paste slip: the other server points at this server's moderators; and a
        # third server's channel the bot cannot see at all.
        reach_out_channels={other.id: moderators.id, 1191199223139098888: unseen},
    ):
        assert await logged(caplog, f"requests from server {other.id} cannot be posted")
        assert await logged(caplog, "it is in another server")
        assert await logged(caplog, "the bot is not in server 1191199223139098888")

        message = await (
            await sandbox.command("cope", {"feeling": DANGER}, member=elsewhere, guild_id=other.id)
        ).response_message()
        assert labels(message)[-1] == REACH_OUT
        refused = await (await sandbox.press(message, REACH_OUT)).response_message()
        assert refused.ephemeral
        assert refused.content == crisis.REACH_OUT_UNAVAILABLE
        assert sandbox.channel_messages(moderators.id) == []
        for guild in (home, other):
            for channel in guild.text_channels:
                assert sandbox.channel_messages(channel.id) == [], channel.name

        # A member of the server whose channel it is isn't offered it: that server
        # did not opt in.
        home_block = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
        assert REACH_OUT not in labels(home_block)


async def test_an_unseen_reach_out_channel_is_logged_at_start(
    sandbox: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    unseen = 1191199223139099999
    caplog.set_level(logging.WARNING, logger="bot")
    async with bot_with(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        "unseen",
        reach_out_channels={sandbox.guild.id: unseen},
    ):
        assert await logged(caplog, f"to channel {unseen}: the bot cannot see that channel")
        message = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
        refused = await (await sandbox.press(message, REACH_OUT)).response_message()
        assert refused.content == crisis.REACH_OUT_UNAVAILABLE


async def test_reach_out_is_never_offered_outside_a_server(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    # The sandbox sends interactions from server channels only, so the DM case is checked
    # on the reply a DM would get (no server id) rather than through a DM command.
    moderators = await sandbox.add_channel("moderators")
    async with bot_with(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        "dm",
        reach_out_channels={sandbox.guild.id: moderators.id},
    ) as bot:
        services = bot.services
        in_a_dm = crisis.crisis_reply(services, "en-US", guild_id=None)
        assert not any(isinstance(i, crisis.ReachOutButton) for g in in_a_dm.groups for i in g)
        repeat = crisis.crisis_reply(services, "en-US", guild_id=None, repeat=True)
        assert not any(isinstance(i, crisis.ReachOutButton) for g in repeat.groups for i in g)
        assert crisis.reach_out_channel_id(services, None) is None
        in_the_server = crisis.crisis_reply(services, "en-US", guild_id=sandbox.guild.id)
        assert any(isinstance(i, crisis.ReachOutButton) for g in in_the_server.groups for i in g)


async def test_buttons_on_old_messages_work_after_a_restart(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    async with bot_with(sandbox, settings, shipped_report, tmp_path, "first"):
        message = await (await sandbox.command("cope", {"feeling": "craving"})).response_message()
        crisis = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
    async with bot_with(sandbox, settings, shipped_report, tmp_path, "second"):
        updated = await (await sandbox.press(message, "Another one")).response_message()
        assert len(updated.embeds) == 1
        lines = await (await sandbox.press(crisis, "All support lines")).response_message()
        assert "Support lines" in only_embed(lines)["title"]


def test_the_crisis_block_fits_discord_for_every_region(catalog: Catalog) -> None:
    international = catalog.regions["INTL"]
    for region in catalog.regions.values():
        assert card_limit_problems(crisis_card(region, international)) == []


# -- /technique ----------------------------------------------------------------------------


async def test_technique_by_name_and_a_story_about_it(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    interaction = await sandbox.command("technique", {"name": "grounding-5-4-3-2-1"})
    message = await interaction.response_message()
    assert only_embed(message)["title"] == "Five senses grounding"
    assert labels(message) == ["A story about this", "This helped", "Not for me"]

    story_message = await (await sandbox.press(message, "A story about this")).response_message()
    embed = only_embed(story_message)
    story = next(s for s in catalog.stories.values() if s.title == embed["title"])
    assert "grounding-5-4-3-2-1" in story.techniques
    assert embed["author"]["name"].startswith(story.author.alias)
    expected = [catalog.techniques[t].title for t in story.techniques]
    assert labels(story_message) == expected

    other = next(t for t in story.techniques if t != "grounding-5-4-3-2-1")
    opened = await (
        await sandbox.press(story_message, catalog.techniques[other].title)
    ).response_message()
    assert only_embed(opened)["title"] == catalog.techniques[other].title


async def test_an_unknown_technique_gets_the_closest_titles(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    message = await (await sandbox.command("technique", {"name": "b"})).response_message()
    assert message.ephemeral
    assert message.content.startswith("I couldn't find a technique by that name. Did you mean")
    assert 1 <= message.content.count("“") <= 3
    nothing = await (await sandbox.command("technique", {"name": "qqqq"})).response_message()
    assert "couldn't find a technique" in nothing.content


# -- /story --------------------------------------------------------------------------------


async def test_story_skip_suicide_never_shows_a_story_with_that_warning(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    seen = set()
    for _ in range(15):
        message = await (await sandbox.command("story", {"skip": "suicide"})).response_message()
        assert message.ephemeral
        assert not is_crisis_block(message)  # naming a content note is a choice, not a crisis
        embed = only_embed(message)
        story = next(s for s in catalog.stories.values() if s.title == embed["title"])
        assert ContentWarning.SUICIDE not in story.content_warnings
        seen.add(story.id)
    assert len(seen) > 3


async def test_story_content_notes_come_first_and_theme_filters(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    message = await (await sandbox.command("story", {"theme": "grief"})).response_message()
    embed = only_embed(message)
    story = next(s for s in catalog.stories.values() if s.title == embed["title"])
    assert "grief" in story.themes
    assert embed["description"] == "Content notes: ||grief||"
    assert embed["footer"]["text"].endswith(FOOTER)


async def test_story_when_nothing_fits_or_the_choice_is_unknown(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    none_fit = await (
        await sandbox.command("story", {"theme": "supporting-others", "skip": "suicide, relapse"})
    ).response_message()
    assert none_fit.ephemeral
    assert "don't have a story that fits" in none_fit.content
    theme = await (await sandbox.command("story", {"theme": "zzzz"})).response_message()
    assert "Themes with stories:" in theme.content
    skip = await (await sandbox.command("story", {"skip": "suicide, spiders"})).response_message()
    assert "isn't a content note I know" in skip.content
    assert skip.embeds == []


async def test_story_share_posts_only_the_story(sandbox: Sandbox, bot: PeerlightBot) -> None:
    general = sandbox.guild.channel("general").id
    acknowledged = await (
        await sandbox.command("story", {"theme": "sleep", "share": True})
    ).response_message()
    assert acknowledged.ephemeral and acknowledged.content == sharing.SHARED
    message = await sandbox.wait_for_channel_message(general)
    assert message.interaction_id is None and message.interaction_metadata is None
    assert message.content == "" and message.components == []
    assert len(message.embeds) == 1


# -- /resources ----------------------------------------------------------------------------


async def test_resources_for_en_gb_lists_samaritans(sandbox: Sandbox, bot: PeerlightBot) -> None:
    message = await (await sandbox.command("resources", locale="en-GB")).response_message()
    assert message.ephemeral
    embed = only_embed(message)
    assert embed["title"] == "Support lines · United Kingdom"
    samaritans = next(f for f in embed["fields"] if f["name"] == "Samaritans")
    assert "116 123" in samaritans["value"]
    assert any(f["name"] == "Find A Helpline" for f in embed["fields"])
    assert GB_EMERGENCY in embed["description"]
    assert embed["footer"]["text"] == FOOTER


async def test_resources_for_a_named_region(sandbox: Sandbox, bot: PeerlightBot) -> None:
    us = await (
        await sandbox.command("resources", {"region": "US"}, locale="en-GB")
    ).response_message()
    assert only_embed(us)["title"] == "Support lines · United States"
    assert "988" in us.text()
    assert us.content == ""


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        # Codes, names and other names, in any case, with dots, spaces and one typo.
        ("gb", "United Kingdom"),
        ("U.K.", "United Kingdom"),
        ("  united   kingdom ", "United Kingdom"),
        ("Untied Kingdom", "United Kingdom"),
        ("Scotland", "United Kingdom"),
        ("I'm in the UK", "United Kingdom"),
        ("usa", "United States"),
        ("irland", "Ireland"),
        ("Canda", "Canada"),
    ],
)
async def test_resources_reads_a_region_as_members_write_it(
    sandbox: Sandbox, bot: PeerlightBot, typed: str, region: str
) -> None:
    message = await (
        await sandbox.command("resources", {"region": typed}, locale="ja")
    ).response_message()
    assert only_embed(message)["title"] == f"Support lines · {region}"
    assert message.content == ""
    assert not is_crisis_block(message)


@pytest.mark.parametrize(
    ("typed", "locale", "shown"),
    [
        # Whatever the member's Discord language says, a region without lines of its own
        # gets the international directory, never another country's lines.
        ("FR", "en-US", "FR"),
        ("France", "en-GB", "France"),
        ("  New   Zealand ", "en-US", "New Zealand"),
        ("Atlantis", "ja", "Atlantis"),
        # What was typed is cut to 40 characters, and shown as plain text.
        (
            "the small island off the coast where my grandmother lives",
            "en-GB",
            "the small island off the coast where my…",
        ),
        ("*Mars*", "en-GB", "\\*Mars\\*"),
    ],
)
async def test_resources_for_a_region_without_lines_gives_the_international_directory(
    sandbox: Sandbox, bot: PeerlightBot, typed: str, locale: str, shown: str
) -> None:
    message = await (
        await sandbox.command("resources", {"region": typed}, locale=locale)
    ).response_message()
    assert message.ephemeral
    embed = only_embed(message)
    assert embed["title"] == "Support lines · International"
    assert [f["name"] for f in embed["fields"]] == ["Find A Helpline"]
    assert (
        "If you are in immediate danger, call your local emergency number now."
        in (embed["description"])
    )
    for other in ("988", "116 123", "13 11 14", "911", "999"):
        assert other not in message.text(), other
    assert "**" not in message.content
    line, regions = message.content.split("\n")
    assert line.startswith(f"I don't have a list of lines for “{shown}” yet, sorry.")
    assert "Find A Helpline" in line
    assert regions.startswith("Regions I have lines for: ")
    for known in bot.services.content.catalog.regions.values():
        if known.region != "INTL":
            assert f"{known.name} ({known.region})" in regions


@pytest.mark.parametrize(
    ("region", "emergency"),
    [
        ("US", "911"),
        ("CA", "911"),
        ("GB", "999 or 112"),
        ("IE", "112 or 999"),
        ("AU", "000"),
        ("INTL", "your local emergency number"),
    ],
)
async def test_every_region_names_its_emergency_number_on_both_cards(
    sandbox: Sandbox, bot: PeerlightBot, region: str, emergency: str
) -> None:
    line = f"If you are in immediate danger, call {emergency} now."
    lines = await (await sandbox.command("resources", {"region": region})).response_message()
    assert line in only_embed(lines)["description"]
    block = await (
        await sandbox.command("resources", {"region": f"{region}, {DANGER}"})
    ).response_message()
    assert is_whole_block(block)
    assert block.embeds[0]["fields"][-1]["value"] == f"**{line}**"
    assert block.embeds[0]["fields"][0]["name"].endswith(
        bot.services.content.catalog.regions[region].name
    )


async def test_resources_never_repeats_words_of_distress_as_a_region(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    message = await (
        await sandbox.command("resources", {"region": "hopeless"}, locale="en-GB")
    ).response_message()
    assert message.ephemeral
    assert only_embed(message)["title"] == "Support lines · United Kingdom"
    assert "hopeless" not in message.text()
    assert not is_crisis_block(message)


# -- autocomplete --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "options", "focused", "expect"),
    [
        ("cope", {"feeling": ""}, "feeling", "anxious"),
        ("cope", {"feeling": "anx"}, "feeling", "anxious"),
        ("technique", {"name": "box"}, "name", "box-breathing"),
        ("technique", {"name": ""}, "name", None),
        ("story", {"theme": ""}, "theme", "grief"),
        ("story", {"skip": "suicide, se"}, "skip", "suicide,self-harm"),
        ("story", {"skip": ""}, "skip", "suicide"),
        ("resources", {"region": ""}, "region", "GB"),
        ("resources", {"region": "united"}, "region", "GB"),
    ],
)
async def test_autocomplete_offers_valid_choices(
    sandbox: Sandbox,
    bot: PeerlightBot,
    command: str,
    options: dict[str, str],
    focused: str,
    expect: str | None,
) -> None:
    choices = await sandbox.autocomplete(command, options, focused)
    assert 1 <= len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100
        assert 1 <= len(str(choice["value"])) <= 100
    if expect is not None:
        assert expect in [c["value"] for c in choices]
    if focused == "feeling":
        assert all(not c["name"][0].isascii() for c in choices)  # each starts with its emoji


# -- made once, sent many times ---------------------------------------------------------------


def _components(reply: replies.Reply) -> list[dict[str, Any]]:
    view = reply.view()
    assert view is not None
    return view.to_components()


async def test_a_technique_sent_again_is_the_same_message(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    options = {"name": "box-breathing"}
    first = await (await sandbox.command("technique", options)).response_message()
    second = await (await sandbox.command("technique", options)).response_message()
    assert first.id != second.id
    assert (second.embeds, second.components) == (first.embeds, first.components)
    assert labels(second) == ["A story about this", "This helped", "Not for me"]
    story = await (await sandbox.press(first, "A story about this")).response_message()
    assert len(story.embeds) == 1


async def test_a_reply_keeps_its_card_and_view_while_the_catalog_is_the_same(
    catalog: Catalog,
) -> None:
    technique = catalog.techniques["box-breathing"]
    reply = library.technique_reply(catalog, technique, another=library.CopeRequest(("anxious",)))
    again = library.technique_reply(catalog, technique, another=library.CopeRequest(("anxious",)))
    assert again.view() is reply.view()
    assert again.embeds is reply.embeds
    assert again.embeds is not None
    expected = message_kwargs(technique_card(technique))["embeds"]
    assert [e.to_dict() for e in again.embeds] == [e.to_dict() for e in expected]
    # Another request for the same technique is another reply, with its own view.
    plain = library.technique_reply(catalog, technique)
    assert plain.view() is not reply.view()
    assert [c["custom_id"] for row in _components(plain) for c in row["components"]] == [
        "peerlight:cope:story:box-breathing",
        "peerlight:vote:helped:box-breathing",
        "peerlight:vote:not:box-breathing",
    ]


async def test_a_new_catalog_gets_new_cards(catalog: Catalog, settings: Settings) -> None:
    reloaded = (await asyncio.to_thread(load_content, settings)).catalog
    assert reloaded is not None and reloaded is not catalog
    old = library.technique_reply(catalog, catalog.techniques["box-breathing"])
    new = library.technique_reply(reloaded, reloaded.techniques["box-breathing"])
    assert new.view() is not old.view()
    assert new.embeds is not old.embeds
    # Back to the first catalog: made anew too, since only one catalog's are kept.
    assert library.technique_reply(catalog, catalog.techniques["box-breathing"]).view() is not (
        old.view()
    )


def test_the_card_cache_is_bounded(catalog: Catalog) -> None:
    cache = replies.CardCache(size=2, replies=1)
    techniques = list(catalog.techniques.values())[:5]
    made = [cache.card(catalog, t, lambda t=t: technique_card(t)) for t in techniques]
    assert len(cache) == 2
    assert cache.card(catalog, techniques[-1], lambda: technique_card(techniques[0])) is made[-1]
    again = cache.card(catalog, techniques[0], lambda: technique_card(techniques[0]))
    assert again is not made[0]
    first = cache.reply(catalog, "first", lambda: replies.Reply.text("first"))
    assert cache.reply(catalog, "first", lambda: replies.Reply.text("other")) is first
    cache.reply(catalog, "second", lambda: replies.Reply.text("second"))
    assert len(cache) == 3
    assert cache.reply(catalog, "first", lambda: replies.Reply.text("anew")) is not first
    with pytest.raises(ValueError):
        replies.CardCache(size=0)
    with pytest.raises(ValueError):
        replies.CardCache(replies=0)


async def test_a_prepared_reply_joined_after_another_keeps_its_own_view(
    catalog: Catalog,
) -> None:
    technique = catalog.techniques["box-breathing"]
    reply = library.technique_reply(
        catalog, technique, another=library.CopeRequest(("anxious",), Area.EMOTIONAL)
    )
    before = _components(reply)
    first = replies.Reply.text("first", (crisis.GroundingButton(), crisis.SupportLinesButton()))
    joined = first.then(reply)
    rows = _components(joined)
    assert [[c["label"] for c in row["components"]] for row in rows] == [
        ["Try a grounding exercise", "All support lines"],
        ["Another one", "A story about this"],
        ["This helped", "Not for me"],
    ]
    # The joined view has buttons of its own; the prepared one still shows as it did.
    joined_view, prepared_view = joined.view(), reply.view()
    assert joined_view is not None and prepared_view is not None
    assert not {id(i) for i in joined_view.children} & {id(i) for i in prepared_view.children}
    assert _components(reply) == before
    assert _components(library.technique_reply(catalog, technique, another=None)) != before


async def test_replies_leave_no_timer_behind(sandbox: Sandbox, bot: PeerlightBot) -> None:
    await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
    before = len(asyncio.all_tasks())
    for _ in range(10):
        await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
        await (await sandbox.command("story")).response_message()
    await asyncio.sleep(0.05)
    # discord.py would otherwise keep a 15-minute timeout task for each private reply.
    assert len(asyncio.all_tasks()) <= before + 2


# -- worry for someone else: the helper tier -------------------------------------------------

HELPER = "my friend says she wants to kill herself"
BOTH = "I want to kill myself and my friend says she wants to kill herself"
ASK_AND_LISTEN = "How to ask and listen"


@pytest.fixture
def helper_detector(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped detector, reading HELPER for the helper phrase above (and only it):
    the reply side of the helper tier, end to end, whichever detector is installed."""
    detector_type = type(catalog.crisis)
    detect_all = detector_type.detect_all

    def helper_aware(self: Any, *texts: str | None) -> CrisisMatch:
        if any(text and text.strip().lower() == HELPER for text in texts):
            return CrisisMatch(CrisisLevel.HELPER, HELPER)
        return detect_all(self, *texts)

    monkeypatch.setattr(detector_type, "detect_all", helper_aware)


def _helper_block_checks(message: SandboxMessage, emergency: str) -> None:
    block = message.embeds[0]
    assert block["title"] == HELPER_TITLE
    description = block["description"]
    # How to support them now comes first, in order: stay, ask directly, help them reach
    # a line, the emergency number.
    steps = ["Stay with them", "Are you thinking about suicide?", "help them reach", emergency]
    positions = [description.index(step) for step in steps]
    assert positions == sorted(positions), description
    assert description.index("worried about someone") < positions[0]
    names = [f["name"] for f in block["fields"]]
    assert names[:2] == ["Support lines · United Kingdom", "Anywhere in the world"]
    assert "Samaritans" in block["fields"][0]["value"]
    emergency_field = next(f for f in block["fields"] if f["name"] == "In an emergency")
    assert emergency_field["value"] == f"**If they are in immediate danger, call {emergency} now.**"
    text = message.text().lower()
    for unsafe in ("committed", "successful", "failed attempt"):
        assert unsafe not in text


async def test_worry_for_someone_else_gets_how_to_help_then_the_lines(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog, helper_detector: None
) -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    bot.services.clock = lambda: now
    sandbox.member.locale = "en-GB"
    general = sandbox.guild.channel("general").id
    message = await (
        await sandbox.command("cope", {"feeling": HELPER, "share": True})
    ).response_message()
    assert message.ephemeral and sandbox.channel_messages(general) == []
    assert titles(message) == [HELPER_TITLE]
    _helper_block_checks(message, "999 or 112")
    assert labels(message) == [ASK_AND_LISTEN, "All support lines"]
    how = await (await sandbox.press(message, ASK_AND_LISTEN)).response_message()
    assert only_embed(how)["title"] == catalog.techniques["ask-directly-and-listen"].title

    # Again within ten minutes: the steps in one line, the lines, the emergency number,
    # then how to ask and listen itself.
    now += dt.timedelta(minutes=5)
    again = await (await sandbox.command("cope", {"feeling": HELPER})).response_message()
    assert titles(again) == [HELPER_TITLE, catalog.techniques["ask-directly-and-listen"].title]
    assert is_repeat_block(again)
    block = again.embeds[0]
    assert (
        block["description"]
        == "Stay with them, ask them directly, and help them reach one of these lines."
    )
    assert "116 123" in block["fields"][0]["value"]
    assert labels(again) == ["All support lines"]

    # Their own danger, minutes later, gets the whole crisis block: a cooldown of its own.
    now += dt.timedelta(minutes=1)
    own = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
    assert is_whole_block(own) and titles(own) == [CRISIS_TITLE]


async def test_worry_for_someone_else_in_any_command_puts_the_block_first(
    sandbox: Sandbox, bot: PeerlightBot, helper_detector: None
) -> None:
    message = await (
        await sandbox.command("story", {"theme": "grief", "skip": HELPER}, locale="en-US")
    ).response_message()
    assert titles(message)[0] == HELPER_TITLE
    assert "If they are in immediate danger, call 911 now." in message.text()
    assert "988" in message.embeds[0]["fields"][0]["value"]


async def test_danger_to_the_writer_wins_over_worry_for_someone_else(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    message = await (await sandbox.command("cope", {"feeling": BOTH})).response_message()
    assert titles(message) == [CRISIS_TITLE]
    assert is_whole_block(message)


async def test_the_detector_and_the_reply_agree_on_worry_for_someone_else(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    # The shipped detector, unpatched, end to end.
    assert catalog.crisis.detect_all(HELPER).level is CrisisLevel.HELPER
    sandbox.member.locale = "en-GB"
    message = await (await sandbox.command("cope", {"feeling": HELPER})).response_message()
    assert titles(message) == [HELPER_TITLE]
    _helper_block_checks(message, "999 or 112")


# -- /story skip: choices, and the words around them -----------------------------------------


@pytest.mark.parametrize(
    "skip",
    [
        "suicide, self harm",
        "Suicide/Self-Harm",
        "suicide and self harm",
        "SUICIDE ;  selfharm",
        "suicde, self-harn",
        "no stories about suicide or self harm please",
    ],
)
async def test_story_skip_reads_content_notes_as_choices(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog, skip: str
) -> None:
    for _ in range(4):
        message = await (await sandbox.command("story", {"skip": skip})).response_message()
        assert not is_crisis_block(message)
        assert message.content == ""
        story = next(s for s in catalog.stories.values() if s.title == only_embed(message)["title"])
        assert ContentWarning.SUICIDE not in story.content_warnings
        assert ContentWarning.SELF_HARM not in story.content_warnings


async def test_story_skip_reads_the_words_around_the_choices_as_the_members_own(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    message = await (
        await sandbox.command("story", {"skip": "suicide, I want to kill myself"})
    ).response_message()
    assert titles(message)[0] == CRISIS_TITLE


async def test_cope_reads_a_sentence_with_two_feelings(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    message = await (
        await sandbox.command("cope", {"feeling": "scared and alone"})
    ).response_message()
    technique = catalog.techniques[technique_by_title(catalog, only_embed(message)["title"])]
    # The best fits are mainly for both feelings or one of them.
    assert {"scared", "lonely"} & set(technique.helps_with.main)
    assert message.content.startswith("Why this one: for ")
    another = next(
        c
        for row in message.components
        for c in row["components"]
        if c.get("label") == "Another one"
    )
    assert another["custom_id"] == "peerlight:cope:next:scared+lonely:"
    pressed = await sandbox.press(message, "Another one")
    again = await pressed.response_message()
    second = catalog.techniques[technique_by_title(catalog, only_embed(again)["title"])]
    assert second.id != technique.id
    assert {"scared", "lonely"} & set(second.helps_with.feelings)


async def test_a_technique_or_theme_picked_from_the_list_is_a_choice_not_words(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A detector that reads every text it is given as danger: only what reaches it shows.
    def alarmed(self: Any, *texts: str | None) -> CrisisMatch:
        if any(text and text.strip() for text in texts):
            return CrisisMatch(CrisisLevel.DANGER, "anything")
        return CrisisMatch(CrisisLevel.NONE, "")

    monkeypatch.setattr(type(catalog.crisis), "detect_all", alarmed)
    title = catalog.techniques["box-breathing"].title
    for name in ("box-breathing", title, f"  {title.upper()} "):
        picked = await (await sandbox.command("technique", {"name": name})).response_message()
        assert titles(picked) == [title], name
    typed = await (
        await sandbox.command("technique", {"name": "box breathing or else"})
    ).response_message()
    assert is_crisis_block(typed)
    themed = await (await sandbox.command("story", {"theme": "grief"})).response_message()
    assert not is_crisis_block(themed)
    worded = await (await sandbox.command("story", {"theme": "grief and more"})).response_message()
    assert is_crisis_block(worded)


@pytest.mark.parametrize(
    ("typed", "feelings"),
    [
        ("really anxious", "anxious"),
        ("stressed out", "stressed"),
        ("feeling down", "low"),
        ("scared and alone", "scared+lonely"),
        ("want to use", "craving"),
        ("not anxious, just tired", "tired"),
        ("I panicked at work and I'm still worried", "anxious"),
        ("I'm okay, just a bit flat", "low"),
    ],
)
async def test_cope_reads_members_words_as_the_right_feelings(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog, typed: str, feelings: str
) -> None:
    message = await (await sandbox.command("cope", {"feeling": typed})).response_message()
    technique = catalog.techniques[technique_by_title(catalog, only_embed(message)["title"])]
    assert set(feelings.split("+")) & set(technique.helps_with.main), technique.id
    another = next(
        c
        for row in message.components
        for c in row["components"]
        if c.get("label") == "Another one"
    )
    assert another["custom_id"] == f"peerlight:cope:next:{feelings}:"
