"""`peerlight crisis eval` and `peerlight crisis explain`: the crisis rules, measured and
traced, for the specialists and reviewers who change them.

`eval` scores the rules against the labelled corpus (`content/safety/corpus/`): recall and
false alarms per category and per split, every miss and false alarm of the tuned split
(the holdout's only as counts per category), and exit code 1 when a floor is not met.
`explain` shows how one message was read and which rule decided.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from bot.domain.crisis import CrisisSet
from bot.domain.crisis.evaluation import HOLDOUT, Scorecard, score
from bot.storage.content_files import CORPUS_DIR, load_library
from bot.storage.corpus import CorpusError, load_corpus

EXIT_OK, EXIT_FLOORS, EXIT_USAGE = 0, 1, 2


def _detector(content_dir: Path, err: TextIO) -> CrisisSet | None:
    report = load_library(content_dir, today=dt.date.today(), revision=None)
    if report.catalog is None:
        print(f"peerlight: the content in {content_dir} has errors:", file=err)
        for problem in report.errors:
            print(f"  {problem.format()}", file=err)
        return None
    return report.catalog.crisis


def crisis_eval(
    content_dir: Path,
    corpus_dir: Path | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    detector = _detector(content_dir, err)
    if detector is None:
        return EXIT_USAGE
    folder = corpus_dir or content_dir / CORPUS_DIR
    try:
        categories, cases, floors = load_corpus(folder)
    except CorpusError as exc:
        print(f"peerlight: {exc}", file=err)
        return EXIT_USAGE
    card = score(detector, cases, categories)
    _print_card(card, out)
    failures = card.failures(floors)
    if failures:
        print("\nBelow the floors:", file=out)
        for line in failures:
            print(f"  {line}", file=out)
        return EXIT_FLOORS
    print("\nEvery floor is met.", file=out)
    return EXIT_OK


def _cell(card: Scorecard, split: str, name: str) -> str:
    tally = card.tallies.get((split, name))
    if tally is None:
        return f"{'—':>18}"
    return f"{tally.messages:>4} {tally.caught:>5} {tally.false_alarms:>4}  "


def _print_card(card: Scorecard, out: TextIO) -> None:
    splits = card.splits
    print("Crisis rules against the labelled corpus", file=out)
    print("(per split: messages, answered as expected, false alarms)\n", file=out)
    header = f"{'category':<20} {'expects':<9}" + "".join(f"{s:>18}" for s in splits)
    print(header, file=out)
    print("-" * len(header), file=out)
    for name, category in sorted(card.categories.items(), key=lambda c: (-c[1].expect, c[0])):
        row = f"{name:<20} {category.expect.name.lower():<9}"
        row += "".join(_cell(card, split, name) for split in splits)
        print(row, file=out)
    print("", file=out)
    for split in splits:
        print(
            f"{split}: danger recall {card.danger_recall(split):.1%}, "
            f"false alarms {card.false_alarm_rate(split):.1%}, "
            f"helper reply {card.helper_reply_rate(split):.1%}",
            file=out,
        )
    tuned_misses = [(c, got) for c, got in card.misses if c.split != HOLDOUT]
    tuned_alarms = [(c, got) for c, got in card.false_alarms if c.split != HOLDOUT]
    print(f"\nMisses in the tuned split: {len(tuned_misses)}", file=out)
    for case, got in tuned_misses:
        print(f"  [{case.category}] got {got.name.lower()}: {case.text}", file=out)
    print(f"False alarms in the tuned split: {len(tuned_alarms)}", file=out)
    for case, got in tuned_alarms:
        print(f"  [{case.category}] got {got.name.lower()}: {case.text}", file=out)
    held_misses = Counter(c.category for c, _ in card.misses if c.split == HOLDOUT)
    held_alarms = Counter(c.category for c, _ in card.false_alarms if c.split == HOLDOUT)
    if HOLDOUT in splits:
        print("\nHoldout (counts only; its messages are never shown):", file=out)
        print(f"  misses: {_counts(held_misses)}", file=out)
        print(f"  false alarms: {_counts(held_alarms)}", file=out)


def _counts(counter: Counter[str]) -> str:
    if not counter:
        return "none"
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()))


def crisis_explain(
    text: str, content_dir: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    detector = _detector(content_dir, err)
    if detector is None:
        return EXIT_USAGE
    for language, explanation in detector.explain(text):
        print(f"rules: {language}", file=out)
        for line in explanation.lines():
            print(f"  {line}", file=out)
    return EXIT_OK
