"""Which servers' data to forget, from which servers Discord says Peerlight is in
(SAFETY.md §3).

Discord tells a running bot when it is removed from a server, and Peerlight deletes that
server's data at once. A removal while the bot is offline sends nothing: the server is
simply missing from the list Discord gives at the next start (READY). A server that is
only unavailable (an outage on Discord's side) is in that list, marked unavailable, and
keeps its data.

A missing server is not forgotten at first sight. It is noted as absent with the time,
and its data is deleted at the first check at least `ABSENCE_GRACE` (7 days) later at
which it is still missing; seen again in between, the note is dropped. The grace covers
what would make a server look missing for a while without having removed Peerlight: the
bot started with another application's token or against a restored copy of the
database. Seven days is long enough for an operator to notice such a mistake and short
against the 90-day retention that would otherwise apply. Checks happen at every READY
and daily while the bot runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

__all__ = ["ABSENCE_GRACE", "Reconciliation", "reconcile"]

ABSENCE_GRACE = dt.timedelta(days=7)


@dataclass(frozen=True)
class Reconciliation:
    """What to do with the stored notes of absence, and which servers to forget."""

    note: frozenset[int]
    drop: frozenset[int]
    forget: frozenset[int]


def reconcile(
    stored: Collection[int],
    present: Collection[int],
    absent_since: Mapping[int, dt.datetime],
    now: dt.datetime,
    grace: dt.timedelta = ABSENCE_GRACE,
) -> Reconciliation:
    """`stored`: servers the database holds data for; `present`: servers Discord lists
    for the bot, unavailable ones included; `absent_since`: the notes kept so far."""
    missing = set(stored) - set(present)
    forget = {
        guild for guild in missing if guild in absent_since and now - absent_since[guild] >= grace
    }
    note = missing - set(absent_since)
    # Notes of servers that are back, or that have nothing left to forget.
    drop = (set(absent_since) - missing) | forget
    return Reconciliation(note=frozenset(note), drop=frozenset(drop), forget=frozenset(forget))
