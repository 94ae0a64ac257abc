"""ShareLimit: a few shares per member per hour, held under pseudonyms only."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.shares import SHARE_WINDOW, SHARES_PER_HOUR, ShareLimit

KEY = bytes(range(32))
NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
MEMBER, OTHER = 1191300000000000101, 1191300000000000202


def test_a_few_shares_an_hour_then_the_wait_until_the_oldest_has_passed() -> None:
    limit = ShareLimit(KEY)
    assert SHARES_PER_HOUR == 3
    for minute in range(SHARES_PER_HOUR):
        assert limit.allow(MEMBER, NOW + dt.timedelta(minutes=minute))
    refused = limit.allow(MEMBER, NOW + dt.timedelta(minutes=20))
    assert not refused
    assert refused.wait == dt.timedelta(minutes=40)
    # Another member is not held back.
    assert limit.allow(OTHER, NOW + dt.timedelta(minutes=20))
    # An hour after the first share, one more is allowed, and only one.
    later = NOW + SHARE_WINDOW
    assert limit.allow(MEMBER, later)
    assert not limit.allow(MEMBER, later)


def test_a_released_share_does_not_count() -> None:
    limit = ShareLimit(KEY, limit=1)
    assert limit.allow(MEMBER, NOW)
    limit.release(MEMBER)
    assert limit.allow(MEMBER, NOW + dt.timedelta(seconds=1))
    assert not limit.allow(MEMBER, NOW + dt.timedelta(seconds=2))


def test_memory_holds_pseudonyms_only_and_only_for_the_last_hour() -> None:
    limit = ShareLimit(KEY)
    for n in range(50):
        limit.allow(MEMBER + n, NOW + dt.timedelta(minutes=n))
    assert len(limit) <= 61
    for key in limit.stored_keys():
        assert len(key) == 32
        assert str(MEMBER).encode() not in key
    limit.allow(OTHER, NOW + dt.timedelta(hours=5))
    assert len(limit) == 1


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ShareLimit(KEY, limit=0)
