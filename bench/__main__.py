"""`python -m bench [--quick] [--only NAME ...] [--out PATH]`: run scenarios, print a table."""

from __future__ import annotations

import argparse
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
from typing import Any

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


def _verdict(row: Row) -> str:
    if row.passed is None:
        return ""
    return "pass" if row.passed else "FAIL"


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
    """1 when a target was missed; with --quick, only when a promise was (`Row.required`):
    a quick run is too small to judge speed, never too small to lose a post."""
    missed = [r for r in rows if r.passed is False and (r.required or not quick)]
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
        module = importlib.import_module(f"bench.scenarios.{name}")
        start = time.perf_counter()
        rows.extend(module.run(args.quick))
        timings[name] = round(time.perf_counter() - start, 2)

    print(table(rows))
    failed = [r for r in rows if r.passed is False]
    result = {
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "seconds": timings,
        "rows": [r.as_json() for r in rows],
        "failed": len(failed),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, allow_nan=False, default=str) + "\n", "utf-8")
    print(f"\n{len(rows)} rows, {len(failed)} target(s) missed; wrote {args.out}")
    # A scenario may end the output with its own verdict (shards: "N lost, N doubled").
    for name in names:
        for line in getattr(sys.modules[f"bench.scenarios.{name}"], "LAST_LINE", []):
            print(line)
    return exit_code(rows, args.quick)


if __name__ == "__main__":
    sys.exit(main())
