"""VoteStore: one vote per member, card and day; a few a day; counters that hold no one."""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.votes import VOTES_PER_DAY, Verdict, VoteOutcome
from bot.storage.database import Database
from bot.storage.engine import Engine
from bot.storage.published import PeriodPublisher
from bot.storage.votes import VoteStore, window_weeks

SERVER, OTHER_SERVER = 1191204167300900001, 1191204167300900002
MEMBER, OTHER = 1191300000000077701, 1191300000000077702
MONDAY = dt.date(2026, 3, 2)
SCALE = Fraction(7)


@pytest.fixture
def database(engine: Engine) -> Engine:
    """On each engine in turn (tests/conftest.py)."""
    return engine


async def counters(database: Engine) -> list[tuple[object, ...]]:
    rows = await database.fetchall(
        "SELECT guild_id, day, technique, verdict, count FROM vote_counts ORDER BY 1, 2, 3, 4"
    )
    return [tuple(r) for r in rows]


async def test_one_vote_per_member_card_and_day(database: Engine) -> None:
    store = VoteStore(database)
    vote = store.record
    assert (
        await vote(SERVER, MEMBER, "box-breathing", Verdict.HELPED, MONDAY) is VoteOutcome.COUNTED
    )
    # The same card again, either verdict: not counted.
    for verdict in Verdict:
        again = await vote(SERVER, MEMBER, "box-breathing", verdict, MONDAY)
        assert again is VoteOutcome.ALREADY
    assert (
        await vote(SERVER, OTHER, "box-breathing", Verdict.NOT_FOR_ME, MONDAY)
        is VoteOutcome.COUNTED
    )
    tomorrow = MONDAY + dt.timedelta(days=1)
    assert (
        await vote(SERVER, MEMBER, "box-breathing", Verdict.HELPED, tomorrow) is VoteOutcome.COUNTED
    )
    assert await counters(database) == [
        (SERVER, "2026-03-02", "box-breathing", "helped", 1),
        (SERVER, "2026-03-02", "box-breathing", "not", 1),
        (SERVER, "2026-03-03", "box-breathing", "helped", 1),
    ]


async def test_at_most_a_few_votes_per_member_and_day_in_a_server(database: Engine) -> None:
    store = VoteStore(database)
    ids = [f"technique-{n}" for n in range(VOTES_PER_DAY + 1)]
    for technique in ids[:VOTES_PER_DAY]:
        assert (
            await store.record(SERVER, MEMBER, technique, Verdict.HELPED, MONDAY)
            is VoteOutcome.COUNTED
        )
    over = await store.record(SERVER, MEMBER, ids[-1], Verdict.HELPED, MONDAY)
    assert over is VoteOutcome.DAILY_LIMIT
    # Refused whole: the card's claim is undone too, so tomorrow it counts.
    assert await store.count() == VOTES_PER_DAY
    assert await store.record(SERVER, OTHER, ids[-1], Verdict.HELPED, MONDAY) is VoteOutcome.COUNTED
    assert (
        await store.record(OTHER_SERVER, MEMBER, ids[-1], Verdict.HELPED, MONDAY)
        is VoteOutcome.COUNTED
    )
    tomorrow = MONDAY + dt.timedelta(days=1)
    assert (
        await store.record(SERVER, MEMBER, ids[-1], Verdict.HELPED, tomorrow) is VoteOutcome.COUNTED
    )


async def test_the_files_hold_no_member_id(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "votes.sqlite3") as database:
        store = VoteStore(database)
        for n in range(VOTES_PER_DAY):
            await store.record(SERVER, MEMBER, f"technique-{n}", Verdict.HELPED, MONDAY)
        await database.settle()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("votes.sqlite3*"))  # noqa: ASYNC240
    assert data
    assert str(MEMBER).encode() not in data
    assert MEMBER.to_bytes(8, "big") not in data and MEMBER.to_bytes(8, "little") not in data


async def test_weeks_are_published_once_and_small_totals_hidden(database: Engine) -> None:
    store = VoteStore(database)
    publisher = PeriodPublisher(database, random.Random(5))
    for n in range(40):
        await store.record(SERVER, MEMBER + n, "box-breathing", Verdict.HELPED, MONDAY)
    await store.record(SERVER, MEMBER, "urge-surfing", Verdict.NOT_FOR_ME, MONDAY)
    ids = ["box-breathing", "urge-surfing"]
    today = MONDAY + dt.timedelta(days=7)
    first = await store.published_totals(publisher, SCALE, SERVER, today, ids, 10, 90)
    again = await store.published_totals(publisher, SCALE, SERVER, today, ids, 10, 90)
    assert first == again  # stored once: no fresh noise to average
    helped = first["box-breathing"].helped
    assert helped is not None and helped >= 10
    assert first["urge-surfing"].not_for_me is None or first["urge-surfing"].not_for_me >= 10
    for totals in first.values():
        for value in (totals.helped, totals.not_for_me):
            assert value is None or value == 0 or value >= 10


async def test_the_prior_changes_only_when_a_week_is_over(database: Engine) -> None:
    store = VoteStore(database)
    publisher = PeriodPublisher(database, random.Random(3))
    ids = ["box-breathing", "urge-surfing"]
    before = dict(await store.refresh_prior(publisher, SCALE, SERVER, MONDAY, ids, 10, 90))
    for n in range(60):
        await store.record(SERVER, MEMBER + n, "box-breathing", Verdict.HELPED, MONDAY)
    # Votes of the week in progress change nothing, on any day of it.
    later = MONDAY + dt.timedelta(days=6)
    assert store.has_prior(SERVER, later)
    assert await store.refresh_prior(publisher, SCALE, SERVER, later, ids, 10, 90) == before
    next_week = MONDAY + dt.timedelta(days=7)
    assert not store.has_prior(SERVER, next_week)
    after = await store.refresh_prior(publisher, SCALE, SERVER, next_week, ids, 10, 90)
    assert after["box-breathing"] > before.get("box-breathing", Fraction(1, 2))
    assert store.prior(SERVER) == after and store.prior(None) == {}


async def test_retention_deletes_old_counters(database: Engine) -> None:
    store = VoteStore(database)
    await store.record(SERVER, MEMBER, "a", Verdict.HELPED, MONDAY - dt.timedelta(days=100))
    await store.record(SERVER, MEMBER, "a", Verdict.HELPED, MONDAY)
    assert await store.delete_older_than(MONDAY - dt.timedelta(days=90)) == 1
    assert await store.count() == 1


def test_the_window_is_twelve_weeks_or_what_retention_keeps() -> None:
    assert window_weeks(90) == 4
    assert window_weeks(30) == 3
    assert window_weeks(10) == 0
