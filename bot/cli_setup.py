"""`peerlight setup`: what the person hosting the bot needs before `peerlight run`.

It checks the token with Discord (the bot's name and id, or that the token was refused),
prints the invite link with exactly the scopes and permissions Peerlight needs, lists the
servers the bot is in with any permission each is missing, and, when told where, writes a
commented config file. The token is read from the environment and is never printed or
written. Without a terminal (piped, in a script) it asks nothing: it checks and prints,
and writes a file only when `--write PATH` names one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import discord
import yaml

from bot.config import ConfigError, Settings, parse_settings

EXIT_OK, EXIT_USAGE, EXIT_UNREACHABLE = 0, 2, 3

# What the bot needs in a server, by Discord's permission bits (and nothing more).
REQUIRED_PERMISSIONS: tuple[tuple[str, int], ...] = (
    ("View Channels", 1 << 10),
    ("Send Messages", 1 << 11),
    ("Embed Links", 1 << 14),
    ("Attach Files", 1 << 15),
)
PERMISSION_INTEGER = sum(bit for _, bit in REQUIRED_PERMISSIONS)
ADMINISTRATOR = 1 << 3
SCOPES = ("bot", "applications.commands")
INVITE = "https://discord.com/oauth2/authorize?client_id={app}&scope={scopes}&permissions={perms}"

Ask = Callable[[str], str]


@dataclass(frozen=True)
class Server:
    id: int
    name: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    bot_name: str
    bot_id: int
    application_id: int
    servers: tuple[Server, ...]


def invite_link(application_id: int) -> str:
    return INVITE.format(app=application_id, scopes="+".join(SCOPES), perms=PERMISSION_INTEGER)


def missing_permissions(permissions: int) -> tuple[str, ...]:
    if permissions & ADMINISTRATOR:
        return ()
    return tuple(name for name, bit in REQUIRED_PERMISSIONS if not permissions & bit)


class TokenRefused(Exception):
    pass


async def check_with_discord(token: str) -> Checked:
    """Log in over REST only (no gateway): who the bot is, its application, its servers."""
    http = discord.http.HTTPClient(discord.utils.MISSING)
    try:
        try:
            me = await http.static_login(token)
        except discord.LoginFailure:
            raise TokenRefused() from None
        application = await http.application_info()
        guilds = await http.get_guilds(200)
    finally:
        await http.close()
    servers = tuple(
        Server(int(g["id"]), str(g.get("name", "")), missing_permissions(int(g["permissions"])))
        for g in guilds
    )
    return Checked(str(me["username"]), int(me["id"]), int(application["id"]), servers)


def report(checked: Checked, out: TextIO) -> None:
    print(f"Token accepted: the bot is {checked.bot_name} (id {checked.bot_id}).", file=out)
    print(
        f"\nInvite it to a server (scopes {' and '.join(SCOPES)}; permissions "
        f"{', '.join(name for name, _ in REQUIRED_PERMISSIONS)}: {PERMISSION_INTEGER}):",
        file=out,
    )
    print(f"  {invite_link(checked.application_id)}", file=out)
    if not checked.servers:
        print("\nIt is in no server yet: open the link above to invite it.", file=out)
    else:
        print(f"\nServers it is in ({len(checked.servers)}):", file=out)
        for server in checked.servers:
            state = (
                "missing " + ", ".join(server.missing) + " (Server Settings → Roles)"
                if server.missing
                else "all permissions it needs"
            )
            print(f"  {server.name} ({server.id}): {state}", file=out)
    print(
        "\nThen, in each server, a moderator runs /settings to choose its moderator roles, "
        "the moderators' channel, the crisis region and the time zone.",
        file=out,
    )


@dataclass(frozen=True)
class Answers:
    token_env: str
    guild_ids: tuple[int, ...]
    default_region: str
    default_timezone: str


def config_text(answers: Answers) -> str:
    """A commented config file; the token itself never goes in it."""
    guilds = yaml.safe_dump(list(answers.guild_ids), default_flow_style=True).strip()
    return f"""# Peerlight settings, written by `peerlight setup`. Every setting is described in
# config.example.yaml. Each server's own choices (moderator roles, the moderators'
# channel, its crisis region and time zone) are made in Discord with /settings.

discord:
  # Name of the environment variable that holds the bot token (the token is never
  # written here).
  token_env: {answers.token_env}
  # Servers whose slash commands are registered directly, so they appear at once.
  guild_ids: {guilds}

crisis:
  # Whose crisis lines are shown when neither the server nor the member's language says.
  default_region: {answers.default_region}

scheduling:
  # The time zone for schedules in servers that have not set their own.
  default_timezone: {answers.default_timezone}
"""


def _ask_until(
    ask: Ask, prompt: str, default: str, check: Callable[[str], str], err: TextIO
) -> str:
    for _ in range(5):
        given = ask(f"{prompt} [{default}]: ").strip() or default
        try:
            return check(given)
        except ValueError as error:
            print(f"  {error}", file=err)
    return check(default)


def _region(known: Sequence[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        code = value.strip().upper()
        if code not in known:
            raise ValueError(f"pick one of {', '.join(sorted(known))}")
        return code

    return check


def _zone(value: str) -> str:
    from bot.domain.recurrence import ScheduleInputError, parse_timezone

    try:
        return parse_timezone(value).key
    except ScheduleInputError as error:
        raise ValueError(error.message) from None


def gather_answers(
    settings: Settings,
    checked: Checked,
    regions: Sequence[str],
    ask: Ask | None,
    err: TextIO = sys.stderr,
) -> Answers:
    """The settings to write: asked for on a terminal, else the current ones."""
    current = Answers(
        token_env=settings.discord.token_env,
        guild_ids=settings.discord.guild_ids,
        default_region=settings.crisis.default_region,
        default_timezone=settings.scheduling.default_timezone,
    )
    if ask is None:
        return current
    guild_ids = current.guild_ids
    if checked.servers:
        here = ask("Register the slash commands directly in the servers above? [Y/n]: ")
        if here.strip().lower() in ("", "y", "yes"):
            guild_ids = tuple(server.id for server in checked.servers)
    region = _ask_until(ask, "Default crisis region", current.default_region, _region(regions), err)
    zone = _ask_until(ask, "Default time zone", current.default_timezone, _zone, err)
    return Answers(current.token_env, guild_ids, region, zone)


def write_config(path: Path, answers: Answers) -> str | None:
    """Write the file; a problem in words, or None. Never replaces an existing file."""
    text = config_text(answers)
    try:
        parse_settings(yaml.safe_load(text))
    except ConfigError as error:  # answers were checked: this would be a bug
        return "; ".join(error.problems)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return f"{path} already exists; pass another path or move it away first"
    except OSError as error:
        return f"{path}: cannot write it ({error.strerror or error})"
    return None


def on_a_terminal(stdin: Any = None, stdout: Any = None) -> bool:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    return bool(stdin.isatty() and stdout.isatty())


async def run_setup(
    settings: Settings,
    token: str,
    *,
    write: Path | None,
    ask: Ask | None,
    regions: Sequence[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Check, print, and write the config file when asked to; the exit code."""
    import aiohttp

    from bot.discord_host import client_pointed_at

    base = settings.discord.api_base or discord.http.Route.BASE
    gateway = settings.discord.gateway_url or str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    try:
        with client_pointed_at(base, gateway):
            checked = await check_with_discord(token)
    except TokenRefused:
        print(
            f"peerlight: that token was refused by Discord. Reset it in the developer portal "
            f"(Bot → Reset Token) and put the new one in {settings.discord.token_env}.",
            file=err,
        )
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError, discord.HTTPException) as error:
        print(f"peerlight: could not reach Discord ({type(error).__name__}); try again", file=err)
        return EXIT_UNREACHABLE
    report(checked, out)
    if ask is not None and write is None:
        where = ask("\nWrite a config file with these answers? Path, or empty to skip: ").strip()
        write = Path(where) if where else None
    if write is None:
        return EXIT_OK
    answers = gather_answers(settings, checked, regions, ask, err)
    problem = write_config(write, answers)
    if problem is not None:
        print(f"peerlight: {problem}", file=err)
        return EXIT_USAGE
    print(f"\nWrote {write}. Start the bot with: peerlight --config {write} run", file=out)
    return EXIT_OK
