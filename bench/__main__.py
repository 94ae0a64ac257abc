"""`python -m bench [--quick] [--only NAME ...] [--out PATH]`: run scenarios, print a table.

A speed or memory figure that misses its target is measured again (up to three runs of
its scenario) and judged on the median run; "noisy machine" when its runs spread too
widely to tell. The full run exits 1 on a real miss; --quick (CI) only on a broken promise
(`Row.required`: nothing lost, nothing doubled).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bench import Row
from bench.scenarios import SCENARIOS

DEFAULT_OUT = Path("bench") / "results.json"


def _number(value: float | None, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "—"
    if not unit and float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 10:
        text = f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
    else:
        text = f"{value:.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{text} {unit}".rstrip()


# A missed speed or memory figure is measured again, up to this many runs in all, and
# judged on the median run; when its runs spread by more than NOISY_SPREAD of the median
# (or some of them met the target), the machine was too noisy to tell.
RUNS = 3
NOISY_SPREAD = 0.25
# Units of speed and memory figures, which a loaded machine moves; every other target (a
# count: nothing lost, nothing doubled, every check-in stored) is correctness.
MEASURED_UNITS = frozenset({"ms", "s", "µs", "MB", "/s"})


def measured(row: Row) -> bool:
    """Whether the row is a speed or memory figure (as opposed to a count)."""
    return not row.required and (row.unit in MEASURED_UNITS or row.ratio is not None)


def _verdict(row: Row) -> str:
    if row.passed is None:
        return ""
    if row.noisy:
        return "noisy machine"
    return "pass" if row.passed else "FAIL"


def _figure(row: Row) -> float:
    return row.ratio if row.ratio is not None else row.value


def combine(runs: Sequence[Sequence[Row]]) -> list[Row]:
    """One scenario's rows from several runs of it: each speed or memory figure from its
    median run, marked noisy when missed there while its runs spread widely or some met
    the target; each count from its worst run (one miss is a miss)."""
    if len(runs) == 1:
        return list(runs[0])
    combined: list[Row] = []
    for position, first in enumerate(runs[0]):
        same = [run[position] for run in runs if len(run) > position]
        if not measured(first) or first.passed is None:
            failed = [row for row in same if row.passed is False]
            combined.append(failed[0] if failed else first)
            continue
        ordered = sorted(same, key=_figure)
        middle = ordered[len(ordered) // 2]  # of two runs, the worse
        if middle.passed is False:
            low, high, centre = _figure(ordered[0]), _figure(ordered[-1]), _figure(middle)
            spread = (high - low) / centre if centre else math.inf
            if spread > NOISY_SPREAD or any(row.passed for row in same):
                middle = dataclasses.replace(middle, noisy=True)
        combined.append(middle)
    return combined


def run_scenario(name: str, quick: bool, log: TextIO = sys.stderr) -> list[Row]:
    """A scenario's rows, running it again (up to RUNS in all) while a speed or memory
    figure misses its target."""
    module = importlib.import_module(f"bench.scenarios.{name}")
    runs = [list(module.run(quick))]
    while len(runs) < RUNS and any(measured(row) and row.passed is False for row in runs[-1]):
        missed = [row.figure for row in runs[-1] if measured(row) and row.passed is False]
        print(
            f"running {name} again ({len(runs) + 1} of at most {RUNS}): missed {'; '.join(missed)}",
            file=log,
            flush=True,
        )
        runs.append(list(module.run(quick)))
    return combine(runs)


def table(rows: Sequence[Row]) -> str:
    header = ("scenario", "figure", "value", "floor", "ratio", "target", "pass/fail")
    lines = [
        (
            r.scenario,
            r.figure,
            _number(r.value, r.unit),
            _number(r.floor, r.unit) if r.floor is not None else "—",
            f"{r.ratio:.2f}" if r.ratio is not None else "—",
            r.target or "—",
            _verdict(r),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    right = {2, 3, 4}

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def exit_code(rows: Sequence[Row], quick: bool) -> int:
    """1 when a target was missed; never for a noisy machine; with --quick, only when a
    promise was (`Row.required`): a quick run is too small to judge speed, never too small
    to lose a post."""
    missed = [r for r in rows if r.passed is False and not r.noisy and (r.required or not quick)]
    return 1 if missed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Peerlight scenario benchmarks."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            "a tenth of the size; checks the scenarios run (exit 0 whatever the speed "
            "targets, 1 when a promise such as nothing lost or doubled is broken)"
        ),
    )
    parser.add_argument(
        "--only", nargs="+", choices=SCENARIOS, metavar="NAME", help=f"of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON")
    args = parser.parse_args(argv)

    names = args.only or list(SCENARIOS)
    rows: list[Row] = []
    timings: dict[str, float] = {}
    for name in names:
        print(f"running {name}…", file=sys.stderr, flush=True)
        start = time.perf_counter()
        rows.extend(run_scenario(name, args.quick))
        timings[name] = round(time.perf_counter() - start, 2)

    print(table(rows))
    failed = [r for r in rows if r.passed is False and not r.noisy]
    noisy = [r for r in rows if r.noisy]
    result = {
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "seconds": timings,
        "rows": [r.as_json() for r in rows],
        "failed": len(failed),
        "noisy": len(noisy),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, allow_nan=False, default=str) + "\n", "utf-8")
    print(
        f"\n{len(rows)} rows, {len(failed)} target(s) missed, {len(noisy)} too noisy to "
        f"judge (a figure whose {RUNS} runs spread widely: run again on a quieter machine); "
        f"wrote {args.out}"
    )
    # A scenario may end the output with its own verdict (shards: "N lost, N doubled").
    for name in names:
        for line in getattr(sys.modules[f"bench.scenarios.{name}"], "LAST_LINE", []):
            print(line)
    return exit_code(rows, args.quick)


if __name__ == "__main__":
    sys.exit(main())
