"""Scoring /cope against the relevance set (`bot.domain.relevance`).

For each case: is the member's text understood (the feelings read from it are exactly
the ones a specialist reads), and is the first card /cope would show one the specialist
accepts? /cope breaks ties at random, so the first card is drawn with `SEEDS` different
random generators and the share of acceptable draws is the case's score. Beside it, the
score of a random pick among the techniques that list any of the case's feelings (and
are for the asked-for audience): what the seed library offered before ranking by fit.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.catalog import Catalog
from bot.domain.content import Area, Audience
from bot.domain.relevance import RelevanceCase, RelevanceSet, Split

SEEDS = 20


@dataclass(frozen=True)
class CaseResult:
    case: RelevanceCase
    read: tuple[str, ...]  # the feelings read from the text
    first: tuple[str, ...]  # the first card of each draw
    acceptable: float  # share of draws whose first card is accepted
    random_pick: float  # what a random pick among matching techniques scores

    @property
    def understood(self) -> bool:
        return set(self.read) == set(self.case.feelings)

    @property
    def passed(self) -> bool:
        return self.understood and self.acceptable == 1.0


@dataclass(frozen=True)
class SplitResult:
    split: Split
    cases: tuple[CaseResult, ...]

    @property
    def first_acceptable(self) -> float:
        return _mean([c.acceptable for c in self.cases])

    @property
    def random_pick(self) -> float:
        return _mean([c.random_pick for c in self.cases])

    @property
    def understood(self) -> float:
        return _mean([1.0 if c.understood else 0.0 for c in self.cases])

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if not c.passed)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _matching(catalog: Catalog, case: RelevanceCase) -> set[str]:
    """Techniques listing any of the case's feelings, for its audience."""
    if case.audience is Audience.SUPPORTER:
        return set(catalog.techniques_for_supporters())
    found: set[str] = set()
    for feeling in case.feelings:
        found.update(catalog.techniques_for_feeling(feeling))
        found.update(catalog.techniques_also_for(feeling))
    return found


def evaluate_case(catalog: Catalog, case: RelevanceCase, seeds: int = SEEDS) -> CaseResult:
    read = catalog.read_feelings(case.text)
    cues = catalog.read_cues(case.text, read)
    firsts: list[str] = []
    for seed in range(seeds):
        ranked = catalog.recommend_ids(
            read, case.area, rng=random.Random(seed), audience=case.audience, cues=cues
        )
        if ranked:
            firsts.append(ranked[0])
    accepted = set(case.accept)
    acceptable = sum(1 for f in firsts if f in accepted) / seeds
    matching = _matching(catalog, case)
    random_pick = len(matching & accepted) / len(matching) if matching else 0.0
    return CaseResult(case, read, tuple(firsts), acceptable, random_pick)


def evaluate(catalog: Catalog, relevance: RelevanceSet, seeds: int = SEEDS) -> SplitResult:
    return SplitResult(
        relevance.split, tuple(evaluate_case(catalog, c, seeds) for c in relevance.cases)
    )


def evaluate_files(
    catalog: Catalog, files: Mapping[str, RelevanceSet], seeds: int = SEEDS
) -> tuple[SplitResult, dict[str, SplitResult]]:
    """One split spread over several files (`tuned.yaml`, `tuned-2.yaml`, ...): the
    split's result over all their cases, and each file's on its own."""
    per_file = {name: evaluate(catalog, relevance, seeds) for name, relevance in files.items()}
    splits = {result.split for result in per_file.values()}
    if len(splits) != 1:
        raise ValueError(f"one split at a time, not {sorted(splits)}")
    cases = tuple(case for result in per_file.values() for case in result.cases)
    return SplitResult(splits.pop(), cases), per_file


def case_key(case: RelevanceCase) -> tuple[str, Area | None, Audience]:
    """What makes two cases the same question to /cope: the words (case aside) and options."""
    return (" ".join(case.text.casefold().split()), case.area, case.audience)


def repeats(result: SplitResult, others: Iterable[RelevanceSet]) -> SplitResult:
    """The cases of `result` that some other set asks word for word (see `case_key`)."""
    keys = {case_key(case) for other in others for case in other.cases}
    return SplitResult(result.split, tuple(c for c in result.cases if case_key(c.case) in keys))
