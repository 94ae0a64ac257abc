"""FloodControl: one check-in per member per server per window, pseudonymous keys, bounded
memory, given times."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from bot.domain.flood import FloodControl
from bot.domain.pseudonym import Pseudonyms

SERVER = 1191204167300712345
OTHER_SERVER = 1191204167300799999
MEMBER = 1191199223139090086
OTHER = 1191178944775728282
NOON = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=6)


def flood(window: dt.timedelta = WINDOW) -> FloodControl:
    return FloodControl(secrets.token_bytes(32), window)


def test_one_check_in_per_window_with_the_time_left() -> None:
    control = flood()
    assert control.allow(SERVER, MEMBER, NOON)
    later = control.allow(SERVER, MEMBER, NOON + dt.timedelta(hours=1, minutes=30))
    assert not later
    assert later.wait == dt.timedelta(hours=4, minutes=30)
    assert control.allow(SERVER, OTHER, NOON + dt.timedelta(hours=1))
    assert not control.allow(SERVER, MEMBER, NOON + WINDOW - dt.timedelta(seconds=1))
    assert control.allow(SERVER, MEMBER, NOON + WINDOW)


def test_a_refused_check_in_does_not_restart_the_window() -> None:
    control = flood()
    control.allow(SERVER, MEMBER, NOON)
    control.allow(SERVER, MEMBER, NOON + dt.timedelta(hours=5))
    assert control.allow(SERVER, MEMBER, NOON + WINDOW)


def test_peek_changes_nothing() -> None:
    control = flood()
    assert control.peek(SERVER, MEMBER, NOON)
    assert control.allow(SERVER, MEMBER, NOON)
    peeked = control.peek(SERVER, MEMBER, NOON + dt.timedelta(hours=2))
    assert not peeked and peeked.wait == dt.timedelta(hours=4)
    assert len(control) == 1


def test_release_forgets_a_check_in_that_was_not_stored() -> None:
    control = flood()
    control.allow(SERVER, MEMBER, NOON)
    control.allow(SERVER, OTHER, NOON)
    control.release(SERVER, MEMBER)
    assert control.allow(SERVER, MEMBER, NOON + dt.timedelta(minutes=1))
    assert not control.allow(SERVER, OTHER, NOON + dt.timedelta(minutes=1))
    control.release(SERVER, 123)  # never seen: nothing to forget


def test_neither_the_raw_member_id_nor_the_server_id_is_ever_a_key() -> None:
    control = flood()
    control.allow(SERVER, MEMBER, NOON)
    control.allow(SERVER, OTHER, NOON)
    keys = list(control.stored_keys())
    assert len(keys) == 2
    for raw in (MEMBER, OTHER, SERVER):
        for key in keys:
            assert str(raw).encode() not in key
            assert str(raw) not in key.hex()
            assert raw.to_bytes(8, "big") not in key
            assert raw.to_bytes(8, "little") not in key


def test_keys_differ_between_start_ups() -> None:
    first, second = flood(), flood()
    assert first.pseudonym(SERVER, MEMBER) == first.pseudonym(SERVER, MEMBER)
    assert first.pseudonym(SERVER, MEMBER) != second.pseudonym(SERVER, MEMBER)
    assert len(first.pseudonym(SERVER, MEMBER)) == 32
    unkeyed = FloodControl(None, WINDOW), FloodControl(None, WINDOW)
    assert unkeyed[0].pseudonym(SERVER, MEMBER) != unkeyed[1].pseudonym(SERVER, MEMBER)


def test_a_check_in_in_one_server_does_not_hold_back_another() -> None:
    control = flood()
    assert control.allow(SERVER, MEMBER, NOON)
    assert control.allow(OTHER_SERVER, MEMBER, NOON + dt.timedelta(minutes=5))
    assert not control.allow(SERVER, MEMBER, NOON + dt.timedelta(minutes=10))
    assert not control.peek(OTHER_SERVER, MEMBER, NOON + dt.timedelta(minutes=10))
    assert control.pseudonym(SERVER, MEMBER) != control.pseudonym(OTHER_SERVER, MEMBER)
    assert len(control) == 2

    control.release(OTHER_SERVER, MEMBER)  # forgets that server's check-in only
    assert control.peek(OTHER_SERVER, MEMBER, NOON + dt.timedelta(minutes=10))
    assert not control.peek(SERVER, MEMBER, NOON + dt.timedelta(minutes=10))


def test_a_pseudonym_of_two_ids_is_not_a_pseudonym_of_their_digits_run_together() -> None:
    pseudonyms = Pseudonyms()
    assert pseudonyms.of(1, 23) != pseudonyms.of(12, 3)
    assert pseudonyms.of(SERVER, MEMBER) != pseudonyms.of(MEMBER, SERVER)
    assert pseudonyms.of(SERVER, MEMBER) != pseudonyms.of(MEMBER)
    assert Pseudonyms().of(MEMBER) != pseudonyms.of(MEMBER)  # a fresh random key each time
    key = secrets.token_bytes(32)
    assert Pseudonyms(key).of(SERVER, MEMBER) == Pseudonyms(key).of(SERVER, MEMBER)
    with pytest.raises(ValueError, match="at least one id"):
        pseudonyms.of()


def test_memory_holds_only_the_last_window() -> None:
    control = flood()
    for n in range(1000):
        control.allow(SERVER, n, NOON + dt.timedelta(seconds=n))
    assert len(control) == 1000
    control.peek(SERVER, MEMBER, NOON + WINDOW + dt.timedelta(seconds=499))
    assert len(control) == 500
    control.allow(SERVER, MEMBER, NOON + 2 * WINDOW)
    assert len(control) == 1


def test_a_clock_that_steps_back_never_stretches_the_wait() -> None:
    control = flood()
    control.allow(SERVER, MEMBER, NOON)
    refused = control.allow(SERVER, MEMBER, NOON - dt.timedelta(hours=2))
    assert not refused and refused.wait == WINDOW


def test_a_short_key_or_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="32 random bytes"):
        FloodControl(b"short", WINDOW)
    with pytest.raises(ValueError, match="longer than zero"):
        FloodControl(secrets.token_bytes(32), dt.timedelta(0))
