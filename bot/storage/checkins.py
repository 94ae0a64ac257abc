"""Anonymous check-ins: written as members finish them, read back only as counts.

What a row holds is fixed by SAFETY.md §3 and the `checkins` table's constraints: a random
id, the server, the UTC day, the mood and up to three feeling ids. A member's id is used
only for the day's claim (`bot.storage.daily`): a keyed hash under a key that is deleted
when the day ends, so nothing written here can be joined to a member afterwards.

Recording, for code that simulates a community (tests, the demo): `record(guild_id, day,
mood, feelings)` stores one check-in for the `day` given (any date; no clock is read), and
`record(..., member_id=...)` applies the one-per-day rule as a member's check-in does.
Moderators never see these rows: they see the noisy
weekly counts `publish_weeks` stores once a week is over (`bot.storage.published`).

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
from typing import Any

from bot.domain.checkins import MAX_FEELINGS, MOODS, WindowData
from bot.domain.noise import WeeklyBudget
from bot.domain.periods import week_start
from bot.storage.daily import DailyLimit, forget_past_days
from bot.storage.engine import Engine, Tx
from bot.storage.published import PeriodPublisher

__all__ = [
    "DELETE_BATCH",
    "FEELING_SERIES",
    "ID_BYTES",
    "MOOD_SERIES",
    "WRITE_BATCH",
    "CheckinStore",
    "WeekCells",
    "week_start",
]

ID_BYTES = 16
DELETE_BATCH = 5000
# At most this many check-ins in one transaction, so one commit stays short.
WRITE_BATCH = 1000
_FEELING_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_INSERT = "INSERT INTO checkins (id, guild_id, day, mood, feelings) VALUES (?, ?, ?, ?, ?)"
_ROW_VALUES = "(?, ?, ?, ?, ?)"
MOOD_SERIES = "checkin.mood"
FEELING_SERIES = "checkin.feeling"
MOOD_CELLS: tuple[str, ...] = tuple(str(mood) for mood in MOODS)
DAILY_TOPIC = "checkin"
# Noisy counts of one week: mood (1-5) → count, and feeling id → count.
WeekCells = tuple[dict[int, int], dict[str, int]]


def _insert_rows(count: int) -> str:
    return _INSERT.removesuffix(_ROW_VALUES) + ", ".join([_ROW_VALUES] * count)


def _values(batch: Sequence[tuple[_Row, Any, Any]]) -> list[object]:
    return [value for row, _, _ in batch for value in row]


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


_Waiting = tuple[_Row, int | None, asyncio.Future[bool]]


class CheckinStore:
    def __init__(self, database: Engine) -> None:
        self.database = database
        self.daily = DailyLimit(database, DAILY_TOPIC)
        # Rows waiting for the next transaction, each with the member whose day it claims
        # (None: not limited) and what its `record` awaits (True: counted).
        self._waiting: list[_Waiting] = []
        # Started by the first row that finds none running; it ends as soon as nothing
        # waits, so it never outlives the check-ins it writes (nor the database).
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self,
        guild_id: int,
        day: dt.date,
        mood: int,
        feelings: Sequence[str] = (),
        *,
        member_id: int | None = None,
    ) -> bool:
        """Store one check-in; returns only after it is committed. With `member_id`, only
        the member's first check-in of `day` in this server is stored: True when stored,
        False when the member had already checked in that day (nothing is written)."""
        row = _row(guild_id, day, mood, feelings)
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((row, member_id, committed))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write(), name="peerlight-checkin-writer")
        return await committed

    async def counted_today(self, guild_id: int, member_id: int, day: dt.date) -> bool:
        """Whether this member's check-in of `day` in this server is already stored."""
        return await self.daily.claimed(day, guild_id, member_id)

    async def _write(self) -> None:
        """Write what waits, a batch per transaction, until nothing does."""
        while self._waiting:
            batch = self._waiting[:WRITE_BATCH]
            del self._waiting[:WRITE_BATCH]
            try:
                counted = await self._store(batch)
            except asyncio.CancelledError:
                # Stopped with the event loop: whether the batch was committed cannot be
                # told, so no one waiting is told it was.
                for _, _, committed in batch + self._waiting:
                    committed.cancel()
                self._waiting.clear()
                raise
            except Exception as error:
                # Nothing of the batch was stored, so every member in it is told so.
                for _, _, committed in batch:
                    if not committed.done():
                        committed.set_exception(error)
                continue
            for (_, _, committed), stored in zip(batch, counted, strict=True):
                if not committed.done():  # a caller that gave up is skipped
                    committed.set_result(stored)
            self.database.request_settle()

    async def _store(self, batch: list[_Waiting]) -> list[bool]:
        """Each member's claim of the day and the check-ins that counted, in one
        transaction; without members, one multi-row INSERT, atomic on its own."""
        claims = [
            (index, (dt.date.fromisoformat(row[2]), (row[1], member_id)))
            for index, (row, member_id, _) in enumerate(batch)
            if member_id is not None
        ]
        if not claims:
            await self.database.execute_alone(_insert_rows(len(batch)), _values(batch))
            return [True] * len(batch)
        async with self.database.transaction() as tx:
            firsts = await self.daily.claim_many(tx, [claim for _, claim in claims])
            counted = [True] * len(batch)
            for (index, _), first in zip(claims, firsts, strict=True):
                counted[index] = first
            stored = [item for item, keep in zip(batch, counted, strict=True) if keep]
            if stored:
                await tx.execute(_insert_rows(len(stored)), _values(stored))
        return counted

    async def aclose(self) -> None:
        """Wait until every check-in handed to `record` so far is written (or failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait({self._writer})

    # -- publication ------------------------------------------------------------------

    async def publish_weeks(
        self,
        publisher: PeriodPublisher,
        budget: WeeklyBudget,
        guild_id: int,
        mondays: Iterable[dt.date],
        feelings: tuple[str, ...],
        min_group_size: int | None = None,
    ) -> int:
        """Store the noisy counts of these weeks (each already over) where not stored yet;
        return how many weeks were published now. `feelings`: the vocabulary's ids;
        `min_group_size`: the server's, kept with each week published now."""
        published = 0
        for monday in mondays:
            if monday.weekday() != 0:
                raise ValueError(f"a week starts on a Monday, not {monday}")
            published += await publisher.publish(
                guild_id,
                MOOD_SERIES,
                monday,
                MOOD_CELLS,
                budget.mood_scale,
                _week_moods,
                min_group_size,
            )
            await publisher.publish(
                guild_id,
                FEELING_SERIES,
                monday,
                feelings,
                budget.feeling_scale,
                _week_feelings,
                min_group_size,
            )
        if published:
            self.database.request_settle()
        return published

    async def published_weeks(
        self, publisher: PeriodPublisher, guild_id: int, mondays: list[dt.date]
    ) -> dict[dt.date, WeekCells]:
        """The stored noisy counts of these weeks (weeks not published are left out)."""
        moods = await publisher.read(guild_id, MOOD_SERIES, mondays)
        feelings = await publisher.read(guild_id, FEELING_SERIES, mondays)
        return {
            monday: (
                {int(cell): value for cell, value in moods[monday].items()},
                dict(feelings.get(monday, {})),
            )
            for monday in mondays
            if monday in moods
        }

    async def published_group_sizes(
        self, publisher: PeriodPublisher, guild_id: int, mondays: list[dt.date]
    ) -> list[int | None]:
        """The smallest group size each of these stored weeks was published under."""
        sizes = await publisher.group_sizes(guild_id, MOOD_SERIES, mondays)
        return [sizes[monday] for monday in mondays if monday in sizes]

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

    async def forget_past_days(self, today: dt.date) -> int:
        """Delete the day keys and claims of every day before `today`."""
        async with self.database.transaction() as tx:
            forgotten = await forget_past_days(tx, today)
        self.database.request_settle()
        return forgotten

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
            async with self.database.transaction() as tx:
                batch = await tx.execute(
                    f"DELETE FROM checkins WHERE id IN "
                    f"(SELECT id FROM checkins WHERE {where} LIMIT {DELETE_BATCH:d})",
                    params,
                )
            deleted += batch
            if batch < DELETE_BATCH:
                self.database.request_settle()
                return deleted

    async def count(self, guild_id: int | None = None) -> int:
        if guild_id is None:
            row = await self.database.fetchone("SELECT count(*) FROM checkins")
        else:
            row = await self.database.fetchone(
                "SELECT count(*) FROM checkins WHERE guild_id = ?", (guild_id,)
            )
        return int(row[0]) if row else 0


async def _week_rows(tx: Tx, sql: str, guild_id: int, monday: dt.date) -> list[Any]:
    sunday = monday + dt.timedelta(days=6)
    return await tx.fetchall(sql, (guild_id, monday.isoformat(), sunday.isoformat()))


async def _week_moods(tx: Tx, guild_id: int, monday: dt.date) -> dict[str, int]:
    rows = await _week_rows(
        tx,
        "SELECT mood, count(*) FROM checkins "
        "WHERE guild_id = ? AND day >= ? AND day <= ? GROUP BY mood",
        guild_id,
        monday,
    )
    return {str(mood): int(count) for mood, count in rows}


async def _week_feelings(tx: Tx, guild_id: int, monday: dt.date) -> dict[str, int]:
    rows = await _week_rows(
        tx,
        "SELECT feelings, count(*) FROM checkins "
        "WHERE guild_id = ? AND day >= ? AND day <= ? AND feelings != '' GROUP BY feelings",
        guild_id,
        monday,
    )
    counts: dict[str, int] = defaultdict(int)
    for text, count in rows:
        for feeling in str(text).split(" "):
            counts[feeling] += int(count)
    return dict(counts)
