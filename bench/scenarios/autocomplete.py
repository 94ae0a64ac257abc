"""Autocomplete over a large technique index: latency of single queries of every kind."""

from __future__ import annotations

import random
import time
from collections import defaultdict

from bench import Row, median, percentile
from bot.domain.catalog import SearchIndex

NAME = "autocomplete"
TARGET_P99_MS = 2.0

VERBS = (
    "Breathe through",
    "Name",
    "Notice",
    "Write down",
    "Walk off",
    "Sit with",
    "Talk through",
    "Plan for",
    "Surf",
    "Soften",
    "Ground",
    "Pause before",
    "Reach out about",
    "Rest after",
    "Stretch out",
    "Count down",
    "Picture",
    "Make room for",
    "Check in on",
    "Let go of",
    "Slow down",
    "Listen to",
    "Step back from",
    "Unpack",
    "Map",
    "Tend to",
    "Move through",
    "Shrink",
    "Schedule",
    "Reframe",
)
OBJECTS = (
    "the worry",
    "a craving",
    "racing thoughts",
    "tight shoulders",
    "a hard morning",
    "the evening slump",
    "a difficult call",
    "loneliness",
    "anger",
    "grief",
    "a panic wave",
    "the urge",
    "shame",
    "a bad night",
    "the inner critic",
    "a crowded room",
    "work stress",
    "a family visit",
    "a relapse scare",
    "numbness",
    "the first drink",
    "a long weekend",
    "an anniversary",
    "the sunday dread",
    "a sleepless night",
    "a tense meeting",
    "an empty flat",
    "the overthinking",
    "a heavy heart",
    "the restlessness",
    "a low day",
    "a flashback",
    "the knot in your chest",
    "a new town",
    "a text you dread",
    "an unanswered message",
    "the commute",
    "the dishes",
    "a cold shower",
    "a crowded bus",
)
QUALIFIERS = (
    "",
    "",
    "",
    "in five minutes",
    "with a friend",
    "on paper",
    "outdoors",
    "before bed",
    "at work",
    "one step at a time",
    "with your breath",
    "using your senses",
    "gently",
    "for beginners",
    "when you're alone",
)
KINDS = ("prefix", "word", "substring", "typo", "empty")
WEIGHTS = (22, 22, 22, 22, 12)


def titles(count: int, rng: random.Random) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        title = " ".join(
            part
            for part in (rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(QUALIFIERS))
            if part
        )
        if title in seen:
            title = f"{title} ({len(out)})"
        seen.add(title)
        out.append(title)
    return out


def _slug(title: str) -> str:
    return "-".join("".join(c for c in w if c.isalnum()) for w in title.lower().split())


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    how = rng.randrange(3)
    if how == 0:  # swap two letters
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    if how == 1:  # drop one
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice("aeioursnt") + text[i + 1 :]  # replace one


def queries(names: list[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for kind in rng.choices(KINDS, weights=WEIGHTS, k=count):
        title = rng.choice(names)
        words = title.split()
        if kind == "prefix":
            q = title[: rng.randint(1, 10)]
        elif kind == "word":
            word = rng.choice(words[1:] or words)
            q = word[: rng.randint(2, max(2, len(word)))]
        elif kind == "substring":
            start = rng.randrange(1, max(2, len(title) - 6))
            q = title[start : start + rng.randint(3, 8)]
        elif kind == "typo":
            start = rng.randrange(len(words))
            q = _typo(" ".join(words[start : start + 2]), rng)
        else:
            q = rng.choice(("", " ", "  "))
        out.append((kind, q))
    return out


def run(quick: bool) -> list[Row]:
    rng = random.Random(1129)
    size, count = (1000, 100) if quick else (10_000, 1000)
    names = titles(size, rng)
    index = SearchIndex((_slug(t), t, (_slug(t).replace("-", " "),)) for t in names)
    asked = queries(names, count, rng)
    for _, q in asked[:50]:  # warm the caches the first queries would otherwise pay for
        index.search(q)
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, q in asked:
        start = time.perf_counter_ns()
        index.search(q)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        latencies.append(elapsed)
        by_kind[kind].append(elapsed)
    p99 = percentile(latencies, 0.99)
    where = f"{count} queries over {size} titles"
    rows = [
        Row(NAME, f"{where}, p50", median(latencies), "ms"),
        Row(
            NAME,
            f"{where}, p99",
            p99,
            "ms",
            target=f"p99 < {TARGET_P99_MS:g} ms",
            passed=p99 < TARGET_P99_MS,
        ),
    ]
    for kind in KINDS:
        if by_kind[kind]:
            rows.append(
                Row(
                    NAME,
                    f"{kind} queries (n={len(by_kind[kind])}), p99",
                    percentile(by_kind[kind], 0.99),
                    "ms",
                )
            )
    return rows
