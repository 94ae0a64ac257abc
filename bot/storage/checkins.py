"""Anonymous check-ins in SQLite: written as members finish them, read back only as counts.

What a row holds is fixed by SAFETY.md §3 and the `checkins` table's constraints: a random
id, the server, the UTC day, the mood and up to three feeling ids. Nothing passed to this
module identifies a member, so nothing written by it can.

Check-ins that arrive while one is being written share the next transaction (a group
commit): when many members finish at once, one commit stores them all instead of each
waiting its turn for a transaction of its own. Each member's `record` still returns only
once their own row is committed, and fails if the transaction that held it failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence

from bot.domain.checkins import MOODS, WindowData
from bot.storage.database import Database

__all__ = [
    "DELETE_BATCH",
    "ID_BYTES",
    "MAX_FEELINGS",
    "WRITE_BATCH",
    "CheckinStore",
    "week_start",
]

ID_BYTES = 16
MAX_FEELINGS = 3
DELETE_BATCH = 5000
# At most this many check-ins in one transaction, so one commit stays short.
WRITE_BATCH = 1000
_FEELING_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_INSERT = "INSERT INTO checkins (id, guild_id, day, mood, feelings) VALUES (?, ?, ?, ?, ?)"
_ROW_VALUES = "(?, ?, ?, ?, ?)"


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week."""
    return day - dt.timedelta(days=day.weekday())


_Row = tuple[bytes, int, str, int, str]


def _row(guild_id: int, day: dt.date, mood: int, feelings: Iterable[str]) -> _Row:
    if guild_id <= 0:
        raise ValueError(f"a server id is a positive number, not {guild_id}")
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        # A datetime would carry the time of day into a column meant for days only.
        raise TypeError(f"a check-in's day is a date, not {type(day).__name__}")
    if mood not in MOODS:
        raise ValueError(f"moods run from 1 to 5, not {mood}")
    chosen = sorted(set(feelings))
    if len(chosen) > MAX_FEELINGS:
        raise ValueError(f"a check-in names at most {MAX_FEELINGS} feelings, not {len(chosen)}")
    for feeling in chosen:
        if not _FEELING_ID.fullmatch(feeling):
            raise ValueError(f"{feeling!r} is not a feeling id")
    # Sorted, so the stored text does not say in which order they were picked.
    return secrets.token_bytes(ID_BYTES), guild_id, day.isoformat(), mood, " ".join(chosen)


class CheckinStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        # Rows waiting for the next transaction, each with what its `record` awaits.
        self._waiting: list[tuple[_Row, asyncio.Future[None]]] = []
        # Started by the first row that finds none running; it ends as soon as nothing
        # waits, so it never outlives the check-ins it writes (nor the database).
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self, guild_id: int, day: dt.date, mood: int, feelings: Sequence[str] = ()
    ) -> None:
        """Store one check-in; returns only after it is committed."""
        row = _row(guild_id, day, mood, feelings)
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        self._waiting.append((row, committed))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write(), name="peerlight-checkin-writer")
        await committed

    async def _write(self) -> None:
        """Write what waits, a batch per transaction, until nothing does."""
        while self._waiting:
            batch = self._waiting[:WRITE_BATCH]
            del self._waiting[:WRITE_BATCH]
            # One multi-row INSERT: atomic on its own, and one round trip to the database.
            sql = _INSERT.removesuffix(_ROW_VALUES) + ", ".join([_ROW_VALUES] * len(batch))
            try:
                await self.database.execute_alone(sql, [v for row, _ in batch for v in row])
            except asyncio.CancelledError:
                # Stopped with the event loop: whether the batch was committed cannot be
                # told, so no one waiting is told it was.
                for _, committed in batch + self._waiting:
                    committed.cancel()
                self._waiting.clear()
                raise
            except Exception as error:
                # Nothing of the batch was stored, so every member in it is told so.
                for _, committed in batch:
                    if not committed.done():
                        committed.set_exception(error)
                continue
            for _, committed in batch:
                if not committed.done():  # a caller that gave up is skipped
                    committed.set_result(None)

    async def aclose(self) -> None:
        """Wait until every check-in handed to `record` so far is written (or failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait({self._writer})

    async def record_many(self, checkins: Iterable[tuple[int, dt.date, int, Sequence[str]]]) -> int:
        """Store many check-ins (guild id, day, mood, feelings) in one transaction, for
        seeding the tests' databases; a member's check-in is stored by `record`, on its own."""
        rows = [_row(*checkin) for checkin in checkins]
        async with self.database.transaction() as connection:
            await connection.executemany(_INSERT, rows)
        return len(rows)

    async def window(self, guild_id: int, end_day: dt.date, days: int) -> WindowData:
        """Raw counts for the `days` days ending with `end_day` (inclusive), split by week,
        and the mood counts of the same number of days just before them."""
        if days < 1:
            raise ValueError(f"a window has at least one day, not {days}")
        start = end_day - dt.timedelta(days=days - 1)
        previous_start = start - dt.timedelta(days=days)
        by_day = await self.database.fetchall(
            "SELECT day, mood, count(*) FROM checkins "
            "WHERE guild_id = ? AND day >= ? AND day <= ? "
            "GROUP BY day, mood",
            (guild_id, previous_start.isoformat(), end_day.isoformat()),
        )
        moods: dict[int, int] = defaultdict(int)
        previous: dict[int, int] = defaultdict(int)
        weeks: dict[dt.date, dict[int, int]] = {}
        monday = week_start(start)
        while monday <= end_day:
            weeks[monday] = {}
            monday += dt.timedelta(days=7)
        for day_text, mood, count in by_day:
            day = dt.date.fromisoformat(day_text)
            if day < start:
                previous[mood] += count
                continue
            moods[mood] += count
            week = weeks[week_start(day)]
            week[mood] = week.get(mood, 0) + count

        combinations = await self.database.fetchall(
            "SELECT feelings, count(*) FROM checkins "
            "WHERE guild_id = ? AND day >= ? AND day <= ? AND feelings != '' "
            "GROUP BY feelings",
            (guild_id, start.isoformat(), end_day.isoformat()),
        )
        feelings: dict[str, int] = defaultdict(int)
        for text, count in combinations:
            for feeling in text.split(" "):
                feelings[feeling] += count

        return WindowData(
            days=days,
            moods=dict(moods),
            feelings=dict(feelings),
            weekly=tuple(weeks.items()),
            previous_moods=dict(previous),
        )

    async def delete_older_than(self, day: dt.date) -> int:
        """Delete every server's check-ins from before `day`; return how many."""
        return await self._delete_in_batches("day < ?", (day.isoformat(),))

    async def delete_guild(self, guild_id: int) -> int:
        """Delete all of one server's check-ins; return how many."""
        return await self._delete_in_batches("guild_id = ?", (guild_id,))

    async def _delete_in_batches(self, where: str, params: tuple[object, ...]) -> int:
        # One transaction per batch: a large sweep (the first after a long downtime, or a
        # big server leaving) must not hold the write lock while members are checking in.
        deleted = 0
        while True:
            async with self.database.transaction() as connection:
                cursor = await connection.execute(
                    f"DELETE FROM checkins WHERE id IN "
                    f"(SELECT id FROM checkins WHERE {where} LIMIT {DELETE_BATCH:d})",
                    params,
                )
                batch = cursor.rowcount
            deleted += batch
            if batch < DELETE_BATCH:
                return deleted

    async def count(self, guild_id: int | None = None) -> int:
        if guild_id is None:
            row = await self.database.fetchone("SELECT count(*) FROM checkins")
        else:
            row = await self.database.fetchone(
                "SELECT count(*) FROM checkins WHERE guild_id = ?", (guild_id,)
            )
        return int(row[0]) if row else 0
