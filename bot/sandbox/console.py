"""`peerlight demo`: the whole bot against the local sandbox, in a terminal.

Lines typed (or piped) are what a member would do in Discord:
    /cope feeling:anxious          run a slash command (quote values with spaces)
    /technique name:box?           show what autocomplete offers for an option
    press Another one              click a button on the last reply
    choose anxious tired           pick values from the last reply's menu
    as moderator | as member       switch who is typing
    in #check-ins                  switch channel
    help | quit
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.ui.text import format_message

from .harness import load_content, running_bot, sandbox_settings
from .server import (
    Sandbox,
    SandboxError,
    SandboxInteraction,
    SandboxMember,
    SandboxMessage,
)

REPLY_TIMEOUT = 5.0
QUIET_AFTER = 0.3

HELP = """\
Try Peerlight as a member of a Discord server. Type:
  /about                         what Peerlight is and what it stores
  /cope feeling:anxious          a technique for how you feel (area:physical, share:true)
  /technique name:"box"          look a technique up; end a value with ? to see suggestions
  /story skip:suicide            a specialist's story, without stories with that warning
  /resources region:GB           crisis and support lines
  /checkin                       an anonymous check-in
  press LABEL                    click a button on the last reply (part of the label is enough)
  choose VALUE [VALUE...]        pick from the last reply's menu
  as moderator / as member       switch who is typing (moderators: /summary, /schedule, /content)
  in #CHANNEL                    type in another channel (#general, #check-ins, #announcements)
  help                           this list
  quit                           leave the demo"""


def message_dict(message: SandboxMessage) -> dict[str, Any]:
    return {
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "flags": message.flags,
        "attachments": [{"filename": a.name} for a in message.attachments],
    }


def parse_command(line: str) -> tuple[str, dict[str, Any], str | None]:
    """`/schedule add time:9:00 days:"mon,wed"` → ("schedule add", {...}, focused option)."""
    tokens = shlex.split(line[1:])
    words: list[str] = []
    options: dict[str, Any] = {}
    focused: str | None = None
    for token in tokens:
        name, sep, value = token.partition(":")
        if not sep:
            if options:
                raise ValueError(f"“{token}” needs a name, like option:{token}")
            words.append(token)
            continue
        if value.endswith("?"):
            focused = name
            value = value[:-1]
        if value.startswith("#") and len(value) > 1:
            value = value[1:]  # channel:#general, as a member would write it
        lowered = value.lower()
        options[name] = True if lowered == "true" else False if lowered == "false" else value
    if not words:
        raise ValueError("type a command after the slash, e.g. /about")
    return " ".join(words), options, focused


@dataclass
class Console:
    sandbox: Sandbox
    out: TextIO
    attachments_dir: Path
    member: SandboxMember = field(init=False)
    channel_id: int = field(init=False)
    events: asyncio.Queue[tuple[str, SandboxMessage]] = field(default_factory=asyncio.Queue)
    last_interactive: SandboxMessage | None = None

    def __post_init__(self) -> None:
        self.member = self.sandbox.member
        self.channel_id = self.sandbox.guild.channel("general").id
        self.sandbox.add_listener(self._on_message)

    def _on_message(self, kind: str, message: SandboxMessage) -> None:
        # A deferred reply is created as a "thinking…" placeholder and filled in by an
        # update; the message object is shared, so printing both would show it twice.
        if kind == "delete" or (kind == "create" and message.loading):
            return
        self.events.put_nowait((kind, message))

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @property
    def who(self) -> str:
        role = "moderator" if self.member is self.sandbox.moderator else "member"
        channel = self.sandbox.guild.channel(self.channel_id).name
        return f"{self.member.name} ({role}) in #{channel}"

    def _show(self, kind: str, message: SandboxMessage) -> None:
        if message.components:
            self.last_interactive = message
        text = format_message(message_dict(message))
        if kind == "update":
            text = text.replace("┌ ", "┌ (updated) ", 1)
        if not message.ephemeral and message.interaction_id is None:
            channel = self.sandbox.guild.channel(message.channel_id).name
            text = text.replace("posted in the channel", f"posted in #{channel}", 1)
        self.say(text)
        for attachment in message.attachments:
            path = self.attachments_dir / attachment.name
            path.write_bytes(attachment.data)
            self.say(f"  (saved {attachment.name} to {path})")

    async def drain(self, first_timeout: float) -> int:
        """Print what the bot sends: wait for the first message, then until it goes quiet."""
        shown = 0
        timeout = first_timeout
        while True:
            try:
                kind, message = await asyncio.wait_for(self.events.get(), timeout)
            except TimeoutError:
                return shown
            self._show(kind, message)
            shown += 1
            timeout = QUIET_AFTER

    async def interact(self, start: Callable[[], Any]) -> None:
        try:
            interaction: SandboxInteraction = await start()
        except SandboxError as exc:
            self.say(f"  ✗ {exc}")
            return
        try:
            response = await interaction.response(REPLY_TIMEOUT)
        except TimeoutError:
            self.say("  (no reply from the bot)")
            return
        if isinstance(response, dict) and interaction.modal is not None:
            await self.drain(QUIET_AFTER)
            await self.fill_modal(interaction)
            return
        await self.drain(QUIET_AFTER if self.events.qsize() else 1.0)

    async def fill_modal(self, interaction: SandboxInteraction) -> None:
        modal = interaction.modal or {}
        self.say(f"┌ a form opened: {modal.get('title', '')}")
        values: dict[str, str] = {}
        for row in modal.get("components") or []:
            for item in row.get("components") or []:
                label = item.get("label") or item.get("custom_id")
                self.say(f"  {label}:")
                answer = await read_line(self.out, prompt="  > ")
                if answer is None:
                    return
                values[str(item.get("custom_id"))] = answer
        await self.interact(
            lambda: self.sandbox.submit_modal(interaction, values, member=self.member)
        )

    async def run_line(self, line: str) -> bool:
        """Handle one line; False when the member asked to leave."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        lowered = word.lower()
        if lowered in ("quit", "exit", "q"):
            return False
        if lowered in ("help", "?"):
            self.say(HELP)
        elif lowered == "as":
            who = rest.strip().lower()
            if who in ("moderator", "mod"):
                self.member = self.sandbox.moderator
            elif who == "member":
                self.member = self.sandbox.member
            else:
                self.say("  ✗ say `as moderator` or `as member`")
                return True
            self.say(f"  now typing as {self.who}")
        elif lowered == "in":
            name = rest.strip().lstrip("#")
            try:
                self.channel_id = self.sandbox.guild.channel(name).id
            except KeyError:
                names = ", ".join(f"#{c.name}" for c in self.sandbox.guild.channels.values())
                self.say(f"  ✗ no channel #{name}; there are {names}")
                return True
            self.say(f"  now typing as {self.who}")
        elif lowered == "press":
            await self.press(rest.strip())
        elif lowered == "choose":
            await self.choose(rest.split())
        elif line.startswith("/"):
            await self.slash(line)
        else:
            self.say("  ✗ start a command with / (e.g. /about), or type help")
        return True

    async def slash(self, line: str) -> None:
        try:
            name, options, focused = parse_command(line)
        except ValueError as exc:
            self.say(f"  ✗ {exc}")
            return
        known = self.command_names()
        if name.split()[0] not in known:
            self.say(
                f"  ✗ there is no /{name.split()[0]} command; try "
                + ", ".join(f"/{n}" for n in known)
            )
            return
        if focused is not None:
            try:
                choices = await self.sandbox.autocomplete(
                    name, options, focused, member=self.member, channel_id=self.channel_id
                )
            except (SandboxError, TimeoutError) as exc:
                self.say(f"  ✗ {exc}")
                return
            self.say(f"  suggestions for {focused}:")
            for choice in choices or [{"name": "(none)", "value": ""}]:
                self.say(f"    {choice['name']}  → {focused}:{choice['value']}")
            return
        await self.interact(
            lambda: self.sandbox.command(
                name, options, member=self.member, channel_id=self.channel_id
            )
        )

    def command_names(self) -> list[str]:
        registered = self.sandbox.registered_commands(self.sandbox.guild.id)
        registered += self.sandbox.registered_commands(None)
        return sorted({str(c["name"]) for c in registered})

    async def press(self, label: str) -> None:
        message = self.last_interactive
        if message is None:
            self.say("  ✗ there is no reply with buttons yet")
            return
        wanted = label.lower()
        buttons = [b for b in message.buttons() if b.get("label")]
        if not wanted:
            labels = ", ".join(str(b["label"]) for b in buttons) or "none"
            self.say(f"  ✗ press which button? The last reply has: {labels}")
            return
        match = next((b for b in buttons if str(b["label"]).lower() == wanted), None) or next(
            (b for b in buttons if wanted in str(b["label"]).lower()), None
        )
        if match is None:
            labels = ", ".join(str(b["label"]) for b in buttons) or "none"
            self.say(f"  ✗ no button “{label}” on the last reply; its buttons: {labels}")
            return
        target = str(match.get("custom_id") or match["label"])
        await self.interact(lambda: self.sandbox.press(message, target, member=self.member))

    async def choose(self, values: list[str]) -> None:
        message = next((m for m in [self.last_interactive] if m is not None and m.selects()), None)
        if message is None:
            self.say("  ✗ the last reply has no menu to choose from")
            return
        select = message.selects()[0]
        options = select.get("options") or []
        picked: list[str] = []
        for value in values:
            wanted = value.lower()
            option = next(
                (
                    o
                    for o in options
                    if wanted in (str(o.get("value")).lower(), str(o.get("label")).lower())
                ),
                None,
            )
            if option is None:
                allowed = ", ".join(str(o.get("value")) for o in options)
                self.say(f"  ✗ “{value}” is not in the menu; it has {allowed}")
                return
            picked.append(str(option["value"]))
        await self.interact(
            lambda: self.sandbox.choose(
                message, picked, custom_id=select.get("custom_id"), member=self.member
            )
        )


async def read_line(out: TextIO, prompt: str) -> str | None:
    interactive = sys.stdin.isatty()
    if interactive:
        print(prompt, end="", file=out, flush=True)
    line: str = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if not line:
        return None
    if not interactive and line.strip():
        print(f"{prompt}{line.rstrip()}", file=out, flush=True)
    return line


async def _demo(settings: Settings, content_dir: Path | None, out: TextIO) -> int:
    with tempfile.TemporaryDirectory(prefix="peerlight-demo-") as tmp:
        base = Path(tmp)
        attachments = Path(tempfile.gettempdir()) / "peerlight-demo"
        attachments.mkdir(exist_ok=True)
        async with Sandbox() as sandbox:
            demo_settings = sandbox_settings(
                settings, sandbox, database=base / "demo.sqlite3", content_dir=content_dir
            )
            report = await asyncio.to_thread(load_content, demo_settings)
            if report.catalog is None:
                for problem in report.errors:
                    print(problem.format(), file=sys.stderr)
                print(f"peerlight: the content has errors ({report.summary()})", file=sys.stderr)
                return 1
            async with running_bot(sandbox, demo_settings, report=report):
                console = Console(sandbox, out, attachments)
                counts = report.catalog.counts()
                console.say(
                    "Peerlight demo: the real bot, talking to a local stand-in for Discord.\n"
                    f"Loaded {counts['techniques']} techniques, {counts['stories']} stories, "
                    f"{counts['prompts']} prompts and {counts['regions']} regions of support "
                    "lines. Type help for what to try, quit to leave.\n"
                    f"You are {console.who}."
                )
                await console.drain(0.05)
                while True:
                    line = await read_line(out, prompt=f"{console.member.name}> ")
                    if line is None or not await console.run_line(line):
                        break
                console.say("Goodbye. Take care of yourself.")
    return 0


def run_demo(
    settings: Settings, *, content_dir: Path | None = None, out: TextIO | None = None
) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Voice support is not used; discord.py's warnings about its libraries are noise here.
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_demo(settings, content_dir, out or sys.stdout))
    return 0
