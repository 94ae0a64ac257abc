"""The real bot on the sandbox, with a clock the test moves and a scheduler that follows it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import PeerlightBot
from bot.config import Settings, parse_settings
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.server import Sandbox
from bot.services import SchedulerTiming
from bot.storage.content_files import LoadReport

from ..helpers import poster_of

# Thursday 5 March 2026, 10:00 in New York; the US clocks go forward on Sunday the 8th.
START = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
GRACE_MINUTES = 60
RETRY_DELAYS = (0.01, 0.01, 0.01)


class ManualTime:
    """A clock that moves only when the test says, and a sleep that follows it."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake_at = self.now + timedelta(seconds=seconds)
        if wake_at <= self.now:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (wake_at, waiter)
        self._sleepers.append(entry)
        try:
            await waiter
        finally:
            self._sleepers.remove(entry)

    def move_to(self, moment: datetime) -> None:
        self.now = moment
        for wake_at, waiter in list(self._sleepers):
            if wake_at <= moment and not waiter.done():
                waiter.set_result(None)

    def move_by(self, **delta: float) -> None:
        self.move_to(self.now + timedelta(**delta))


@pytest.fixture
def manual_time() -> ManualTime:
    return ManualTime(START)


@pytest.fixture
def scheduling_settings(sandbox: Sandbox, tmp_path: Path) -> Settings:
    base = parse_settings({"scheduling": {"catch_up_grace_minutes": GRACE_MINUTES}})
    return sandbox_settings(base, sandbox, database=tmp_path / "bot.sqlite3")


StartBot = Callable[[], contextlib.AbstractAsyncContextManager[PeerlightBot]]


@pytest.fixture
def start_bot(
    sandbox: Sandbox,
    scheduling_settings: Settings,
    shipped_report: LoadReport,
    manual_time: ManualTime,
) -> StartBot:
    """Start the bot (again) on the same database; each start is a fresh process's worth."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[PeerlightBot]:
        timing = SchedulerTiming(
            sleep=manual_time.sleep, retry_delays=RETRY_DELAYS, send_timeout=2.0
        )
        async with running_bot(
            sandbox,
            scheduling_settings,
            report=shipped_report,
            clock=manual_time.clock,
            scheduler_timing=timing,
        ) as bot:
            # The scheduler checks what a previous run left unfinished before its first pass.
            await poster_of(bot).run_pending()
            yield bot

    return start


@pytest.fixture
async def scheduled_bot(start_bot: StartBot) -> AsyncIterator[PeerlightBot]:
    async with start_bot() as bot:
        yield bot
