"""/cope, /technique, /story, /resources and their buttons, through the whole stack.

Also the crisis path (SAFETY.md §1): the block first, privately, at most once in ten
minutes, its choices, and a request to moderators only when the server opted in and the
member pressed for it. After every test, every message the bot sent allowed no pings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import PeerlightBot
from bot.config import Settings
from bot.domain.cards import (
    CRISIS_ACKNOWLEDGEMENT,
    DANGER_POINTER,
    EMERGENCY_LINE,
    FOOTER,
    RESOURCES_POINTER,
    card_limit_problems,
    crisis_card,
)
from bot.domain.catalog import Catalog
from bot.domain.content import Area, ContentWarning
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.storage.content_files import LoadReport

NO_MENTIONS = {"parse": []}
CRISIS_TITLE = "You don't have to go through this alone"
DANGER = "i want to kill myself"


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


@pytest.fixture(autouse=True)
def nothing_can_ping(sandbox: Sandbox) -> Iterator[None]:
    """Every message the bot creates or edits says allowed_mentions: {"parse": []}."""
    yield
    for request in sandbox.requests:
        body = request.json
        if not isinstance(body, dict):
            continue
        callback = re.search(r"/interactions/\d+/[^/]+/callback$", request.path)
        creates = request.method == "POST" and re.search(
            r"^/channels/\d+/messages$|^/webhooks/\d+/[^/]+$", request.path
        )
        if callback and body.get("type") in (4, 7):
            assert body["data"].get("allowed_mentions") == NO_MENTIONS, request.path
        elif creates:
            assert body.get("allowed_mentions") == NO_MENTIONS, request.path
        data = body.get("data") if callback else body
        if isinstance(data, dict) and "allowed_mentions" in data:
            assert data["allowed_mentions"] == NO_MENTIONS, request.path


@contextlib.asynccontextmanager
async def bot_with(
    sandbox: Sandbox,
    settings: Settings,
    report: LoadReport,
    tmp_path: Path,
    name: str,
    **moderation: Any,
) -> AsyncIterator[PeerlightBot]:
    if moderation:
        settings = settings.model_copy(
            update={"moderation": settings.moderation.model_copy(update=moderation)}
        )
    configured = sandbox_settings(settings, sandbox, database=tmp_path / f"{name}.sqlite3")
    async with running_bot(sandbox, configured, report=report) as running:
        yield running


def only_embed(message: SandboxMessage) -> dict[str, Any]:
    (embed,) = message.embeds
    return embed


def labels(message: SandboxMessage) -> list[str]:
    return [str(b.get("label")) for b in message.buttons()]


def titles(message: SandboxMessage) -> list[str]:
    return [str(e.get("title")) for e in message.embeds]


def technique_by_title(catalog: Catalog, title: str) -> str:
    return next(t.id for t in catalog.techniques.values() if t.title == title)


def is_crisis_block(message: SandboxMessage) -> bool:
    return any(e.get("title") == CRISIS_TITLE for e in message.embeds)


# -- /cope -------------------------------------------------------------------------------


async def test_cope_anxious_gives_a_matching_technique_with_steps_and_why(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog
) -> None:
    message = await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
    assert message.ephemeral
    assert message.content == ""
    embed = only_embed(message)
    technique = catalog.techniques[technique_by_title(catalog, embed["title"])]
    assert "anxious" in technique.helps_with
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
        assert "anxious" in catalog.techniques[technique_by_title(catalog, title)].helps_with


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
    message = await interaction.response_message()
    assert not message.ephemeral
    assert message in sandbox.channel_messages(general)
    assert message.content == ""
    assert message.components == []
    embed = only_embed(message)
    technique_by_title(catalog, embed["title"])
    assert "anxious" not in message.text().split("**Steps**")[0].lower().split("\n")[0]


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
    assert EMERGENCY_LINE in message.embeds[0]["fields"][-1]["value"]
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
    assert not message.content.startswith((RESOURCES_POINTER, DANGER_POINTER))


async def test_the_crisis_block_is_not_repeated_within_ten_minutes(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    bot.services.clock = lambda: now
    first = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
    assert is_crisis_block(first)

    now += dt.timedelta(minutes=9)
    again = await (await sandbox.command("cope", {"feeling": DANGER})).response_message()
    assert not is_crisis_block(again)
    assert again.content == DANGER_POINTER
    assert titles(again) == ["Five senses grounding"]
    assert labels(again) == ["All support lines"]
    # /resources always works, cooldown or not.
    lines = await (await sandbox.command("resources")).response_message()
    assert "988" in lines.text()

    now += dt.timedelta(minutes=1)
    later = await (await sandbox.command("technique", {"name": DANGER})).response_message()
    assert is_crisis_block(later)


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


async def test_reach_out_is_offered_only_when_the_server_opted_in(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    moderators = await sandbox.add_channel("moderators")
    async with bot_with(
        sandbox, settings, shipped_report, tmp_path, "reach", reach_out_channel_id=moderators.id
    ):
        interaction = await sandbox.command("cope", {"feeling": DANGER})
        message = await interaction.response_message()
        assert labels(message)[-1] == "Ask a moderator to reach out"
        assert sandbox.channel_messages(moderators.id) == []  # nothing without the press

        confirm = await (
            await sandbox.press(message, "Ask a moderator to reach out")
        ).response_message()
        assert confirm.ephemeral
        assert "let the moderators know" in confirm.content
        (request,) = sandbox.channel_messages(moderators.id)
        member = sandbox.member
        assert request.content.startswith(f"<@{member.id}> asked for a moderator to reach out")
        assert DANGER not in request.content
        assert request.allowed_mentions == NO_MENTIONS
        assert not request.pinged()

        again = await (
            await sandbox.press(message, "Ask a moderator to reach out")
        ).response_message()
        assert "already know" in again.content
        assert len(sandbox.channel_messages(moderators.id)) == 1


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
    assert labels(message) == ["A story about this"]

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
        await sandbox.command("story", {"theme": "supporting-others", "skip": "suicide"})
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
    message = await (
        await sandbox.command("story", {"theme": "sleep", "share": True})
    ).response_message()
    assert not message.ephemeral
    assert message in sandbox.channel_messages(general)
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
    assert EMERGENCY_LINE in embed["description"]
    assert embed["footer"]["text"] == FOOTER


async def test_resources_for_a_named_region_and_an_unknown_one(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    us = await (
        await sandbox.command("resources", {"region": "US"}, locale="en-GB")
    ).response_message()
    assert only_embed(us)["title"] == "Support lines · United States"
    assert "988" in us.text()
    unknown = await (await sandbox.command("resources", {"region": "Atlantis"})).response_message()
    assert unknown.ephemeral
    assert "United Kingdom (GB)" in unknown.content and "International (INTL)" in unknown.content


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
