"""Faults the sandbox can inject into its REST routes: latency, a stall, an error status.

The server asks `Faults.apply` once per request, before routing it; everything else about
injected faults lives here, so the server keeps one narrow hook.

- `add(method, pattern, status=..., delay=..., times=...)`: the next `times` matching
  requests (every one with `times=None`) wait `delay` seconds, then fail with `status`
  (with no status they only wait, then are answered normally).
- `latency(method, pattern, seconds)`: every matching request is slower by `seconds`.
- `stall(method, pattern)`: matching requests hang until the returned stall is released
  (or the sandbox stops), as when Discord stops answering. `release(forget=...)` drops
  the held requests whose path it accepts: they fail with 503 and change nothing, as a
  request Discord never took whole (its sender died while it was on the way).
- A 429 carries `retry_after` in its body and headers the way Discord sends it (through
  its proxy, which discord.py checks before trusting a 429).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
Injected = tuple[int, Any, dict[str, str]]

# Error codes Discord sends with each status when a test gives no body of its own.
_DEFAULT_CODES = {400: 50035, 401: 0, 403: 50013, 404: 10003}


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    delay: float
    remaining: int | None  # None: every matching request, until cleared
    body: JSON | None
    release: asyncio.Event | None = None
    hits: int = 0
    # After a stall's release: which held requests are dropped instead of answered.
    forget: Callable[[str], bool] | None = None
    forgotten: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method.upper()) and bool(
            self.pattern.search(path)
        )


@dataclass
class Stall:
    """Requests matching a stall hang until `release()`."""

    fault: Fault
    faults: Faults = field(repr=False)

    @property
    def hits(self) -> int:
        return self.fault.hits

    @property
    def forgotten(self) -> int:
        """Held requests dropped by `release(forget=...)`."""
        return self.fault.forgotten

    def release(self, forget: Callable[[str], bool] | None = None) -> None:
        """Let the held requests through, except those whose path `forget` accepts: they
        fail with 503 and nothing of them is done."""
        assert self.fault.release is not None
        self.fault.forget = forget
        self.fault.release.set()
        self.faults.remove(self.fault)


class Faults:
    def __init__(self) -> None:
        self._rules: list[Fault] = []

    def add(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int | None = 500,
        delay: float = 0.0,
        times: int | None = 1,
        body: JSON | None = None,
    ) -> Fault:
        fault = Fault(method.upper(), re.compile(path_pattern), status or None, delay, times, body)
        self._rules.append(fault)
        return fault

    def latency(self, method: str, path_pattern: str, seconds: float) -> Fault:
        return self.add(method, path_pattern, status=None, delay=seconds, times=None)

    def stall(self, method: str, path_pattern: str) -> Stall:
        fault = self.add(method, path_pattern, status=None, times=None)
        fault.release = asyncio.Event()
        return Stall(fault, self)

    def remove(self, fault: Fault) -> None:
        if fault in self._rules:
            self._rules.remove(fault)

    def clear(self) -> None:
        for fault in self._rules:
            if fault.release is not None:
                fault.release.set()
        self._rules.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        for fault in self._rules:
            if fault.matches(method, path):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._rules.remove(fault)
                return fault
        return None

    async def apply(self, method: str, path: str) -> Injected | None:
        """Wait as the first matching fault says; the reply to send instead of the route's
        own, or None to answer normally."""
        fault = self._take(method, path)
        if fault is None:
            return None
        if fault.release is not None:
            await fault.release.wait()
            if fault.forget is not None and fault.forget(path):
                fault.forgotten += 1
                return injected_reply(503)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        return injected_reply(fault.status, fault.body)


def injected_reply(status: int, body: JSON | None = None) -> Injected:
    if body is None:
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
        else:
            body = {
                "message": f"{status}: injected by the sandbox",
                "code": _DEFAULT_CODES.get(status, 0),
            }
    headers: dict[str, str] = {}
    if status == 429:
        # discord.py only trusts a 429 that came through Discord's proxy.
        retry_after = body.get("retry_after", 0.05)
        headers = {"Via": "1.1 google", "Retry-After": str(retry_after)}
    return status, body, headers
