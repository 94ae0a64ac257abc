"""Storage faults: a database locked by another process, read-only, full, or the bot
killed in the middle of a burst of check-ins. Each gives a clear message (exit 2 at start
naming the path and the fix, or a private "nothing was recorded" while running), nothing
acknowledged is lost, and `PRAGMA integrity_check` stays ok."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.app import PeerlightBot
from bot.domain.cards.checkin import CHECKIN_NOT_SAVED
from bot.sandbox.payloads import SandboxMember
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.storage.database import Database, DatabaseError
from bot.ui.errors import STORAGE_UNAVAILABLE

HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


async def made(path: Path) -> Path:
    async with Database.open(path):
        pass
    return path


async def test_a_read_only_database_is_refused_at_start_with_the_path_and_the_fix(
    tmp_path: Path,
) -> None:
    path = await made(tmp_path / "peerlight.sqlite3")
    with pytest.raises(DatabaseError) as caught:
        async with Database.open(path, mode="ro"):
            pass
    message = str(caught.value)
    assert message.startswith(f"{path}: the database is read-only")
    assert "give Peerlight write access" in message
    assert integrity(path) == "ok"


def test_a_database_locked_by_another_process_exits_2_naming_the_path(tmp_path: Path) -> None:
    path = asyncio.run(made(tmp_path / "peerlight.sqlite3"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({"database": str(path)}), "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLIGHT_")}
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            env={**env, "DISCORD_TOKEN": "not-used"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert result.returncode == 2, result.stderr
    assert f"peerlight: {path}: another program is holding the database locked" in result.stderr
    assert "Traceback" not in result.stderr
    assert integrity(path) == "ok"


async def fill_up(bot: PeerlightBot, guild_id: int) -> None:
    """Simulate a full disk: the database may not grow by more than a page, then that
    room is used up with check-ins of the same server and day (so the pages a member's
    check-in would go to are full) and with schedules of another server, until 50
    inserts in a row find no room."""
    database = bot.services.database
    rows = await database.fetchall("PRAGMA page_count")
    await database.connection.execute(f"PRAGMA max_page_count = {int(rows[0][0]) + 1}")
    day = bot.services.clock().astimezone(dt.UTC).date().isoformat()
    inserts = [
        (
            "INSERT INTO checkins (id, guild_id, day, mood, feelings) VALUES (?, ?, ?, 2, '')",
            lambda: (secrets.token_bytes(16), guild_id, day),
        ),
        (
            "INSERT INTO schedules (guild_id, short_id, channel_id, local_time, days, "
            "timezone, kind, created_at, next_due) "
            "VALUES (7, ?, 8, '09:00', 127, 'UTC', 'check-in', '2026-01-01T00:00:00+00:00', "
            "'2026-01-02T09:00:00+00:00')",
            lambda: (secrets.token_hex(3),),
        ),
    ]
    for sql, values in inserts:
        refused = 0
        for _ in range(20_000):
            try:
                await database.execute_alone(sql, values())
                refused = 0
            except sqlite3.IntegrityError:
                continue
            except sqlite3.OperationalError as error:
                assert "full" in str(error)
                refused += 1
                if refused == 50:
                    break
        assert refused == 50, "the database never filled up"


async def start_checkin(sandbox: Sandbox, member: SandboxMember | None = None) -> SandboxMessage:
    prompt = await (await sandbox.command("checkin", member=member)).response_message()
    return await (await sandbox.press(prompt, "Struggling", member=member)).response_message()


async def test_a_full_disk_records_nothing_says_so_and_loses_nothing(
    sandbox: Sandbox, bot: PeerlightBot, caplog: pytest.LogCaptureFixture
) -> None:
    database = bot.services.database
    step = await start_checkin(sandbox)
    await fill_up(bot, sandbox.guild.id)
    before = await bot.services.checkins.count(sandbox.guild.id)
    refused = await (await sandbox.press(step, "Skip")).response_message()
    assert refused.ephemeral and refused.content == CHECKIN_NOT_SAVED
    schedule = await (
        await sandbox.command(
            "schedule add",
            {"channel": "general", "time": "9:00", "days": "daily", "kind": "check-in"},
            member=sandbox.moderator,
        )
    ).response_message()
    assert schedule.ephemeral and schedule.content == STORAGE_UNAVAILABLE
    assert await bot.services.schedules.count(sandbox.guild.id) == 0
    assert await bot.services.checkins.count(sandbox.guild.id) == before
    assert any("full" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")

    # Room again (an operator freed space): the same press saves it, once.
    await database.connection.execute("PRAGMA max_page_count = 1073741823")
    saved = await (await sandbox.press(step, "Skip")).response_message()
    assert saved.embeds[0]["description"].startswith("Saved")
    assert await bot.services.checkins.count(sandbox.guild.id) == before + 1
    row = await database.fetchone("PRAGMA integrity_check")
    assert row is not None and row[0] == "ok"


# -- kill -9 in the middle of a burst --------------------------------------------------------

BURST = 24


async def test_kill_9_in_a_burst_of_check_ins_loses_none_that_were_acknowledged(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    members = [
        sandbox.add_member(SandboxMember(id=1191300000000100000 + n, name=f"member{n}"))
        for n in range(BURST)
    ]
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "discord": {
                    "api_base": sandbox.api_base,
                    "gateway_url": sandbox.gateway_url,
                    "guild_ids": [sandbox.guild.id],
                },
                "database": "peerlight.sqlite3",
            }
        ),
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLIGHT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env={**env, "DISCORD_TOKEN": sandbox.token},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await sandbox.wait_until_connected(timeout=30)
        await sandbox.wait_for_request("PUT", r"/commands$", timeout=30)
        steps = [await start_checkin(sandbox, member) for member in members]
        presses = await asyncio.gather(
            *(sandbox.press(step, "Skip", member=m) for step, m in zip(steps, members, strict=True))
        )
        # Kill the bot as soon as some, not all, were answered.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while sum(p.callback_type is not None for p in presses) < BURST // 4:
            assert loop.time() < deadline, "no check-in was answered"
            await asyncio.sleep(0.001)
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    await sandbox.wait_until_disconnected(timeout=10)
    acknowledged = [
        p
        for p in presses
        if p.callback_type == 7
        or any(m.embeds and "Saved" in m.embeds[0].get("description", "") for m in p.followups)
    ]
    assert acknowledged, "the kill came before any answer"
    database = tmp_path / "peerlight.sqlite3"
    assert integrity(database) == "ok"
    with sqlite3.connect(database) as connection:
        (stored,) = connection.execute("SELECT count(*) FROM checkins").fetchone()
    assert len(acknowledged) <= stored <= BURST
