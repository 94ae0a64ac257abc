"""`peerlight demo` with piped input, as the README shows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def demo(script: str, cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *options],
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


def test_a_seeded_community_gives_a_moderator_a_real_summary(tmp_path: Path) -> None:
    result = demo("as moderator\n/summary\nseed\nquit\n", tmp_path, "--community")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert re.search(r"Seeded this server with (?:2[89]|3[0-4]) days of check-ins", out), out
    card = out[out.index("CHECK-INS · LAST 4 COMPLETED WEEKS") :]
    card = card[: card.index("WHAT MEMBERS FOUND HELPFUL")]
    assert "Not enough check-ins" not in card
    total = re.search(r"▸ Check-ins\n\s+(\d+)", card)
    assert total is not None and int(total.group(1)) > 400, card
    moods = card[card.index("▸ Moods") : card.index("▸ Most-named feelings")]
    shown = re.findall(r": (\d+)$", moods, re.M)
    hidden = re.findall(r": hidden$", moods, re.M)
    assert shown and hidden and len(shown) + len(hidden) == 5, moods
    saved = re.search(r"\(saved (checkins-4-weeks\.png) to (\S+)\)", out)
    assert saved is not None, out
    assert Path(saved.group(2)).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # The month is seeded once: a second one would count the same members' days twice.
    assert "✗ nothing seeded: this server already has check-ins" in out


def peerlight_command() -> list[str]:
    """`peerlight` as a user runs it: the installed command beside this interpreter."""
    installed = Path(sys.executable).with_name("peerlight")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "bot"]


def _spawn_in_terminal(cwd: Path, *options: str) -> tuple[subprocess.Popen[bytes], int]:
    """`peerlight demo` with a pseudo-terminal as its stdin, stdout and stderr."""
    import fcntl
    import pty
    import struct
    import termios

    controller, terminal = pty.openpty()
    # 40 rows of 160 columns: no typed line wraps, so the prompt is printed once a line.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update(TERM="xterm", COLUMNS="160", LINES="40")
    process = subprocess.Popen(
        [*peerlight_command(), "demo", *options],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env=env,
        start_new_session=True,
        # The terminal becomes the demo's controlling terminal, so Ctrl-C is a SIGINT.
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(terminal)
    return process, controller


def _read_until(
    controller: int, wanted: bytes, seen: bytearray, *, start: int = 0, timeout: float = 30
) -> int:
    """Read the terminal into `seen` until `wanted` appears after `start`; its end offset."""
    import select
    import time

    deadline = time.monotonic() + timeout
    while wanted not in seen[start:]:
        left = deadline - time.monotonic()
        assert left > 0, f"{wanted!r} never appeared; the terminal shows {bytes(seen)[-800:]!r}"
        ready, _, _ = select.select([controller], [], [], min(left, 0.5))
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the demo closed the terminal
                chunk = b""
            assert chunk, f"the demo ended before {wanted!r}: {bytes(seen)[-800:]!r}"
            seen.extend(chunk)
    return seen.index(wanted, start) + len(wanted)


def _finish(process: subprocess.Popen[bytes], controller: int, seen: bytearray) -> int:
    import select

    try:
        code = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the demo did not end: {bytes(seen)[-800:]!r}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    while select.select([controller], [], [], 0.1)[0]:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen.extend(chunk)
    os.close(controller)
    return code


def test_ctrl_c_at_the_prompt_leaves_at_once(tmp_path: Path) -> None:
    import time

    process, controller = _spawn_in_terminal(tmp_path)
    seen = bytearray()
    _read_until(controller, b"river> ", seen)
    # A person takes longer than this to press a key; pressing within microseconds of the
    # prompt could land before the line editor waits for keys, which no one can do.
    time.sleep(0.3)
    pressed = time.monotonic()
    os.write(controller, b"\x03")  # Ctrl-C, as the terminal sends it
    code = _finish(process, controller, seen)
    assert time.monotonic() - pressed < 5, "the demo waited after Ctrl-C"
    assert code == 0
    assert b"Goodbye" in seen
    assert b"Traceback" not in seen


def test_line_editing_and_history_work_in_a_terminal(tmp_path: Path) -> None:
    process, controller = _spawn_in_terminal(tmp_path)
    seen = bytearray()
    at = _read_until(controller, b"river> ", seen)
    # Type with a mistake, erase it with Backspace and finish the word: line editing.
    os.write(controller, b"/abooo\x7f\x7fut\r")
    at = _read_until(controller, b"ABOUT PEERLIGHT", seen, start=at)
    at = _read_until(controller, b"river> ", seen, start=at)
    # Up recalls the last line: history.
    os.write(controller, b"\x1b[A\r")
    at = _read_until(controller, b"ABOUT PEERLIGHT", seen, start=at)
    at = _read_until(controller, b"river> ", seen, start=at)
    os.write(controller, b"quit\r")
    code = _finish(process, controller, seen)
    assert code == 0
    assert b"Goodbye" in seen
    assert b"Traceback" not in seen
