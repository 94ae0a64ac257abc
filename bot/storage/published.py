"""Noisy counts of completed periods, computed once and stored (SAFETY.md §4).

A period (a UTC week, named by its Monday) is published at most once per server and
series: the raw counts are read, every cell of the series gets its own discrete Laplace
noise (`bot.domain.noise`), and the result is stored in the same transaction as the
mark that the period is done. Every later question reads the stored cells, so the same
question always gets the same answer, also after a restart, and nobody can ask again and
again to average the noise away.

Reuse (e.g. for "this helped" votes): pick a series name, the cells of its table, a noise
scale from the sensitivity of one member's week (`WeeklyBudget`), and a function that
reads the raw counts of one period inside the transaction; call `publish`, then `read`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from fractions import Fraction

from bot.domain.noise import Sampler, noisy_counts
from bot.storage.engine import Engine, Tx

__all__ = ["PeriodPublisher", "RawCounts"]

RawCounts = Callable[[Tx, int, dt.date], Awaitable[dict[str, int]]]


class PeriodPublisher:
    def __init__(self, database: Engine, sampler: Sampler) -> None:
        self.database = database
        self.sampler = sampler

    async def publish(
        self,
        guild_id: int,
        series: str,
        period_start: dt.date,
        cells: tuple[str, ...],
        scale: Fraction,
        raw: RawCounts,
        min_group_size: int | None = None,
    ) -> bool:
        """Store the noisy cells of one period unless already stored; True if stored now.
        Call it only for periods that are over: their raw counts can no longer change.
        `min_group_size`: the server's smallest group size at publication, kept with the
        period so that a later lowering never applies to it (`group_sizes`)."""
        start = period_start.isoformat()
        async with self.database.transaction() as tx:
            # Two processes may publish the same week at once: the period's row is the
            # claim, and the one that did not insert it stores nothing.
            claimed = await tx.execute(
                "INSERT INTO published_periods (guild_id, series, period_start, min_group_size) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, series, start, min_group_size),
            )
            if claimed != 1:
                return False
            counts = await raw(tx, guild_id, period_start)
            # Only the table's own cells: a cell that exists only because someone used it
            # (a feeling since removed from the vocabulary) would say so by being there.
            known = {cell: count for cell, count in counts.items() if cell in cells}
            noisy = noisy_counts(self.sampler, known, scale, cells)
            await tx.executemany(
                "INSERT INTO published_cells (guild_id, series, period_start, cell, value) "
                "VALUES (?, ?, ?, ?, ?)",
                [(guild_id, series, start, cell, value) for cell, value in sorted(noisy.items())],
            )
        return True

    async def read(
        self, guild_id: int, series: str, starts: list[dt.date]
    ) -> dict[dt.date, dict[str, int]]:
        """The stored cells of these periods (periods not published are left out)."""
        if not starts:
            return {}
        rows = await self.database.fetchall(
            "SELECT period_start, cell, value FROM published_cells "
            "WHERE guild_id = ? AND series = ? AND period_start >= ? AND period_start <= ?",
            (guild_id, series, min(starts).isoformat(), max(starts).isoformat()),
        )
        wanted = set(starts)
        out: dict[dt.date, dict[str, int]] = {}
        for start_text, cell, value in rows:
            start = dt.date.fromisoformat(start_text)
            if start in wanted:
                out.setdefault(start, {})[cell] = int(value)
        return out

    async def group_sizes(
        self, guild_id: int, series: str, starts: list[dt.date]
    ) -> dict[dt.date, int | None]:
        """The smallest group size each stored period was published under (None: not
        recorded, published before sizes were kept)."""
        if not starts:
            return {}
        rows = await self.database.fetchall(
            "SELECT period_start, min_group_size FROM published_periods "
            "WHERE guild_id = ? AND series = ? AND period_start >= ? AND period_start <= ?",
            (guild_id, series, min(starts).isoformat(), max(starts).isoformat()),
        )
        wanted = set(starts)
        sizes = {dt.date.fromisoformat(start): size for start, size in rows}
        return {
            start: (None if size is None else int(size))
            for start, size in sizes.items()
            if start in wanted
        }

    async def delete_before(self, day: dt.date) -> int:
        """Retention: delete every period that starts before `day`."""
        async with self.database.transaction() as tx:
            return await tx.execute(
                "DELETE FROM published_periods WHERE period_start < ?", (day.isoformat(),)
            )

    async def delete_guild(self, guild_id: int) -> int:
        async with self.database.transaction() as tx:
            return await tx.execute("DELETE FROM published_periods WHERE guild_id = ?", (guild_id,))
