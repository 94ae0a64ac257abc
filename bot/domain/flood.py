"""One check-in per member per server per window, remembered in memory only (SAFETY.md §3).

Members are known here only by a pseudonym of (server id, member id), an HMAC under a key
made at start-up and kept nowhere else (`bot.domain.pseudonym`), so the state holds no
member id and cannot be joined to one without that key. Keying on the server as well
means a check-in in one server never holds back a check-in in another. Nothing here is
ever written to disk, and it is gone when the bot restarts.

Memory stays bounded: an entry is dropped once its window has passed, so the state never
holds more entries than check-ins within the last window. Pure: the current time is
passed in.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from bot.domain.pseudonym import KEY_BYTES, Pseudonyms

__all__ = ["KEY_BYTES", "FloodControl", "FloodDecision"]


@dataclass(frozen=True)
class FloodDecision:
    """Whether a member may check in now; if not, how long until they may."""

    allowed: bool
    wait: dt.timedelta = dt.timedelta(0)

    def __bool__(self) -> bool:
        return self.allowed


_ALLOWED = FloodDecision(True)


class FloodControl:
    def __init__(self, key: bytes | None, window: dt.timedelta) -> None:
        """`key`: the pseudonym key (at least `KEY_BYTES` random bytes), or None for a
        fresh random one."""
        if window <= dt.timedelta(0):
            raise ValueError(f"the window must be longer than zero, not {window}")
        self._pseudonyms = Pseudonyms(key)
        self.window = window
        # Oldest first: entries are added in time order, so expiry only looks at the front.
        self._last: OrderedDict[bytes, dt.datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def pseudonym(self, guild_id: int, member_id: int) -> bytes:
        return self._pseudonyms.of(guild_id, member_id)

    def stored_keys(self) -> Iterator[bytes]:
        """Every key held right now: how a test proves no raw member id is ever stored."""
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

    def peek(self, guild_id: int, member_id: int, now: dt.datetime) -> FloodDecision:
        """Whether `allow` would let this member check in here now; changes nothing."""
        self._expire(now)
        return self._decision(self.pseudonym(guild_id, member_id), now)

    def allow(self, guild_id: int, member_id: int, now: dt.datetime) -> FloodDecision:
        """Allowed, and the check-in time remembered; or refused with the time left."""
        self._expire(now)
        key = self.pseudonym(guild_id, member_id)
        decision = self._decision(key, now)
        if decision.allowed:
            self._last[key] = now
        return decision

    def release(self, guild_id: int, member_id: int) -> None:
        """Forget a member's last check-in here, when it could not be stored after all."""
        self._last.pop(self.pseudonym(guild_id, member_id), None)
