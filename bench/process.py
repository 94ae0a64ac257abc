"""Child processes for the scenarios that need a process of their own: the bot as
`python -m bot run --config FILE`, started exactly as an operator starts it, and small
floor programs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0
READY_LINE = "Peerlight is ready"


def child_env(token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLIGHT_")}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return env


def write_config(
    folder: Path, sandbox: Sandbox, *, database: Path, content_dir: Path | None = None
) -> Path:
    data: dict[str, Any] = {
        "discord": {
            "api_base": sandbox.api_base,
            "gateway_url": sandbox.gateway_url,
            "guild_ids": [sandbox.guild.id],
        },
        "database": str(database),
        "log_level": "INFO",
    }
    if content_dir is not None:
        data["content_dir"] = str(content_dir)
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(data), "utf-8")
    return config


class Child:
    """A running child process whose output (stdout and stderr together) is collected."""

    def __init__(self, process: asyncio.subprocess.Process, started: float) -> None:
        self.process = process
        self.started = started  # time.perf_counter() just before the process was created
        self.output: list[tuple[float, str]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, argv: Sequence[str], env: dict[str, str]) -> Child:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
        return cls(process, started)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output.append((time.perf_counter(), line.decode("utf-8", "replace")))
            self._changed.set()
        self._changed.set()

    async def wait_for_line(self, text: str, timeout: float = START_TIMEOUT) -> float:
        """When (perf_counter) the first line containing `text` was read."""
        async with asyncio.timeout(timeout):
            while True:
                for at, line in self.output:
                    if text in line:
                        return at
                if self._reader.done():
                    raise AssertionError(f"the process exited before {text!r}:\n{self.text}")
                self._changed.clear()
                await self._changed.wait()

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.wait_for(self._reader, 5)
        return code

    async def wait(self, timeout: float = START_TIMEOUT) -> int:
        """Until the process exits by itself; its exit code."""
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.wait_for(self._reader, 5)
        return code

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    @property
    def text(self) -> str:
        return "".join(line for _, line in self.output)

    def memory(self) -> dict[str, int]:
        """VmHWM (peak resident set) and VmRSS of the process, in bytes, from /proc."""
        found: dict[str, int] = {}
        status = Path(f"/proc/{self.process.pid}/status").read_text("utf-8")
        for line in status.splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                number, unit = value.split()
                assert unit == "kB"
                found[key] = int(number) * 1024
        return found


async def start_bot(config: Path, token: str) -> Child:
    return await Child.start(
        [sys.executable, "-m", "bot", "run", "--config", str(config)], child_env(token)
    )
