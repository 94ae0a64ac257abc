"""Catalog search (autocomplete), feeling matching, and items kept compressed."""

from __future__ import annotations

import random

import pytest

from bot.domain.catalog import (
    AUTOCOMPLETE_LIMIT,
    BLOCK_ITEMS,
    Catalog,
    CompactItems,
    LibraryItems,
    SearchIndex,
    fold,
)
from bot.domain.content import Area, Technique
from bot.storage.content_files import LoadReport

TITLES = [
    "Box breathing",
    "Cyclic sigh",
    "Five senses grounding",
    "Progressive muscle relaxation",
    "Urge surfing",
    "Café conversation starter",
    "Breathing space before bed",
    "A ten-minute walk",
    "Name the feeling",
    "Worry time",
]


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex((f"t{i}", title, ()) for i, title in enumerate(TITLES))


def labels(index: SearchIndex, query: str) -> list[str]:
    return [hit.label for hit in index.search(query)]


def test_fold_ignores_case_and_accents() -> None:
    assert fold("CAFÉ Crème") == "cafe creme"


def test_whole_name_prefix_ranks_before_a_word_inside_a_name(index: SearchIndex) -> None:
    assert labels(index, "breath") == ["Breathing space before bed", "Box breathing"]


def test_case_and_accent_insensitive(index: SearchIndex) -> None:
    assert labels(index, "CAFE")[0] == "Café conversation starter"
    assert labels(index, "café")[0] == "Café conversation starter"


def test_word_prefix_then_substring(index: SearchIndex) -> None:
    assert labels(index, "surf") == ["Urge surfing"]
    assert labels(index, "minute") == ["A ten-minute walk"]
    assert labels(index, "zzqx") == []
    assert labels(index, "scle") == ["Progressive muscle relaxation"]


def test_typos_fall_back_to_fuzzy_matches(index: SearchIndex) -> None:
    assert labels(index, "grounidng")[0] == "Five senses grounding"
    assert labels(index, "worry tme")[0] == "Worry time"


def test_several_words_in_any_order(index: SearchIndex) -> None:
    assert labels(index, "feeling name") == ["Name the feeling"]


def test_empty_query_lists_alphabetically(index: SearchIndex) -> None:
    assert labels(index, "  ") == sorted(TITLES)


def test_results_are_bounded_and_names_fit_discord() -> None:
    long = "A very long title " * 10
    big = SearchIndex((f"k{i}", f"{long} {i}", ()) for i in range(100))
    hits = big.search("a very")
    assert len(hits) == AUTOCOMPLETE_LIMIT
    assert all(1 <= len(h.label) <= 100 for h in hits)
    assert all(h.label.endswith("…") for h in hits)


def test_search_over_the_shipped_library(shipped_report: LoadReport) -> None:
    catalog = shipped_report.catalog
    assert catalog is not None
    assert catalog.technique_index.search("box")[0].key == "box-breathing"
    assert catalog.technique_index.search("urge surfing")[0].key == "urge-surfing"
    # A name starting with the word comes before a name with it inside.
    walks = [h.key for h in catalog.technique_index.search("walk")]
    assert walks[0] == "walk-and-talk" and "ten-minute-walk" in walks[1:3]
    assert {h.key for h in catalog.region_index.search("gb")} == {"GB"}


@pytest.mark.parametrize(
    ("typed", "feeling"),
    [
        ("anxious", "anxious"),
        ("Anxious", "anxious"),
        ("nervous", "anxious"),
        ("can't sleep", "cant-sleep"),
        ("insomnia", "cant-sleep"),
        ("overwh", "overwhelmed"),
        ("lonely", "lonely"),
    ],
)
def test_match_feeling(shipped_report: LoadReport, typed: str, feeling: str) -> None:
    catalog: Catalog | None = shipped_report.catalog
    assert catalog is not None
    assert catalog.match_feeling(typed) == feeling


@pytest.mark.parametrize("typed", ["hopeless", "purple", "an", "xyz"])
def test_no_guessing_for_unknown_feelings(shipped_report: LoadReport, typed: str) -> None:
    catalog = shipped_report.catalog
    assert catalog is not None
    assert catalog.match_feeling(typed) is None
    assert len(catalog.closest_feelings(typed)) == 3


def test_a_substring_may_start_and_stop_inside_words() -> None:
    index = SearchIndex([("b", "Box breathing", ()), ("g", "Great idea", ()), ("u", "Urge", ())])

    # Both contain "reat", so alphabetically; not "Great idea" first for ending a word there.
    assert labels(index, "reat") == ["Box breathing", "Great idea"]
    assert labels(index, "eathi") == ["Box breathing"]
    assert labels(index, "rg") == ["Urge"]


# -- techniques and stories kept compressed ------------------------------------------------


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


def test_compact_items_behave_as_a_mapping(catalog: Catalog) -> None:
    models = list(catalog.techniques.values())
    store = CompactItems(Technique, models)

    assert len(store) == len(models)
    assert list(store) == [t.id for t in models]
    assert list(store.values()) == models
    assert all(store[t.id] == t for t in models)
    assert models[0].id in store and "no-such-technique" not in store
    assert store.get("no-such-technique") is None
    with pytest.raises(KeyError):
        store["no-such-technique"]
    assert store[models[0].id] is store[models[0].id]  # recently used ones stay built


def test_items_read_back_whichever_block_they_are_in(catalog: Catalog) -> None:
    models = list(catalog.techniques.values())
    assert len(models) > BLOCK_ITEMS + 2
    store: CompactItems[Technique] = CompactItems(Technique)
    for count, technique in enumerate(models, 1):
        store.add(technique)
        # Read before and after its block is full and compressed.
        assert list(store.values()) == models[:count]
    store.seal()
    assert [store[t.id] for t in reversed(models)] == models[::-1]


def test_a_later_item_with_the_same_id_replaces_the_earlier(catalog: Catalog) -> None:
    first, second = list(catalog.techniques.values())[:2]
    store = CompactItems(Technique, [first])
    assert store[first.id] == first

    renamed = second.model_copy(update={"id": first.id})
    store.add(renamed)

    assert len(store) == 1
    assert store[first.id] == renamed


def test_a_catalog_keeps_the_last_of_several_items_with_one_id(catalog: Catalog) -> None:
    first, second = list(catalog.techniques.values())[:2]
    renamed = second.model_copy(update={"id": first.id})
    built = Catalog(
        techniques=[first, renamed],
        stories=[],
        prompts=[],
        regions=catalog.regions.values(),
        vocabulary=catalog.vocabulary,
        crisis=catalog.crisis,
    )

    assert list(built.techniques) == [first.id]
    assert built.techniques[first.id].title == second.title
    assert [h.key for h in built.technique_index.search(second.title)] == [first.id]

    items = LibraryItems()
    items.add_technique(first)
    items.add_technique(renamed)
    with pytest.raises(ValueError, match="added twice"):
        Catalog.from_items(
            items,
            prompts=[],
            regions=catalog.regions.values(),
            vocabulary=catalog.vocabulary,
            crisis=catalog.crisis,
        )


def test_recommendations_are_built_only_when_reached(catalog: Catalog) -> None:
    ids = catalog.recommend_ids(["anxious"], rng=random.Random(3))
    ranked = catalog.recommend(["anxious"], rng=random.Random(3))

    assert len(ids) > 2
    assert ranked.ids == ids
    assert len(ranked) == len(ids)
    assert ranked[0] == catalog.techniques[ids[0]]
    assert ranked[-1] == catalog.techniques[ids[-1]]
    assert [t.id for t in ranked[1:3]] == ids[1:3]
    assert [t.id for t in ranked] == ids


def test_techniques_by_tag(catalog: Catalog) -> None:
    for tag in ("grounding", "breathing", "no-such-tag"):
        expected = tuple(t.id for t in catalog.techniques.values() if tag in t.tags)
        assert catalog.techniques_tagged(tag) == expected
    assert catalog.techniques_tagged("grounding")


def test_the_area_index_matches_each_techniques_areas(shipped_report: LoadReport) -> None:
    catalog = shipped_report.catalog
    assert catalog is not None
    for technique in catalog.techniques.values():
        assert set(catalog.areas_of(technique.id)) == set(technique.areas), technique.id
    assert {area for t in catalog.techniques for area in catalog.areas_of(t)} == set(Area)
