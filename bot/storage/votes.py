""" "This helped" / "Not for me": counters per server, day, technique and verdict, and
their weekly publication (SAFETY.md §3, §4; the rules in `bot.domain.votes`).

A vote is stored in one transaction with its claims: the card claim (one vote per member,
card and day) and one of `VOTES_PER_DAY` slot claims (at most that many votes per member
and day in a server). Claims are keyed hashes under the day's key (`bot.storage.daily`),
deleted with it when the day ends; the counter holds no one.

The ranking prior of each server is kept in memory for the current UTC week: it changes
only when a week is over and published, never because of one vote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.domain.periods import completed_weeks, fits_retention, week_start
from bot.domain.votes import (
    VOTE_SERIES,
    VOTES_PER_DAY,
    Verdict,
    VoteOutcome,
    VoteTotals,
    cell,
    cells,
    prior,
    technique_number,
    totals,
)
from bot.storage.daily import DailyLimit
from bot.storage.engine import Engine, Tx
from bot.storage.published import PeriodPublisher

__all__ = ["LONGEST_WEEKS", "VoteStore"]

# The prior and moderators' totals cover the last 4 completed weeks (fewer when votes are
# kept for less): each week adds its own noise to a sum, so a longer window is noisier
# (about ±20 over four weeks at ε = 3) as well as staler.
LONGEST_WEEKS = 4


class _NoSlot(Exception):
    """Raised inside the transaction to undo the card claim."""


@dataclass(frozen=True)
class _Prior:
    monday: dt.date
    scores: dict[str, Fraction]


class VoteStore:
    def __init__(self, database: Engine) -> None:
        self.database = database
        self.card = DailyLimit(database, "vote")
        self.slots = DailyLimit(database, "voteslot")
        self._priors: dict[int, _Prior] = {}

    async def record(
        self, guild_id: int, member_id: int, technique_id: str, verdict: Verdict, day: dt.date
    ) -> VoteOutcome:
        try:
            async with self.database.transaction() as tx:
                first = await self.card.claim(
                    tx, day, guild_id, member_id, technique_number(technique_id)
                )
                if not first:
                    return VoteOutcome.ALREADY
                if not await self._take_slot(tx, day, guild_id, member_id):
                    raise _NoSlot
                await tx.execute(
                    "INSERT INTO vote_counts (guild_id, day, technique, verdict, count) "
                    "VALUES (?, ?, ?, ?, 1) ON CONFLICT (guild_id, day, technique, verdict) "
                    "DO UPDATE SET count = vote_counts.count + 1",
                    (guild_id, day.isoformat(), technique_id, verdict.value),
                )
        except _NoSlot:
            return VoteOutcome.DAILY_LIMIT
        self.database.request_settle()
        return VoteOutcome.COUNTED

    async def _take_slot(self, tx: Tx, day: dt.date, guild_id: int, member_id: int) -> bool:
        for slot in range(VOTES_PER_DAY):
            if await self.slots.claim(tx, day, guild_id, member_id, slot):
                return True
        return False

    # -- publication --------------------------------------------------------------------

    async def publish_weeks(
        self,
        publisher: PeriodPublisher,
        scale: Fraction,
        guild_id: int,
        mondays: Iterable[dt.date],
        technique_ids: Iterable[str],
        min_group_size: int | None = None,
    ) -> int:
        """Store the noisy vote counts of these weeks (each already over) where not
        stored yet; return how many were published now."""
        table = cells(technique_ids)
        published = 0
        for monday in mondays:
            if monday.weekday() != 0:
                raise ValueError(f"a week starts on a Monday, not {monday}")
            published += await publisher.publish(
                guild_id, VOTE_SERIES, monday, table, scale, _week_votes, min_group_size
            )
        if published:
            self.database.request_settle()
        return published

    async def published_totals(
        self,
        publisher: PeriodPublisher,
        scale: Fraction,
        guild_id: int,
        today: dt.date,
        technique_ids: Sequence[str],
        k: int,
        retention_days: int,
    ) -> dict[str, VoteTotals]:
        """Each technique's published totals over the completed weeks the prior covers,
        publishing the weeks that are over and not stored yet."""
        mondays = completed_weeks(today, window_weeks(retention_days))
        await self.publish_weeks(publisher, scale, guild_id, mondays, technique_ids, k)
        weeks = await publisher.read(guild_id, VOTE_SERIES, mondays)
        return totals(weeks.values(), technique_ids, k)

    async def refresh_prior(
        self,
        publisher: PeriodPublisher,
        scale: Fraction,
        guild_id: int,
        today: dt.date,
        technique_ids: Sequence[str],
        k: int,
        retention_days: int,
    ) -> Mapping[str, Fraction]:
        """The server's prior for this UTC week: computed at its first use in the week."""
        monday = week_start(today)
        kept = self._priors.get(guild_id)
        if kept is None or kept.monday != monday:
            published = await self.published_totals(
                publisher, scale, guild_id, today, technique_ids, k, retention_days
            )
            kept = self._priors[guild_id] = _Prior(monday, prior(published, k))
        return kept.scores

    def has_prior(self, guild_id: int, today: dt.date) -> bool:
        """Whether the server's prior for `today`'s week is computed already."""
        kept = self._priors.get(guild_id)
        return kept is not None and kept.monday == week_start(today)

    def prior(self, guild_id: int | None) -> Mapping[str, Fraction]:
        """The server's prior as last computed (empty before its first use, and outside
        a server)."""
        if guild_id is None:
            return {}
        kept = self._priors.get(guild_id)
        return kept.scores if kept is not None else {}

    def forget_prior(self, guild_id: int) -> None:
        self._priors.pop(guild_id, None)

    async def published_by_server(
        self, mondays: Sequence[dt.date]
    ) -> dict[int, list[dict[str, int]]]:
        """Every server's stored vote weeks among `mondays` (none is published here)."""
        if not mondays:
            return {}
        rows = await self.database.fetchall(
            "SELECT guild_id, period_start, cell, value FROM published_cells "
            "WHERE series = ? AND period_start >= ? AND period_start <= ?",
            (VOTE_SERIES, min(mondays).isoformat(), max(mondays).isoformat()),
        )
        wanted = {monday.isoformat() for monday in mondays}
        weeks: dict[int, dict[str, dict[str, int]]] = {}
        for guild_id, start, name, value in rows:
            if start in wanted:
                weeks.setdefault(int(guild_id), {}).setdefault(str(start), {})[str(name)] = int(
                    value
                )
        return {guild: list(by_week.values()) for guild, by_week in weeks.items()}

    # -- retention ----------------------------------------------------------------------

    async def delete_older_than(self, day: dt.date) -> int:
        async with self.database.transaction() as tx:
            deleted = await tx.execute("DELETE FROM vote_counts WHERE day < ?", (day.isoformat(),))
        if deleted:
            self.database.request_settle()
        return deleted

    async def count(self, guild_id: int | None = None) -> int:
        """How many votes are stored (for one server, or all)."""
        if guild_id is None:
            row = await self.database.fetchone("SELECT coalesce(sum(count), 0) FROM vote_counts")
        else:
            row = await self.database.fetchone(
                "SELECT coalesce(sum(count), 0) FROM vote_counts WHERE guild_id = ?", (guild_id,)
            )
        return int(row[0]) if row else 0


def window_weeks(retention_days: int) -> int:
    """The most completed weeks (up to `LONGEST_WEEKS`) that retention keeps whole."""
    for weeks in range(LONGEST_WEEKS, 0, -1):
        if fits_retention(weeks, retention_days):
            return weeks
    return 0


async def _week_votes(tx: Tx, guild_id: int, monday: dt.date) -> dict[str, int]:
    sunday = monday + dt.timedelta(days=6)
    rows = await tx.fetchall(
        "SELECT technique, verdict, sum(count) FROM vote_counts "
        "WHERE guild_id = ? AND day >= ? AND day <= ? GROUP BY technique, verdict",
        (guild_id, monday.isoformat(), sunday.isoformat()),
    )
    return {cell(str(t), Verdict(str(v))): int(n) for t, v, n in rows}
