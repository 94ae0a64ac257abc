"""Content bombs: whatever a content file holds, the check and a reload stay small and fast.

A 1.5 KB file of nested aliases once made `peerlight content check` use gigabytes of
memory and print gigabytes: anchors and aliases are refused, quoted values are cut, and
a file has caps on size, nesting depth and number of values.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.content_files import (
    ANCHOR_MESSAGE,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    QUOTE_LIMIT,
    LoadReport,
    load_library,
)

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "tests" / "fixtures" / "content_base"
TODAY = dt.date(2026, 11, 29)
TARGET = Path("techniques") / "box-breath.yaml"
# Enough for Python, PyYAML, pydantic and the library; far below what the bomb needed.
MEMORY_LIMIT = 600 * 1024 * 1024


def billion_laughs() -> str:
    """Nine levels of nine aliases each: 9**9 strings once expanded, 1.3 KB on disk."""
    lines = ["id: box-breath", 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    lines.append("title: *l9")
    return "\n".join(lines) + "\n"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(BASE, target)
    shutil.copytree(REPO / "content" / "safety", target / "safety")
    return target


def load(library: Path) -> LoadReport:
    return load_library(library, today=TODAY, shown_root=library, revision=None)


def errors_in(report: LoadReport, name: Path) -> list[str]:
    return [p.format() for p in report.errors if p.path == str(name)]


def test_the_base_library_loads(library: Path) -> None:
    assert load(library).catalog is not None


def test_nested_aliases_are_refused_at_the_first_anchor(library: Path) -> None:
    (library / TARGET).write_text(billion_laughs(), "utf-8")
    report = load(library)
    assert report.catalog is None
    assert errors_in(report, TARGET) == [f"{TARGET}:2:5: error: {ANCHOR_MESSAGE}"]


def test_a_single_anchor_is_refused_and_an_ampersand_in_text_is_not(library: Path) -> None:
    path = library / TARGET
    original = path.read_text("utf-8")
    assert "\ntitle: " in original
    path.write_text(original.replace("\ntitle: ", "\ntitle: &name "), "utf-8")
    (problem,) = errors_in(load(library), TARGET)
    assert ANCHOR_MESSAGE in problem
    line = original[: original.index("\ntitle: ")].count("\n") + 2
    assert problem.startswith(f"{TARGET}:{line}:")
    path.write_text(original.replace("\ntitle: ", "\ntitle: Rest & R&R "), "utf-8")
    report = load(library)
    assert errors_in(report, TARGET) == []
    assert report.catalog is not None


def test_a_file_over_the_size_cap_is_not_parsed(library: Path) -> None:
    path = library / TARGET
    text = path.read_text("utf-8")
    path.write_text(text + "# padding\n" * (MAX_FILE_BYTES // 10 + 1), "utf-8")
    (problem,) = errors_in(load(library), TARGET)
    assert f"at most {MAX_FILE_BYTES // 1024} KB" in problem


def test_nesting_deeper_than_the_cap_is_refused_where_it_goes_too_deep(library: Path) -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    (library / TARGET).write_text(f"id: box-breath\ntitle: {deep}\n", "utf-8")
    (problem,) = errors_in(load(library), TARGET)
    assert problem.startswith(f"{TARGET}:2:")
    assert f"more than {MAX_DEPTH} levels" in problem


def test_more_values_than_the_cap_are_refused(library: Path) -> None:
    many = ",".join(["x"] * (MAX_NODES + 1))
    (library / TARGET).write_text(f"id: box-breath\ntags: [{many}]\n", "utf-8")
    (problem,) = errors_in(load(library), TARGET)
    assert f"more than {MAX_NODES:,} values" in problem


def test_values_quoted_in_errors_are_cut(library: Path) -> None:
    path = library / TARGET
    text = path.read_text("utf-8")
    long_value = "Q" * 50_000
    path.write_text(
        text.replace("\nduration_minutes: ", f"\nduration_minutes: {long_value}\nx_: "), "utf-8"
    )
    problems = errors_in(load(library), TARGET)
    assert problems
    assert any("QQQ" in p for p in problems)
    assert all(len(p) < 300 for p in problems), max(problems, key=len)[:300]
    assert all(p.count("Q") < QUOTE_LIMIT for p in problems)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_content_check_on_the_bomb_stays_small_fast_and_short(library: Path) -> None:
    (library / TARGET).write_text(billion_laughs(), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(library)],
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert len(result.stdout) < 5_000
    assert ANCHOR_MESSAGE in result.stdout
    assert "Traceback" not in result.stderr
