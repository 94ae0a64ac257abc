"""`python -m bench`'s exit code: a quick run is too small to judge speed, so its missed
speed targets do not fail it; a broken promise (a post or a check-in lost or doubled, a
row marked `required`) fails every run, quick or full."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO))
    return importlib.import_module("bench.__main__")


def test_a_missed_speed_target_fails_a_full_run_only(bench: ModuleType) -> None:
    row = bench.Row("s", "p99", 2.0, "s", target="<= 1 s", passed=False)
    assert bench.exit_code([row], quick=False) == 1
    assert bench.exit_code([row], quick=True) == 0


def test_a_broken_promise_fails_a_quick_run_too(bench: ModuleType) -> None:
    kept = bench.Row("shards", "lost", 0, "items", target="0", passed=True, required=True)
    broken = bench.Row("shards", "doubled", 5, "items", target="0", passed=False, required=True)
    assert bench.exit_code([kept], quick=True) == 0
    assert bench.exit_code([kept, broken], quick=True) == 1
    assert bench.exit_code([kept, broken], quick=False) == 1


def test_rows_without_a_target_never_fail(bench: ModuleType) -> None:
    assert bench.exit_code([bench.Row("s", "figure", 1.0, "x")], quick=False) == 0
