"""What the noise promises, measured over many seeds (SAFETY.md §4).

Padding: a moderator who adds j check-ins whose answers they know to a cell cannot read
off the hidden count exactly in more than a quarter of the seeds. Utility: on a server
with 200 check-ins a week, each published weekly mood share is within 5 percentage
points of the truth in at least 90% of seeds, at the default ε.
"""

from __future__ import annotations

import datetime as dt
import random

from bot.domain.checkins import MOODS, summarise
from bot.domain.noise import WeeklyBudget, noisy_counts
from bot.domain.periods import window_from_weeks

K = 10
SEEDS = 1000
CELLS = tuple(str(mood) for mood in MOODS)


def test_padding_recovers_a_hidden_count_in_at_most_a_quarter_of_seeds() -> None:
    scale = WeeklyBudget().mood_scale
    hidden = 3  # the others' check-ins at "Not OK", below k
    worst = 0.0
    for added in range(1, 2 * K + 1):
        recovered = 0
        for seed in range(SEEDS):
            rng = random.Random(seed * 1000 + added)
            noisy = noisy_counts(rng, {"1": hidden + added}, scale, ("1",))
            # The moderator's best guess: the published count minus what they added
            # (the noise is most likely zero), and 1 when nothing would be left.
            guess = max(1, noisy["1"] - added)
            recovered += guess == hidden
        worst = max(worst, recovered / SEEDS)
    assert worst <= 0.25, worst


def test_weekly_mood_shares_are_within_5_points_in_90_percent_of_seeds() -> None:
    truth = {1: 16, 2: 34, 3: 60, 4: 56, 5: 34}  # 200 check-ins in a week
    total = sum(truth.values())
    budget = WeeklyBudget()
    monday = dt.date(2025, 6, 2)
    within = {mood: 0 for mood in MOODS}
    shown = {mood: 0 for mood in MOODS}
    seeds = 500
    for seed in range(seeds):
        rng = random.Random(seed)
        noisy = noisy_counts(rng, {str(m): c for m, c in truth.items()}, budget.mood_scale, CELLS)
        week = {monday: ({int(cell): value for cell, value in noisy.items()}, {})}
        summary = summarise(window_from_weeks(week, [monday]), K)
        assert summary.enough and summary.total is not None
        for mood in MOODS:
            value = summary.distribution[mood].value
            if value is None:
                continue
            shown[mood] += 1
            within[mood] += abs(value / summary.total - truth[mood] / total) <= 0.05
    for mood in MOODS:
        assert shown[mood] >= 0.9 * seeds, (mood, shown[mood])
        assert within[mood] >= 0.9 * seeds, (mood, within[mood] / seeds)
