"""Exact discrete Laplace noise, and the privacy budget of a weekly summary (SAFETY.md §4).

The sampler is Algorithm 2 of Canonne, Kamath and Steinke, "The Discrete Gaussian for
Differential Privacy" (NeurIPS 2020, arXiv:2004.00010), built on their Algorithm 1 for
Bernoulli(exp(-γ)). It uses only integer and `Fraction` arithmetic and draws nothing but
uniform integers from the random source it is given, so its output follows the discrete
Laplace distribution exactly:

    P(X = x) = (1 - p) / (1 + p) * p^|x|,   p = exp(-1/scale),  x = ..., -1, 0, 1, ...

Floating-point Laplace noise written the textbook way leaks through the low bits of the
floats it produces (Mironov, "On Significance of the Least Significant Bits for
Differential Privacy", CCS 2012); none is used here.

Adding such noise with scale Δ/ε to every count of a table, where one person can change
the table's counts by at most Δ in total (the L1 sensitivity), is ε-differentially
private. The weekly budget (`WeeklyBudget`) gives each part of the summary its scale.

The random source is passed in: production uses `secrets.SystemRandom()` (the operating
system's cryptographically secure generator), tests a seeded `random.Random`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from bot.domain.checkins import MAX_FEELINGS

__all__ = [
    "DEFAULT_EPSILON",
    "MAX_COUNTED_PER_WEEK",
    "MAX_EPSILON",
    "Sampler",
    "WeeklyBudget",
    "bernoulli_exp",
    "discrete_laplace",
    "noisy_counts",
]

MAX_EPSILON = Fraction(3)
DEFAULT_EPSILON = MAX_EPSILON
# One counted check-in per member per UTC day.
MAX_COUNTED_PER_WEEK = 7


class Sampler(Protocol):
    """A source of uniform random integers: `randrange(n)` is uniform on 0..n-1."""

    def randrange(self, stop: int, /) -> int: ...


def _bernoulli(rng: Sampler, chance: Fraction) -> bool:
    """True with probability `chance` (0 to 1), exactly."""
    return rng.randrange(chance.denominator) < chance.numerator


def bernoulli_exp(rng: Sampler, gamma: Fraction) -> bool:
    """True with probability exp(-gamma), gamma >= 0 (CKS 2020, Algorithm 1)."""
    if gamma < 0:
        raise ValueError(f"gamma must not be negative, not {gamma}")
    while gamma > 1:
        if not bernoulli_exp(rng, Fraction(1)):
            return False
        gamma -= 1
    k = 1
    while _bernoulli(rng, gamma / k):
        k += 1
    return k % 2 == 1


def discrete_laplace(rng: Sampler, scale: Fraction) -> int:
    """One draw with P(x) proportional to exp(-|x| / scale) (CKS 2020, Algorithm 2)."""
    if scale <= 0:
        raise ValueError(f"the scale must be positive, not {scale}")
    # With scale = t/s: draw a geometric number of units of 1/t and keep the multiples of s.
    t, s = scale.numerator, scale.denominator
    while True:
        u = rng.randrange(t)
        if not bernoulli_exp(rng, Fraction(u, t)):
            continue
        v = 0
        while bernoulli_exp(rng, Fraction(1)):
            v += 1
        magnitude = (u + t * v) // s
        negative = _bernoulli(rng, Fraction(1, 2))
        if negative and magnitude == 0:
            continue  # zero would otherwise be drawn twice as often as it should
        return -magnitude if negative else magnitude


def noisy_counts(
    rng: Sampler, counts: dict[str, int], scale: Fraction, cells: tuple[str, ...]
) -> dict[str, int]:
    """Every cell in `cells` (zeros included: a missing cell would say it is empty) plus
    its own noise. Values below zero are kept: flooring each week at zero would bias every
    sum of weeks upwards (an empty week would read about 9 check-ins at ε = 3), so sums
    are floored only once added up (`bot.domain.periods.window_from_weeks`)."""
    unknown = set(counts) - set(cells)
    if unknown:
        raise ValueError(f"counts for cells outside the table: {sorted(unknown)}")
    return {cell: counts.get(cell, 0) + discrete_laplace(rng, scale) for cell in cells}


@dataclass(frozen=True)
class WeeklyBudget:
    """How a week's ε is spent on one server's summary.

    One member adds at most `MAX_COUNTED_PER_WEEK` counted check-ins to a week. Each adds
    1 to exactly one mood count, so the mood counts move by at most 7 in total; each
    names at most three feelings, so the feeling counts move by at most 21. Two thirds
    of ε go to the moods, one third to the feelings; the two parts add up to ε.
    """

    epsilon: Fraction = DEFAULT_EPSILON

    def __post_init__(self) -> None:
        if not 0 < self.epsilon <= MAX_EPSILON:
            raise ValueError(f"ε must be above 0 and at most {MAX_EPSILON}, not {self.epsilon}")

    @property
    def mood_sensitivity(self) -> int:
        return MAX_COUNTED_PER_WEEK

    @property
    def feeling_sensitivity(self) -> int:
        return MAX_COUNTED_PER_WEEK * MAX_FEELINGS

    @property
    def mood_epsilon(self) -> Fraction:
        return self.epsilon * 2 / 3

    @property
    def feeling_epsilon(self) -> Fraction:
        return self.epsilon - self.mood_epsilon

    @property
    def mood_scale(self) -> Fraction:
        return self.mood_sensitivity / self.mood_epsilon

    @property
    def feeling_scale(self) -> Fraction:
        return self.feeling_sensitivity / self.feeling_epsilon
