"""Catalog search (autocomplete) and feeling matching on built indexes."""

from __future__ import annotations

import pytest

from bot.domain.catalog import AUTOCOMPLETE_LIMIT, Catalog, SearchIndex, fold
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
    assert catalog.technique_index.search("walk")[0].key == "ten-minute-walk"
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
