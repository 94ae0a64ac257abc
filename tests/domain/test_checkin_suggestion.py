"""The technique a check-in suggests: drawn from the best for the feelings, else the mood."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bot.domain.catalog import Catalog
from bot.domain.checkin_suggestion import MOOD_FEELINGS, NOT_FOR_CHECKINS, technique_for_mood
from bot.storage.content_files import LoadReport


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


@pytest.mark.parametrize(
    ("mood", "feelings"),
    [
        (2, ("anxious",)),
        (2, ("anxious", "scared", "overwhelmed")),
        (3, ("stressed", "restless", "irritable")),
        (4, ()),
        (2, ()),
    ],
)
def test_the_suggestion_is_drawn_from_the_best_for_the_feelings(
    catalog: Catalog, mood: int, feelings: tuple[str, ...]
) -> None:
    wanted = feelings or MOOD_FEELINGS[mood]
    counts = Counter(t for f in wanted for t in catalog.techniques_for_feeling(f))
    fitting = {
        t: n
        for t, n in counts.items()
        if not NOT_FOR_CHECKINS.intersection(catalog.techniques[t].tags)
    }
    best = {t for t, n in fitting.items() if n == max(fitting.values())}
    rng = random.Random(20250618)
    drawn: Counter[str] = Counter()
    for _ in range(400):
        technique = technique_for_mood(catalog, mood, feelings, rng)
        assert technique is not None
        drawn[technique.id] += 1
    # Every tie can come up, and nothing else; never a technique for helping others.
    assert set(drawn) == best
