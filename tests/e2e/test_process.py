"""`python -m bot run` as a child process, started exactly as a user starts it.

It syncs the slash commands once, answers /about privately with no mentions allowed,
stops cleanly on SIGTERM with exit code 0, and a second start with unchanged commands
sends no sync request at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import yaml

from bot.sandbox.server import Sandbox

START_TIMEOUT = 30.0
COMMANDS_ROUTE = r"^/applications/\d+/guilds/\d+/commands$"


class BotProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output.append(line.decode("utf-8", "replace"))

    async def wait_for_line(self, text: str, timeout: float = START_TIMEOUT) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not any(text in line for line in self.output):
                    if self.process.returncode is not None:
                        raise AssertionError(f"the bot exited early:\n{self.text}")
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(
                f"no line with {text!r} within {timeout} s:\n{self.text}"
            ) from None

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 20)
        await asyncio.wait_for(self._reader, 5)
        return code

    @property
    def text(self) -> str:
        return "".join(self.output)


async def start_bot(config: Path, token: str, *, log_imports: bool = False) -> BotProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLIGHT_")}
    env["DISCORD_TOKEN"] = token
    if log_imports:
        # Python writes one "import time:" line per module it imports, to stderr.
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    return BotProcess(process)


def write_config(tmp_path: Path, sandbox: Sandbox) -> Path:
    config = tmp_path / "config.yaml"
    data = {
        "discord": {
            "api_base": sandbox.api_base,
            "gateway_url": sandbox.gateway_url,
            "guild_ids": [sandbox.guild.id],
        },
        "database": "peerlight.sqlite3",
        "log_level": "INFO",
    }
    config.write_text(yaml.safe_dump(data), "utf-8")
    return config


async def test_the_bot_as_a_user_runs_it(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path, sandbox)
    bot = await start_bot(config, sandbox.token)
    try:
        await sandbox.wait_until_connected(timeout=START_TIMEOUT)
        await bot.wait_for_line("Peerlight is ready")
        syncs = sandbox.requests_matching("PUT", COMMANDS_ROUTE)
        assert len(syncs) == 1
        assert "about" in {c["name"] for c in syncs[0].json}

        interaction = await sandbox.command("about")
        message = await interaction.response_message()
        assert message.ephemeral
        assert message.embeds[0]["title"] == "About Peerlight"
        assert message.allowed_mentions == {"parse": []}
    finally:
        code = await bot.stop()
    assert code == 0, bot.text
    assert "Traceback" not in bot.text
    assert sandbox.token not in bot.text
    assert (tmp_path / "peerlight.sqlite3").exists()

    # A second start with the same commands: connected and ready, but no sync request.
    first_requests = len(sandbox.requests)
    again = await start_bot(config, sandbox.token)
    try:
        await sandbox.wait_until_connected(timeout=START_TIMEOUT, after=1)
        await again.wait_for_line("Peerlight is ready")
        assert sandbox.requests_matching("PUT", COMMANDS_ROUTE, after=first_requests) == []
        assert "unchanged since the last sync" in again.text
        interaction = await sandbox.command("about")
        assert (await interaction.response_message()).ephemeral
    finally:
        code = await again.stop()
    assert code == 0, again.text
    assert "Traceback" not in again.text


async def test_sigint_also_stops_cleanly(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path, sandbox)
    bot = await start_bot(config, sandbox.token)
    try:
        await bot.wait_for_line("Peerlight is ready")
    finally:
        bot.process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(bot.process.wait(), 20)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bot._reader, 5)
    assert code == 0, bot.text
    assert "Traceback" not in bot.text


async def test_a_wrong_token_exits_2_without_echoing_it(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path, sandbox)
    bot = await start_bot(config, "not-the-right-token-123")
    code = await asyncio.wait_for(bot.process.wait(), START_TIMEOUT)
    await asyncio.wait_for(bot._reader, 5)
    assert code == 2, bot.text
    assert "did not accept the token" in bot.text
    assert "not-the-right-token-123" not in bot.text
    assert "Traceback" not in bot.text


async def run_to_end(*args: str, token: str, timeout: float = START_TIMEOUT) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLIGHT_")}
    env["DISCORD_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8", "replace")


async def test_peerlight_sync_registers_once_and_run_then_skips_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sandbox)
    code, out = await run_to_end("sync", "--config", str(config), token=sandbox.token)
    assert code == 0, out
    assert f"synced slash commands to server {sandbox.guild.id}" in out
    assert "Traceback" not in out
    assert len(sandbox.requests_matching("PUT", COMMANDS_ROUTE)) == 1
    # sync only registers: it opens no gateway session and starts no background work.
    assert sandbox.sessions_started == 0

    before = len(sandbox.requests)
    bot = await start_bot(config, sandbox.token)
    try:
        await bot.wait_for_line("Peerlight is ready")
        assert sandbox.requests_matching("PUT", COMMANDS_ROUTE, after=before) == []
    finally:
        assert await bot.stop() == 0, bot.text


async def test_a_default_region_without_support_lines_exits_2_naming_the_key(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sandbox)
    data = yaml.safe_load(config.read_text("utf-8"))
    data["crisis"] = {"default_region": "NZ"}
    config.write_text(yaml.safe_dump(data), "utf-8")
    code, out = await run_to_end("run", "--config", str(config), token=sandbox.token)
    assert code == 2, out
    assert "crisis.default_region: there are no support lines for NZ" in out
    assert "Traceback" not in out
    assert sandbox.sessions_started == 0


async def test_running_the_bot_never_imports_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    """`peerlight run` pointed at another host (here the sandbox) goes through
    `bot.discord_host`; the sandbox is only the demo's (docs/ARCHITECTURE.md §1)."""
    config = write_config(tmp_path, sandbox)
    bot = await start_bot(config, sandbox.token, log_imports=True)
    try:
        await bot.wait_for_line("Peerlight is ready")
        interaction = await sandbox.command("about")
        assert (await interaction.response_message()).ephemeral
    finally:
        code = await bot.stop()
    assert code == 0, bot.text
    imported = {
        line.rsplit("|", 1)[1].strip() for line in bot.output if line.startswith("import time:")
    }
    assert {"bot.app", "bot.discord_host", "bot.ui.library"} <= imported
    assert sorted(m for m in imported if m.startswith("bot.sandbox")) == []
