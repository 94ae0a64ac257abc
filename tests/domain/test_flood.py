"""FloodControl: one check-in per window, pseudonymous keys, bounded memory, given times."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from bot.domain.flood import FloodControl

MEMBER = 1191199223139090086
OTHER = 1191178944775728282
NOON = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=6)


def flood(window: dt.timedelta = WINDOW) -> FloodControl:
    return FloodControl(secrets.token_bytes(32), window)


def test_one_check_in_per_window_with_the_time_left() -> None:
    control = flood()
    assert control.allow(MEMBER, NOON)
    later = control.allow(MEMBER, NOON + dt.timedelta(hours=1, minutes=30))
    assert not later
    assert later.wait == dt.timedelta(hours=4, minutes=30)
    assert control.allow(OTHER, NOON + dt.timedelta(hours=1))
    assert not control.allow(MEMBER, NOON + WINDOW - dt.timedelta(seconds=1))
    assert control.allow(MEMBER, NOON + WINDOW)


def test_a_refused_check_in_does_not_restart_the_window() -> None:
    control = flood()
    control.allow(MEMBER, NOON)
    control.allow(MEMBER, NOON + dt.timedelta(hours=5))
    assert control.allow(MEMBER, NOON + WINDOW)


def test_peek_changes_nothing() -> None:
    control = flood()
    assert control.peek(MEMBER, NOON)
    assert control.allow(MEMBER, NOON)
    peeked = control.peek(MEMBER, NOON + dt.timedelta(hours=2))
    assert not peeked and peeked.wait == dt.timedelta(hours=4)
    assert len(control) == 1


def test_release_forgets_a_check_in_that_was_not_stored() -> None:
    control = flood()
    control.allow(MEMBER, NOON)
    control.allow(OTHER, NOON)
    control.release(MEMBER)
    assert control.allow(MEMBER, NOON + dt.timedelta(minutes=1))
    assert not control.allow(OTHER, NOON + dt.timedelta(minutes=1))
    control.release(123)  # never seen: nothing to forget


def test_the_raw_member_id_is_never_a_key() -> None:
    control = flood()
    control.allow(MEMBER, NOON)
    control.allow(OTHER, NOON)
    keys = list(control.stored_keys())
    assert len(keys) == 2
    for member_id in (MEMBER, OTHER):
        for key in keys:
            assert str(member_id).encode() not in key
            assert str(member_id) not in key.hex()
            assert member_id.to_bytes(8, "big") not in key
            assert member_id.to_bytes(8, "little") not in key


def test_keys_differ_between_start_ups() -> None:
    first, second = flood(), flood()
    assert first.pseudonym(MEMBER) == first.pseudonym(MEMBER)
    assert first.pseudonym(MEMBER) != second.pseudonym(MEMBER)
    assert len(first.pseudonym(MEMBER)) == 32


def test_memory_holds_only_the_last_window() -> None:
    control = flood()
    for n in range(1000):
        control.allow(n, NOON + dt.timedelta(seconds=n))
    assert len(control) == 1000
    control.peek(MEMBER, NOON + WINDOW + dt.timedelta(seconds=499))
    assert len(control) == 500
    control.allow(MEMBER, NOON + 2 * WINDOW)
    assert len(control) == 1


def test_a_clock_that_steps_back_never_stretches_the_wait() -> None:
    control = flood()
    control.allow(MEMBER, NOON)
    refused = control.allow(MEMBER, NOON - dt.timedelta(hours=2))
    assert not refused and refused.wait == WINDOW


def test_a_short_key_or_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="32 random bytes"):
        FloodControl(b"short", WINDOW)
    with pytest.raises(ValueError, match="longer than zero"):
        FloodControl(secrets.token_bytes(32), dt.timedelta(0))
