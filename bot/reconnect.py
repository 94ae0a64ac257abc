"""Staying connected to Discord: retries with back-off, one status line, and giving up.

Without a network, or while Discord is down, `peerlight run` keeps trying (1 s, 2 s, 4 s …
up to a minute apart) and says so in one line per attempt instead of a traceback. With a
give-up time (`discord.give_up_after_seconds` or `--give-up-after`) it stops with exit code
3 once it has been unable to connect for that long; by default it never gives up.
Once connected, discord.py reconnects on its own; its log lines about that are cut to one
line, and the same give-up time applies while the connection stays lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import TYPE_CHECKING, TextIO

import aiohttp
import discord

if TYPE_CHECKING:
    from bot.app import PeerlightBot

EXIT_UNREACHABLE = 3
FIRST_DELAY, LONGEST_DELAY = 1.0, 60.0
UNREACHABLE = (OSError, aiohttp.ClientError, TimeoutError, discord.DiscordServerError)


def reason(exc: BaseException) -> str:
    """Why Discord could not be reached, in words (never a library's message)."""
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord answered with a server error ({exc.status})"
    if isinstance(exc, TimeoutError):
        return "Discord did not answer in time"
    return "no network connection to Discord"


class OneLineReconnects(logging.Filter):
    """discord.py logs each reconnect with a full traceback; keep one line with the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage().startswith("Attempting a reconnect"):
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {reason(exc) if exc else 'connection lost'}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


class Status:
    """One line about the connection: rewritten in place on a terminal, appended otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.open = False

    def show(self, text: str) -> None:
        if self.tty:
            print(f"\r\x1b[K{text}", end="", file=self.stream, flush=True)
            self.open = True
        else:
            print(text, file=self.stream, flush=True)

    def done(self, text: str | None = None) -> None:
        if self.open:
            print(file=self.stream, flush=True)
            self.open = False
        if text:
            print(text, file=self.stream, flush=True)


async def log_in(
    bot: PeerlightBot,
    token: str,
    give_up_after: float | None,
    status: Status,
    stopping: asyncio.Event,
) -> bool:
    """Log in, retrying while Discord cannot be reached; False when it gave up or closed.

    `discord.LoginFailure` (a wrong token) is not retried: it propagates.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    delay = FIRST_DELAY
    attempt = 0
    while not stopping.is_set():
        try:
            await bot.login(token)
        except UNREACHABLE as exc:
            attempt += 1
            await bot.http.close()  # a fresh session (and connection pool) for the next try
            waited = loop.time() - started
            if give_up_after is not None and waited >= give_up_after:
                status.done(
                    f"peerlight: gave up after {waited:.0f} s: {reason(exc)} "
                    f"(give-up time {give_up_after:g} s); exit code {EXIT_UNREACHABLE}"
                )
                return False
            pause = delay if give_up_after is None else min(delay, give_up_after - waited)
            status.show(
                f"peerlight: cannot reach Discord ({reason(exc)}); trying again in "
                f"{pause:.0f} s (attempt {attempt})"
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), pause)
            delay = min(delay * 2, LONGEST_DELAY)
            continue
        if attempt:
            status.done("peerlight: reached Discord")
        return True
    return False


class Watchdog:
    """Closes the bot when the gateway connection has been lost for `give_up_after` s."""

    def __init__(self, bot: PeerlightBot, give_up_after: float, status: Status) -> None:
        self.bot = bot
        self.give_up_after = give_up_after
        self.status = status
        self.gave_up = False
        self._lost_at: float | None = asyncio.get_running_loop().time()
        bot.add_listener(self._connected, "on_ready")
        bot.add_listener(self._connected, "on_resumed")
        bot.add_listener(self._lost, "on_disconnect")

    async def _connected(self) -> None:
        self._lost_at = None

    async def _lost(self) -> None:
        if self._lost_at is None:
            self._lost_at = asyncio.get_running_loop().time()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.bot.is_closed():
            await asyncio.sleep(0.5)
            lost_at = self._lost_at
            if lost_at is not None and loop.time() - lost_at > self.give_up_after:
                self.gave_up = True
                self.status.done(
                    f"peerlight: gave up: not connected to Discord for "
                    f"{loop.time() - lost_at:.0f} s (give-up time {self.give_up_after:g} s)"
                )
                # Shielded: when log-in gives up at the same moment, `run_bot` cancels
                # this task, and that must not cancel the close itself (discord.py's
                # __aexit__ then awaits the cancelled close and raises CancelledError).
                await asyncio.shield(self.bot.close())
                return
