"""Logs that give no member away, at every level (SAFETY.md §5).

The bot runs as its own process at `log_level: DEBUG`, exactly as an operator would run
it, while members drive every command; then the whole log is read. No member id, name,
nothing a member typed and no token (the bot's or an interaction's) may be in it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from bot.logs import QUIET_LIBRARIES, REDACTED, configure_logging, redact
from bot.sandbox.server import Sandbox, SandboxInteraction, SandboxMember

from .test_process import START_TIMEOUT, start_bot

TYPED = "zanzibarquokka"  # a word no log line has any reason to contain
MEMBER = SandboxMember(id=1191300000000000777, name="juniper.halloway", global_name="Juniper H")
MODERATOR = SandboxMember.moderator(id=1191300000000000888, name="moss.okonkwo")


def debug_config(tmp_path: Path, sandbox: Sandbox) -> Path:
    config = tmp_path / "config.yaml"
    data = {
        "discord": {
            "api_base": sandbox.api_base,
            "gateway_url": sandbox.gateway_url,
            "guild_ids": [sandbox.guild.id],
        },
        "database": "peerlight.sqlite3",
        "log_level": "DEBUG",
    }
    config.write_text(yaml.safe_dump(data), "utf-8")
    return config


async def drive_every_command(sandbox: Sandbox) -> list[SandboxInteraction]:
    done: list[SandboxInteraction] = []

    async def run(name: str, options: dict[str, object], member: SandboxMember) -> None:
        interaction = await sandbox.command(name, options, member=member)
        await interaction.response(timeout=10)
        done.append(interaction)

    await run("about", {}, MEMBER)
    await run("cope", {"feeling": f"anxious {TYPED}"}, MEMBER)
    await run("cope", {"feeling": "anxious", "share": True}, MEMBER)
    await run("technique", {"name": f"box {TYPED}"}, MEMBER)
    await run("story", {"theme": TYPED}, MEMBER)
    await run("resources", {"region": TYPED[:6]}, MEMBER)
    checkin = await sandbox.command("checkin", member=MEMBER)
    done.append(checkin)
    question = await checkin.response_message(timeout=10)
    mood = await sandbox.press(question, "Getting by", member=MEMBER)
    done.append(mood)
    feelings = await mood.response_message(timeout=10)
    saved = await sandbox.choose(feelings, ["anxious"], member=MEMBER)
    await saved.response(timeout=10)
    done.append(saved)
    await run("summary", {}, MODERATOR)
    await run(
        "schedule add",
        {"channel": "general", "time": "09:00", "days": "daily", "kind": "check-in"},
        MODERATOR,
    )
    await run("schedule list", {}, MODERATOR)
    await run("content status", {}, MODERATOR)
    return done


async def test_a_debug_run_logs_no_member_and_no_token(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_member(MEMBER)
    sandbox.add_member(MODERATOR)
    bot = await start_bot(debug_config(tmp_path, sandbox), sandbox.token)
    try:
        await sandbox.wait_until_connected(timeout=START_TIMEOUT)
        await bot.wait_for_line("Peerlight is ready")
        interactions = await drive_every_command(sandbox)
    finally:
        code = await bot.stop()
    log = bot.text
    assert code == 0, log
    # The run really was at DEBUG: Peerlight's own debug lines are there.
    assert "DEBUG    bot.app: loaded bot.cogs.checkin" in log, log[-2000:]
    secrets = {
        str(MEMBER.id),
        MEMBER.name,
        str(MEMBER.global_name),
        str(MODERATOR.id),
        MODERATOR.name,
        TYPED,
        TYPED[:6],
        sandbox.token,
    }
    secrets.update(interaction.token for interaction in interactions)
    secrets.update(str(interaction.id) for interaction in interactions)
    found = sorted(secret for secret in secrets if secret in log)
    assert not found, f"the log gives away {found}"


def test_libraries_stay_at_info_whatever_the_level() -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    handler = logging.NullHandler()
    try:
        configure_logging("DEBUG", handler=handler)
        assert root.level == logging.DEBUG
        for name in (*QUIET_LIBRARIES, "discord.gateway", "discord.http", "aiosqlite"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        assert logging.getLogger("bot.cogs.checkin").isEnabledFor(logging.DEBUG)
    finally:
        root.removeHandler(handler)
        root.setLevel(before[0])
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_tokens_are_redacted_from_any_logger() -> None:
    interaction_token = "aW50ZXJhY3Rpb246MTE5MTMwMDAwMDAwMDAwMDc3NzpTZWNyZXRTZWNyZXRTZWNyZXQ"
    bot_token = "MTE5MTIwNDE2NzMwMDc5OTk5OQ.GhXyZa.abcdefghijklmnopqrstuvwxyz012345"
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    root = logging.getLogger()
    level = root.level
    handler = Keep()
    try:
        configure_logging("INFO", handler=handler)
        logging.getLogger("discord.webhook.async_").warning(
            "POST /webhooks/1/%s failed", interaction_token
        )
        logging.getLogger("somewhere").error("token %s", bot_token)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)
    text = "\n".join(records)
    assert interaction_token not in text and bot_token not in text
    assert text.count(REDACTED) == 2
    assert redact("server 1191204167300799999 left") == "server 1191204167300799999 left"
