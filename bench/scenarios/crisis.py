"""Crisis detection: the composed rules against the phrase-list matcher they replaced.

Both read the same messages, built from the labelled corpus: short ones of about 100
characters and long ones of about 6,000 (the most a member can put into a form field
is 4,000; 6,000 leaves margin). The floor is the earlier phrase-list matcher, kept in
`bench/floors/` for this comparison only. Targets: at most 2x its time at p99 for each
size, and, as a sanity bound on these machines, under 1 ms and 15 ms. The compiled rules
may add at most 20 MB.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import time
import tracemalloc
from pathlib import Path

import yaml

from bench import Row, median, percentile
from bench.floors.phrase_matcher import CrisisDetector as PhraseMatcher
from bench.floors.phrase_matcher import CrisisPhrases
from bot.domain.crisis import CrisisRules, compile_rules
from bot.storage.content_files import hold_long_lived, load_library
from bot.storage.lexicon import load_lexicon

NAME = "crisis"
RATIO_TARGET = 2.0
SHORT_MS, LONG_MS = 1.0, 15.0
MEMORY_MB = 20.0
ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
FLOOR_FILE = ROOT / "bench" / "floors" / "crisis_phrases.yaml"


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((CONTENT / "safety" / "corpus").glob("tuned*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts.extend(m["text"] for m in data["messages"])
    return texts


def _messages(texts: list[str], size: int, count: int, rng: random.Random) -> list[str]:
    out: list[str] = []
    for _ in range(count):
        parts: list[str] = []
        length = 0
        while length < size:
            part = rng.choice(texts)
            parts.append(part)
            length += len(part) + 2
        out.append(". ".join(parts)[:size])
    return out


def _latencies(detect: object, messages: list[str]) -> list[float]:
    assert callable(detect)
    times: list[float] = []
    for message in messages:
        start = time.perf_counter()
        detect(message)
        times.append(time.perf_counter() - start)
    return times


def _compiled_megabytes() -> float:
    rules = CrisisRules.model_validate(
        yaml.safe_load((CONTENT / "safety" / "rules" / "en.yaml").read_text(encoding="utf-8"))
    )
    lexicon = load_lexicon()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    detector = compile_rules(rules, lexicon)
    del lexicon
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert detector.rule_ids
    return (after - before) / 1e6


def run(quick: bool) -> list[Row]:
    report = load_library(CONTENT, today=dt.date.today(), revision=None)
    assert report.catalog is not None, report.summary()
    hold_long_lived()  # as the bot's ContentLibrary does with each library it serves
    subject = report.catalog.crisis
    floor = PhraseMatcher.from_phrases(
        CrisisPhrases.model_validate(yaml.safe_load(FLOOR_FILE.read_text(encoding="utf-8")))
    )
    texts = _corpus_texts()
    rng = random.Random(11)
    rows: list[Row] = []
    for size, bound, count in ((100, SHORT_MS, 2000), (6000, LONG_MS, 100)):
        count = count // 10 if quick else count
        messages = _messages(texts, size, count, rng)
        _latencies(subject.detect, messages[:20])  # warm both caches
        _latencies(floor.detect, messages[:20])
        s_times, f_times = [], []
        for index in range(3):
            if index % 2:
                f_times += _latencies(floor.detect, messages)
                s_times += _latencies(subject.detect, messages)
            else:
                s_times += _latencies(subject.detect, messages)
                f_times += _latencies(floor.detect, messages)
        p99_s = percentile(s_times, 0.99) * 1000
        p99_f = percentile(f_times, 0.99) * 1000
        ratio = p99_s / p99_f if p99_f else float("inf")
        rows.append(
            Row(
                NAME,
                f"{size}-character messages, p99",
                p99_s,
                "ms",
                floor=p99_f,
                ratio=ratio,
                target=f"ratio <= {RATIO_TARGET}, < {bound:g} ms",
                passed=ratio <= RATIO_TARGET and p99_s < bound,
            )
        )
        rows.append(
            Row(
                NAME,
                f"{size}-character messages, median",
                median(s_times) * 1000,
                "ms",
                floor=median(f_times) * 1000,
            )
        )
    megabytes = _compiled_megabytes()
    rows.append(
        Row(
            NAME,
            "compiled rules, memory",
            megabytes,
            "MB",
            target=f"<= {MEMORY_MB:g} MB",
            passed=megabytes <= MEMORY_MB,
        )
    )
    return rows
