"""Helpers that tests in several folders share; none of it is production code."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from bot.app import PeerlightBot
from bot.cogs.prompt_poster import PromptPoster
from bot.storage.checkins import CheckinStore


async def record_many(
    store: CheckinStore, checkins: Iterable[tuple[int, dt.date, int, Sequence[str]]]
) -> int:
    """Seed `store` with check-ins (server id, day, mood, feelings), as many members
    finishing at once would: the store writes them together, in as few transactions as
    its group commit takes."""
    stored = await asyncio.gather(*(store.record(*checkin) for checkin in checkins))
    return len(stored)


def poster_of(bot: PeerlightBot) -> PromptPoster:
    """The running bot's prompt poster."""
    cog: Any = bot.get_cog("ScheduleCog")
    assert cog is not None, "the schedule cog is not loaded"
    poster = cog.poster
    assert isinstance(poster, PromptPoster)
    return poster
