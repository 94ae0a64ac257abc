"""/checkin, the "Check in" button and /summary through the whole stack (SAFETY.md §3).

Anonymity is checked on the bytes of the database files, not on what the code intends:
after check-ins by members with known ids and names, none of their ids, names, interaction
ids or tokens may be anywhere in the database, its -wal or its -shm file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import random
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest

from bot.app import HTTP_CONNECTIONS, PeerlightBot
from bot.config import Settings, parse_settings
from bot.discord_host import client_pointed_at
from bot.domain.cards.base import Rendered, fits_one_message
from bot.domain.cards.checkin import (
    CHECKIN_NOT_SAVED,
    VOTES_TITLE,
    checkin_feelings_card,
    checkin_flood_card,
    checkin_thanks_card,
)
from bot.domain.cards.crisis import NOT_A_CRISIS_SERVICE, crisis_card
from bot.domain.catalog import Catalog
from bot.domain.checkins import INSUFFICIENT_MESSAGE, MOOD_LABELS
from bot.domain.periods import week_start
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.server import (
    Sandbox,
    SandboxInteraction,
    SandboxMember,
    SandboxMessage,
)
from bot.services import Services
from bot.storage.checkins import CheckinStore
from bot.storage.content_files import ContentLibrary, LoadReport
from bot.storage.database import Database
from bot.ui.checkin import START_CUSTOM_ID as START
from bot.ui.checkin import (
    OpenSuggestion,
)
from bot.ui.errors import NOT_ALLOWED
from bot.ui.schedule import checkin_view

from ..helpers import poster_of, record_many

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CRISIS_TITLE = "You don't have to go through this alone"
US_EMERGENCY = "call 911 now."  # the sandbox member speaks en-US
OTHER_GUILD = 1191204167300799999
MEMBERS = [
    SandboxMember(id=1191300000000000101, name="marigold.quinn"),
    SandboxMember(id=1191300000000000202, name="tobias_wren"),
    SandboxMember(id=1191300000000000303, name="ottilie-fenwick"),
    SandboxMember(id=1191300000000000404, name="bartholomew.lark"),
]


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@contextlib.asynccontextmanager
async def bot_on(
    sandbox: Sandbox,
    settings: Settings,
    report: LoadReport,
    database: Path,
    clock: Callable[[], dt.datetime] | None = None,
) -> AsyncIterator[PeerlightBot]:
    configured = sandbox_settings(settings, sandbox, database=database)
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    async with running_bot(sandbox, configured, report=report, **extra) as running:
        yield running


def today(bot: PeerlightBot) -> dt.date:
    return bot.services.clock().astimezone(dt.UTC).date()


def labels(message: SandboxMessage) -> list[str]:
    return [str(b.get("label")) for b in message.buttons()]


def custom_ids(message: SandboxMessage) -> list[str]:
    return [str(c.get("custom_id")) for c in message.walk_components() if c.get("custom_id")]


async def answer(interaction: SandboxInteraction) -> SandboxMessage:
    return await interaction.response_message()


async def start(sandbox: Sandbox, member: SandboxMember | None = None) -> SandboxMessage:
    return await answer(await sandbox.command("checkin", member=member))


async def check_in(
    sandbox: Sandbox,
    mood: int,
    feelings: Sequence[str] = (),
    member: SandboxMember | None = None,
) -> SandboxMessage:
    """A whole check-in as a member does it: /checkin, a mood, feelings or Skip."""
    prompt = await start(sandbox, member)
    step = await answer(await sandbox.press(prompt, MOOD_LABELS[mood]))
    if feelings:
        return await answer(await sandbox.choose(step, list(feelings)))
    return await answer(await sandbox.press(step, "Skip"))


async def stored(bot: PeerlightBot) -> list[tuple[Any, ...]]:
    rows = await bot.services.database.fetchall(
        "SELECT guild_id, day, mood, feelings FROM checkins ORDER BY mood, feelings"
    )
    return [tuple(r) for r in rows]


async def eventually(probe: Callable[[], Any], timeout: float = 5) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await probe():
        if loop.time() > end:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.02)


def needles(
    members: Iterable[SandboxMember], interactions: Iterable[SandboxInteraction]
) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for member in members:
        found[f"{member.name}'s id as text"] = str(member.id).encode()
        found[f"{member.name}'s id, little-endian"] = member.id.to_bytes(8, "little")
        found[f"{member.name}'s id, big-endian"] = member.id.to_bytes(8, "big")
        found[f"{member.name}'s name"] = member.name.encode()
    for interaction in interactions:
        found[f"interaction {interaction.id}"] = str(interaction.id).encode()
        found[f"interaction {interaction.id}, little-endian"] = interaction.id.to_bytes(8, "little")
        found[f"interaction {interaction.id}, big-endian"] = interaction.id.to_bytes(8, "big")
        found[f"token of interaction {interaction.id}"] = interaction.token.encode()
    return found


def traces(files: Iterable[Path], wanted: dict[str, bytes]) -> list[str]:
    hits = []
    for path in files:
        data = path.read_bytes()
        hits += [f"{what} in {path.name}" for what, needle in wanted.items() if needle in data]
    return hits


# -- done when -------------------------------------------------------------------------------


async def test_mood_2_and_anxious_gets_an_anxiety_technique_and_one_anonymous_row(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    member = MEMBERS[0]
    async with bot_on(sandbox, settings, shipped_report, tmp_path / "db.sqlite3") as bot:
        prompt = await start(sandbox, member)
        assert prompt.ephemeral
        assert prompt.embeds[0]["title"] == "How are you doing right now?"
        assert labels(prompt) == ["Not OK", "Struggling", "Getting by", "Okay", "Doing well"]
        assert all(b.get("emoji") for b in prompt.buttons())
        assert custom_ids(prompt) == [f"peerlight:checkin:mood:{n}" for n in range(1, 6)]

        pressed = await sandbox.press(prompt, "Struggling")
        step = await answer(pressed)
        assert pressed.callback_type == 7  # the same private message, updated
        assert step.id == prompt.id and step.ephemeral
        (select,) = step.selects()
        assert select["custom_id"] == "peerlight:checkin:feel:2"
        assert (select["min_values"], select["max_values"]) == (1, 3)
        catalog = bot.services.content.catalog
        assert [o["value"] for o in select["options"]] == list(catalog.feelings)
        assert labels(step) == ["Skip"]

        chosen = await sandbox.choose(step, ["anxious"])
        done = await answer(chosen)
        assert chosen.callback_type == 7 and done.id == prompt.id
        (thanks,) = done.embeds
        assert thanks["title"] == "Thank you for checking in"
        assert thanks["description"] == (
            "Saved: a mood and 1 feeling for this server and today's date — "
            "nothing about who you are."
        )
        (open_id,) = custom_ids(done)
        technique_id = open_id.removeprefix("peerlight:technique:")
        assert technique_id in catalog.techniques_for_feeling("anxious")
        technique = catalog.techniques[technique_id]
        assert technique.title in thanks["fields"][0]["value"]

        opened = await answer(await sandbox.press(done, "Open the technique"))
        assert opened.ephemeral and opened.id != done.id
        assert opened.embeds[0]["title"] == technique.title

        assert await stored(bot) == [(sandbox.guild.id, today(bot).isoformat(), 2, "anxious")]
        database = bot.services.database.path
        files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
        assert traces(files, needles([member], sandbox.interactions)) == []


# -- anonymity -------------------------------------------------------------------------------


async def test_no_trace_of_who_checked_in_in_the_database_files_or_the_logs(
    sandbox: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    path = tmp_path / "anonymous.sqlite3"
    wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
    async with bot_on(sandbox, settings, shipped_report, path) as bot:
        await check_in(sandbox, 2, ["anxious", "tired"], member=MEMBERS[0])
        await check_in(sandbox, 4, [], member=MEMBERS[1])
        await check_in(sandbox, 1, ["scared"], member=MEMBERS[2])
        start_button = await start(sandbox, MEMBERS[3])
        await answer(await sandbox.press(start_button, "Okay"))
        await check_in(sandbox, 5, ["calm", "hopeful", "grateful"], member=MEMBERS[3])

        assert len(await stored(bot)) == 4
        assert wal.exists() and shm.exists()
        wanted = needles(MEMBERS, sandbox.interactions)
        assert len(sandbox.interactions) >= 13
        assert traces([path, wal, shm], wanted) == []

        # Day resolution only: every value in a row, and nothing shaped like a time.
        rows = await bot.services.database.fetchall("SELECT * FROM checkins")
        for row in rows:
            row_id, guild_id, day, mood, feelings = tuple(row)
            assert len(row_id) == 16 and guild_id == sandbox.guild.id
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) and 1 <= mood <= 5
            assert re.fullmatch(r"[a-z0-9 -]*", feelings)

    assert traces([path], wanted) == []
    assert not re.search(rb"\d{2}:\d{2}:\d{2}", path.read_bytes())
    text = {what: needle.decode() for what, needle in wanted.items() if needle.isascii()}
    logged = [
        f"{record.name}: {what}"
        for record in caplog.records
        if record.levelno >= logging.INFO and not record.name.startswith("bot.sandbox")
        for what, needle in text.items()
        if needle in record.getMessage()
    ]
    assert logged == []


# -- every path ------------------------------------------------------------------------------


async def test_skip_saves_the_mood_alone_and_three_feelings_are_saved_sorted(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    skipped = await check_in(sandbox, 3, member=MEMBERS[0])
    assert skipped.embeds[0]["description"].startswith(
        "Saved: a mood for this server and today's date"
    )
    three = await check_in(sandbox, 5, ["hopeful", "calm", "grateful"], member=MEMBERS[1])
    assert three.embeds[0]["description"].startswith("Saved: a mood and 3 feelings")
    assert labels(three) == ["Open the technique"]
    day = today(bot).isoformat()
    assert await stored(bot) == [
        (sandbox.guild.id, day, 3, ""),
        (sandbox.guild.id, day, 5, "calm grateful hopeful"),
    ]


async def test_the_check_in_button_on_a_post_starts_a_private_check_in(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    general = sandbox.guild.channel("general")
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    # The view the scheduler sends with every prompt.
    posted = await channel.send("How is everyone doing today?", view=checkin_view())
    post = sandbox.message(posted.id)

    for member in MEMBERS[:2]:
        pressed = await sandbox.press(post, START, member=member)
        prompt = await answer(pressed)
        assert pressed.callback_type == 4 and prompt.ephemeral and prompt.id != post.id
        assert prompt.embeds[0]["title"] == "How are you doing right now?"
        step = await answer(await sandbox.press(prompt, "Getting by"))
        await answer(await sandbox.press(step, "Skip"))
    assert sandbox.message(post.id).edit_count == 0  # the public post is never touched
    assert [row[2] for row in await stored(bot)] == [3, 3]


async def test_not_ok_shows_the_crisis_block_first_and_can_still_be_saved(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    prompt = await start(sandbox)
    step = await answer(await sandbox.press(prompt, "Not OK"))
    crisis, feelings = step.embeds
    assert crisis["title"] == CRISIS_TITLE
    assert NOT_A_CRISIS_SERVICE in crisis["description"]
    assert any(US_EMERGENCY in f["value"] for f in crisis["fields"])
    assert feelings["title"] == "Anything you're feeling?"
    assert "All support lines" in labels(step) and "Skip" in labels(step)
    assert len(step.selects()) == 1

    done = await answer(await sandbox.choose(step, ["scared", "overwhelmed"]))
    crisis_again, thanks = done.embeds
    # The support lines stay in view: the shorter block, lines and emergency number only.
    assert crisis_again["title"] == CRISIS_TITLE
    assert "description" not in crisis_again or not crisis_again["description"]
    assert crisis_again["fields"][0]["name"].startswith("Support lines · ")
    assert any(US_EMERGENCY in f["value"] for f in crisis_again["fields"])
    assert thanks["description"].startswith("Saved: a mood and 2 feelings")
    assert "Open the technique" in labels(done)
    assert [row[2:] for row in await stored(bot)] == [(1, "overwhelmed scared")]

    lines = await answer(await sandbox.press(done, "All support lines"))
    assert lines.embeds[0]["title"].startswith("Support lines")


async def test_not_ok_again_within_minutes_still_shows_the_lines_first(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    bot.services.clock = lambda: now
    first = await answer(await sandbox.press(await start(sandbox), "Not OK"))
    assert NOT_A_CRISIS_SERVICE in first.embeds[0]["description"]
    now += dt.timedelta(minutes=3)
    again = await answer(await sandbox.press(await start(sandbox), "Not OK"))
    crisis, feelings = again.embeds
    assert crisis["title"] == CRISIS_TITLE and not crisis.get("description")
    assert crisis["fields"][0]["name"].startswith("Support lines · ")
    assert any(US_EMERGENCY in f["value"] for f in crisis["fields"])
    assert feelings["title"] == "Anything you're feeling?"
    assert "All support lines" in labels(again)
    now += dt.timedelta(minutes=10)
    later = await answer(await sandbox.press(await start(sandbox), "Not OK"))
    assert NOT_A_CRISIS_SERVICE in later.embeds[0]["description"]


async def test_not_ok_offers_asking_a_moderator_where_the_server_opted_in(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    moderators = sandbox.guild.channel("general").id
    settings = parse_settings(
        {"moderation": {"reach_out_channels": {sandbox.guild.id: moderators}}}
    )
    async with bot_on(sandbox, settings, shipped_report, tmp_path / "reach.sqlite3"):
        prompt = await start(sandbox)
        step = await answer(await sandbox.press(prompt, "Not OK"))
        assert "Ask a moderator to reach out" in labels(step)
        done = await answer(await sandbox.press(step, "Skip"))
        assert "Ask a moderator to reach out" in labels(done)


async def test_a_failed_write_records_nothing_and_says_so(
    sandbox: Sandbox, bot: PeerlightBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bot.services.checkins

    async def failing(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    prompt = await start(sandbox)
    step = await answer(await sandbox.press(prompt, "Struggling"))
    with monkeypatch.context() as patched:
        patched.setattr(store, "record", failing)
        refused = await answer(await sandbox.choose(step, ["low"]))
    assert refused.ephemeral and refused.id != step.id
    assert refused.content == CHECKIN_NOT_SAVED
    assert "nothing was recorded" in refused.content
    assert await stored(bot) == []
    assert sandbox.message(step.id).selects()  # still there to try again

    # Nothing was stored, so nothing counts against the member: trying again works.
    again = await answer(await sandbox.choose(step, ["low"]))
    assert again.embeds[0]["description"].startswith("Saved: a mood and 1 feeling")
    assert [row[2:] for row in await stored(bot)] == [(2, "low")]


async def test_a_half_done_write_leaves_nothing(sandbox: Sandbox, bot: PeerlightBot) -> None:
    database = bot.services.database
    with pytest.raises(sqlite3.IntegrityError):
        async with database.transaction() as connection:
            await connection.execute(
                "INSERT INTO checkins VALUES (?, ?, '2025-06-18', 3, '')",
                (b"\x01" * 16, sandbox.guild.id),
            )
            await connection.execute(
                "INSERT INTO checkins VALUES (?, ?, '2025-06-18', 9, '')",
                (b"\x02" * 16, sandbox.guild.id),
            )
    assert await stored(bot) == []


# -- flood control ---------------------------------------------------------------------------


async def test_one_check_in_per_day_and_the_technique_still_works(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    clock = Clock(dt.datetime(2025, 6, 18, 9, 0, tzinfo=dt.UTC))
    async with bot_on(sandbox, settings, shipped_report, tmp_path / "f.sqlite3", clock) as bot:
        # Two check-ins started at once: the limit is applied when saving.
        first = await start(sandbox)
        second = await start(sandbox)
        first_step = await answer(await sandbox.press(first, "Okay"))
        second_step = await answer(await sandbox.press(second, "Struggling"))
        await answer(await sandbox.press(first_step, "Skip"))

        clock.now += dt.timedelta(minutes=30)
        refused = await answer(await sandbox.choose(second_step, ["anxious"]))
        (card,) = refused.embeds
        # The daily rule (until 00:00 UTC) outlasts the 6-hour window here.
        assert card["description"].startswith(
            "You already checked in recently — you can check in again in about 15 hours."
        )
        assert "Nothing new was recorded" in card["description"]
        (open_id,) = custom_ids(refused)
        technique_id = open_id.removeprefix("peerlight:technique:")
        catalog = bot.services.content.catalog
        assert technique_id in catalog.techniques_for_feeling("anxious")
        opened = await answer(await sandbox.press(refused, "Open the technique"))
        assert opened.embeds[0]["title"] == catalog.techniques[technique_id].title

        # A new /checkin inside the window says so at once, and still offers the moods.
        clock.now += dt.timedelta(hours=3, minutes=15)
        prompt = await start(sandbox)
        assert prompt.embeds[0]["description"].startswith(
            "You already checked in recently — you can check in again in about 12 hours."
        )
        assert len(prompt.buttons()) == 5

        other = await check_in(sandbox, 3, member=MEMBERS[0])
        assert other.embeds[0]["title"] == "Thank you for checking in"

        # Past the window but on the same UTC day: still not counted.
        clock.now = dt.datetime(2025, 6, 18, 23, 0, tzinfo=dt.UTC)
        late = await check_in(sandbox, 5)
        assert late.embeds[0]["title"] == "Thanks for checking in again"
        assert "in about 1 hour" in late.embeds[0]["description"]

        # A new UTC day, past the window: counted again, also after a restart.
        clock.now = dt.datetime(2025, 6, 19, 5, 30, tzinfo=dt.UTC)
        later = await check_in(sandbox, 5)
        assert later.embeds[0]["title"] == "Thank you for checking in"
        assert sorted(row[2] for row in await stored(bot)) == [3, 4, 5]

    # Across a restart (a new in-memory window): the day's claim still holds.
    async with bot_on(sandbox, settings, shipped_report, tmp_path / "f.sqlite3", clock) as bot:
        clock.now += dt.timedelta(hours=7)
        again = await check_in(sandbox, 1)
        assert again.embeds[-1]["title"] == "Thanks for checking in again"
        assert sorted(row[2] for row in await stored(bot)) == [3, 4, 5]


async def test_a_check_in_in_one_server_does_not_hold_back_one_in_another(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    member = MEMBERS[0]
    first = await check_in(sandbox, 4, member=member)
    assert first.embeds[0]["title"] == "Thank you for checking in"

    await sandbox.add_guild(OTHER_GUILD, name="Another community")

    async def joined() -> bool:
        return bot.get_guild(OTHER_GUILD) is not None

    await eventually(joined)
    channel = bot.get_channel(sandbox.channel("general", guild_id=OTHER_GUILD).id)
    assert isinstance(channel, discord.TextChannel)
    posted = await channel.send("How is everyone doing today?", view=checkin_view())
    prompt = await answer(await sandbox.press(sandbox.message(posted.id), START, member=member))
    assert "already checked in" not in prompt.embeds[0].get("description", "")
    step = await answer(await sandbox.press(prompt, "Okay"))
    there = await answer(await sandbox.press(step, "Skip"))
    assert there.embeds[0]["title"] == "Thank you for checking in"

    # Still one check-in per window in each server.
    again = await check_in(sandbox, 3, member=member)
    assert again.embeds[0]["description"].startswith("You already checked in recently")
    day = today(bot).isoformat()
    assert sorted(await stored(bot)) == [(sandbox.guild.id, day, 4, ""), (OTHER_GUILD, day, 4, "")]


async def test_open_the_technique_on_a_reply_with_the_earlier_custom_id_still_works(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    technique = next(iter(bot.services.content.catalog.techniques.values()))
    channel = bot.get_channel(sandbox.guild.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    view = discord.ui.View(timeout=None)
    view.add_item(OpenSuggestion(technique.id))
    view.stop()  # as if sent before a restart: only the dynamic item can answer
    posted = await channel.send("Thank you for checking in", view=view)
    assert custom_ids(sandbox.message(posted.id)) == [f"peerlight:checkin:open:{technique.id}"]

    opened = await answer(await sandbox.press(sandbox.message(posted.id), "Open the technique"))
    assert opened.ephemeral
    assert opened.embeds[0]["title"] == technique.title


# -- restarts --------------------------------------------------------------------------------


async def test_the_check_in_button_and_a_half_done_check_in_survive_a_restart(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "restart.sqlite3"
    async with bot_on(sandbox, settings, shipped_report, path) as first:
        channel = first.get_channel(sandbox.guild.channel("general").id)
        assert isinstance(channel, discord.TextChannel)
        posted = await channel.send("Weekly check-in", view=checkin_view())
        half_done = await start(sandbox, MEMBERS[0])
        half_done = await answer(await sandbox.press(half_done, "Getting by"))

    async with bot_on(sandbox, settings, shipped_report, path) as second:
        prompt = await answer(await sandbox.press(sandbox.message(posted.id), START))
        assert prompt.ephemeral
        assert prompt.embeds[0]["title"] == "How are you doing right now?"
        step = await answer(await sandbox.press(prompt, "Doing well"))
        done = await answer(await sandbox.choose(step, ["grateful"]))
        assert done.embeds[0]["title"] == "Thank you for checking in"

        finished = await answer(await sandbox.choose(half_done, ["tired"]))
        assert finished.embeds[0]["title"] == "Thank you for checking in"
        assert [row[2:] for row in await stored(second)] == [(3, "tired"), (5, "grateful")]


# -- retention and leaving a server ----------------------------------------------------------


async def test_retention_deletes_old_check_ins_at_start_up_and_then_daily(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "retention.sqlite3"
    day = dt.date(2025, 6, 18)
    retention = settings.privacy.retention_days
    async with Database.open(path) as database:
        await record_many(
            CheckinStore(database),
            [
                (sandbox.guild.id, day - dt.timedelta(days=retention + 30), 3, []),
                (OTHER_GUILD, day - dt.timedelta(days=retention + 1), 3, []),
                (sandbox.guild.id, day - dt.timedelta(days=retention), 3, []),
                (sandbox.guild.id, day, 3, []),
            ],
        )
    clock = Clock(dt.datetime(2025, 6, 18, 12, 0, tzinfo=dt.UTC))
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        store = bot.services.checkins

        def left(count: int) -> Callable[[], Any]:
            async def probe() -> bool:
                return await store.count() == count

            return probe

        await eventually(left(2))  # the loop's first run, at start-up

        # Each start loads the cog's module afresh, so compare by name, not by class.
        cog: Any = bot.get_cog("CheckinCog")
        assert type(cog).__name__ == "CheckinCog"
        loop = cog.retention
        assert loop.is_running()
        every = dt.timedelta(hours=loop.hours, minutes=loop.minutes, seconds=loop.seconds)
        assert every == dt.timedelta(days=1)
        next_run = loop.next_iteration
        assert next_run is not None
        assert dt.timedelta(hours=23) < next_run - dt.datetime.now(dt.UTC) <= every

        # A day later the loop runs again (started over here rather than waited for).
        clock.now += dt.timedelta(days=1)
        loop.restart()
        await eventually(left(1))
        assert loop.is_running()
        rows = await stored(bot)
        assert [r[1] for r in rows] == [day.isoformat()]


async def test_a_bot_that_only_registers_commands_deletes_nothing_and_posts_nothing(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "sync-only.sqlite3"
    expired = dt.date.today() - dt.timedelta(days=settings.privacy.retention_days + 5)
    configured = sandbox_settings(settings, sandbox, database=path)
    with client_pointed_at(sandbox.api_base, sandbox.gateway_url):
        async with Database.open(path) as database:
            await record_many(CheckinStore(database), [(sandbox.guild.id, expired, 3, [])])
            content = ContentLibrary(
                configured.content_path, shipped_report, dt.datetime.now(dt.UTC)
            )
            services = Services(settings=configured, database=database, content=content)
            # As `peerlight sync` builds it: the cogs load, but nothing runs in the background.
            bot = PeerlightBot(services, sync_on_start=False, background=False)
            async with bot:
                await bot.login(sandbox.token)
                cog: Any = bot.get_cog("CheckinCog")
                assert not cog.retention.is_running()
                assert not poster_of(bot).running
                await asyncio.sleep(0.1)
            assert await services.checkins.count() == 1
    assert sandbox.sessions_started == 0


async def add_schedule(sandbox: Sandbox) -> None:
    options = {"channel": "general", "time": "9:00", "days": "daily", "kind": "check-in"}
    added = await sandbox.command("schedule add", options, member=sandbox.moderator)
    assert (await added.response_message()).embeds[0]["title"] == "Schedule added"


async def test_leaving_a_server_deletes_its_check_ins_and_schedules_only(
    sandbox: Sandbox, bot: PeerlightBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cogs.servers")
    await check_in(sandbox, 2, ["low"])
    await add_schedule(sandbox)
    checkins, schedules = bot.services.checkins, bot.services.schedules
    await record_many(
        checkins, [(sandbox.guild.id, today(bot), 4, []), (OTHER_GUILD, today(bot), 3, [])]
    )
    assert await checkins.count(sandbox.guild.id) == 2
    settings = bot.services.server_settings
    await settings.set_value(sandbox.guild.id, "region", "IE")
    await settings.set_value(OTHER_GUILD, "region", "CA")

    await sandbox.remove_guild(sandbox.guild.id)

    async def gone() -> bool:
        return (
            await checkins.count(sandbox.guild.id) == 0
            and await schedules.count(sandbox.guild.id) == 0
            and settings.guild_ids() == [OTHER_GUILD]
        )

    await eventually(gone)
    assert await checkins.count(OTHER_GUILD) == 1
    logged = [r.getMessage() for r in caplog.records]
    assert f"Peerlight left server {sandbox.guild.id}: deleted its 2 check-ins" in logged
    assert f"Peerlight left server {sandbox.guild.id}: deleted its 1 schedules" in logged
    assert f"Peerlight left server {sandbox.guild.id}: deleted its 1 settings" in logged


@pytest.mark.parametrize("failing", ["checkins", "schedules"])
async def test_when_one_deletion_fails_on_leaving_the_other_still_happens(
    sandbox: Sandbox,
    bot: PeerlightBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    await check_in(sandbox, 3)
    await add_schedule(sandbox)
    stores = {"checkins": bot.services.checkins, "schedules": bot.services.schedules}

    async def broken(guild_id: int) -> int:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(stores[failing], "delete_guild", broken)
    with caplog.at_level(logging.WARNING, logger="bot.cogs.servers"):
        await sandbox.remove_guild(sandbox.guild.id)
        (kept,) = [name for name in stores if name != failing]

        async def other_gone() -> bool:
            return await stores[kept].count(sandbox.guild.id) == 0

        await eventually(other_gone)

        async def warned() -> bool:
            return any(r.levelno == logging.WARNING for r in caplog.records)

        await eventually(warned)

    # The sweep over every table with a server id still removes what the store could not.
    async def all_gone() -> bool:
        return await stores[failing].count(sandbox.guild.id) == 0

    await eventually(all_gone)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    what = "check-ins" if failing == "checkins" else "schedules"
    assert warning.startswith(
        f"could not delete the {what} of server {sandbox.guild.id}, which removed Peerlight "
        "(OperationalError: database is locked); "
    )


# -- /summary --------------------------------------------------------------------------------


async def summary(sandbox: Sandbox, **options: Any) -> tuple[SandboxInteraction, SandboxMessage]:
    interaction = await sandbox.command("summary", options, member=sandbox.moderator)
    return interaction, await interaction.response_message()


def last_week(bot: PeerlightBot) -> list[dt.date]:
    """The seven days of the last completed UTC week."""
    monday = week_start(today(bot)) - dt.timedelta(days=7)
    return [monday + dt.timedelta(days=n) for n in range(7)]


def seeded(bot: PeerlightBot, seed: int = 11) -> None:
    """Noise from a seeded source, so a test's numbers are the same on every run."""
    bot.services.noise = random.Random(seed)
    bot.services.__dict__.pop("publisher", None)


async def test_summary_with_4_check_ins_says_there_are_not_enough(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    seeded(bot, 2)
    days = last_week(bot)
    await record_many(
        bot.services.checkins,
        ((sandbox.guild.id, days[n], mood, ["anxious"]) for n, mood in enumerate((2, 3, 3, 4))),
    )
    interaction, message = await summary(sandbox, days=7)
    # Quick (no chart to draw): answered in one response, without a deferral.
    assert interaction.callback_type == 4 and interaction.ephemeral
    assert message.ephemeral
    embed, votes = message.embeds
    assert votes["title"] == VOTES_TITLE
    assert embed["title"] == "Check-ins · last completed week"
    assert INSUFFICIENT_MESSAGE in embed["description"]
    assert not embed.get("fields")
    assert not re.search(r"\d", embed["description"].split("\n", 2)[2])  # no counts
    assert message.attachments == []


async def test_summary_of_a_busy_month_is_noisy_suppressed_and_has_a_chart(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    seeded(bot)
    first = week_start(today(bot)) - dt.timedelta(days=28)
    moods = [1] * 20 + [2] * 50 + [3] * 60 + [4] * 50 + [5] * 3
    await record_many(
        bot.services.checkins,
        (
            (
                sandbox.guild.id,
                first + dt.timedelta(days=n % 28),
                mood,
                ["anxious"] if n % 3 == 0 else ["tired"] if n % 7 == 0 else [],
            )
            for n, mood in enumerate(moods)
        ),
    )
    # This week's check-ins are not in any summary until the week is over.
    await record_many(bot.services.checkins, [(sandbox.guild.id, today(bot), 5, [])] * 40)

    _, message = await summary(sandbox, days=30)
    assert message.ephemeral
    embed, votes = message.embeds
    assert votes["title"] == VOTES_TITLE
    assert embed["title"] == "Check-ins · last 4 completed weeks"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert abs(int(fields["Check-ins"]) - len(moods)) <= 40  # noisy, never this week's 40
    shown = dict(line.rsplit(": ", 1) for line in fields["Moods"].splitlines())
    assert shown["😊 Doing well"] in ("hidden", "0")  # 3, plus noise, is below k = 10
    assert all(value == "hidden" or int(value) == 0 or int(value) >= 10 for value in shown.values())
    assert "random noise" in embed["footer"]["text"]
    assert "ε = 3 a week" in embed["footer"]["text"]
    (chart,) = message.attachments
    assert chart.filename == "checkins-4-weeks.png"
    assert chart.data.startswith(PNG_SIGNATURE)


def days_option(sandbox: Sandbox) -> dict[str, Any]:
    (command,) = [
        c for c in sandbox.registered_commands(sandbox.guild.id) if c["name"] == "summary"
    ]
    (days,) = command["options"]
    assert not days.get("required")
    return dict(days)


def fields_of(message: SandboxMessage) -> dict[str, str]:
    embed, votes = message.embeds
    assert votes["title"] == VOTES_TITLE
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


async def test_summary_windows_are_completed_weeks(sandbox: Sandbox, bot: PeerlightBot) -> None:
    days = days_option(sandbox)
    assert [(c["name"], c["value"]) for c in days["choices"]] == [
        ("The last completed week (7 days)", 7),
        ("The last 4 completed weeks (30 days)", 30),
        ("The last 12 completed weeks (90 days)", 90),
    ]
    assert days["description"] == "How many days to look back over (default 30)"
    _, message = await summary(sandbox, days=7)
    assert message.embeds[0]["title"] == "Check-ins · last completed week"
    monday = week_start(today(bot)) - dt.timedelta(days=7)
    sunday = monday + dt.timedelta(days=6)
    assert f"{sunday.day} {sunday:%b %Y} (UTC)" in message.embeds[0]["description"]
    _, message = await summary(sandbox)
    assert message.embeds[0]["title"] == "Check-ins · last 4 completed weeks"


async def test_with_60_days_kept_the_longest_summary_is_7_weeks(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    settings = parse_settings({"privacy": {"retention_days": 60}})
    async with bot_on(sandbox, settings, shipped_report, tmp_path / "60.sqlite3"):
        days = days_option(sandbox)
        assert [(c["name"], c["value"]) for c in days["choices"]] == [
            ("The last completed week (7 days)", 7),
            ("The last 4 completed weeks (30 days)", 30),
            ("The last 7 completed weeks (49 days)", 49),
        ]
        _, message = await summary(sandbox, days=49)
        assert message.embeds[0]["title"] == "Check-ins · last 7 completed weeks"


async def test_with_fewer_days_kept_than_a_summary_covers_it_says_so_kindly(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    settings = parse_settings({"privacy": {"retention_days": 12}})
    async with bot_on(sandbox, settings, shipped_report, tmp_path / "5.sqlite3"):
        assert "choices" not in days_option(sandbox)
        for options in ({}, {"days": 7}):
            interaction = await sandbox.command("summary", options, member=sandbox.moderator)
            message = await interaction.response_message()
            assert message.ephemeral and message.attachments == []
            assert message.content == (
                "Peerlight keeps check-ins for 12 days, too few to cover a whole completed "
                "week on any day of the week, so there is no summary to show. An operator can "
                "keep them longer with `privacy.retention_days` (13 days or more)."
            )


async def test_summary_is_refused_to_members(sandbox: Sandbox, bot: PeerlightBot) -> None:
    interaction = await sandbox.command("summary", member=sandbox.member)
    message = await interaction.response_message()
    assert message.ephemeral
    assert message.content == NOT_ALLOWED
    assert message.attachments == []


def test_the_not_ok_messages_fit_discord_for_every_region(catalog: Catalog) -> None:
    technique = max(catalog.techniques.values(), key=lambda t: len(t.summary))
    international = catalog.regions.get("INTL")
    for region, repeat in itertools.product(catalog.regions.values(), (False, True)):
        crisis = crisis_card(region, international, repeat=repeat).cards
        for then in (
            checkin_feelings_card(1),
            checkin_thanks_card(feelings=3, technique=technique),
            checkin_flood_card(wait=dt.timedelta(hours=6), technique=technique),
        ):
            assert fits_one_message(Rendered(crisis + then.cards)), region.region


# -- many at once ----------------------------------------------------------------------------


async def _at_the_last_step(sandbox: Sandbox, count: int) -> list[tuple[SandboxMember, Any]]:
    people = [SandboxMember(id=1191300000000100000 + n, name=f"member-{n}") for n in range(count)]
    steps = []
    for member in people:
        prompt = await start(sandbox, member)
        steps.append(await answer(await sandbox.press(prompt, "Struggling", member=member)))
    return list(zip(people, steps, strict=True))


async def test_members_finishing_together_are_each_saved_once(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    waiting = await _at_the_last_step(sandbox, 30)
    interactions = await asyncio.gather(
        *(sandbox.choose(step, ["low", "tired"], member=member) for member, step in waiting)
    )
    done = await asyncio.gather(*(answer(i) for i in interactions))
    assert all(m.embeds[0]["description"].startswith("Saved:") for m in done)
    assert len(await stored(bot)) == 30
    assert await bot.services.checkins.count() == 30


async def test_when_writing_fails_each_member_finishing_together_is_told(
    sandbox: Sandbox, bot: PeerlightBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = await _at_the_last_step(sandbox, 3)

    async def failing(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patched:
        patched.setattr(bot.services.checkins.daily, "claim_many", failing)
        interactions = await asyncio.gather(
            *(sandbox.choose(step, ["low"], member=member) for member, step in waiting)
        )
        refused = await asyncio.gather(*(answer(i) for i in interactions))
    assert [m.content for m in refused] == [CHECKIN_NOT_SAVED] * 3
    assert await stored(bot) == []
    # Nothing counts against them: each can try again.
    member, step = waiting[0]
    again = await answer(await sandbox.choose(step, ["low"], member=member))
    assert again.embeds[0]["description"].startswith("Saved:")


async def test_check_ins_leave_no_timer_behind(sandbox: Sandbox, bot: PeerlightBot) -> None:
    await check_in(sandbox, 3, ["calm"], member=MEMBERS[0])
    before = len(asyncio.all_tasks())
    for member in MEMBERS[1:]:
        await check_in(sandbox, 2, ["anxious"], member=member)
        await check_in(sandbox, 1, ["low"], member=member)  # refused by flood control
    await asyncio.sleep(0.05)
    # discord.py would otherwise keep a 15-minute timeout task for each private reply.
    assert len(asyncio.all_tasks()) <= before + 2


async def test_the_bot_keeps_few_connections_to_discord(bot: PeerlightBot) -> None:
    connector = bot.http.connector
    assert isinstance(connector, aiohttp.TCPConnector)
    assert connector.limit == HTTP_CONNECTIONS
