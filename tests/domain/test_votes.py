"""Votes: totals, the ranking prior, and the noise scale (bot.domain.votes)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.domain.catalog import Catalog
from bot.domain.votes import (
    Verdict,
    VoteTotals,
    cell,
    cells,
    prior,
    score,
    totals,
    vote_scale,
)
from bot.storage.content_files import LoadReport

K = 10


def test_one_member_adds_at_most_21_a_week_so_the_scale_is_21_over_epsilon() -> None:
    assert vote_scale(Fraction(3)) == 7
    assert vote_scale(Fraction(1)) == 21
    with pytest.raises(ValueError, match="at most 3"):
        vote_scale(Fraction(4))


def test_cells_name_each_technique_twice_and_long_ids_fit() -> None:
    assert cells(["b", "a"]) == ("a:helped", "a:not", "b:helped", "b:not")
    long = "x" * 64
    assert len(cell(long, Verdict.HELPED)) <= 60
    assert cell(long, Verdict.HELPED) != cell(long, Verdict.NOT_FOR_ME)


def test_totals_add_weeks_floor_at_zero_and_hide_small_counts() -> None:
    weeks = [
        {"a:helped": 14, "a:not": -3, "b:helped": 6},
        {"a:helped": 9, "a:not": 1, "b:helped": 2, "b:not": 12},
    ]
    got = totals(weeks, ["a", "b", "c"], K)
    assert got["a"] == VoteTotals(23, 0)  # -2 floored
    assert got["b"] == VoteTotals(None, 12)  # 8 is hidden
    assert got["c"] == VoteTotals(0, 0)


def test_the_prior_never_reaches_zero_and_only_shown_counts_move_it() -> None:
    assert score(VoteTotals(0, 0), K) == Fraction(1, 2)
    assert score(VoteTotals(0, 500), K) > 0
    assert score(VoteTotals(500, 0), K) < 1
    assert score(VoteTotals(40, None), K) > score(VoteTotals(None, None), K)
    published = {"a": VoteTotals(30, 0), "b": VoteTotals(None, None), "c": VoteTotals(0, 12)}
    assert prior(published, K) == {"a": Fraction(60, 90), "c": Fraction(30, 72)}


def test_the_prior_orders_equally_fitting_techniques_and_removes_none(
    shipped_report: LoadReport,
) -> None:
    catalog: Catalog = shipped_report.catalog  # type: ignore[assignment]
    plain = catalog.recommend_ids(())
    favourite, disliked = plain[-1], plain[0]
    ranked = catalog.recommend_ids(
        (), prior={favourite: Fraction(9, 10), disliked: Fraction(1, 100)}
    )
    assert ranked[0] == favourite
    assert ranked[-1] == disliked
    assert sorted(ranked) == sorted(plain)


def test_fit_still_comes_before_the_prior(shipped_report: LoadReport) -> None:
    catalog: Catalog = shipped_report.catalog  # type: ignore[assignment]
    for_anxious = catalog.recommend_ids(("anxious",))
    mainly = [t for t in for_anxious if "anxious" in catalog.techniques[t].helps_with.main]
    also = [t for t in for_anxious if t not in mainly]
    assert also, "a technique that only also helps with anxiety is needed here"
    ranked = catalog.recommend_ids(("anxious",), prior={also[-1]: Fraction(99, 100)})
    assert ranked.index(also[-1]) >= len(mainly)
