"""`peerlight crisis eval` and `peerlight crisis explain`: the crisis rules, measured and
traced, for the specialists and reviewers who change them.

`eval` scores the rules against the labelled corpus (`content/safety/corpus/`): recall and
false alarms per category and per split, every miss and false alarm of the tuned split
(the holdout's only as counts per category), and exit code 1 when a floor is not met.
`explain` shows how one message was read and which rule decided.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from bot.domain.crisis import CrisisLevel, CrisisSet
from bot.domain.crisis.evaluation import HOLDOUT, Scorecard, score
from bot.domain.crisis.model import (
    CrisisModel,
    TrainingOptions,
    choose_threshold,
    cross_validated,
    fit,
)
from bot.storage.content_files import (
    CORPUS_DIR,
    CRISIS_MODEL_DIR,
    crisis_fingerprint,
    load_library,
)
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
    if corpus_dir is None:
        failures += _stale_models(detector, content_dir)
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


def _stale_models(detector: CrisisSet, content_dir: Path) -> list[str]:
    """A model trained on other rules or another tuned corpus than the ones beside it."""
    stale = []
    for language_detector in detector.detectors:
        model = language_detector.model
        language = language_detector.language
        path = content_dir / CRISIS_MODEL_DIR / f"{language}.json"
        if model is None and path.exists():
            stale.append(
                f"{CRISIS_MODEL_DIR / language}.json cannot be used: see `peerlight content check`"
            )
        elif model is not None and model.fingerprint != crisis_fingerprint(content_dir, language):
            stale.append(
                f"{CRISIS_MODEL_DIR / language}.json was trained on other rules or another "
                "tuned corpus: run `peerlight crisis train`"
            )
    return stale


def crisis_train(
    content_dir: Path,
    language: str = "en",
    options: TrainingOptions | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Train the second reader on the tuned split (never the holdout), choose its threshold
    by cross-validation, and write `content/safety/model/<language>.json`."""
    options = options or TrainingOptions()
    crisis = _detector(content_dir, err)
    if crisis is None:
        return EXIT_USAGE
    found = [d for d in crisis.detectors if d.language == language]
    if not found:
        print(f"peerlight: there is no crisis rule file for {language!r}", file=err)
        return EXIT_USAGE
    rules = found[0].with_model(None)
    try:
        categories, cases, _ = load_corpus(content_dir / CORPUS_DIR)
    except CorpusError as exc:
        print(f"peerlight: {exc}", file=err)
        return EXIT_USAGE
    tuned = [c for c in cases if c.split != HOLDOUT]
    samples = [
        (rules.features(c.text), categories[c.category].expect >= CrisisLevel.HELPER) for c in tuned
    ]
    # Among the crisis messages: whose danger is it (the helper reply, or the writer's)?
    whose = [
        (features, categories[c.category].expect is CrisisLevel.HELPER)
        for (features, label), c in zip(samples, tuned, strict=True)
        if label
    ]
    labels = [label for _, label in samples]
    rules_alarm = [rules.detect(c.text).level >= CrisisLevel.HELPER for c in tuned]
    probabilities = cross_validated(samples, options)
    # The model never reads a text shorter than `min_words`; the false alarms that decide
    # its threshold are counted among the texts it reads, not diluted by the short ones.
    reads = [len(rules.normalise(c.text).split()) >= options.min_words for c in tuned]
    threshold = choose_threshold(
        [p for p, r in zip(probabilities, reads, strict=True) if r],
        [label for label, r in zip(labels, reads, strict=True) if r],
        options.max_false_alarms,
    )
    probabilities = [p if r else 0.0 for p, r in zip(probabilities, reads, strict=True)]
    idf, weights, bias = fit(samples, options)
    _, other_weights, other_bias = fit(whose, options, idf)
    model = CrisisModel(
        language,
        weights,
        idf,
        bias,
        threshold,
        crisis_fingerprint(content_dir, language),
        other_weights,
        other_bias,
        options.min_words,
    )
    path = content_dir / CRISIS_MODEL_DIR / f"{language}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), indent=0, sort_keys=True) + "\n", "utf-8")
    _print_training(labels, rules_alarm, probabilities, threshold, len(weights), out)
    print(f"wrote {path}", file=out)
    return EXIT_OK


def _print_training(
    labels: list[bool],
    rules_alarm: list[bool],
    probabilities: list[float],
    threshold: float,
    features: int,
    out: TextIO,
) -> None:
    both = [r or p >= threshold for r, p in zip(rules_alarm, probabilities, strict=True)]
    positives = sum(labels) or 1
    negatives = (len(labels) - sum(labels)) or 1

    def rates(alarm: list[bool]) -> str:
        caught = sum(1 for a, y in zip(alarm, labels, strict=True) if a and y)
        false = sum(1 for a, y in zip(alarm, labels, strict=True) if a and not y)
        return f"crisis block for {caught / positives:.1%}, false alarms {false / negatives:.1%}"

    print(f"tuned split: {len(labels)} messages, {features} features kept", file=out)
    model = [p >= threshold for p in probabilities]
    print(f"  rules alone:                        {rates(rules_alarm)}", file=out)
    print(f"  model alone (cross-validated):      {rates(model)}", file=out)
    print(f"  rules and model (cross-validated):  {rates(both)}", file=out)
    print(f"  threshold {threshold:.2f}", file=out)
