"""At most one counted action per member per UTC day, held across restarts without
storing who (SAFETY.md §3).

A claim is the HMAC-SHA256 of the ids given (for a check-in: server and member) under a
random key made for that UTC day alone and kept in `day_keys`. While the day lasts, the
key lets the bot tell a second claim from a first, also after a restart. Once the day is
over, its key and its claims are deleted (at the first claim of a later day, and by the
daily maintenance, whichever comes first), and the database is rebuilt so no copy of the
key stays in its pages. Without the key a claim cannot be joined to anyone, even by
someone who knows every member's id.

Reuse: make a `DailyLimit(database, topic)` with a topic of your own (e.g. `helped`), and
call `claim` inside the transaction that records the action, so the claim and the count
are stored together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from bot.storage.engine import Engine, Tx

__all__ = ["KEY_BYTES", "DailyLimit", "forget_past_days"]

KEY_BYTES = 32
# SQLite allows 32,766 parameters in one statement, PostgreSQL 32,767; three per claim.
_CLAIMS_PER_STATEMENT = 5000


def _message(ids: tuple[int, ...]) -> bytes:
    if not ids:
        raise ValueError("a claim is made of at least one id")
    return ":".join(str(int(part)) for part in ids).encode("ascii")


async def _key(tx: Tx | Engine, day: dt.date, *, create: bool) -> bytes | None:
    row = await tx.fetchone("SELECT key FROM day_keys WHERE day = ?", (day.isoformat(),))
    if row is not None:
        return bytes(row[0])
    if not isinstance(tx, Engine) and create:
        # Another process may make the day's key at the same moment: the first one
        # stored is the key, and this one reads it back.
        await tx.execute(
            "INSERT INTO day_keys (day, key) VALUES (?, ?) ON CONFLICT (day) DO NOTHING",
            (day.isoformat(), secrets.token_bytes(KEY_BYTES)),
        )
        return await _key(tx, day, create=False)
    return None


async def forget_past_days(tx: Tx, today: dt.date) -> int:
    """Delete the keys and claims of every day before `today`; return how many keys."""
    await tx.execute("DELETE FROM day_claims WHERE day < ?", (today.isoformat(),))
    return await tx.execute("DELETE FROM day_keys WHERE day < ?", (today.isoformat(),))


class DailyLimit:
    def __init__(self, database: Engine, topic: str) -> None:
        self.database = database
        self.topic = topic

    def _tag(self, key: bytes, ids: tuple[int, ...]) -> bytes:
        return hmac.new(key, self.topic.encode() + b"|" + _message(ids), hashlib.sha256).digest()

    async def claim(self, tx: Tx, day: dt.date, *ids: int) -> bool:
        """Inside the caller's transaction: True for the first claim of these ids on
        `day`, False for every later one. Past days' keys are deleted on the way."""
        await forget_past_days(tx, day)
        key = await _key(tx, day, create=True)
        assert key is not None
        stored = await tx.execute(
            "INSERT INTO day_claims (day, topic, tag) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (day.isoformat(), self.topic, self._tag(key, ids)),
        )
        return stored == 1

    async def claim_many(
        self, tx: Tx, claims: Sequence[tuple[dt.date, tuple[int, ...]]]
    ) -> list[bool]:
        """`claim` for many at once (one statement per day): True for each first claim,
        in order; a second claim of the same ids in `claims` is not a first."""
        if not claims:
            return []
        await forget_past_days(tx, min(day for day, _ in claims))
        tags: list[tuple[str, bytes]] = []
        keys: dict[dt.date, bytes] = {}
        for day, ids in claims:
            if day not in keys:
                key = await _key(tx, day, create=True)
                assert key is not None
                keys[day] = key
            tags.append((day.isoformat(), self._tag(keys[day], ids)))
        new: set[tuple[str, bytes]] = set()
        for start in range(0, len(tags), _CLAIMS_PER_STATEMENT):
            chunk = tags[start : start + _CLAIMS_PER_STATEMENT]
            sql = (
                "INSERT INTO day_claims (day, topic, tag) VALUES "
                + ", ".join(["(?, ?, ?)"] * len(chunk))
                + " ON CONFLICT DO NOTHING RETURNING day, tag"
            )
            params = [value for day, tag in chunk for value in (day, self.topic, tag)]
            new.update((str(day), bytes(tag)) for day, tag in await tx.fetchall(sql, params))
        firsts: list[bool] = []
        for claim in tags:
            firsts.append(claim in new)
            new.discard(claim)
        return firsts

    async def claimed(self, day: dt.date, *ids: int) -> bool:
        """Whether these ids already claimed `day`; changes nothing."""
        key = await _key(self.database, day, create=False)
        if key is None:
            return False
        row = await self.database.fetchone(
            "SELECT 1 FROM day_claims WHERE day = ? AND topic = ? AND tag = ?",
            (day.isoformat(), self.topic, self._tag(key, ids)),
        )
        return row is not None
