"""Recommendations on the shipped library: what matches, and variety for one member.

A member pressing "Another one" goes through `Catalog.recommend` with their recently shown
techniques excluded, then `MemberMemory.pick_fresh`; these tests drive that same pair.
"""

from __future__ import annotations

import itertools
import random
import secrets

import pytest

from bot.domain.catalog import Catalog, why_this_one
from bot.domain.content import Area, Audience, ContentWarning, Technique
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


def _fitting(catalog: Catalog, feeling: str) -> set[str]:
    return {*catalog.techniques_for_feeling(feeling), *catalog.techniques_also_for(feeling)}


def test_every_recommendation_helps_with_the_feeling_main_ones_first(catalog: Catalog) -> None:
    supporters = set(catalog.techniques_for_supporters())
    assert supporters
    for feeling in catalog.feelings:
        ranked = list(catalog.recommend([feeling], rng=random.Random(1)))
        assert {t.id for t in ranked} == _fitting(catalog, feeling)
        assert all(feeling in t.helps_with.feelings for t in ranked)
        assert not supporters & {t.id for t in ranked}
        main = [feeling in t.helps_with.main for t in ranked]
        assert main == sorted(main, reverse=True), feeling
        assert main[0], feeling


def test_a_technique_mainly_for_both_feelings_comes_first(catalog: Catalog) -> None:
    both = set(catalog.techniques_for_feeling("anxious")) & set(
        catalog.techniques_for_feeling("cant-sleep")
    )
    assert both
    for seed in range(20):
        ranked = catalog.recommend_ids(["anxious", "cant-sleep"], rng=random.Random(seed))
        assert set(ranked[: len(both)]) == both


def test_supporter_cards_only_when_asked_for(catalog: Catalog) -> None:
    supporters = set(catalog.techniques_for_supporters())
    for seed in range(10):
        rng = random.Random(seed)
        assert not supporters & set(catalog.recommend_ids([], rng=rng))
        assert not supporters & set(catalog.recommend_ids([], Area.SOCIAL, rng=rng))
        asked = catalog.recommend_ids(["anxious"], rng=rng, audience=Audience.SUPPORTER)
        assert set(asked) == supporters
        assert set(catalog.recommend_ids([], rng=rng, audience=Audience.SUPPORTER)) == supporters


def test_a_craving_technique_is_not_an_anxiety_answer(catalog: Catalog) -> None:
    for seed in range(40):
        first = catalog.recommend(["anxious"], rng=random.Random(seed))[0]
        assert "anxious" in first.helps_with.main
        assert first.audience is Audience.SELF
        assert first.helps_with.main != ("craving",)


@pytest.mark.parametrize("feeling", ["calm", "hopeful", "grateful"])
def test_good_feelings_get_what_suits_them(catalog: Catalog, feeling: str) -> None:
    problems = {"anxious", "craving", "cant-sleep", "low", "scared", "angry", "overwhelmed"}
    for technique in catalog.recommend([feeling], rng=random.Random(8)):
        if feeling in technique.helps_with.main:
            assert not problems & set(technique.helps_with.main), technique.id


def test_the_asked_for_area_comes_first(catalog: Catalog) -> None:
    ranked = list(catalog.recommend(["anxious"], Area.PHYSICAL, rng=random.Random(2)))
    main = [t for t in ranked if "anxious" in t.helps_with.main]
    in_area = [Area.PHYSICAL in t.areas for t in main]
    assert any(in_area) and not all(in_area)
    assert in_area == sorted(in_area, reverse=True)


def test_an_area_alone_gives_techniques_in_that_area(catalog: Catalog) -> None:
    ranked = catalog.recommend([], Area.SOCIAL, rng=random.Random(3))
    assert ranked
    assert all(Area.SOCIAL in t.areas for t in ranked)


def test_recently_shown_techniques_go_last_among_equal_fits_but_stay(catalog: Catalog) -> None:
    # The techniques first of all for craving fit it equally.
    first = {
        t
        for t in catalog.techniques_for_feeling("craving")
        if catalog.techniques[t].helps_with.main[0] == "craving"
    }
    assert len(first) >= 3
    everything = catalog.recommend_ids(["craving"], rng=random.Random(4))
    assert set(everything[: len(first)]) == first
    recent = everything[:2]
    ranked = catalog.recommend_ids(["craving"], exclude=recent, rng=random.Random(4))
    assert sorted(ranked) == sorted(everything)
    assert set(ranked[: len(first)]) == first
    assert set(ranked[len(first) - 2 : len(first)]) == set(recent)


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
        assert set(shown) <= _fitting(catalog, feeling)


def test_every_matching_technique_comes_round(catalog: Catalog) -> None:
    memory = MemberMemory(secrets.token_bytes(32))
    matching = _fitting(catalog, "anxious")
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


def test_why_this_one_says_what_it_is_for_and_how_long(catalog: Catalog) -> None:
    worry = catalog.techniques["worry-time"]
    assert worry.best_for == "a racing mind"
    assert why_this_one(catalog, worry, ["anxious"]) == (
        f"Why this one: for a racing mind, {worry.duration_minutes} minutes."
    )
    # Not mainly for what the member named: the line says it helps with that too.
    walk = catalog.techniques["ten-minute-walk"]
    assert why_this_one(catalog, walk, ["anxious"]).endswith("It helps when you feel anxious too.")
    # Without `best_for`, the main feelings are named.
    plain = walk.model_copy(update={"best_for": None})
    assert why_this_one(catalog, plain).startswith(
        "Why this one: for feeling low, stressed or restless, "
    )


def test_a_plain_list_of_feelings_is_read_as_main() -> None:
    old = Technique.model_validate(
        {
            "id": "call-a-friend",
            "title": "Call a friend",
            "summary": "Reach out to one person.",
            "areas": ["social"],
            "helps_with": ["lonely", "low"],
            "steps": ["Call."],
            "why_it_works": "Being heard helps.",
            "when_to_use": "When alone.",
            "duration_minutes": 5,
            "evidence": {"level": "peer-wisdom"},
        }
    )
    assert old.helps_with.main == ("lonely", "low") and old.helps_with.also == ()
    assert old.audience is Audience.SELF
    with pytest.raises(ValueError, match="both `main` and `also`"):
        Technique.model_validate(
            old.model_dump() | {"helps_with": {"main": ["low"], "also": ["low"]}}
        )


def _first_of_all_for(catalog: Catalog, feeling: str) -> list[str]:
    """The techniques written first of all for `feeling`, and those mainly for it that
    specialists offer first for it (its `first`): they fit it equally."""
    firsts = catalog.feelings[feeling].first
    return [
        t
        for t in catalog.techniques_for_feeling(feeling)
        if catalog.techniques[t].helps_with.main[0] == feeling or t in firsts
    ]


def test_a_first_choice_mainly_for_the_feeling_fits_it_as_well_as_one_written_for_it(
    catalog: Catalog,
) -> None:
    # "move it out" names restless before angry in its `main`, but specialists offer it
    # first for anger: it leads for angry, ahead of one written first of all for anger.
    technique = catalog.techniques["move-it-out"]
    assert technique.helps_with.main[0] != "angry" and "angry" in technique.helps_with.main
    assert catalog.feelings["angry"].first[0] == "move-it-out"
    for seed in range(5):
        assert catalog.recommend_ids(["angry"], rng=random.Random(seed))[0] == "move-it-out"


def test_among_equal_fits_first_choices_lead_in_their_order(catalog: Catalog) -> None:
    # With nothing shown lately and no votes, the feeling's first choices (vocabulary
    # `first`) lead, in the order the specialists wrote them, whatever the shuffle.
    for feeling in catalog.feelings.values():
        equal = _first_of_all_for(catalog, feeling.id)
        chosen = [t for t in feeling.first if t in equal]
        for seed in range(5):
            ranked = catalog.recommend_ids([feeling.id], rng=random.Random(seed))
            assert ranked[: len(chosen)] == chosen, (feeling.id, seed)
    # Variety still comes first: the first choice, shown lately, goes after the others.
    equal = _first_of_all_for(catalog, "craving")
    leader = catalog.feelings["craving"].first[0]
    ranked = catalog.recommend_ids(["craving"], exclude=[leader], rng=random.Random(1))
    assert ranked.index(leader) == len(equal) - 1


def test_among_equal_fits_the_quicker_technique_comes_first(catalog: Catalog) -> None:
    # Without first choices, the technique a member can do soonest leads among those that
    # fit equally, whatever the shuffle.
    vocabulary = catalog.vocabulary.model_copy(
        update={
            "feelings": tuple(
                f.model_copy(update={"first": ()}) for f in catalog.vocabulary.feelings
            )
        }
    )
    plain = Catalog(
        techniques=catalog.techniques.values(),
        stories=[],
        prompts=[],
        regions=catalog.regions.values(),
        vocabulary=vocabulary,
        crisis=catalog.crisis,
    )
    equal = _first_of_all_for(plain, "craving")
    minutes = {t: plain.techniques[t].duration_minutes for t in equal}
    assert len(set(minutes.values())) > 1
    for seed in range(20):
        ranked = plain.recommend_ids(["craving"], rng=random.Random(seed))[: len(equal)]
        assert [minutes[t] for t in ranked] == sorted(minutes.values()), seed


def test_among_equal_fits_one_for_the_feeling_told_first_comes_first(catalog: Catalog) -> None:
    # "guilty and scared my family will find out": no technique is mainly for both, and
    # the guilt, told first, is helped first; told the other way round, the fear is.
    assert not set(catalog.techniques_for_feeling("ashamed")) & set(
        catalog.techniques_for_feeling("scared")
    )
    for told in (["ashamed", "scared"], ["scared", "ashamed"]):
        for seed in range(20):
            first = catalog.recommend_ids(told, rng=random.Random(seed))[0]
            assert told[0] in catalog.techniques[first].helps_with.main, (told, seed)
            assert catalog.techniques[first].id in catalog.feelings[told[0]].first, (told, seed)


def test_among_equal_fits_the_one_the_words_point_at_comes_before_first_choices(
    catalog: Catalog,
) -> None:
    # Specialists offer box breathing first for anxious, but "spiralling with what ifs"
    # points at worry time (the vocabulary's `cues`), which then leads.
    anxious = catalog.feelings["anxious"]
    assert anxious.first[0] != "worry-time"
    cues = catalog.read_cues("spiralling with what ifs", ("anxious",))
    assert cues == ("worry-time",)
    for seed in range(20):
        assert catalog.recommend_ids(["anxious"], rng=random.Random(seed))[0] == anxious.first[0]
        ranked = catalog.recommend_ids(["anxious"], rng=random.Random(seed), cues=cues)
        assert ranked[0] == "worry-time", seed
    # ...only for a feeling read: the words point nowhere for a feeling not named.
    assert catalog.read_cues("spiralling with what ifs", ("low",)) == ()
