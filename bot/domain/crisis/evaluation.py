"""Scoring the crisis rules against the labelled corpus in `content/safety/corpus/`.

Each category of message has an expected answer and a highest answer that is not a false
alarm (`categories.yaml`). A message in a danger category that does not get the crisis
block is a miss; a message that gets the crisis block (danger or the helper reply) where
its category allows less is a false alarm. The holdout is only scored: its misses are
reported as counts, never as messages, so that nobody tunes the rules to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain.crisis.detector import CrisisLevel, CrisisSet

__all__ = ["Case", "Category", "Floors", "Scorecard", "Tally", "score"]

LEVELS = {
    "none": CrisisLevel.NONE,
    "distress": CrisisLevel.DISTRESS,
    "helper": CrisisLevel.HELPER,
    "danger": CrisisLevel.DANGER,
}
HOLDOUT = "holdout"


@dataclass(frozen=True)
class Category:
    name: str
    expect: CrisisLevel
    at_most: CrisisLevel


@dataclass(frozen=True)
class Case:
    text: str
    category: str
    split: str  # "tuned" or "holdout"


@dataclass(frozen=True)
class Floors:
    """The least the rules must reach for `crisis eval` to pass."""

    tuned_danger_recall: float = 1.0
    holdout_danger_recall: float = 0.97
    tuned_false_alarm_rate: float = 0.02
    holdout_false_alarm_rate: float = 0.02
    tuned_helper_reply_rate: float = 0.9
    holdout_helper_reply_rate: float = 0.9


@dataclass
class Tally:
    messages: int = 0
    caught: int = 0  # got what the category expects (danger: the crisis block)
    false_alarms: int = 0
    exact: int = 0  # got exactly the expected level

    def add(self, other: Tally) -> None:
        self.messages += other.messages
        self.caught += other.caught
        self.false_alarms += other.false_alarms
        self.exact += other.exact


@dataclass
class Scorecard:
    categories: dict[str, Category]
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)  # (split, category)
    misses: list[tuple[Case, CrisisLevel]] = field(default_factory=list)
    false_alarms: list[tuple[Case, CrisisLevel]] = field(default_factory=list)

    def tally(self, split: str, category: str) -> Tally:
        return self.tallies.setdefault((split, category), Tally())

    @property
    def splits(self) -> list[str]:
        return sorted({split for split, _ in self.tallies}, key=lambda s: (s == HOLDOUT, s))

    def total(self, split: str, expect: Iterable[CrisisLevel] | None = None) -> Tally:
        wanted = set(expect) if expect is not None else None
        out = Tally()
        for (s, name), tally in self.tallies.items():
            if s == split and (wanted is None or self.categories[name].expect in wanted):
                out.add(tally)
        return out

    def danger_recall(self, split: str) -> float:
        return _rate(self.total(split, [CrisisLevel.DANGER]), "caught")

    def false_alarm_rate(self, split: str) -> float:
        quiet = [c.expect for c in self.categories.values() if c.at_most < CrisisLevel.HELPER]
        return _rate(self.total(split, quiet), "false_alarms")

    def helper_reply_rate(self, split: str) -> float:
        return _rate(self.total(split, [CrisisLevel.HELPER]), "exact")

    def failures(self, floors: Floors) -> list[str]:
        """Each floor that is not met, in words."""
        out: list[str] = []
        for split in self.splits:
            prefix = "holdout" if split == HOLDOUT else "tuned"
            wanted: float = getattr(floors, f"{prefix}_danger_recall")
            most_alarms: float = getattr(floors, f"{prefix}_false_alarm_rate")
            least_helper: float = getattr(floors, f"{prefix}_helper_reply_rate")
            recall = self.danger_recall(split)
            if recall < wanted:
                out.append(f"{split}: danger recall {recall:.1%} is below {wanted:.0%}")
            alarms = self.false_alarm_rate(split)
            if alarms > most_alarms:
                out.append(f"{split}: false alarms {alarms:.1%} are above {most_alarms:.1%}")
            helper = self.helper_reply_rate(split)
            if helper < least_helper:
                out.append(
                    f"{split}: the helper reply reaches {helper:.1%} of messages about someone "
                    f"else, below {least_helper:.1%}"
                )
        return out


def _rate(tally: Tally, what: str) -> float:
    if not tally.messages:
        return 1.0 if what != "false_alarms" else 0.0
    value: int = getattr(tally, what)
    return value / tally.messages


def score(
    detector: CrisisSet, cases: Iterable[Case], categories: Mapping[str, Category]
) -> Scorecard:
    card = Scorecard(dict(categories))
    for case in cases:
        category = categories[case.category]
        got = detector.detect(case.text).level
        tally = card.tally(case.split, case.category)
        tally.messages += 1
        if got == category.expect:
            tally.exact += 1
        if category.expect >= CrisisLevel.HELPER:
            if got >= CrisisLevel.HELPER:
                tally.caught += 1
            else:
                card.misses.append((case, got))
        elif got <= category.at_most:
            tally.caught += 1
        if got > category.at_most and got >= CrisisLevel.HELPER:
            tally.false_alarms += 1
            card.false_alarms.append((case, got))
    return card
