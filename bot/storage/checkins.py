"""Anonymous check-ins in SQLite: written one at a time, read back only as counts.

What a row holds is fixed by SAFETY.md §3 and the `checkins` table's constraints: a random
id, the server, the UTC day, the mood and up to three feeling ids. Nothing passed to this
module identifies a member, so nothing written by it can.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence

from bot.domain.checkins import MOODS, WindowData
from bot.storage.database import Database

__all__ = ["DELETE_BATCH", "ID_BYTES", "MAX_FEELINGS", "CheckinStore", "week_start"]

ID_BYTES = 16
MAX_FEELINGS = 3
DELETE_BATCH = 5000
_FEELING_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_INSERT = "INSERT INTO checkins (id, guild_id, day, mood, feelings) VALUES (?, ?, ?, ?, ?)"


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week."""
    return day - dt.timedelta(days=day.weekday())


def _row(
    guild_id: int, day: dt.date, mood: int, feelings: Iterable[str]
) -> tuple[bytes, int, str, int, str]:
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

    async def record(
        self, guild_id: int, day: dt.date, mood: int, feelings: Sequence[str] = ()
    ) -> None:
        """Store one check-in; returns only after it is committed."""
        row = _row(guild_id, day, mood, feelings)
        async with self.database.transaction() as connection:
            await connection.execute(_INSERT, row)

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
