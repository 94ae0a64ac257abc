"""The README's set-up commands are the ones CI runs, word for word.

Every command in a fenced `sh` block of README's "Try it" section (a newcomer's first
commands) must be a command `.ci/run` runs: the same words, optionally followed by
redirections (CI reads no terminal and keeps the output). Change one and not the other,
and this test names the command.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)


def readme_setup_commands() -> list[str]:
    text = (REPO / "README.md").read_text("utf-8")
    start = text.index("## Try it")
    end = text.index("\n## ", start + 1)
    commands: list[str] = []
    for block in FENCE.findall(text[start:end]):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command:
                commands.append(command)
    return commands


def ci_commands() -> list[str]:
    lines = (REPO / ".ci" / "run").read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _words(command: str) -> list[str]:
    return shlex.split(command, posix=True)


def runs(ci_line: str, command: str) -> bool:
    """Whether the CI line is the command itself, then nothing or redirections."""
    if not ci_line.startswith(command):
        return False
    rest = ci_line[len(command) :].strip()
    return rest == "" or re.fullmatch(r"(?:\d?[<>]+\s*\S+\s*)+", rest) is not None


def test_the_setup_section_has_the_newcomers_commands() -> None:
    commands = readme_setup_commands()
    assert "pip install -e . && peerlight demo" in commands
    assert "pip install -e '.[test]' && pytest" in commands
    assert all(_words(command) for command in commands)


def test_ci_runs_every_setup_command_of_the_readme_word_for_word() -> None:
    ci = ci_commands()
    missing = [c for c in readme_setup_commands() if not any(runs(line, c) for line in ci)]
    assert missing == [], f".ci/run does not run these README commands: {missing}"


def test_a_command_with_other_words_does_not_count() -> None:
    assert runs(
        "pip install -e . && peerlight demo </dev/null >out.txt",
        "pip install -e . && peerlight demo",
    )
    assert not runs("pip install --quiet -e .", "pip install -e .")
    assert not runs(
        "pip install -e . && peerlight demo --community", "pip install -e . && peerlight demo"
    )
