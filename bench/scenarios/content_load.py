"""Loading a large library: the full check against parsing the same files with libyaml alone."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import yaml

from bench import Row, interleaved, median, percentile
from bench.library import Library, generate
from bot.storage.content_files import load_library

NAME = "content_load"
TARGET = 2.0


def _parse_all(files: list[Path]) -> None:
    for path in files:
        yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader)


def _load(library: Library, today: dt.date) -> None:
    report = load_library(library.root, today=today, revision=None)
    if report.errors or report.catalog is None:
        raise AssertionError(f"the generated library has errors: {report.summary()}")


def run(quick: bool) -> list[Row]:
    techniques, stories = (200, 50) if quick else (2000, 500)
    rounds = 3 if quick else 5
    today = dt.date.today()
    with tempfile.TemporaryDirectory(prefix="peerlight-bench-") as tmp:
        library = generate(Path(tmp) / "content", techniques=techniques, stories=stories)
        files = library.files()
        report = load_library(library.root, today=today, revision=None)
        assert report.catalog is not None and not report.errors, "\n".join(
            p.format() for p in report.errors[:20]
        )
        assert report.counts["techniques"] == techniques
        assert report.counts["stories"] == stories
        paired = interleaved(lambda: _load(library, today), lambda: _parse_all(files), rounds)
    size = f"{techniques} techniques + {stories} stories ({len(files)} files)"
    ms = 1000.0
    ratio = paired.ratio
    return [
        Row(
            NAME,
            f"load {size}, median",
            median(paired.subject) * ms,
            "ms",
            floor=median(paired.floor) * ms,
            ratio=ratio,
            target=f"ratio <= {TARGET}",
            passed=ratio <= TARGET,
        ),
        Row(
            NAME,
            f"load {size}, p99",
            percentile(paired.subject, 0.99) * ms,
            "ms",
            floor=percentile(paired.floor, 0.99) * ms,
        ),
    ]
