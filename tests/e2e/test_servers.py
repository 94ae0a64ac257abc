"""Leaving a server while the bot was offline, through the whole stack (SAFETY.md §3).

The sandbox's READY lists the servers the bot is in, unavailable ones included, as
Discord's does; a server that removed the bot while it was offline is simply missing.
It is forgotten once it has been missing for a week; an unavailable server never is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import discord

from bot.app import PeerlightBot
from bot.config import Settings
from bot.domain.servers import ABSENCE_GRACE
from bot.sandbox.server import Sandbox
from bot.storage.checkins import CheckinStore
from bot.storage.content_files import LoadReport
from bot.storage.database import Database

from ..helpers import record_many
from .test_checkin import Clock, bot_on, eventually

UNAVAILABLE = 1191204167300811111
GONE = 1191204167300822222
T0 = dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)


def servers_cog(bot: PeerlightBot) -> Any:
    cog: Any = bot.get_cog("ServersCog")
    assert type(cog).__name__ == "ServersCog"
    return cog


async def checked(bot: PeerlightBot, at: dt.datetime) -> None:
    """Wait for the check that runs once the bot is ready (or a restarted one)."""
    cog = servers_cog(bot)

    async def done() -> bool:
        return cog.last_checked == at and not cog.check.is_being_cancelled()

    await eventually(done)


async def counts(bot: PeerlightBot) -> dict[int, int]:
    rows = await bot.services.database.fetchall(
        "SELECT guild_id, count(*) FROM checkins GROUP BY guild_id"
    )
    return {int(g): int(n) for g, n in rows}


async def seed(path: Path, sandbox: Sandbox, day: dt.date) -> None:
    async with Database.open(path) as database:
        await record_many(
            CheckinStore(database),
            [
                (sandbox.guild.id, day, 3, ["tired"]),
                (UNAVAILABLE, day, 4, []),
                (UNAVAILABLE, day, 2, ["low"]),
                (GONE, day, 5, ["hopeful"]),
                (GONE, day, 1, []),
            ],
        )
        async with database.transaction() as connection:
            await connection.execute(
                "INSERT INTO prompt_cycles (guild_id, kind, cycle) VALUES (?, 'checkin', 2)",
                (GONE,),
            )


async def offline_changes(sandbox: Sandbox) -> None:
    """While the bot is offline: one server has an outage, another removes the bot."""
    await sandbox.add_guild(UNAVAILABLE, name="Outage Server")
    await sandbox.set_unavailable(UNAVAILABLE)
    await sandbox.add_guild(GONE, name="Gone Server")
    await sandbox.remove_guild(GONE)


async def test_a_server_removed_while_offline_is_forgotten_after_a_week_unavailable_never(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "servers.sqlite3"
    await seed(path, sandbox, T0.date())
    await offline_changes(sandbox)
    clock = Clock(T0)

    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        await checked(bot, T0)
        unavailable = bot.get_guild(UNAVAILABLE)
        assert unavailable is not None and unavailable.unavailable  # listed in READY
        assert bot.get_guild(GONE) is None
        assert await bot.services.servers.absences() == {GONE: T0}
        assert await counts(bot) == {sandbox.guild.id: 1, UNAVAILABLE: 2, GONE: 2}

    # A moment short of a week later: still kept, and the first sighting still counts.
    clock.now = T0 + ABSENCE_GRACE - dt.timedelta(minutes=1)
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        await checked(bot, clock.now)
        assert await bot.services.servers.absences() == {GONE: T0}
        assert await counts(bot) == {sandbox.guild.id: 1, UNAVAILABLE: 2, GONE: 2}

    clock.now = T0 + ABSENCE_GRACE
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        await checked(bot, clock.now)
        assert await counts(bot) == {sandbox.guild.id: 1, UNAVAILABLE: 2}
        assert GONE not in await bot.services.servers.stored()
        assert await bot.services.servers.absences() == {}


async def test_a_server_back_before_the_week_is_out_starts_again_from_nothing(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "back.sqlite3"
    await seed(path, sandbox, T0.date())
    await offline_changes(sandbox)
    clock = Clock(T0)
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        await checked(bot, T0)
        assert await bot.services.servers.absences() == {GONE: T0}

    await sandbox.add_guild(GONE, name="Gone Server")  # invited back, while offline
    clock.now = T0 + dt.timedelta(days=3)
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        await checked(bot, clock.now)
        assert await bot.services.servers.absences() == {}
        await sandbox.remove_guild(GONE)  # and removed again while running: at once

        async def gone() -> bool:
            return GONE not in await counts(bot)

        await eventually(gone)
    assert sandbox.guilds[GONE].bot_present is False


async def test_the_daily_check_forgets_without_a_restart_and_an_outage_changes_nothing(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "daily.sqlite3"
    await seed(path, sandbox, T0.date())
    await offline_changes(sandbox)
    clock = Clock(T0)
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        await checked(bot, T0)
        cog = servers_cog(bot)
        loop = cog.check
        every = dt.timedelta(hours=loop.hours, minutes=loop.minutes, seconds=loop.seconds)
        assert every == dt.timedelta(days=1)

        # The main server has an outage while the bot runs: no removal, no note.
        await sandbox.set_unavailable(sandbox.guild.id)

        async def out() -> bool:
            guild = bot.get_guild(sandbox.guild.id)
            return isinstance(guild, discord.Guild) and guild.unavailable

        await eventually(out)
        clock.now = T0 + ABSENCE_GRACE
        loop.restart()  # the next daily run, started over here rather than waited for
        await checked(bot, clock.now)
        assert await counts(bot) == {sandbox.guild.id: 1, UNAVAILABLE: 2}
        assert await bot.services.servers.absences() == {}
        await sandbox.set_unavailable(sandbox.guild.id, False)
