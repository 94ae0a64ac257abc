"""`python -m bench`'s verdicts: a missed speed figure is measured again, at most three
runs, and judged on the median; too wide a spread reads "noisy machine"; --quick fails
only on a missed promise (`Row.required`), the full run on any real miss."""

from __future__ import annotations

import io
import sys
import types
from collections.abc import Iterator

import pytest

import bench.__main__ as bench_main
from bench import Row


def ratio_row(ratio: float, *, target: float = 1.25) -> Row:
    return Row(
        "roundtrip",
        "/cope, median",
        ratio,
        "ms",
        floor=1.0,
        ratio=ratio,
        target=f"ratio <= {target}",
        passed=ratio <= target,
    )


def count_row(lost: int) -> Row:
    return Row("engines", "lost", lost, "", target="0 lost", passed=lost == 0, required=True)


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[Row]]]:
    """A scenario whose runs give the rows queued here, one list a run."""
    queued: list[list[Row]] = []
    module = types.ModuleType("bench.scenarios.fake")
    module.run = lambda quick: queued.pop(0)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.scenarios.fake", module)
    yield queued


def test_a_figure_that_passes_is_measured_once(scenario: list[list[Row]]) -> None:
    scenario += [[ratio_row(1.1), count_row(0)], [ratio_row(9.0)]]
    rows = bench_main.run_scenario("fake", quick=True, log=io.StringIO())
    assert rows == [ratio_row(1.1), count_row(0)]
    assert len(scenario) == 1  # not run again


def test_a_consistent_miss_is_a_miss_after_three_runs(scenario: list[list[Row]]) -> None:
    scenario += [[ratio_row(1.40)], [ratio_row(1.35)], [ratio_row(1.38)], [ratio_row(1.0)]]
    log = io.StringIO()
    rows = bench_main.run_scenario("fake", quick=False, log=log)
    assert len(scenario) == 1, "at most three runs"
    assert "running fake again (3 of at most 3)" in log.getvalue()
    (row,) = rows
    assert row.ratio == 1.38 and row.passed is False and not row.noisy
    assert bench_main._verdict(row) == "FAIL"
    assert bench_main.exit_code(rows, quick=False) == 1
    assert bench_main.exit_code(rows, quick=True) == 0  # CI never fails on a ratio


def test_a_wide_spread_reads_noisy_machine_and_fails_nothing(scenario: list[list[Row]]) -> None:
    scenario += [[ratio_row(1.35)], [ratio_row(2.4)], [ratio_row(1.3)]]
    rows = bench_main.run_scenario("fake", quick=False, log=io.StringIO())
    (row,) = rows
    assert row.ratio == 1.35 and row.noisy
    assert bench_main._verdict(row) == "noisy machine"
    assert bench_main.exit_code(rows, quick=False) == 0


def test_a_figure_met_in_some_runs_is_noisy_not_missed(scenario: list[list[Row]]) -> None:
    scenario += [[ratio_row(1.30)], [ratio_row(1.20)], [ratio_row(1.31)]]
    (row,) = bench_main.run_scenario("fake", quick=False, log=io.StringIO())
    assert row.passed is False and row.noisy


def test_a_missed_count_fails_quick_and_full_runs(scenario: list[list[Row]]) -> None:
    scenario += [[ratio_row(1.0), count_row(2)]]
    rows = bench_main.run_scenario("fake", quick=True, log=io.StringIO())
    assert len(scenario) == 0  # a count is not measured again: one miss is a miss
    assert bench_main.exit_code(rows, quick=True) == 1
    assert bench_main.exit_code(rows, quick=False) == 1


def test_a_count_missed_in_a_repeated_run_is_kept(scenario: list[list[Row]]) -> None:
    scenario += [
        [ratio_row(1.5), count_row(0)],
        [ratio_row(1.5), count_row(1)],
        [ratio_row(1.5), count_row(0)],
    ]
    rows = bench_main.run_scenario("fake", quick=True, log=io.StringIO())
    assert rows[1].passed is False
    assert bench_main.exit_code(rows, quick=True) == 1
