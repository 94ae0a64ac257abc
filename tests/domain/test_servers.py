"""Which servers to forget: missing ones after the grace, never present or unavailable ones."""

from __future__ import annotations

import datetime as dt

from bot.domain.servers import ABSENCE_GRACE, reconcile

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def test_a_missing_server_is_noted_not_forgotten_at_first_sight() -> None:
    plan = reconcile(stored={1, 2}, present={1}, absent_since={}, now=NOW)
    assert plan.note == {2}
    assert plan.forget == set() and plan.drop == set()


def test_a_missing_server_is_forgotten_once_the_grace_is_over() -> None:
    noted = {2: NOW - ABSENCE_GRACE}
    plan = reconcile(stored={1, 2}, present={1}, absent_since=noted, now=NOW)
    assert plan.forget == {2}
    assert plan.drop == {2}  # its note goes with it
    assert plan.note == set()


def test_a_moment_before_the_grace_is_over_it_is_kept() -> None:
    noted = {2: NOW - ABSENCE_GRACE + dt.timedelta(seconds=1)}
    plan = reconcile(stored={1, 2}, present={1}, absent_since=noted, now=NOW)
    assert plan.forget == set() and plan.note == set() and plan.drop == set()


def test_a_server_seen_again_loses_its_note_and_keeps_its_data() -> None:
    noted = {2: NOW - 3 * ABSENCE_GRACE}
    plan = reconcile(stored={1, 2}, present={1, 2}, absent_since=noted, now=NOW)
    assert plan.forget == set()
    assert plan.drop == {2}


def test_a_note_with_no_data_left_is_dropped() -> None:
    plan = reconcile(stored={1}, present={1}, absent_since={9: NOW}, now=NOW)
    assert plan.drop == {9} and plan.forget == set()


def test_the_grace_is_a_week() -> None:
    assert dt.timedelta(days=7) == ABSENCE_GRACE
