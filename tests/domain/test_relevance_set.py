"""The relevance set in content/relevance is well formed and names what the library has."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.domain.relevance import RelevanceSet, Split
from bot.storage.content_files import LoadReport

RELEVANCE = Path(__file__).resolve().parents[2] / "content" / "relevance"


def _load(name: str) -> RelevanceSet:
    data = yaml.safe_load((RELEVANCE / f"{name}.yaml").read_text(encoding="utf-8"))
    return RelevanceSet.model_validate(data)


def test_sizes_splits_and_no_case_in_both() -> None:
    tuned, holdout = _load("tuned"), _load("holdout")
    assert tuned.split is Split.TUNED and holdout.split is Split.HOLDOUT
    assert len(tuned.cases) >= 200
    assert len(holdout.cases) >= 60
    key = lambda c: (c.text.casefold(), c.area, c.audience)  # noqa: E731
    assert not {key(c) for c in tuned.cases} & {key(c) for c in holdout.cases}


def test_every_case_names_feelings_and_techniques_the_library_has(
    shipped_report: LoadReport,
) -> None:
    catalog = shipped_report.catalog
    assert catalog is not None
    for split in ("tuned", "holdout"):
        for case in _load(split).cases:
            assert set(case.feelings) <= set(catalog.feelings), case
            assert set(case.accept) <= set(catalog.techniques), case
