"""`peerlight demo` with piped input, as the README shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def demo(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_piped_about_prints_the_reply_and_exits_0(tmp_path: Path) -> None:
    result = demo("/about\nquit\n", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "river> /about" in out
    assert "only you can see this" in out
    assert "ABOUT PEERLIGHT" in out
    assert "Peerlight is peer support, not a crisis service." in out
    assert "Goodbye" in out
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # the demo keeps its database in a temp folder


def test_end_of_input_also_ends_the_demo(tmp_path: Path) -> None:
    result = demo("help\n/nothing\npress Next\nas moderator\nin #nowhere\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "press LABEL" in result.stdout
    assert "there is no /nothing command" in result.stdout
    assert "there is no reply with buttons yet" in result.stdout
    assert "now typing as sage (moderator)" in result.stdout
    assert "no channel #nowhere" in result.stdout
    assert "Traceback" not in result.stderr
