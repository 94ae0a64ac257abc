"""Recommendations on the shipped library: what matches, and variety for one member.

A member pressing "Another one" goes through `Catalog.recommend` with their recently shown
techniques excluded, then `MemberMemory.pick_fresh`; these tests drive that same pair.
"""

from __future__ import annotations

import itertools
import random
import secrets

import pytest

from bot.domain.catalog import Catalog
from bot.domain.content import Area, ContentWarning
from bot.domain.memory import RECENT_LIMIT, MemberMemory, Shown
from bot.storage.content_files import LoadReport

MEMBER = 1191199223139090086
OTHER = 1191178944775728282


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


def next_technique(
    catalog: Catalog, memory: MemberMemory, member: int, feeling: str, rng: random.Random
) -> str | None:
    ranked = catalog.recommend([feeling], exclude=memory.recent(member, Shown.TECHNIQUE), rng=rng)
    return memory.pick_fresh(member, Shown.TECHNIQUE, [t.id for t in ranked])


def test_every_recommendation_helps_with_the_feeling(catalog: Catalog) -> None:
    for feeling in catalog.feelings:
        ranked = catalog.recommend([feeling], rng=random.Random(1))
        assert {t.id for t in ranked} == set(catalog.techniques_for_feeling(feeling))
        assert all(feeling in t.helps_with for t in ranked)


def test_the_asked_for_area_comes_first(catalog: Catalog) -> None:
    ranked = catalog.recommend(["anxious"], Area.PHYSICAL, rng=random.Random(2))
    in_area = [Area.PHYSICAL in t.areas for t in ranked]
    assert any(in_area) and not all(in_area)
    assert in_area == sorted(in_area, reverse=True)


def test_an_area_alone_gives_techniques_in_that_area(catalog: Catalog) -> None:
    ranked = catalog.recommend([], Area.SOCIAL, rng=random.Random(3))
    assert ranked
    assert all(Area.SOCIAL in t.areas for t in ranked)


def test_recently_shown_techniques_go_last_but_stay(catalog: Catalog) -> None:
    everything = [t.id for t in catalog.recommend(["anxious"], rng=random.Random(4))]
    recent = everything[:2]
    ranked = [t.id for t in catalog.recommend(["anxious"], exclude=recent, rng=random.Random(4))]
    assert sorted(ranked) == sorted(everything)
    assert set(ranked[-2:]) == set(recent)


def test_a_member_never_gets_the_same_technique_twice_in_a_row(catalog: Catalog) -> None:
    memory = MemberMemory(secrets.token_bytes(32))
    rng = random.Random(5)
    for feeling in catalog.feelings:
        matching = catalog.techniques_for_feeling(feeling)
        if len(matching) < 2:
            continue
        shown = [next_technique(catalog, memory, MEMBER, feeling, rng) for _ in range(30)]
        assert all(a != b for a, b in itertools.pairwise(shown)), feeling
        # Until the recent list is full, every press shows something new.
        first = shown[: min(len(matching), RECENT_LIMIT + 1)]
        assert len(set(first)) == len(first), feeling
        assert set(shown) <= set(matching)


def test_every_matching_technique_comes_round(catalog: Catalog) -> None:
    memory = MemberMemory(secrets.token_bytes(32))
    matching = set(catalog.techniques_for_feeling("anxious"))
    assert len(matching) > RECENT_LIMIT
    shown = {
        next_technique(catalog, memory, MEMBER, "anxious", random.Random(i))
        for i in range(len(matching) * 3)
    }
    assert shown == matching


def test_members_do_not_share_what_they_were_shown(catalog: Catalog) -> None:
    memory = MemberMemory(secrets.token_bytes(32))
    first = next_technique(catalog, memory, MEMBER, "anxious", random.Random(6))
    assert memory.recent(OTHER, Shown.TECHNIQUE) == ()
    assert next_technique(catalog, memory, OTHER, "anxious", random.Random(6)) == first


def test_a_single_match_is_still_given(catalog: Catalog) -> None:
    memory = MemberMemory(secrets.token_bytes(32))
    memory.remember(MEMBER, Shown.TECHNIQUE, "x")
    assert memory.pick_fresh(MEMBER, Shown.TECHNIQUE, ["only"]) == "only"
    assert memory.pick_fresh(MEMBER, Shown.TECHNIQUE, ["only"]) == "only"


@pytest.mark.parametrize("warning", list(ContentWarning))
def test_a_skipped_warning_is_never_in_the_story(catalog: Catalog, warning: ContentWarning) -> None:
    rng = random.Random(7)
    for theme in [None, *catalog.themes]:
        for _ in range(5):
            story = catalog.pick_story(theme, [warning], rng=rng)
            if story is not None:
                assert warning not in story.content_warnings
