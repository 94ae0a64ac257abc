"""One member's check-in changes no answer a moderator can see (SAFETY.md §4).

Every offered /summary window is asked, a member checks in, and every window is asked
again: on the same day, on the next day, and after a restart. Each answer, chart
included, must be exactly what it was.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from bot.app import PeerlightBot
from bot.config import Settings
from bot.domain.periods import week_start
from bot.sandbox.server import Sandbox
from bot.storage.content_files import LoadReport

from ..helpers import record_many
from .test_checkin import MEMBERS, Clock, bot_on, check_in

WEDNESDAY = dt.datetime(2025, 6, 18, 10, 0, tzinfo=dt.UTC)


async def answers(sandbox: Sandbox, bot: PeerlightBot) -> dict[int, Any]:
    seen: dict[int, Any] = {}
    for days in (7, 30, 90):
        interaction = await sandbox.command("summary", {"days": days}, member=sandbox.moderator)
        message = await interaction.response_message(timeout=10)
        seen[days] = (message.embeds, [f.data for f in message.attachments])
    return seen


async def test_a_check_in_between_two_summaries_changes_no_answer(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    clock = Clock(WEDNESDAY)
    path = tmp_path / "stable.sqlite3"
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        bot.services.noise = random.Random(4)
        rng = random.Random(9)
        monday = week_start(WEDNESDAY.date())
        await record_many(
            bot.services.checkins,
            (
                (sandbox.guild.id, monday - dt.timedelta(days=day), rng.randint(1, 5), ["anxious"])
                for day in range(1, 85)
                for _ in range(rng.randint(2, 9))
            ),
        )
        before = await answers(sandbox, bot)
        assert any(embeds[0].get("fields") for embeds, _ in before.values())

        await check_in(sandbox, 1, ["lonely"], member=MEMBERS[0])
        assert await answers(sandbox, bot) == before  # the same day

        clock.now += dt.timedelta(days=1)
        await check_in(sandbox, 5, ["hopeful"], member=MEMBERS[0])
        assert await answers(sandbox, bot) == before  # the next day

    # After a restart, with a fresh noise source: nothing is drawn again.
    async with bot_on(sandbox, settings, shipped_report, path, clock) as bot:
        bot.services.noise = random.Random(12345)
        await check_in(sandbox, 2, ["tired"], member=MEMBERS[1])
        assert await answers(sandbox, bot) == before
