"""`peerlight` as a command-line tool: no network, closed pipes, odd terminal encodings,
piped logs; each run as a child process, exactly as a user starts it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.sandbox.server import Sandbox

PEERLIGHT = [sys.executable, "-m", "bot"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLIGHT_")}
    env.pop("DISCORD_TOKEN", None)
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(tmp_path: Path, port: int, **discord: object) -> Path:
    config = tmp_path / "config.yaml"
    settings = {
        "discord": {
            "api_base": f"http://127.0.0.1:{port}/api/v10",
            "gateway_url": f"ws://127.0.0.1:{port}/gateway",
            "guild_ids": [1191204167300786664],
            **discord,
        },
        "database": "peerlight.sqlite3",
    }
    config.write_text(yaml.safe_dump(settings), "utf-8")
    return config


def test_without_a_network_it_retries_then_gives_up_with_exit_3(tmp_path: Path) -> None:
    config = _config(tmp_path, _free_port())
    began = time.monotonic()
    result = subprocess.run(
        [*PEERLIGHT, "run", "--config", str(config), "--give-up-after", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(DISCORD_TOKEN="not-checked"),
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert time.monotonic() - began < 30
    err = result.stderr
    assert "Traceback" not in err
    tries = [line for line in err.splitlines() if line.startswith("peerlight: cannot reach")]
    assert len(tries) >= 2, err
    assert "trying again in 1 s (attempt 1)" in tries[0]
    assert "trying again in 2 s (attempt 2)" in tries[1]  # back-off
    assert "gave up after 3 s" in err
    assert "\x1b[" not in err  # no colour when not on a terminal
    assert "voice" not in err


def test_the_give_up_time_comes_from_the_config_too(tmp_path: Path) -> None:
    config = _config(tmp_path, _free_port(), give_up_after_seconds=1)
    result = subprocess.run(
        [*PEERLIGHT, "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(DISCORD_TOKEN="x"),
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "give-up time 1 s" in result.stderr


def test_a_bad_give_up_time_is_a_usage_error(tmp_path: Path) -> None:
    bad = _config(tmp_path, 1, give_up_after_seconds=-5)
    result = subprocess.run(
        [*PEERLIGHT, "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(DISCORD_TOKEN="x"),
        check=False,
    )
    assert result.returncode == 2
    assert "discord.give_up_after_seconds: must be more than 0, got -5" in result.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    flag = subprocess.run(
        [*PEERLIGHT, "run", "--give-up-after", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(DISCORD_TOKEN="x"),
        cwd=elsewhere,
        check=False,
    )
    assert flag.returncode == 2
    assert "--give-up-after takes a number of seconds above 0" in flag.stderr


async def test_it_keeps_trying_until_discord_is_back_then_runs(tmp_path: Path) -> None:
    port = _free_port()
    config = _config(tmp_path, port)
    process = await asyncio.create_subprocess_exec(
        *PEERLIGHT,
        "run",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=_env(DISCORD_TOKEN="sandbox-token"),
    )
    output: list[str] = []

    async def wait_for(text: str, timeout: float = 30) -> None:
        assert process.stdout is not None
        async with asyncio.timeout(timeout):
            while not any(text in line for line in output):
                line = await process.stdout.readline()
                assert line, "".join(output)
                output.append(line.decode("utf-8", "replace"))

    try:
        await wait_for("cannot reach Discord")
        async with Sandbox(port=port) as sandbox:
            await wait_for("reached Discord")
            await wait_for("Peerlight is ready")
            interaction = await sandbox.command("about")
            assert (await interaction.response_message()).ephemeral
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stdout is not None
    output.append((await process.stdout.read()).decode("utf-8", "replace"))
    text = "".join(output)
    assert code == 0, text
    assert "Traceback" not in text
    assert "\x1b[" not in text
    assert "voice will NOT be supported" not in text


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*PEERLIGHT, "content", "check"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    # The reader leaves before the output is written, as `| head -0` does; reading a line
    # first would race the few kilobytes the pipe can hold.
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert errors == ""


def test_a_terminal_that_cannot_show_unicode_gets_replacements(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PEERLIGHT, "demo"],
        input=b"/resources region:GB\n/checkin\npress Doing well\nquit\n",
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
        env=_env(PYTHONIOENCODING="ascii"),
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("ascii", "replace")
    out = result.stdout.decode("ascii")  # every byte is ASCII
    assert "SUPPORT LINES" in out and "Goodbye" in out
    assert b"Traceback" not in result.stderr
    preview = subprocess.run(
        [*PEERLIGHT, "content", "preview", "box-breathing"],
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(PYTHONIOENCODING="latin-1"),
        check=False,
    )
    assert preview.returncode == 0
    assert b"Traceback" not in preview.stderr
