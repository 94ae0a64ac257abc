""" "This helped" / "Not for me" through the whole stack (SAFETY.md §3, §4).

Votes are counted without who voted, once per member, card and day; a server's published
votes (completed weeks, noise, small counts hidden) order the techniques its members see
first, and a vote of the week in progress changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import pytest

from bot.app import PeerlightBot
from bot.domain.cards.checkin import VOTES_TITLE
from bot.domain.catalog import Catalog
from bot.domain.votes import VOTES_PER_DAY
from bot.sandbox.payloads import SandboxMember
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.storage.content_files import LoadReport
from bot.ui import library

WEDNESDAY = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = WEDNESDAY

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


@pytest.fixture
def clock(bot: PeerlightBot) -> Clock:
    clock = Clock()
    bot.services.clock = clock
    bot.services.publisher.sampler = random.Random(11)  # the noise, seeded
    return clock


def labels(message: SandboxMessage) -> list[str]:
    return [str(b.get("label")) for b in message.buttons()]


def members(sandbox: Sandbox, count: int, start: int = 0) -> list[SandboxMember]:
    return [
        sandbox.add_member(SandboxMember(id=1191300000000500000 + n, name=f"voter-{n}"))
        for n in range(start, start + count)
    ]


async def technique(sandbox: Sandbox, technique_id: str, member: SandboxMember) -> SandboxMessage:
    interaction = await sandbox.command("technique", {"name": technique_id}, member=member)
    return await interaction.response_message()


async def vote(sandbox: Sandbox, card: SandboxMessage, label: str, member: SandboxMember) -> str:
    return (await (await sandbox.press(card, label, member=member)).response_message()).content


async def first_card(sandbox: Sandbox, member: SandboxMember) -> str:
    reply = await (await sandbox.command("cope", member=member)).response_message()
    return str(reply.embeds[0]["title"])


async def test_every_technique_card_can_be_voted_on_once_a_day_without_storing_who(
    sandbox: Sandbox, bot: PeerlightBot, clock: Clock, tmp_path: Path
) -> None:
    (member,) = members(sandbox, 1)
    cope = await (
        await sandbox.command("cope", {"feeling": "anxious"}, member=member)
    ).response_message()
    assert labels(cope)[-2:] == ["This helped", "Not for me"]
    card = await technique(sandbox, "box-breathing", member)
    assert labels(card)[-2:] == ["This helped", "Not for me"]

    thanks = await sandbox.press(card, "This helped", member=member)
    reply = await thanks.response_message()
    assert reply.ephemeral and reply.content == library.VOTE_COUNTED
    assert await vote(sandbox, card, "Not for me", member) == library.VOTE_ALREADY
    assert await bot.services.votes.count(sandbox.guild.id) == 1

    # A few votes a day in a server, then a kind no.
    others = ["urge-surfing", "grounding-5-4-3-2-1", "progressive-muscle-relaxation"]
    replies = [
        await vote(sandbox, await technique(sandbox, t, member), "Not for me", member)
        for t in others
    ]
    assert replies[: VOTES_PER_DAY - 1] == [library.VOTE_COUNTED] * (VOTES_PER_DAY - 1)
    assert replies[VOTES_PER_DAY - 1] == library.VOTE_LIMIT
    assert await bot.services.votes.count(sandbox.guild.id) == VOTES_PER_DAY

    # The next UTC day it counts again.
    clock.now += dt.timedelta(days=1)
    assert await vote(sandbox, card, "This helped", member) == library.VOTE_COUNTED

    await bot.services.database.settle()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("bot.sqlite3*"))  # noqa: ASYNC240
    assert str(member.id).encode() not in data
    assert member.name.encode() not in data


async def test_this_helped_changes_what_members_see_first_once_the_week_is_over(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog, clock: Clock
) -> None:
    favourite = "progressive-muscle-relaxation"
    title = catalog.techniques[favourite].title
    before = [await first_card(sandbox, m) for m in members(sandbox, 6, start=100)]
    assert before.count(title) < len(before)

    for member in members(sandbox, 100):
        assert (
            await vote(sandbox, await technique(sandbox, favourite, member), "This helped", member)
            == library.VOTE_COUNTED
        )
    # Votes of the week in progress change nothing: the order is made of completed weeks.
    during = [await first_card(sandbox, m) for m in members(sandbox, 6, start=200)]
    assert during.count(title) < len(during)

    clock.now += dt.timedelta(days=7)  # that week is over and published
    after = [await first_card(sandbox, m) for m in members(sandbox, 6, start=300)]
    assert after == [title] * len(after)
    # Never to zero: "Another one" still goes through the others.
    (member,) = members(sandbox, 1, start=400)
    reply = await (await sandbox.command("cope", member=member)).response_message()
    nxt = await (await sandbox.press(reply, "Another one", member=member)).response_message()
    assert nxt.embeds[0]["title"] != title


async def test_moderators_see_per_technique_totals_never_a_count_below_k(
    sandbox: Sandbox, bot: PeerlightBot, catalog: Catalog, clock: Clock
) -> None:
    popular, rare = "box-breathing", "urge-surfing"
    for member in members(sandbox, 60):
        await vote(sandbox, await technique(sandbox, popular, member), "This helped", member)
    for member in members(sandbox, 3, start=600):
        await vote(sandbox, await technique(sandbox, rare, member), "Not for me", member)
    clock.now += dt.timedelta(days=7)
    interaction = await sandbox.command("summary", member=sandbox.moderator)
    message = await interaction.response_message()
    assert message.ephemeral
    (card,) = [e for e in message.embeds if e["title"] == VOTES_TITLE]
    lines = card["description"].split("\n")
    popular_line = next(
        line for line in lines if line.startswith(catalog.techniques[popular].title)
    )
    helped = int(re.match(r".*: (\d+) helped", popular_line)[1])  # type: ignore[index]
    assert helped >= 10
    for number in re.findall(r"(\d+) (?:helped|not for me)", card["description"]):
        assert int(number) == 0 or int(number) >= 10, card["description"]
    assert "3 not for me" not in card["description"]
