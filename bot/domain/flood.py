"""One check-in per member per window, remembered in memory only (SAFETY.md §3).

Members are known here only by an HMAC-SHA256 of their id under a key made at start-up
and kept nowhere else, so the state holds no member id and cannot be joined to one
without that key; a plain hash would not do, since member ids are visible to everyone in
a server. Nothing here is ever written to disk, and it is gone when the bot restarts.

Memory stays bounded: an entry is dropped once its window has passed, so the state never
holds more members than checked in within the last window. Pure: the key and the
current time are passed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["KEY_BYTES", "FloodControl", "FloodDecision"]

KEY_BYTES = 32


@dataclass(frozen=True)
class FloodDecision:
    """Whether a member may check in now; if not, how long until they may."""

    allowed: bool
    wait: dt.timedelta = dt.timedelta(0)

    def __bool__(self) -> bool:
        return self.allowed


_ALLOWED = FloodDecision(True)


class FloodControl:
    def __init__(self, key: bytes, window: dt.timedelta) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(f"the key must be at least {KEY_BYTES} random bytes")
        if window <= dt.timedelta(0):
            raise ValueError(f"the window must be longer than zero, not {window}")
        self._key = key
        self.window = window
        # Oldest first: entries are added in time order, so expiry only looks at the front.
        self._last: OrderedDict[bytes, dt.datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def pseudonym(self, member_id: int) -> bytes:
        return hmac.new(self._key, str(member_id).encode("ascii"), hashlib.sha256).digest()

    def stored_keys(self) -> Iterator[bytes]:
        return iter(tuple(self._last))

    def _expire(self, now: dt.datetime) -> None:
        cutoff = now - self.window
        while self._last:
            key, last = next(iter(self._last.items()))
            if last > cutoff:
                break
            del self._last[key]

    def _decision(self, key: bytes, now: dt.datetime) -> FloodDecision:
        last = self._last.get(key)
        if last is None:
            return _ALLOWED
        # A clock that stepped back must not stretch the wait beyond one window.
        wait = min(self.window - (now - last), self.window)
        return FloodDecision(False, wait)

    def peek(self, member_id: int, now: dt.datetime) -> FloodDecision:
        """Whether `allow` would let this member check in now; changes nothing."""
        self._expire(now)
        return self._decision(self.pseudonym(member_id), now)

    def allow(self, member_id: int, now: dt.datetime) -> FloodDecision:
        """Allowed, and the check-in time remembered; or refused with the time left."""
        self._expire(now)
        key = self.pseudonym(member_id)
        decision = self._decision(key, now)
        if decision.allowed:
            self._last[key] = now
        return decision

    def release(self, member_id: int) -> None:
        """Forget a member's last check-in, when it could not be stored after all."""
        self._last.pop(self.pseudonym(member_id), None)
