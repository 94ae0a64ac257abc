"""What Peerlight remembers about a member between commands: held in memory, never on disk.

Two things only: which techniques and stories a member was shown lately (so "Another one"
shows another one), and when an action last happened (so the whole crisis block is not
repeated within minutes: a repeat is shorter, never without the lines). Both are keyed by
a pseudonym of the member id, an HMAC under a
key made at start-up and kept nowhere else (`bot.domain.pseudonym`), so the memory holds no
member id, cannot be joined to one without that key, and is gone when the bot restarts
(SAFETY.md §3).

The memory is bounded: past `capacity` members the least recently seen is forgotten.
Pure: the current time is passed in.

An answer that reads and then updates what a member was shown (rank what they haven't
seen, pick, remember the pick) goes through `MemberMemory.shown_to`, which makes the member's
pseudonym once for all three steps instead of once for each.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.pseudonym import KEY_BYTES as KEY_BYTES
from bot.domain.pseudonym import Pseudonyms

DEFAULT_CAPACITY = 10_000
RECENT_LIMIT = 8
CRISIS_BLOCK = "crisis-block"
# The block for a member worried about someone else cools down on its own: a member who
# then writes about their own danger gets the whole crisis block.
HELPER_BLOCK = "helper-block"
CRISIS_BLOCK_COOLDOWN = dt.timedelta(minutes=10)


class Shown(StrEnum):
    TECHNIQUE = "technique"
    STORY = "story"


@dataclass
class _Entry:
    recent: dict[Shown, deque[str]] = field(default_factory=dict)
    last: dict[str, dt.datetime] = field(default_factory=dict)


class MemberMemory:
    def __init__(
        self,
        key: bytes | None = None,
        *,
        capacity: int = DEFAULT_CAPACITY,
        recent_limit: int = RECENT_LIMIT,
    ) -> None:
        """`key`: the pseudonym key (at least `KEY_BYTES` random bytes), or None for a
        fresh random one."""
        if capacity < 1 or recent_limit < 1:
            raise ValueError("capacity and recent_limit must be at least 1")
        self._pseudonyms = Pseudonyms(key)
        self._capacity = capacity
        self._recent_limit = recent_limit
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def pseudonym(self, member_id: int) -> bytes:
        return self._pseudonyms.of(member_id)

    def stored_keys(self) -> Iterator[bytes]:
        """Every key held right now: how a test proves no raw member id is ever stored."""
        return iter(tuple(self._entries))

    def shown_to(self, member_id: int) -> RecentlyShown:
        """What this member was shown, keyed once: for an answer that reads it and then
        records what it showed."""
        return RecentlyShown(self, self.pseudonym(member_id))

    def _find(self, member_id: int) -> _Entry | None:
        return self._find_key(self.pseudonym(member_id))

    def _find_key(self, key: bytes) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def _entry(self, member_id: int) -> _Entry:
        return self._entry_key(self.pseudonym(member_id))

    def _entry_key(self, key: bytes) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return entry

    # -- recently shown -----------------------------------------------------------------

    def recent(self, member_id: int, kind: Shown) -> tuple[str, ...]:
        """Ids this member was shown lately, the latest first."""
        return self.shown_to(member_id).recent(kind)

    def remember(self, member_id: int, kind: Shown, item_id: str) -> None:
        self.shown_to(member_id).remember(kind, item_id)

    def pick_fresh(self, member_id: int, kind: Shown, ranked: Sequence[str]) -> str | None:
        """The best-ranked id this member was not shown lately, else the one shown longest
        ago; remembered as shown. None when `ranked` is empty."""
        return self.shown_to(member_id).pick_fresh(kind, ranked)

    # -- cooldowns ----------------------------------------------------------------------

    def claim(self, member_id: int, action: str, now: dt.datetime, cooldown: dt.timedelta) -> bool:
        """True (and the time recorded) when `action` did not happen within `cooldown`
        before `now`; False, and nothing changed, while it is cooling down."""
        entry = self._entry(member_id)
        last = entry.last.get(action)
        if last is not None and now - last < cooldown:
            return False
        entry.last[action] = now
        return True

    def release(self, member_id: int, action: str) -> None:
        """Forget that `action` happened, e.g. when what it stood for could not be done."""
        entry = self._find(member_id)
        if entry is not None:
            entry.last.pop(action, None)

    def claim_crisis_block(
        self, member_id: int, now: dt.datetime, *, someone_else: bool = False
    ) -> bool:
        """Whether the whole crisis block is due (True, and now recorded), or it was shown
        within the cooldown and a shorter one will do. The lines are shown either way."""
        action = HELPER_BLOCK if someone_else else CRISIS_BLOCK
        return self.claim(member_id, action, now, CRISIS_BLOCK_COOLDOWN)

    def release_crisis_block(self, member_id: int, *, someone_else: bool = False) -> None:
        """The block could not be delivered: the member's next try shows it whole again."""
        self.release(member_id, HELPER_BLOCK if someone_else else CRISIS_BLOCK)


class RecentlyShown:
    """One member's recently shown items, under a pseudonym made once (`MemberMemory.shown_to`).

    Holds the pseudonym, never the member id. Meant for the length of one answer: the
    entry is looked up on each call, so a member forgotten in between starts afresh.
    """

    __slots__ = ("_key", "_memory")

    def __init__(self, memory: MemberMemory, key: bytes) -> None:
        self._memory = memory
        self._key = key

    def recent(self, kind: Shown) -> tuple[str, ...]:
        """Ids this member was shown lately, the latest first."""
        entry = self._memory._find_key(self._key)
        if entry is None or kind not in entry.recent:
            return ()
        return tuple(reversed(entry.recent[kind]))

    def remember(self, kind: Shown, item_id: str) -> None:
        entry = self._memory._entry_key(self._key)
        shown = entry.recent.setdefault(kind, deque(maxlen=self._memory._recent_limit))
        if item_id in shown:
            shown.remove(item_id)
        shown.append(item_id)

    def pick_fresh(self, kind: Shown, ranked: Sequence[str]) -> str | None:
        """The best-ranked id this member was not shown lately, else the one shown longest
        ago; remembered as shown. None when `ranked` is empty."""
        if not ranked:
            return None
        order = {item: age for age, item in enumerate(self.recent(kind))}
        fresh = next((item for item in ranked if item not in order), None)
        chosen = fresh if fresh is not None else max(ranked, key=order.__getitem__)
        self.remember(kind, chosen)
        return chosen
