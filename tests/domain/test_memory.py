"""MemberMemory: pseudonymous keys, a bounded size, recency and cooldowns with given times."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from bot.domain.memory import CRISIS_BLOCK_COOLDOWN, MemberMemory, Shown
from bot.domain.pseudonym import Pseudonyms

MEMBER = 1191199223139090086
OTHER = 1191178944775728282
NOON = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def memory(**kwargs: int) -> MemberMemory:
    return MemberMemory(secrets.token_bytes(32), **kwargs)


def test_the_raw_member_id_is_never_a_key() -> None:
    mem = memory()
    mem.remember(MEMBER, Shown.TECHNIQUE, "box-breathing")
    assert mem.claim_crisis_block(OTHER, NOON)
    keys = list(mem.stored_keys())
    assert len(keys) == 2
    for member_id in (MEMBER, OTHER):
        decimal = str(member_id)
        for key in keys:
            assert decimal.encode() not in key
            assert decimal not in key.hex()
            assert member_id.to_bytes(8, "big") not in key


def test_keys_are_stable_within_an_instance_and_differ_between_instances() -> None:
    first, second = memory(), memory()
    assert first.pseudonym(MEMBER) == first.pseudonym(MEMBER)
    assert first.pseudonym(MEMBER) != first.pseudonym(OTHER)
    assert first.pseudonym(MEMBER) != second.pseudonym(MEMBER)
    first.remember(MEMBER, Shown.TECHNIQUE, "box-breathing")
    assert second.recent(MEMBER, Shown.TECHNIQUE) == ()


def test_the_same_key_gives_the_same_pseudonym() -> None:
    key = secrets.token_bytes(32)
    assert MemberMemory(key).pseudonym(MEMBER) == MemberMemory(key).pseudonym(MEMBER)


def test_without_a_key_each_memory_makes_its_own() -> None:
    assert MemberMemory().pseudonym(MEMBER) != MemberMemory().pseudonym(MEMBER)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        MemberMemory(b"too short")


def test_the_least_recently_seen_member_is_forgotten_past_capacity() -> None:
    mem = memory(capacity=3)
    for member_id in (1, 2, 3):
        mem.remember(member_id, Shown.STORY, f"story-{member_id}")
    mem.recent(1, Shown.STORY)  # member 1 is seen again, so member 2 is now the oldest
    mem.remember(4, Shown.STORY, "story-4")
    assert len(mem) == 3
    assert mem.recent(2, Shown.STORY) == ()
    assert mem.recent(1, Shown.STORY) == ("story-1",)
    assert mem.recent(4, Shown.STORY) == ("story-4",)


def test_reading_an_unknown_member_stores_nothing() -> None:
    mem = memory()
    assert mem.recent(MEMBER, Shown.TECHNIQUE) == ()
    assert len(mem) == 0


def test_recent_is_latest_first_bounded_and_per_kind() -> None:
    mem = memory(recent_limit=3)
    for item in ("a", "b", "c", "d"):
        mem.remember(MEMBER, Shown.TECHNIQUE, item)
    assert mem.recent(MEMBER, Shown.TECHNIQUE) == ("d", "c", "b")
    mem.remember(MEMBER, Shown.TECHNIQUE, "c")
    assert mem.recent(MEMBER, Shown.TECHNIQUE) == ("c", "d", "b")
    assert mem.recent(MEMBER, Shown.STORY) == ()


def test_pick_fresh_prefers_the_best_ranked_unseen_then_the_longest_ago() -> None:
    mem = memory()
    assert mem.pick_fresh(MEMBER, Shown.TECHNIQUE, []) is None
    ranked = ["a", "b", "c"]
    assert [mem.pick_fresh(MEMBER, Shown.TECHNIQUE, ranked) for _ in range(3)] == ranked
    # All three were shown lately: the one shown longest ago comes round again.
    assert mem.pick_fresh(MEMBER, Shown.TECHNIQUE, ranked) == "a"
    assert mem.pick_fresh(MEMBER, Shown.TECHNIQUE, ranked) == "b"
    assert mem.pick_fresh(MEMBER, Shown.TECHNIQUE, ["c", "z"]) == "z"


def test_the_crisis_block_cools_down_for_ten_minutes() -> None:
    mem = memory()
    assert mem.claim_crisis_block(MEMBER, NOON)
    assert not mem.claim_crisis_block(MEMBER, NOON + dt.timedelta(minutes=5))
    # A refused claim does not restart the cooldown.
    assert not mem.claim_crisis_block(
        MEMBER, NOON + CRISIS_BLOCK_COOLDOWN - dt.timedelta(seconds=1)
    )
    assert mem.claim_crisis_block(MEMBER, NOON + CRISIS_BLOCK_COOLDOWN)
    assert not mem.claim_crisis_block(
        MEMBER, NOON + CRISIS_BLOCK_COOLDOWN + dt.timedelta(minutes=1)
    )
    assert mem.claim_crisis_block(OTHER, NOON + dt.timedelta(minutes=1))


def test_cooldowns_are_per_action_and_can_be_released() -> None:
    mem = memory()
    window = dt.timedelta(minutes=10)
    assert mem.claim(MEMBER, "reach-out", NOON, window)
    assert mem.claim(MEMBER, "other", NOON, window)
    assert not mem.claim(MEMBER, "reach-out", NOON, window)
    mem.release(MEMBER, "reach-out")
    assert mem.claim(MEMBER, "reach-out", NOON, window)
    mem.release(OTHER, "reach-out")  # nothing to release: no error, nothing stored
    assert len(mem) == 1


# -- one pseudonym for one answer -----------------------------------------------------------


def test_an_answer_makes_the_members_pseudonym_once(monkeypatch: pytest.MonkeyPatch) -> None:
    mem = memory()
    made: list[tuple[int, ...]] = []
    pseudonym_of = Pseudonyms.of

    def counted(self: Pseudonyms, *parts: int) -> bytes:
        made.append(parts)
        return pseudonym_of(self, *parts)

    monkeypatch.setattr(Pseudonyms, "of", counted)
    shown = mem.shown_to(MEMBER)
    assert shown.recent(Shown.TECHNIQUE) == ()
    assert shown.pick_fresh(Shown.TECHNIQUE, ["a", "b"]) == "a"
    assert shown.pick_fresh(Shown.TECHNIQUE, ["a", "b"]) == "b"
    shown.remember(Shown.STORY, "a-story")
    assert shown.recent(Shown.TECHNIQUE) == ("b", "a")
    assert made == [(MEMBER,)]


def test_an_answer_reads_and_writes_the_same_memory_as_the_member_id_does() -> None:
    mem = memory()
    mem.remember(MEMBER, Shown.STORY, "first")
    shown = mem.shown_to(MEMBER)
    assert shown.recent(Shown.STORY) == ("first",)
    shown.remember(Shown.STORY, "second")
    assert mem.recent(MEMBER, Shown.STORY) == ("second", "first")
    assert mem.shown_to(OTHER).recent(Shown.STORY) == ()
    assert len(mem) == 1


def test_what_an_answer_holds_is_the_pseudonym_not_the_member_id() -> None:
    mem = memory()
    shown = mem.shown_to(MEMBER)
    held = [getattr(shown, name) for name in type(shown).__slots__]
    assert mem.pseudonym(MEMBER) in held
    assert MEMBER not in held and str(MEMBER) not in held
    assert not hasattr(shown, "__dict__")


def test_a_member_forgotten_during_an_answer_starts_afresh() -> None:
    mem = memory(capacity=1)
    shown = mem.shown_to(1)
    shown.remember(Shown.TECHNIQUE, "a")
    mem.remember(2, Shown.TECHNIQUE, "b")  # past capacity: member 1 is forgotten
    assert shown.recent(Shown.TECHNIQUE) == ()
    assert shown.pick_fresh(Shown.TECHNIQUE, ["a", "c"]) == "a"
    assert len(mem) == 1
    assert mem.recent(1, Shown.TECHNIQUE) == ("a",)
    assert mem.recent(2, Shown.TECHNIQUE) == ()


def test_reading_through_an_answer_stores_nothing() -> None:
    mem = memory()
    assert mem.shown_to(MEMBER).recent(Shown.STORY) == ()
    assert mem.shown_to(MEMBER).pick_fresh(Shown.STORY, []) is None
    assert len(mem) == 0
