"""Schedules, their runs, and which prompts each server has already been shown.

Every read and write is scoped by server where a moderator can name a schedule, so an id
from another server is simply not found. The scheduler's writes (`claim`, `skip`,
`mark_sent`, `finish`) are each one transaction; see `bot/cogs/prompt_poster.py` for how they
make a post go out exactly once.

Prompt rotation is deterministic: within a cycle, a server sees the prompts of a kind in
an order shuffled by a hash of (server, kind, cycle), so `/schedule preview` can say
exactly which prompt comes next, and no prompt repeats until all of them were shown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime, next_occurrence
from bot.domain.shards import ShardSlice
from bot.storage.engine import Engine, Tx

__all__ = [
    "NewSchedule",
    "Run",
    "RunStatus",
    "Schedule",
    "ScheduleStore",
    "ShardSlice",
    "ShortIdsExhausted",
    "choose_prompt",
    "rotation_order",
]

SHORT_ID_ATTEMPTS = 50
# Finished runs older than this are only history nobody reads; unfinished ones are kept.
RUN_HISTORY_DAYS = 60


class RunStatus(StrEnum):
    CLAIMED = "claimed"  # taken by a scheduler; the post may or may not have gone out
    SENT = "sent"
    SKIPPED = "skipped"  # missed by more than the catch-up window, never attempted
    FAILED = "failed"  # attempted and given up (retries used up, or Discord refused)
    UNKNOWN = "unknown"  # a restart left it unfinished and nobody could tell if it arrived


class ShortIdsExhausted(RuntimeError):
    """No free short id was found; only possible with a broken id source."""


class ScheduleLimitReached(Exception):
    """The server already has as many schedules as it may; nothing was added."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a server keeps at most {limit} schedules")
        self.limit = limit


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times are stored as aware datetimes")
    # One fixed UTC format, so text order is time order in SQL comparisons.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _days_mask(days: Collection[int]) -> int:
    return sum(1 << day for day in set(days))


def _days_of(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask & (1 << day))


def _local_time(text: str) -> LocalTime:
    hour, minute = text.split(":")
    return LocalTime(int(hour), int(minute))


@dataclass(frozen=True)
class NewSchedule:
    guild_id: int
    channel_id: int
    at: LocalTime
    days: frozenset[int]
    timezone: str
    kind: PromptKind


@dataclass(frozen=True)
class Schedule:
    key: int
    guild_id: int
    short_id: str
    channel_id: int
    at: LocalTime
    days: frozenset[int]
    timezone: str
    kind: PromptKind
    created_at: datetime
    next_due: datetime
    paused_reason: str | None

    @property
    def paused(self) -> bool:
        return self.paused_reason is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def following(self, after: datetime) -> datetime:
        """The first occurrence strictly after `after`, in UTC."""
        return next_occurrence(after, self.at, self.days, self.zone)


@dataclass(frozen=True)
class Run:
    id: int
    schedule_key: int
    due: datetime
    status: RunStatus
    prompt_id: str | None
    claimed_at: datetime
    message_id: int | None
    attempts: int
    detail: str | None


_SCHEDULE_COLUMNS = (
    "key, guild_id, short_id, channel_id, local_time, days, timezone, kind, created_at, "
    "next_due, paused_reason"
)
_RUN_COLUMNS = "id, schedule_key, due, status, prompt_id, claimed_at, message_id, attempts, detail"


def _schedule(row: Sequence[Any]) -> Schedule:
    return Schedule(
        key=int(row[0]),
        guild_id=int(row[1]),
        short_id=str(row[2]),
        channel_id=int(row[3]),
        at=_local_time(str(row[4])),
        days=_days_of(int(row[5])),
        timezone=str(row[6]),
        kind=PromptKind(str(row[7])),
        created_at=_moment(str(row[8])),
        next_due=_moment(str(row[9])),
        paused_reason=None if row[10] is None else str(row[10]),
    )


def _run(row: Sequence[Any]) -> Run:
    return Run(
        id=int(row[0]),
        schedule_key=int(row[1]),
        due=_moment(str(row[2])),
        status=RunStatus(str(row[3])),
        prompt_id=None if row[4] is None else str(row[4]),
        claimed_at=_moment(str(row[5])),
        message_id=None if row[6] is None else int(row[6]),
        attempts=int(row[7]),
        detail=None if row[8] is None else str(row[8]),
    )


# -- prompt rotation (pure) -----------------------------------------------------------------


def rotation_order(
    guild_id: int, kind: PromptKind, cycle: int, prompt_ids: Iterable[str]
) -> list[str]:
    """The order a server sees a kind's prompts in during one cycle: shuffled, but the same
    every time it is asked, and different from one cycle to the next."""

    def rank(prompt_id: str) -> bytes:
        return hashlib.sha256(f"{guild_id}:{kind.value}:{cycle}:{prompt_id}".encode()).digest()

    return sorted(set(prompt_ids), key=rank)


def choose_prompt(
    guild_id: int,
    kind: PromptKind,
    prompt_ids: Collection[str],
    used: Collection[str],
    cycle: int,
    last: str | None,
) -> tuple[str, int] | None:
    """(the prompt to post next, the cycle it belongs to), or None when there are none.

    A new cycle starts when every current prompt was used; its first prompt is never the
    one shown last, so a cycle boundary cannot post the same prompt twice in a row.
    """
    if not prompt_ids:
        return None
    unused = [p for p in rotation_order(guild_id, kind, cycle, prompt_ids) if p not in used]
    if unused:
        return unused[0], cycle
    fresh = rotation_order(guild_id, kind, cycle + 1, prompt_ids)
    if len(fresh) > 1 and fresh[0] == last:
        return fresh[1], cycle + 1
    return fresh[0], cycle + 1


# -- the store --------------------------------------------------------------------------------


class ScheduleStore:
    def __init__(self, database: Engine, owner: str | None = None) -> None:
        self.database = database
        # Recorded with each claim: the process that is posting it (`unfinished_runs`).
        self.owner = database.owner if owner is None else owner

    # schedules, as moderators see them

    async def add(
        self,
        new: NewSchedule,
        *,
        now: datetime,
        make_short_id: Callable[[], str],
        limit: int | None = None,
    ) -> Schedule:
        """Save a schedule with a short id unused in its server; its first occurrence is
        the first one after `now`. With `limit`, raise `ScheduleLimitReached` when the
        server has that many already: counted inside the same write transaction as the
        insert, so two adds at once cannot both pass the count."""
        if not new.days:
            raise ValueError("a schedule needs at least one day")
        first_due = next_occurrence(now, new.at, new.days, ZoneInfo(new.timezone))
        async with self.database.transaction() as tx:
            if limit is not None:
                await self.database.hold(tx, _guild_lock(new.guild_id))
                row = await tx.fetchone(
                    "SELECT COUNT(*) FROM schedules WHERE guild_id = ?", (new.guild_id,)
                )
                if row is not None and int(row[0]) >= limit:
                    raise ScheduleLimitReached(limit)
            for _ in range(SHORT_ID_ATTEMPTS):
                short_id = make_short_id()
                inserted = await tx.fetchone(
                    "INSERT INTO schedules (guild_id, short_id, channel_id, local_time, days, "
                    "timezone, kind, created_at, next_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (guild_id, short_id) DO NOTHING RETURNING key",
                    (
                        new.guild_id,
                        short_id,
                        new.channel_id,
                        str(new.at),
                        _days_mask(new.days),
                        new.timezone,
                        new.kind.value,
                        _iso(now),
                        _iso(first_due),
                    ),
                )
                if inserted is not None:
                    key = int(inserted[0])
                    break
            else:
                raise ShortIdsExhausted(f"no free short id after {SHORT_ID_ATTEMPTS} tries")
        added = await self.get_by_key(key)
        assert added is not None
        return added

    async def for_guild(self, guild_id: int) -> list[Schedule]:
        rows = await self.database.fetchall(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE guild_id = ? "
            "ORDER BY paused_reason IS NOT NULL, next_due, short_id",
            (guild_id,),
        )
        return [_schedule(row) for row in rows]

    async def get(self, guild_id: int, short_id: str) -> Schedule | None:
        row = await self.database.fetchone(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE guild_id = ? AND short_id = ?",
            (guild_id, short_id.strip().lower()),
        )
        return _schedule(row) if row else None

    async def get_by_key(self, key: int) -> Schedule | None:
        row = await self.database.fetchone(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE key = ?", (key,)
        )
        return _schedule(row) if row else None

    async def count(self, guild_id: int) -> int:
        row = await self.database.fetchone(
            "SELECT COUNT(*) FROM schedules WHERE guild_id = ?", (guild_id,)
        )
        return int(row[0]) if row else 0

    async def remove(self, guild_id: int, short_id: str) -> Schedule | None:
        """Delete a schedule (and its runs); the schedule as it was, or None if not found."""
        found = await self.get(guild_id, short_id)
        if found is None:
            return None
        async with self.database.transaction() as tx:
            await tx.execute("DELETE FROM schedules WHERE key = ?", (found.key,))
        return found

    async def pause(self, guild_id: int, short_id: str, reason: str) -> Schedule | None:
        found = await self.get(guild_id, short_id)
        if found is None:
            return None
        await self.pause_key(found.key, reason)
        return await self.get_by_key(found.key)

    async def pause_key(self, key: int, reason: str) -> None:
        async with self.database.transaction() as tx:
            await tx.execute("UPDATE schedules SET paused_reason = ? WHERE key = ?", (reason, key))

    async def pause_channel(self, channel_id: int, reason: str) -> int:
        """Pause every active schedule posting to a channel; how many were paused."""
        async with self.database.transaction() as tx:
            return await tx.execute(
                "UPDATE schedules SET paused_reason = ? "
                "WHERE channel_id = ? AND paused_reason IS NULL",
                (reason, channel_id),
            )

    async def resume(self, guild_id: int, short_id: str, *, now: datetime) -> Schedule | None:
        """Clear the pause; the next occurrence is the first one after `now`, so a resume
        never posts what was missed while paused."""
        found = await self.get(guild_id, short_id)
        if found is None:
            return None
        async with self.database.transaction() as tx:
            await tx.execute(
                "UPDATE schedules SET paused_reason = NULL, next_due = ? WHERE key = ?",
                (_iso(found.following(now)), found.key),
            )
        return await self.get_by_key(found.key)

    async def set_next_due(self, key: int, when: datetime) -> None:
        async with self.database.transaction() as tx:
            await tx.execute("UPDATE schedules SET next_due = ? WHERE key = ?", (_iso(when), key))

    async def delete_guild(self, guild_id: int) -> int:
        """Forget a server: its schedules, their runs, and its prompt rotation."""
        async with self.database.transaction() as tx:
            removed = await tx.execute("DELETE FROM schedules WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM prompt_usage WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM prompt_cycles WHERE guild_id = ?", (guild_id,))
        return removed

    # the scheduler

    async def due(self, now: datetime, shards: ShardSlice | None = None) -> list[Schedule]:
        """Active schedules due by `now`; with `shards`, only those of servers on them."""
        where, params = _on_shards(shards, "guild_id")
        rows = await self.database.fetchall(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules "
            f"WHERE paused_reason IS NULL AND next_due <= ?{where} ORDER BY next_due, key",
            (_iso(now), *params),
        )
        return [_schedule(row) for row in rows]

    async def earliest_due(self, shards: ShardSlice | None = None) -> datetime | None:
        where, params = _on_shards(shards, "guild_id")
        row = await self.database.fetchone(
            f"SELECT MIN(next_due) FROM schedules WHERE paused_reason IS NULL{where}", params
        )
        return _moment(str(row[0])) if row and row[0] is not None else None

    async def claim(
        self,
        schedule: Schedule,
        due: datetime,
        *,
        now: datetime,
        next_due: datetime,
        prompt_ids: Collection[str],
    ) -> Run | None:
        """Take charge of posting `schedule`'s occurrence at `due`, in one transaction:
        record the run, choose its prompt (and mark it used), and move the schedule's
        `next_due` on.

        None when there is nothing to post: the occurrence was already claimed (then only
        `next_due` moves on), the schedule is gone or paused, or the kind has no prompts.
        """
        try:
            async with self.database.transaction() as tx:
                # The schedule's row is taken for this transaction: another process
                # claiming the same schedule now passes it over (PostgreSQL), or waits
                # for this one to finish (SQLite's single writer).
                current = await tx.fetchone(
                    "SELECT paused_reason FROM schedules WHERE key = ?" + self.database.claim_lock,
                    (schedule.key,),
                )
                if current is None or current[0] is not None:
                    return None
                await tx.execute(
                    "UPDATE schedules SET next_due = ? WHERE key = ?",
                    (_iso(next_due), schedule.key),
                )
                chosen = await self._take_prompt(tx, schedule.guild_id, schedule.kind, prompt_ids)
                if chosen is None:
                    return None
                inserted = await tx.fetchone(
                    "INSERT INTO schedule_runs "
                    "(schedule_key, due, status, prompt_id, claimed_at, owner) "
                    "VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (schedule_key, due) DO NOTHING RETURNING id",
                    (
                        schedule.key,
                        _iso(due),
                        RunStatus.CLAIMED.value,
                        chosen,
                        _iso(now),
                        self.owner,
                    ),
                )
                if inserted is None:
                    # Roll back the prompt bookkeeping: this claim posts nothing.
                    raise _AlreadyClaimed()
                run_id = int(inserted[0])
                await self._prune_runs(tx, schedule.key, now)
        except _AlreadyClaimed:
            await self.set_next_due(schedule.key, next_due)
            return None
        return Run(
            id=run_id,
            schedule_key=schedule.key,
            # As stored, so this run and one read back after a restart are equal.
            due=_moment(_iso(due)),
            status=RunStatus.CLAIMED,
            prompt_id=chosen,
            claimed_at=_moment(_iso(now)),
            message_id=None,
            attempts=0,
            detail=None,
        )

    async def skip(
        self, schedule: Schedule, due: datetime, *, now: datetime, next_due: datetime, detail: str
    ) -> None:
        """Record that an occurrence will not be posted, and move `next_due` on."""
        async with self.database.transaction() as tx:
            await tx.execute(
                "INSERT INTO schedule_runs "
                "(schedule_key, due, status, claimed_at, detail) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (schedule_key, due) DO NOTHING",
                (schedule.key, _iso(due), RunStatus.SKIPPED.value, _iso(now), detail),
            )
            await tx.execute(
                "UPDATE schedules SET next_due = ? WHERE key = ?", (_iso(next_due), schedule.key)
            )

    async def mark_sent(self, run: Run, message_id: int, *, attempts: int | None = None) -> None:
        async with self.database.transaction() as tx:
            await tx.execute(
                "UPDATE schedule_runs SET status = ?, message_id = ?, attempts = ? WHERE id = ?",
                (
                    RunStatus.SENT.value,
                    message_id,
                    run.attempts if attempts is None else attempts,
                    run.id,
                ),
            )

    async def finish(self, run: Run, status: RunStatus, detail: str, *, attempts: int) -> None:
        """Close a run that did not end in a post."""
        if status in (RunStatus.CLAIMED, RunStatus.SENT):
            raise ValueError(f"finish() records outcomes without a post, not {status}")
        async with self.database.transaction() as tx:
            await tx.execute(
                "UPDATE schedule_runs SET status = ?, detail = ?, attempts = ? WHERE id = ?",
                (status.value, detail, attempts, run.id),
            )

    async def unfinished_runs(self, shards: ShardSlice | None = None) -> list[tuple[Run, Schedule]]:
        """Claimed runs with no outcome, left behind by a process that stopped mid-post:
        never the runs of a process that still has the database open (another process
        sharing it, or this one), whose posts may be on their way right now. With
        `shards`, only those of servers on them."""
        where, params = _on_shards(shards, "s.guild_id")
        rows = await self.database.fetchall(
            f"SELECT {', '.join('r.' + c.strip() for c in _RUN_COLUMNS.split(','))}, "
            f"{', '.join('s.' + c.strip() for c in _SCHEDULE_COLUMNS.split(','))}, r.owner "
            "FROM schedule_runs r JOIN schedules s ON s.key = r.schedule_key "
            f"WHERE r.status = ?{where} ORDER BY r.due, r.id",
            (RunStatus.CLAIMED.value, *params),
        )
        if not rows:
            return []
        live = await self.database.live_owners()
        width = len(_RUN_COLUMNS.split(","))
        return [
            (_run(row[:width]), _schedule(row[width:-1]))
            for row in rows
            if row[-1] is None or row[-1] not in live
        ]

    async def runs(self, schedule_key: int) -> list[Run]:
        rows = await self.database.fetchall(
            f"SELECT {_RUN_COLUMNS} FROM schedule_runs WHERE schedule_key = ? ORDER BY due, id",
            (schedule_key,),
        )
        return [_run(row) for row in rows]

    async def last_runs(self, guild_id: int) -> dict[int, Run]:
        """The latest run of each of a server's schedules, by schedule key."""
        rows = await self.database.fetchall(
            f"SELECT {', '.join('r.' + c.strip() for c in _RUN_COLUMNS.split(','))} "
            "FROM schedule_runs r JOIN schedules s ON s.key = r.schedule_key "
            "WHERE s.guild_id = ? AND r.due = "
            "(SELECT MAX(due) FROM schedule_runs WHERE schedule_key = r.schedule_key)",
            (guild_id,),
        )
        return {run.schedule_key: run for run in map(_run, rows)}

    # prompt rotation

    async def next_prompt(
        self, guild_id: int, kind: PromptKind, prompt_ids: Collection[str]
    ) -> str | None:
        """The prompt the next post of this kind in this server will carry."""
        used, cycle, last = await self._rotation(guild_id, kind)
        chosen = choose_prompt(guild_id, kind, prompt_ids, used, cycle, last)
        return chosen[0] if chosen else None

    async def unused_prompts(
        self, guild_id: int, kind: PromptKind, prompt_ids: Collection[str]
    ) -> int:
        """How many of the kind's prompts this server has not been shown in this cycle."""
        used, _, _ = await self._rotation(guild_id, kind)
        return len(set(prompt_ids) - used)

    async def _rotation(
        self, guild_id: int, kind: PromptKind, tx: Tx | None = None
    ) -> tuple[set[str], int, str | None]:
        reader: Tx | Engine = self.database if tx is None else tx
        rows = await reader.fetchall(
            "SELECT prompt_id FROM prompt_usage WHERE guild_id = ? AND kind = ?",
            (guild_id, kind.value),
        )
        cycle_row = await reader.fetchone(
            "SELECT cycle, last_prompt_id FROM prompt_cycles WHERE guild_id = ? AND kind = ?",
            (guild_id, kind.value),
        )
        cycle = int(cycle_row[0]) if cycle_row else 0
        last = str(cycle_row[1]) if cycle_row and cycle_row[1] is not None else None
        return {str(row[0]) for row in rows}, cycle, last

    async def _take_prompt(
        self, tx: Tx, guild_id: int, kind: PromptKind, prompt_ids: Collection[str]
    ) -> str | None:
        """Choose and record the next prompt, inside the claim's transaction."""
        # Two schedules of one server and kind claimed at once by two processes would
        # otherwise both read the same rotation and post the same prompt.
        await self.database.hold(tx, _rotation_lock(guild_id, kind))
        used, cycle, last = await self._rotation(guild_id, kind, tx)
        chosen = choose_prompt(guild_id, kind, prompt_ids, used, cycle, last)
        if chosen is None:
            return None
        prompt_id, chosen_cycle = chosen
        if chosen_cycle != cycle:
            await tx.execute(
                "DELETE FROM prompt_usage WHERE guild_id = ? AND kind = ?", (guild_id, kind.value)
            )
        await tx.execute(
            "INSERT INTO prompt_usage (guild_id, kind, prompt_id) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (guild_id, kind.value, prompt_id),
        )
        await tx.execute(
            "INSERT INTO prompt_cycles (guild_id, kind, cycle, last_prompt_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, kind) DO UPDATE SET "
            "cycle = excluded.cycle, last_prompt_id = excluded.last_prompt_id",
            (guild_id, kind.value, chosen_cycle, prompt_id),
        )
        return prompt_id

    async def _prune_runs(self, tx: Tx, schedule_key: int, now: datetime) -> None:
        """Drop old finished runs, inside the claim's transaction."""
        cutoff = now.astimezone(UTC) - timedelta(days=RUN_HISTORY_DAYS)
        await tx.execute(
            "DELETE FROM schedule_runs WHERE schedule_key = ? AND status != ? AND due < ?",
            (schedule_key, RunStatus.CLAIMED.value, _iso(cutoff)),
        )


def _on_shards(shards: ShardSlice | None, column: str) -> tuple[str, tuple[int, ...]]:
    """The SQL condition (and its parameters) that keeps the servers on `shards`."""
    if shards is None:
        return "", ()
    return f" AND (({column} >> 22) % ?) BETWEEN ? AND ?", (
        shards.count,
        shards.first,
        shards.last,
    )


def _rotation_lock(guild_id: int, kind: PromptKind) -> int:
    """A 63-bit number naming one server's rotation of one kind, for `Engine.hold`."""
    digest = hashlib.sha256(f"rotation:{guild_id}:{kind.value}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _guild_lock(guild_id: int) -> int:
    digest = hashlib.sha256(f"schedules:{guild_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class _AlreadyClaimed(Exception):
    """Raised inside `claim`'s transaction so its prompt bookkeeping is rolled back."""
