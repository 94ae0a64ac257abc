"""The exact discrete Laplace sampler follows its distribution, and the budget adds up."""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction

import pytest

from bot.domain.noise import (
    MAX_EPSILON,
    WeeklyBudget,
    bernoulli_exp,
    discrete_laplace,
    noisy_counts,
)

DRAWS = 10_000


def pmf(x: int, scale: Fraction) -> float:
    p = math.exp(-1 / float(scale))
    return (1 - p) / (1 + p) * p ** abs(x)


@pytest.mark.parametrize("scale", [Fraction(7, 2), Fraction(1, 3), Fraction(21)])
def test_draws_follow_the_discrete_laplace_distribution(scale: Fraction) -> None:
    rng = random.Random(20240601)
    seen = Counter(discrete_laplace(rng, scale) for _ in range(DRAWS))
    # Each value near the centre within five standard errors of its exact probability.
    for x in range(-3, 4):
        expected = pmf(x, scale)
        error = math.sqrt(expected * (1 - expected) / DRAWS)
        assert abs(seen[x] / DRAWS - expected) <= 5 * error + 1e-9, (x, seen[x], expected)
    # Symmetric: as many draws above zero as below, within five standard errors.
    above = sum(n for x, n in seen.items() if x > 0)
    below = sum(n for x, n in seen.items() if x < 0)
    assert abs(above - below) <= 5 * math.sqrt(above + below)


def test_bernoulli_exp_is_exact_in_the_mean() -> None:
    rng = random.Random(7)
    for gamma in (Fraction(0), Fraction(1, 2), Fraction(1), Fraction(5, 2)):
        hits = sum(bernoulli_exp(rng, gamma) for _ in range(DRAWS))
        expected = math.exp(-float(gamma))
        error = math.sqrt(expected * (1 - expected) / DRAWS) + 1e-9
        assert abs(hits / DRAWS - expected) <= 5 * error, gamma


def test_a_seeded_source_gives_the_same_draws() -> None:
    first = [discrete_laplace(random.Random(3), Fraction(7, 2)) for _ in range(5)]
    again = [discrete_laplace(random.Random(3), Fraction(7, 2)) for _ in range(5)]
    assert first == again


def test_noisy_counts_cover_every_cell_and_are_unbiased() -> None:
    rng = random.Random(1)
    total = 0
    for _ in range(300):
        noisy = noisy_counts(rng, {"a": 5}, Fraction(7, 2), ("a", "b", "c"))
        assert set(noisy) == {"a", "b", "c"}
        total += sum(noisy.values())
    # Not floored per cell: the noise averages out (5 a draw, within 5 standard errors).
    assert abs(total / 300 - 5) <= 5 * math.sqrt(3 * 2 * 3.5**2 / 300)
    with pytest.raises(ValueError):
        noisy_counts(rng, {"z": 1}, Fraction(2), ("a",))


def test_the_weekly_budget_adds_up_to_epsilon() -> None:
    budget = WeeklyBudget()
    assert budget.epsilon == MAX_EPSILON == 3
    assert budget.mood_epsilon + budget.feeling_epsilon == budget.epsilon
    # Sensitivity / scale is the ε each part spends.
    assert budget.mood_sensitivity / budget.mood_scale == budget.mood_epsilon == 2
    assert budget.feeling_sensitivity / budget.feeling_scale == budget.feeling_epsilon == 1
    assert (budget.mood_scale, budget.feeling_scale) == (Fraction(7, 2), Fraction(21))
    with pytest.raises(ValueError):
        WeeklyBudget(Fraction(31, 10))
    with pytest.raises(ValueError):
        WeeklyBudget(Fraction(0))
