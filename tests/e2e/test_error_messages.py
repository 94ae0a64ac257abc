"""Every message a member, moderator or host reads when something can't be done, found
from the code so a new one cannot be missed: each is kind and plain (no Python reprs,
brackets, internal ids or library wording), and each reaches the person privately.

The messages are what `UserFacingError` is raised with anywhere in `bot/`, and what the
exceptions are raised with whose text is passed on as a `UserFacingError` (an
`except X as error: raise UserFacingError(str(error))`). An f-string's placeholders are
read as "…". A message the scan cannot read (a variable, a call) fails the test: write
it as text where it is raised, or as a module constant.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.app import PeerlightBot
from bot.domain.errors import UserFacingError
from bot.sandbox.server import Sandbox

BOT = Path(__file__).resolve().parents[2] / "bot"
PLACEHOLDER = "…"


@dataclass(frozen=True)
class Site:
    where: str
    text: str | None  # None: the scan could not read it


def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text("utf-8")) for path in sorted(BOT.rglob("*.py"))}


def _constants(modules: dict[Path, ast.Module]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for tree in modules.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    continue
                if isinstance(target, ast.Name) and isinstance(value, str):
                    found.setdefault(target.id, set()).add(value)
    return found


def _text(arg: ast.expr, constants: dict[str, set[str]]) -> list[str | None]:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else PLACEHOLDER for v in arg.values]
        return ["".join(str(p) for p in parts)]
    if isinstance(arg, ast.Name) and arg.id in constants:
        return sorted(constants[arg.id])
    return [None]


def _passed_on(modules: dict[Path, ast.Module]) -> set[str]:
    """Exception classes whose text becomes a UserFacingError's."""
    classes: set[str] = set()
    for tree in modules.values():
        for handler in ast.walk(tree):
            if not isinstance(handler, ast.ExceptHandler) or handler.name is None:
                continue
            for node in ast.walk(handler):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "UserFacingError"
                    and node.args
                    and isinstance(node.args[0], ast.Call)
                    and getattr(node.args[0].func, "id", None) == "str"
                    and isinstance(handler.type, ast.Name)
                ):
                    classes.add(handler.type.id)
    return classes


def sites() -> list[Site]:
    modules = _modules()
    constants = _constants(modules)
    raised = {"UserFacingError", *_passed_on(modules)}
    found: list[Site] = []
    for path, tree in modules.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in raised):
                continue
            if not node.args:
                continue
            arg = node.args[0]
            if (
                isinstance(arg, ast.Call)
                and getattr(arg.func, "id", None) == "str"
                and getattr(node.func, "id", None) == "UserFacingError"
            ):
                continue  # passed on: the raises of that class are scanned themselves
            where = f"{path.relative_to(BOT.parent)}:{node.lineno}"
            found.extend(Site(where, text) for text in _text(arg, constants))
    return found


SITES = sites()
FIRST = re.compile(r"^[A-Z@“`/…]")
LAST = re.compile(r"[.?!]$")
REPR = re.compile(
    r"\[['\"]|\{['\"]|<class|object at 0x|Traceback|\w+Error\b|Exception|"
    r"\bNone\b|\bTrue\b|\bFalse\b|Input should|pydantic|custom_id|peerlight:\w"
)
BRACKETS = re.compile(r"[\[\]{}]")
SNOWFLAKE = re.compile(r"\d{15,}")
BLAME = re.compile(r"\b(invalid|illegal|forbidden|bad request|malformed)\b", re.IGNORECASE)


def test_the_scan_finds_the_messages_and_reads_every_one() -> None:
    assert len(SITES) >= 30
    unreadable = [s.where for s in SITES if s.text is None]
    assert unreadable == [], "write these messages as text or a module constant"


@pytest.mark.parametrize("site", SITES, ids=[s.where for s in SITES])
def test_each_message_is_plain_and_kind(site: Site) -> None:
    text = site.text
    assert text is not None
    assert FIRST.search(text), f"{site.where}: starts like a sentence: {text!r}"
    assert LAST.search(text.rstrip()), f"{site.where}: ends like a sentence: {text!r}"
    assert not REPR.search(text), f"{site.where}: no reprs or library words: {text!r}"
    assert not BRACKETS.search(text), f"{site.where}: no brackets: {text!r}"
    assert not SNOWFLAKE.search(text), f"{site.where}: no ids: {text!r}"
    assert not BLAME.search(text), f"{site.where}: says what to do, not what was wrong: {text!r}"


def test_no_handler_sends_a_message_for_everyone() -> None:
    """Only the one error path (`bot.ui.errors`) turns these into replies, privately;
    a handler elsewhere must send privately too, and is listed here once checked."""
    checked = {("bot/cogs/library.py", "_respond")}  # replies.send: ephemeral by default
    handlers: set[tuple[str, str]] = set()
    for path, tree in _modules().items():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.ExceptHandler)
                    and isinstance(node.type, ast.Name)
                    and node.type.id == "UserFacingError"
                ):
                    handlers.add((str(path.relative_to(BOT.parent)), function.name))
    assert handlers == checked


async def test_every_message_reaches_the_person_privately_through_the_error_path(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    texts = sorted({s.text for s in SITES if s.text is not None})

    @app_commands.command(name="refuse")
    async def refuse(interaction: discord.Interaction, which: int) -> None:
        """Raises one of the messages."""
        raise UserFacingError(texts[which])

    guild = bot.get_guild(sandbox.guild.id)
    assert guild is not None
    bot.tree.add_command(refuse, guild=guild)
    await bot.tree.sync(guild=guild)
    for which, text in enumerate(texts):
        message = await (await sandbox.command("refuse", {"which": which})).response_message()
        assert message.ephemeral, text
        assert message.content == text
        assert message.embeds == [] and message.components == []
