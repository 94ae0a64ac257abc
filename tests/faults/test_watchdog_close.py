"""The give-up watchdog's close survives the watchdog being cancelled mid-close.

When log-in gives up at the same moment as the watchdog, `run_bot` cancels the watchdog
while it awaits the bot's close; the close must still finish, or discord.py's `__aexit__`
awaits a cancelled close and the process ends with a traceback instead of exit code 3.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.reconnect import Status, Watchdog


class _SlowClosingBot:
    """Just enough of a bot for the watchdog: listeners, is_closed and a slow close that,
    like discord.py's, runs in one task that later callers await."""

    def __init__(self) -> None:
        self.closed = False
        self.closing: asyncio.Task[None] | None = None

    def add_listener(self, func: Any, name: str) -> None:
        pass

    def is_closed(self) -> bool:
        return self.closed

    async def close(self) -> None:
        if self.closing is None:
            self.closing = asyncio.create_task(self._close())
        await self.closing

    async def _close(self) -> None:
        await asyncio.sleep(0.3)
        self.closed = True


@pytest.mark.asyncio
async def test_cancelling_the_watchdog_mid_close_does_not_cancel_the_close() -> None:
    bot = _SlowClosingBot()
    watchdog = Watchdog(bot, 0.1, Status())  # type: ignore[arg-type]
    watching = asyncio.create_task(watchdog.run())
    for _ in range(100):  # the watchdog gives up after 0.1 s, checked every 0.5 s
        if bot.closing is not None:
            break
        await asyncio.sleep(0.05)
    assert bot.closing is not None and watchdog.gave_up
    watching.cancel()
    await asyncio.wait_for(bot.close(), 5)  # as discord.py's __aexit__ does
    assert bot.closed
    assert not bot.closing.cancelled()
