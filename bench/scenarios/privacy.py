"""What the weekly noise costs and what it protects, at the default ε (SAFETY.md §4).

Utility: a server with 200 check-ins a week; the share of the week's check-ins at each
mood, as a moderator reads it, against the truth, over many seeds. Padding: a moderator
who adds j known check-ins to a cell and subtracts them; how often the hidden count is
read exactly, worst case over j from 1 to 2k.

Both figures are shares of seeds, estimates of a probability, so they carry sampling
error; a quick run measures exactly what a full run does, over the same seeds. (At a
tenth of the seeds, the utility figure's standard error was 2.1 points: quick runs read
88.5% where full runs read 90.2%, from seeds alone; 100,000 seeds put it at 90.3%.) The
utility figure is printed with its 95% interval, so a reader can see how close to the
target it is. Cost: a few seconds, almost all of it the exact sampler.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from bench import Row
from bot.domain.checkins import MOODS, summarise
from bot.domain.noise import WeeklyBudget, noisy_counts
from bot.domain.periods import window_from_weeks

NAME = "privacy"
K = 10
TRUTH = {1: 16, 2: 34, 3: 60, 4: 56, 5: 34}  # 200 check-ins in one week
CELLS = tuple(str(mood) for mood in MOODS)
MONDAY = dt.date(2025, 6, 2)
TARGET_SHARE = 0.90
TARGET_PADDING = 0.25
# The same in quick and full runs (see the module docstring): the utility figure's 95%
# interval is then about ±0.4 points, the padding figure's about ±2.5 points.
UTILITY_SEEDS = 20_000
PADDING_SEEDS = 1_000
Z_95 = 1.96


def wilson_interval(share: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a share measured over `n` independent trials."""
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _utility(seeds: int) -> tuple[float, float]:
    budget = WeeklyBudget()
    total = sum(TRUTH.values())
    each = {mood: 0 for mood in MOODS}
    every = 0
    for seed in range(seeds):
        noisy = noisy_counts(
            random.Random(seed), {str(m): c for m, c in TRUTH.items()}, budget.mood_scale, CELLS
        )
        week = {MONDAY: ({int(cell): value for cell, value in noisy.items()}, {})}
        summary = summarise(window_from_weeks(week, [MONDAY]), K)
        close = {
            mood: summary.total is not None
            and summary.distribution[mood].value is not None
            and abs(summary.distribution[mood].value / summary.total - TRUTH[mood] / total)  # type: ignore[operator]
            <= 0.05
            for mood in MOODS
        }
        for mood, ok in close.items():
            each[mood] += ok
        every += all(close.values())
    return min(each.values()) / seeds, every / seeds


def _padding(seeds: int) -> float:
    scale = WeeklyBudget().mood_scale
    worst = 0.0
    for added in range(1, 2 * K + 1):
        hits = sum(
            max(
                1,
                noisy_counts(random.Random(s * 1000 + added), {"1": 3 + added}, scale, ("1",))["1"]
                - added,
            )
            == 3
            for s in range(seeds)
        )
        worst = max(worst, hits / seeds)
    return worst


def run(quick: bool) -> list[Row]:
    # `quick` changes nothing here: fewer seeds would measure the same figures less well.
    utility_seeds, padding_seeds = UTILITY_SEEDS, PADDING_SEEDS
    share, all_five = _utility(utility_seeds)
    low, high = wilson_interval(share, utility_seeds)
    padding = _padding(padding_seeds)
    return [
        Row(
            NAME,
            f"200 check-ins/week, ε = 3: weeks with a mood share within 5 points "
            f"(worst mood, {utility_seeds:,} seeds; 95% interval {100 * low:.1f}–"
            f"{100 * high:.1f} %)",
            100 * share,
            "%",
            target=f">= {TARGET_SHARE:.0%}",
            passed=share >= TARGET_SHARE,
        ),
        Row(NAME, "weeks with all five shares within 5 points", 100 * all_five, "%"),
        Row(
            NAME,
            f"padding with j = 1..{2 * K} known check-ins: hidden count read exactly "
            f"(worst j, {padding_seeds:,} seeds each)",
            100 * padding,
            "%",
            target=f"<= {TARGET_PADDING:.0%}",
            passed=padding <= TARGET_PADDING,
        ),
    ]
