""" "This helped" / "Not for me" on technique cards, counted the way check-ins are
(SAFETY.md §3, §4).

A vote is counted per server, UTC day, technique and verdict; who voted is never stored.
At most one vote per member, card and day counts, and at most `VOTES_PER_DAY` per member
and day in a server, both held by day claims (`bot.storage.daily`). So one member adds at
most 7 × 3 = 21 to a week's vote counts, and each week's counts get discrete Laplace
noise at scale 21 / ε once the week is over (ε = `privacy.epsilon`, a budget of its own
beside the check-ins'), are stored, and are read only as sums over completed weeks with
counts from 1 to k−1 hidden.

The ranking prior uses only those published sums: a technique's score is
(helped + 3k) / (helped + not for me + 6k), a hidden count read as nothing, so a technique
nobody voted on scores one half, noise alone moves a score little, and none ever scores
zero. Scores order techniques that
fit equally well; they never take one out of the running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from fractions import Fraction

from bot.domain.noise import MAX_COUNTED_PER_WEEK, MAX_EPSILON

__all__ = [
    "VOTES_PER_DAY",
    "VOTE_SERIES",
    "Verdict",
    "VoteOutcome",
    "VoteTotals",
    "cell",
    "cells",
    "prior",
    "score",
    "totals",
    "vote_scale",
]


class VoteOutcome(Enum):
    """What recording a member's vote did."""

    COUNTED = "counted"
    ALREADY = "already"  # this member voted on this card today
    DAILY_LIMIT = "limit"  # this member used today's votes in this server


VOTE_SERIES = "votes"
VOTES_PER_DAY = 3


class Verdict(StrEnum):
    HELPED = "helped"
    NOT_FOR_ME = "not"


def vote_sensitivity() -> int:
    """How much one member can add to a week's vote counts, over all cells."""
    return MAX_COUNTED_PER_WEEK * VOTES_PER_DAY


def vote_scale(epsilon: Fraction) -> Fraction:
    if not 0 < epsilon <= MAX_EPSILON:
        raise ValueError(f"ε must be above 0 and at most {MAX_EPSILON}, not {epsilon}")
    return vote_sensitivity() / epsilon


CELL_LENGTH = 60  # what a published cell may hold


def cell(technique_id: str, verdict: Verdict) -> str:
    """The technique's cell for this verdict: its id, or for an id too long to fit, a
    digest of it."""
    name = f"{technique_id}:{verdict.value}"
    if len(name) <= CELL_LENGTH:
        return name
    digest = hashlib.sha256(technique_id.encode("utf-8")).hexdigest()[:32]
    return f"#{digest}:{verdict.value}"


def cells(technique_ids: Iterable[str]) -> tuple[str, ...]:
    """Every cell of a week's vote table: each technique's two verdicts."""
    return tuple(cell(t, v) for t in sorted(technique_ids) for v in Verdict)


@dataclass(frozen=True)
class VoteTotals:
    """A technique's published totals; None where the count is hidden (1 to k−1)."""

    helped: int | None
    not_for_me: int | None

    @property
    def shown(self) -> bool:
        return bool(self.helped) or bool(self.not_for_me)


def _shown(count: int, k: int) -> int | None:
    return None if 0 < count < k else count


def totals(
    weeks: Iterable[Mapping[str, int]], technique_ids: Iterable[str], k: int
) -> dict[str, VoteTotals]:
    """Each technique's noisy counts summed over the stored weeks, then floored at zero
    (a week's noisy count may be negative), with counts from 1 to k−1 hidden."""
    weeks = list(weeks)
    out: dict[str, VoteTotals] = {}
    for technique_id in technique_ids:
        helped, not_for_me = (
            max(0, sum(week.get(cell(technique_id, v), 0) for week in weeks)) for v in Verdict
        )
        out[technique_id] = VoteTotals(_shown(helped, k), _shown(not_for_me, k))
    return out


# Pretend votes each way, in multiples of k: noise alone reaches a few k over four weeks
# (about ±20 at ε = 3), and such counts should move a score little.
PRETEND = 3


def score(votes: VoteTotals, k: int) -> Fraction:
    """(helped + 3k) / (helped + not for me + 6k): 3k pretend votes each way, so counts
    of the size noise alone reaches move the score little, and none reaches 0 or 1."""
    helped = votes.helped or 0
    not_for_me = votes.not_for_me or 0
    return Fraction(helped + PRETEND * k, helped + not_for_me + 2 * PRETEND * k)


def prior(published: Mapping[str, VoteTotals], k: int) -> dict[str, Fraction]:
    """The ranking prior: a score for every technique with a shown count."""
    return {t: score(v, k) for t, v in published.items() if v.shown}


def technique_number(technique_id: str) -> int:
    """A technique id as a number, for a day claim (which is made of numbers)."""
    return int.from_bytes(hashlib.sha256(technique_id.encode("utf-8")).digest()[:16], "big")


def day_of(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


@dataclass(frozen=True)
class LibraryVotes:
    """A technique's shown totals added up over servers, for specialists."""

    helped: int
    not_for_me: int
    servers: int  # servers where either count is shown


def across_servers(
    weeks_by_server: Mapping[int, Iterable[Mapping[str, int]]],
    technique_ids: Iterable[str],
    k: int,
) -> dict[str, LibraryVotes]:
    """Each server's published totals (`totals`), adding only the counts it shows: a
    count hidden in its server stays hidden in the sum."""
    ids = list(technique_ids)
    helped = dict.fromkeys(ids, 0)
    not_for_me = dict.fromkeys(ids, 0)
    servers = dict.fromkeys(ids, 0)
    for weeks in weeks_by_server.values():
        for technique_id, votes in totals(list(weeks), ids, k).items():
            helped[technique_id] += votes.helped or 0
            not_for_me[technique_id] += votes.not_for_me or 0
            servers[technique_id] += votes.shown
    return {t: LibraryVotes(helped[t], not_for_me[t], servers[t]) for t in ids}
