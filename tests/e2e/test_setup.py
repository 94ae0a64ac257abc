"""`peerlight setup` against the sandbox: a good token and a bad one, the invite link, the
servers with their missing permissions, the config file written only when told where;
the token is never printed or written, and without a terminal nothing is asked."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli_setup import PERMISSION_INTEGER, run_setup
from bot.config import Settings, parse_settings
from bot.sandbox.server import Sandbox

REGIONS = ["AU", "CA", "GB", "IE", "INTL", "US"]


def pointed_at(sandbox: Sandbox, **extra: object) -> Settings:
    return parse_settings(
        {"discord": {"api_base": sandbox.api_base, "gateway_url": sandbox.gateway_url}, **extra}
    )


async def setup(
    sandbox: Sandbox, token: str, *, write: Path | None = None, answers: list[str] | None = None
) -> tuple[int, str, str, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    asked: list[str] = []
    script = list(answers or [])

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return script.pop(0)

    code = await run_setup(
        pointed_at(sandbox),
        token,
        write=write,
        ask=ask if answers is not None else None,
        regions=REGIONS,
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue(), asked


async def test_a_good_token_shows_the_bot_the_invite_and_each_servers_missing_permissions(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    short = await sandbox.add_guild(name="Short Of Rights")
    withheld = ~((1 << 14) | (1 << 15))  # no Embed Links, no Attach Files
    for role in (short.roles[short.bot_role_id], short.everyone_role):
        role.permissions &= withheld
    config = tmp_path / "config.yaml"

    code, out, err, asked = await setup(sandbox, sandbox.token, write=config)

    assert code == 0, err
    assert f"the bot is {sandbox.bot_name} (id {sandbox.bot_user_id})" in out
    assert PERMISSION_INTEGER == 52224
    assert (
        f"https://discord.com/oauth2/authorize?client_id={sandbox.application_id}"
        "&scope=bot+applications.commands&permissions=52224"
    ) in out
    assert f"{sandbox.guild.name} ({sandbox.guild.id}): all permissions it needs" in out
    assert f"Short Of Rights ({short.id}): missing Embed Links, Attach Files" in out
    assert asked == []
    written = config.read_text("utf-8")
    assert written.startswith("# Peerlight settings")
    assert parse_settings(yaml.safe_load(written)).discord.token_env == "DISCORD_TOKEN"
    for text in (out, err, written):
        assert sandbox.token not in text

    # An existing file is never replaced.
    again, _, err, _ = await setup(sandbox, sandbox.token, write=config)
    assert again == 2 and "already exists" in err
    assert config.read_text("utf-8") == written


async def test_a_bad_token_is_refused_clearly_and_nothing_is_written(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"
    config = tmp_path / "config.yaml"
    code, out, err, _ = await setup(sandbox, bad, write=config)
    assert code == 2
    assert err.startswith("peerlight: that token was refused by Discord")
    assert "DISCORD_TOKEN" in err
    assert not config.exists()
    assert bad not in out + err


async def test_on_a_terminal_it_asks_and_writes_the_answers(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "answers.yaml"
    answers = [str(config), "", "mars", "gb", "london", "Europe/London"]
    code, out, err, asked = await setup(sandbox, sandbox.token, answers=answers)
    assert code == 0, err
    assert f"Wrote {config}" in out
    assert len(asked) == 6
    assert "pick one of AU, CA, GB, IE, INTL, US" in err
    settings = parse_settings(yaml.safe_load(config.read_text("utf-8")))
    assert settings.discord.guild_ids == (sandbox.guild.id,)
    assert settings.crisis.default_region == "GB"
    assert settings.scheduling.default_timezone == "Europe/London"


async def test_without_a_terminal_it_asks_nothing_and_writes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"discord": {"api_base": sandbox.api_base, "gateway_url": sandbox.gateway_url}}
        ),
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLIGHT_")}
    env["DISCORD_TOKEN"] = sandbox.token
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "setup",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert f"the bot is {sandbox.bot_name}" in text
    assert "[Y/n]" not in text and "Path, or empty" not in text
    assert sorted(os.listdir(tmp_path)) == ["config.yaml"]
    assert sandbox.token not in text + err.decode()


@pytest.mark.parametrize("permissions", [0, 1 << 3])
def test_administrator_lacks_nothing(permissions: int) -> None:
    from bot.cli_setup import missing_permissions

    missing = missing_permissions(permissions)
    assert missing == (
        () if permissions else ("View Channels", "Send Messages", "Embed Links", "Attach Files")
    )
