"""Scenario benchmarks for Peerlight: `python -m bench`.

Each scenario measures a subject next to a floor (the least the same work could cost)
in the same run, alternating the two, and reports the ratio, so results compare across
machines of different speed.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    scenario: str
    figure: str  # what was measured, e.g. "load, median"
    value: float  # the subject's figure
    unit: str
    floor: float | None = None  # the floor's figure, in the same unit
    ratio: float | None = None  # value / floor, the median of per-round ratios
    target: str = ""  # e.g. "ratio <= 2.0"
    passed: bool | None = None  # None: reported only, no target
    # A promise rather than a speed target: missed, even a --quick run exits non-zero
    # (e.g. a post or a check-in lost or doubled).
    required: bool = False
    # Missed, but its runs spread too widely (or disagreed) to tell a miss from a noisy
    # machine (`python -m bench` repeats a missed speed or memory figure to find out).
    noisy: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of `values`."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def timed(work: Callable[[], object]) -> float:
    """Seconds one call of `work` takes (after a collection, so earlier garbage is not billed)."""
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@dataclass(frozen=True)
class Paired:
    subject: list[float]
    floor: list[float]
    ratios: list[float]  # per round, subject / floor

    @property
    def ratio(self) -> float:
        return median(self.ratios)


def interleaved(subject: Callable[[], object], floor: Callable[[], object], rounds: int) -> Paired:
    """Time `floor` and `subject` alternately, `rounds` times each, starting with either in turn."""
    subjects: list[float] = []
    floors: list[float] = []
    ratios: list[float] = []
    for index in range(rounds):
        if index % 2 == 0:
            f = timed(floor)
            s = timed(subject)
        else:
            s = timed(subject)
            f = timed(floor)
        subjects.append(s)
        floors.append(f)
        ratios.append(s / f if f > 0 else math.inf)
    return Paired(subjects, floors, ratios)
