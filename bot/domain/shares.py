"""How often one member may have a card posted for everyone (SAFETY.md §3).

A shared card is posted as Peerlight's own message, with nothing to show who asked, so
it must not become an anonymous megaphone: each member may share at most
`SHARES_PER_HOUR` cards in any hour, across servers.

Members are known here only by a pseudonym (`bot.domain.pseudonym`) under a key made at
start-up; nothing is written to disk, and a restart forgets every count (a restart is
the operator's doing, not a member's). Memory stays bounded: a share is forgotten once
an hour has passed, so the state never holds more entries than shares within the last
hour. Pure: the current time is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass

from bot.domain.pseudonym import Pseudonyms

__all__ = ["SHARES_PER_HOUR", "SHARE_WINDOW", "ShareDecision", "ShareLimit"]

SHARES_PER_HOUR = 3
SHARE_WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class ShareDecision:
    """Whether a member may share now; if not, how long until they may."""

    allowed: bool
    wait: dt.timedelta = dt.timedelta(0)

    def __bool__(self) -> bool:
        return self.allowed


class ShareLimit:
    def __init__(
        self,
        key: bytes | None = None,
        limit: int = SHARES_PER_HOUR,
        window: dt.timedelta = SHARE_WINDOW,
    ) -> None:
        if limit < 1:
            raise ValueError(f"the limit must be at least 1, not {limit}")
        self._pseudonyms = Pseudonyms(key)
        self.limit = limit
        self.window = window
        # Every share within the window, oldest first, and how many each member has there.
        self._shares: deque[tuple[dt.datetime, bytes]] = deque()
        self._counts: Counter[bytes] = Counter()

    def __len__(self) -> int:
        return len(self._shares)

    def stored_keys(self) -> Iterator[bytes]:
        """Every key held right now: how a test proves no member id is ever stored."""
        return iter(tuple(self._counts))

    def _expire(self, now: dt.datetime) -> None:
        cutoff = now - self.window
        while self._shares and self._shares[0][0] <= cutoff:
            _, key = self._shares.popleft()
            self._counts[key] -= 1
            if self._counts[key] <= 0:
                del self._counts[key]

    def allow(self, member_id: int, now: dt.datetime) -> ShareDecision:
        """Allowed, and this share remembered; or refused with the time until the oldest
        of the member's shares in the window has passed."""
        self._expire(now)
        key = self._pseudonyms.of(member_id)
        if self._counts[key] < self.limit:
            self._shares.append((now, key))
            self._counts[key] += 1
            return ShareDecision(True)
        oldest = next(at for at, held in self._shares if held == key)
        wait = min(self.window - (now - oldest), self.window)
        return ShareDecision(False, max(wait, dt.timedelta(0)))

    def release(self, member_id: int) -> None:
        """Forget the member's latest share, when it could not be posted after all."""
        key = self._pseudonyms.of(member_id)
        for index in range(len(self._shares) - 1, -1, -1):
            if self._shares[index][1] == key:
                del self._shares[index]
                self._counts[key] -= 1
                if self._counts[key] <= 0:
                    del self._counts[key]
                return
