"""`peerlight status` and the health endpoint behind it, with the real bot on the sandbox:
each shard's state and last heartbeat, and whether the database would take a write."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.app import PeerlightBot
from bot.cli_status import fetch
from bot.config import Settings, parse_settings
from bot.sandbox.server import Sandbox
from bot.storage.content_files import LoadReport

from .test_checkin import bot_on

HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def with_health(discord: dict[str, Any] | None = None) -> Settings:
    return parse_settings({"discord": discord or {}, "health": {"port": 0}})


def port_of(bot: PeerlightBot) -> int:
    cog: Any = bot.get_cog("HealthCog")
    assert cog is not None and cog.port, "the health endpoint is not listening"
    return int(cog.port)


async def status(port: int) -> tuple[int, str, str]:
    """`peerlight status --port PORT`, the real command in its own process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "status",
        "--port",
        str(port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_status_reports_the_shard_ready_with_a_heartbeat_and_the_database_answering(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    async with bot_on(sandbox, with_health(), shipped_report, tmp_path / "h.sqlite3") as bot:
        port = port_of(bot)
        report = await asyncio.to_thread(fetch, port)
        assert report["healthy"] is True
        (shard,) = report["shards"]
        assert (shard["id"], shard["state"]) == (0, "ready")
        assert shard["last_heartbeat"] is not None
        assert report["database"]["answers"] is True
        code, out, err = await status(port)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].endswith(": healthy")
        assert lines[1].startswith("shard 0 of 1: ready (since ")
        assert "last heartbeat " in lines[1] and "none yet" not in lines[1]
        assert lines[2].startswith("database: answers (")

        bot.dispatch("disconnect")  # what discord.py says when the connection drops
        await asyncio.sleep(0)
        code, out, _ = await status(port)
        assert code == 1
        assert "NOT healthy" in out and "shard 0 of 1: disconnected" in out
        bot.dispatch("resumed")
        await asyncio.sleep(0)
        assert (await status(port))[0] == 0


async def test_each_shard_of_a_sharded_process_is_reported_apart(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    settings = with_health({"shard_count": 2, "shards": "0-1"})
    async with bot_on(sandbox, settings, shipped_report, tmp_path / "s.sqlite3") as bot:
        port = port_of(bot)
        report = await asyncio.to_thread(fetch, port)
        assert [(s["id"], s["state"]) for s in report["shards"]] == [(0, "ready"), (1, "ready")]
        assert report["shard_count"] == 2 and report["healthy"] is True
        bot.dispatch("shard_disconnect", 1)
        await asyncio.sleep(0)
        code, out, _ = await status(port)
        assert code == 1
        assert "shard 0 of 2: ready" in out and "shard 1 of 2: disconnected" in out


async def test_a_database_held_locked_by_another_program_does_not_answer(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    path = tmp_path / "locked.sqlite3"
    async with bot_on(sandbox, with_health(), shipped_report, path) as bot:
        port = port_of(bot)
        holder = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLD_LOCK, str(path), "8", stdout=subprocess.PIPE
        )
        try:
            assert holder.stdout is not None
            async with asyncio.timeout(20):
                assert (await holder.stdout.readline()).strip() == b"locked"
            code, out, _ = await status(port)
            assert code == 1
            assert "database: does NOT answer (OperationalError: database is locked)" in out
        finally:
            holder.kill()
            await holder.wait()
        assert (await status(port))[0] == 0


def test_status_without_a_port_or_a_process_says_what_to_do(tmp_path: Path) -> None:
    no_port = subprocess.run(
        [sys.executable, "-m", "bot", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert no_port.returncode == 2
    assert "set health.port" in no_port.stderr
    config = tmp_path / "c.yaml"
    config.write_text("health:\n  port: 9\n", "utf-8")  # nothing listens on port 9 here
    nobody = subprocess.run(
        [sys.executable, "-m", "bot", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert nobody.returncode == 1
    assert "nothing answers on 127.0.0.1:9" in nobody.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("health:\n  port: 70000\n", "utf-8")
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(bad), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "health.port: must be at most 65535, got 70000" in refused.stderr
