"""What the sandbox's parts share: its errors, waiting for a change, and the API error a
route raises for Discord's error body.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aiohttp import web

from bot.sandbox.payloads import (
    JSON,
    FormError,
)

if TYPE_CHECKING:
    from bot.sandbox.recorder import RecordedRequest

API_PREFIX = "/api/v10"


_T = TypeVar("_T")


class SandboxError(Exception):
    """The test asked for something a Discord client could not do (or the bot is absent)."""


class SandboxTimeout(SandboxError, TimeoutError):
    """A bounded wait on the sandbox ran out."""


class _HasPermissionValue(Protocol):
    @property
    def value(self) -> int: ...


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"message": message, "code": code}


@dataclass
class _Call:
    request: web.Request
    record: RecordedRequest
    params: dict[str, str]

    @property
    def body(self) -> JSON:
        if self.record.json is None:
            return {}
        if not isinstance(self.record.json, dict):
            raise FormError([], message="Invalid Form Body")
        return self.record.json

    def snowflake(self, name: str) -> int:
        return int(self.params[name])


class _Changes:
    """Lets waits sleep until something in the sandbox changed, never past a deadline."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(
        self,
        probe: Callable[[], _T | None],
        timeout: float,
        what: str,
        *,
        deadline: float | None = None,
    ) -> _T:
        loop = asyncio.get_running_loop()
        end = deadline if deadline is not None else loop.time() + timeout
        while True:
            result = probe()
            if result is not None:
                return result
            remaining = end - loop.time()
            if remaining <= 0:
                raise SandboxTimeout(f"timed out after {timeout:g}s waiting for {what}")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            await asyncio.wait({waiter}, timeout=remaining)
            if not waiter.done():
                waiter.cancel()


_CALLBACK_PATH = re.compile(r"^/interactions/\d+/[^/]+/callback$")


_MESSAGE_CREATE = re.compile(r"^/channels/\d+/messages$|^/webhooks/\d+/[^/]+$")


_MESSAGE_EDIT = re.compile(r"/messages/(@original|\d+)$")


def _normalised_embeds(embeds: Any) -> list[JSON]:
    return [{"type": "rich", **embed} for embed in embeds or []]
