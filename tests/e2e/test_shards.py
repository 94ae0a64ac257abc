"""A process that runs a slice of the bot's shards, through the sandbox: discord.py's
sharded client with its shard ids, the schedules and the servers of its own shards only,
commands synced only by the process with shard 0, reloads followed through the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import LOCAL_IDENTIFY_WAIT, ShardedPeerlightBot
from bot.cogs.admin import ReloadBroadcast
from bot.config import Settings, parse_settings
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.domain.shards import shard_of
from bot.sandbox.server import Sandbox
from bot.storage.checkins import CheckinStore
from bot.storage.content_files import ContentLibrary, LoadReport, load_library
from bot.storage.database import Database
from bot.storage.schedule_store import NewSchedule, RunStatus, ScheduleStore

from ..helpers import record_many
from .test_checkin import Clock, bot_on
from .test_servers import checked

T0 = dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)
COUNT = 2


def other_shard_guild(guild_id: int) -> int:
    """A server id on the other of two shards than `guild_id`."""
    return guild_id + (1 << 22)


def sharded(sandbox: Sandbox, shards: str | None = None) -> Settings:
    """This process runs the shard of the sandbox's server (or `shards`) of two."""
    mine = shard_of(sandbox.guild.id, COUNT)
    return parse_settings(
        {"discord": {"shard_count": COUNT, "shards": shards if shards else str(mine)}}
    )


async def test_the_bot_is_discord_py_sharded_client_on_its_shard_ids(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "a.sqlite3"
    async with bot_on(sandbox, sharded(sandbox, "0-1"), shipped_report, path) as bot:
        assert isinstance(bot, ShardedPeerlightBot)
        assert isinstance(bot, discord.AutoShardedClient)
        assert (bot.shard_ids, bot.shard_count) == ([0, 1], COUNT)
        assert sorted(bot.shards) == [0, 1]
        # One IDENTIFY per shard, each with its shard pair.
        sessions = sorted(sandbox.session_shards())
        assert sessions == [[0, COUNT], [1, COUNT]]
        # A command is answered through the sharded connections.
        reply = await (await sandbox.command("about")).response_message()
        assert reply.ephemeral


async def test_an_unsharded_bot_stays_the_plain_client(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    plain = parse_settings({})
    async with bot_on(sandbox, plain, shipped_report, tmp_path / "b.sqlite3") as bot:
        assert not isinstance(bot, discord.AutoShardedClient)
        assert bot.global_duties and bot.on_my_shards(other_shard_guild(sandbox.guild.id))


async def test_only_the_process_with_shard_0_syncs_the_commands(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    mine = shard_of(sandbox.guild.id, COUNT)
    for shards, syncs in (("0", True), ("1", False)):
        path = tmp_path / f"sync-{shards}.sqlite3"
        async with bot_on(sandbox, sharded(sandbox, shards), shipped_report, path) as bot:
            assert bot.global_duties is syncs
            assert bool(bot.synced) is syncs, (shards, mine, bot.synced)
            assert (
                await bot.services.database.get_meta(f"commands_hash:guild:{sandbox.guild.id}")
                is not None
            ) is syncs


async def test_the_scheduler_posts_only_the_schedules_of_its_own_shards(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "schedules.sqlite3"
    mine, other = sandbox.guild.id, other_shard_guild(sandbox.guild.id)
    channel = sandbox.guild.channel("general").id
    due = T0 + dt.timedelta(minutes=5)
    clock = Clock(T0)
    async with Database.open(path) as database:
        store = ScheduleStore(database)
        for guild_id, channel_id, short in ((mine, channel, "mine1"), (other, 42, "othr1")):
            await store.add(
                NewSchedule(
                    guild_id=guild_id,
                    channel_id=channel_id,
                    at=LocalTime(9, 5),
                    days=frozenset(range(7)),
                    timezone="UTC",
                    kind=PromptKind.REFLECTION,
                ),
                now=T0,
                make_short_id=lambda s=short: s,
            )
    async with bot_on(sandbox, sharded(sandbox), shipped_report, path, clock) as bot:
        schedules = bot.services.schedules
        cog: Any = bot.get_cog("ScheduleCog")
        poster = cog.poster
        clock.now = due
        await poster.run_pending()
        (own,) = await schedules.for_guild(mine)
        (theirs,) = await schedules.for_guild(other)
        (run,) = await schedules.runs(own.key)
        assert run.status is RunStatus.SENT
        posted = [m for m in sandbox.channel_messages(channel) if m.interaction_id is None]
        assert len(posted) == 1
        # The other shard's schedule is another process's: untouched here.
        assert await schedules.runs(theirs.key) == []
        assert theirs.next_due == due and theirs.paused_reason is None
        assert await schedules.earliest_due(poster.shards) == own.next_due


async def test_reconcile_judges_only_the_servers_on_its_own_shards(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "servers.sqlite3"
    mine = sandbox.guild.id
    gone = mine + (2 << 22)  # same shard of two as the sandbox's server, removed
    elsewhere = other_shard_guild(mine)  # on the other process's shard
    assert shard_of(gone, COUNT) == shard_of(mine, COUNT) != shard_of(elsewhere, COUNT)
    async with Database.open(path) as database:
        await record_many(
            CheckinStore(database), [(g, T0.date(), 3, []) for g in (mine, gone, elsewhere)]
        )
    await sandbox.add_guild(gone, name="Gone Server")
    await sandbox.remove_guild(gone)
    clock = Clock(T0)
    async with bot_on(sandbox, sharded(sandbox), shipped_report, path, clock) as bot:
        await checked(bot, T0)
        assert await bot.services.servers.absences() == {gone: T0}
    # The other process noted a server of its own as absent: not this one's to drop.
    async with Database.open(path) as database, database.transaction() as connection:
        await connection.execute(
            "INSERT INTO absent_guilds (guild_id, since) VALUES (?, ?)",
            (elsewhere + (2 << 22), T0.isoformat()),
        )
    clock.now = T0 + dt.timedelta(days=8)
    async with bot_on(sandbox, sharded(sandbox), shipped_report, path, clock) as bot:
        await checked(bot, clock.now)
        stored = await bot.services.servers.stored()
        assert gone not in stored and {mine, elsewhere} <= stored
        assert await bot.services.servers.absences() == {elsewhere + (2 << 22): T0}


async def test_a_reload_on_one_process_is_followed_by_the_others(tmp_path: Path) -> None:
    from bot.config import SHIPPED_CONTENT_DIR

    content = tmp_path / "content"
    shutil.copytree(SHIPPED_CONTENT_DIR, content)
    report = load_library(content, today=T0.date(), revision=None)
    assert report.catalog is not None
    path = tmp_path / "shared.sqlite3"
    async with Database.open(path) as first_db, Database.open(path) as second_db:
        first = ReloadBroadcast(first_db, ContentLibrary(content, report, T0), lambda: T0)
        second = ReloadBroadcast(second_db, ContentLibrary(content, report, T0), lambda: T0)
        await first.start()
        await second.start()
        assert await second.follow() is None  # nothing announced: nothing reloaded
        before = second.content.catalog
        technique = content / "techniques" / "box-breathing.yaml"
        text = technique.read_text("utf-8")
        technique.write_text(text.replace("title: Box breathing", "title: Square breathing"))
        reloaded = await first.content.reload(T0)
        assert reloaded.catalog is not None
        await first.announce()
        assert await first.follow() is None  # its own announcement
        followed = await second.follow()
        assert followed is not None and followed.catalog is not None
        assert second.content.catalog.techniques["box-breathing"].title == "Square breathing"
        assert before.techniques["box-breathing"].title == "Box breathing"
        assert await second.follow() is None  # once per announcement


async def test_production_keeps_discords_five_seconds_between_identifies(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded(delay: float, *args: object) -> None:
        waits.append(delay)
        await real_sleep(0)

    async with bot_on(sandbox, sharded(sandbox), shipped_report, tmp_path / "w.sqlite3") as bot:
        monkeypatch.setattr(asyncio, "sleep", recorded)
        await bot.before_identify_hook(1, initial=False)  # the sandbox: on this machine
        await bot.before_identify_hook(1, initial=True)
        assert waits == [LOCAL_IDENTIFY_WAIT]
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket,
            "DEFAULT_GATEWAY",
            discord.gateway.yarl.URL("wss://gateway.discord.gg"),
        )
        await bot.before_identify_hook(1, initial=False)
        assert waits == [LOCAL_IDENTIFY_WAIT, 5.0]
        monkeypatch.undo()
