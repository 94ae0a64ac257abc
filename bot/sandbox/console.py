"""`peerlight demo`: the whole bot against the local sandbox, in a terminal.

Lines typed (or piped) are what a member would do in Discord:
    /cope feeling:anxious          run a slash command (quote values with spaces)
    /technique name:box?           show what autocomplete offers for an option
    press Another one              click a button on the last reply
    choose anxious tired           pick values from the last reply's menu
    as moderator | as member       switch who is typing
    in #check-ins                  switch channel
    seed                           a simulated month of check-ins, for /summary
    help | quit

The bot, the sandbox and the console run on an event loop in a second thread; this
thread only reads lines. So Ctrl-C at the prompt leaves at once (even while a reply is
awaited), the terminal's line editing and history work, and posts the bot makes on its
own (scheduled prompts) are printed as they happen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import queue
import random
import signal
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.config import Settings
from bot.ui.text import format_message, wrapped

from .harness import load_content, running_bot, sandbox_settings
from .server import (
    Sandbox,
    SandboxError,
    SandboxInteraction,
    SandboxMember,
    SandboxMessage,
)

if TYPE_CHECKING:
    from bot.app import PeerlightBot

from .typed import TypedCommand, TypedError, check, local_suggestions, parse_line, words_list

REPLY_TIMEOUT = 5.0
QUIET_AFTER = 0.3
SETTLE_LIMIT = 5.0
DEMO_NOISE_SEED = 16

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
  seed                           fill this server with a simulated month of check-ins from
                                 40 members, so /summary has something to show (once, and
                                 before the first /summary; or start with --community)
  help                           this list
  quit (or Ctrl-C)               leave the demo"""

Ask = Callable[[str], Awaitable[str | None]]
Seed = Callable[[], Awaitable[str]]


def message_dict(message: SandboxMessage) -> dict[str, Any]:
    return {
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "flags": message.flags,
        "attachments": [{"filename": a.name} for a in message.attachments],
    }


async def _no_answers(prompt: str) -> str | None:
    return None


async def _no_community() -> str:
    raise TypedError("there is no server to seed here")


def _pick(wanted: str, names: list[str], what: str) -> str:
    """The one name `wanted` means: exact (any case), else the only one containing it."""
    lowered = wanted.lower()
    exact = [n for n in names if n.lower() == lowered]
    if exact:
        return exact[0]
    partial = [n for n in names if lowered in n.lower()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise TypedError(
            f"“{wanted}” could be {words_list(partial)}; type more of the {what} to say which"
        )
    raise TypedError(f"no {what} “{wanted}” on the last reply; it has {words_list(names)}")


@dataclass
class Console:
    sandbox: Sandbox
    out: TextIO
    attachments_dir: Path
    ask: Ask = _no_answers
    interactive: bool = False
    seed: Seed = _no_community
    member: SandboxMember = field(init=False)
    channel_id: int = field(init=False)
    events: asyncio.Queue[tuple[str, SandboxMessage]] = field(default_factory=asyncio.Queue)
    last_interactive: SandboxMessage | None = None
    prompt_shown: str | None = None
    shown: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _watcher: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.member = self.sandbox.member
        self.channel_id = self.sandbox.guild.channel("general").id
        self.sandbox.add_listener(self._on_message)

    def start(self) -> None:
        """Print what the bot sends as it arrives, whether or not a command is running."""
        self._watcher = asyncio.create_task(self._watch(), name="peerlight-demo-console")

    async def aclose(self) -> None:
        self.sandbox.remove_listener(self._on_message)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher

    def _on_message(self, kind: str, message: SandboxMessage) -> None:
        # A deferred reply is created as a "thinking…" placeholder and filled in by an
        # update; the message object is shared, so printing both would show it twice.
        if kind == "delete" or (kind == "create" and message.loading):
            return
        self.events.put_nowait((kind, message))

    async def _watch(self) -> None:
        while True:
            kind, message = await self.events.get()
            self._show(kind, message)
            self.shown += 1
            self._changed.set()

    def say(self, text: str) -> None:
        prompt = self.prompt_shown
        if prompt is None or not self.interactive:
            print(text, file=self.out, flush=True)
            return
        # The member is at the prompt: print above it, then give the prompt and what they
        # had typed so far back.
        typed = ""
        with contextlib.suppress(ImportError):
            import readline

            typed = readline.get_line_buffer()
        print(f"\r\x1b[K{text}\n{prompt}{typed}", end="", file=self.out, flush=True)

    @property
    def who(self) -> str:
        role = "moderator" if self.member is self.sandbox.moderator else "member"
        channel = self.sandbox.guild.channel(self.channel_id).name
        return f"{self.member.name} ({role}) in #{channel}"

    def _show(self, kind: str, message: SandboxMessage) -> None:
        if message.components:
            self.last_interactive = message
        label = ""
        if not message.ephemeral and message.interaction_id is None:
            label = "posted in #" + self.sandbox.guild.channel(message.channel_id).name
        text = format_message(message_dict(message), label=label, updated=kind == "update")
        self.say(text)
        for attachment in message.attachments:
            path = self.attachments_dir / attachment.name
            path.write_bytes(attachment.data)
            self.say(f"  (saved {attachment.name} to {path})")

    async def settle(self, since: int, first_timeout: float) -> None:
        """Wait until the bot's messages have been printed: the first, then a quiet spell."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_LIMIT
        while loop.time() < deadline:
            self._changed.clear()
            timeout = QUIET_AFTER if self.shown > since else first_timeout
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return

    async def interact(self, start: Callable[[], Awaitable[SandboxInteraction]]) -> None:
        since = self.shown
        try:
            interaction = await start()
        except SandboxError as exc:
            self.say(f"  ✗ {_plain_sandbox_error(exc)}")
            return
        try:
            response = await interaction.response(REPLY_TIMEOUT)
        except TimeoutError:
            self.say("  (no reply from the bot)")
            return
        if isinstance(response, dict) and interaction.modal is not None:
            await self.settle(since, QUIET_AFTER)
            await self.fill_modal(interaction)
            return
        await self.settle(since, QUIET_AFTER if self.events.qsize() else 1.0)

    async def fill_modal(self, interaction: SandboxInteraction) -> None:
        modal = interaction.modal or {}
        self.say(f"┌ a form opened: {modal.get('title', '')}")
        values: dict[str, str] = {}
        for row in modal.get("components") or []:
            for item in row.get("components") or []:
                label = item.get("label") or item.get("custom_id")
                self.say(f"  {label}:")
                answer = await self.ask("  > ")
                if answer is None:
                    self.say("  (the form was closed without sending)")
                    return
                values[str(item.get("custom_id"))] = answer.rstrip("\n")
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
        try:
            if lowered in ("quit", "exit", "q"):
                return False
            if lowered in ("help", "?"):
                self.say(HELP)
            elif lowered == "as":
                self.switch_member(rest.strip().lower())
            elif lowered == "in":
                self.switch_channel(rest.strip().lstrip("#"))
            elif lowered == "seed":
                if rest.strip():
                    raise TypedError("seed takes nothing after it: type just `seed`")
                self.say("  seeding a simulated month of check-ins…")
                self.say(wrapped(await self.seed()))
            elif lowered == "press":
                await self.press(rest.strip())
            elif lowered == "choose":
                await self.choose(rest.split())
            elif line.startswith("/"):
                await self.slash(line)
            else:
                self.say("  ✗ start a command with / (e.g. /about), or type help")
        except TypedError as exc:
            self.say(f"  ✗ {exc}")
        return True

    def switch_member(self, who: str) -> None:
        if who in ("moderator", "mod"):
            self.member = self.sandbox.moderator
        elif who == "member":
            self.member = self.sandbox.member
        else:
            raise TypedError("say `as moderator` or `as member`")
        self.say(f"  now typing as {self.who}")

    def text_channels(self) -> dict[str, int]:
        return {c.name: c.type for c in self.sandbox.guild.channels.values()}

    def switch_channel(self, name: str) -> None:
        try:
            self.channel_id = self.sandbox.guild.channel(name).id
        except KeyError:
            names = words_list([f"#{c}" for c in self.text_channels()])
            raise TypedError(f"no channel #{name}; there are {names}") from None
        self.say(f"  now typing as {self.who}")

    async def slash(self, line: str) -> None:
        words, options, focused = parse_line(line)
        registered = self.sandbox.registered_commands(self.sandbox.guild.id)
        registered += self.sandbox.registered_commands(None)
        typed = check(words, options, focused, registered, self.text_channels())
        if typed.focused is not None:
            await self.suggest(typed)
            return
        await self.interact(
            lambda: self.sandbox.command(
                typed.name, typed.options, member=self.member, channel_id=self.channel_id
            )
        )

    async def suggest(self, typed: TypedCommand) -> None:
        assert typed.focused is not None
        definition = typed.definition(typed.focused)
        lines = local_suggestions(definition, self.text_channels())
        if lines is None:
            try:
                choices = await self.sandbox.autocomplete(
                    typed.name,
                    typed.options,
                    typed.focused,
                    member=self.member,
                    channel_id=self.channel_id,
                )
            except (SandboxError, TimeoutError) as exc:
                self.say(f"  ✗ {_plain_sandbox_error(exc)}")
                return
            lines = [f"{c['name']}  → {typed.focused}:{c['value']}" for c in choices] or [
                "(none match what you typed so far)"
            ]
        self.say(f"  suggestions for {typed.focused}:")
        for suggestion in lines:
            self.say(f"    {suggestion}")

    def _reply_for_press(self, what: str) -> SandboxMessage:
        message = self.last_interactive
        if message is None:
            raise TypedError(f"there is no reply with {what} yet")
        owner = (message.interaction_metadata or {}).get("user") or {}
        if message.ephemeral and owner and int(owner["id"]) != self.member.id:
            name = owner.get("username") or "someone else"
            raise TypedError(
                f"the last reply was shown only to {name}; switch back to them with `as ...`"
            )
        return message

    async def press(self, label: str) -> None:
        message = self._reply_for_press("buttons")
        buttons = [b for b in message.buttons() if b.get("label")]
        labels = [str(b["label"]) for b in buttons]
        if not buttons:
            raise TypedError("the last reply has no buttons")
        if not label:
            raise TypedError(f"press which button? The last reply has {words_list(labels)}")
        chosen = _pick(label, labels, "button")
        button = buttons[labels.index(chosen)]
        if button.get("disabled"):
            raise TypedError(f"“{chosen}” is switched off now")
        if button.get("url"):
            raise TypedError(f"“{chosen}” is a link: open {button['url']} in a browser")
        target = str(button.get("custom_id") or chosen)
        await self.interact(lambda: self.sandbox.press(message, target, member=self.member))

    async def choose(self, values: list[str]) -> None:
        message = self._reply_for_press("a menu")
        if not message.selects():
            raise TypedError("the last reply has no menu to choose from")
        select = message.selects()[0]
        options = select.get("options") or []
        names = [str(o.get("value")) for o in options]
        labels = {str(o.get("label")).lower(): str(o.get("value")) for o in options}
        if not values:
            raise TypedError(f"choose what? The menu has {words_list(names)}")
        picked: list[str] = []
        for value in values:
            chosen = labels.get(value.lower()) or _pick(value, names, "menu choice")
            if chosen not in picked:
                picked.append(chosen)
        low, high = int(select.get("min_values", 1)), int(select.get("max_values", 1))
        if not low <= len(picked) <= high:
            amount = f"{low}" if low == high else f"{low} to {high}"
            raise TypedError(f"choose {amount} from the menu, not {len(picked)}")
        await self.interact(
            lambda: self.sandbox.choose(
                message, picked, custom_id=select.get("custom_id"), member=self.member
            )
        )


def _plain_sandbox_error(exc: BaseException) -> str:
    """What went wrong in the stand-in for Discord, without its internals."""
    text = str(exc)
    if "was deleted" in text or "has no message" in text:
        return "that reply is gone now; run the command again"
    if isinstance(exc, TimeoutError):
        return "the bot did not answer in time; try again"
    return "Discord would not send that; check the command with help and try again"


class DemoRunner:
    """The demo's event loop in a second thread, and the handshake with the reading thread.

    Everything the loop needs from the reading thread (a line for a form, "this line is
    done") comes back through one queue, so the reading thread only ever waits in places
    where Ctrl-C reaches it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        content_dir: Path | None = None,
        out: TextIO,
        interactive: bool = False,
        read: Callable[[str], str | None] | None = None,
        community: bool = False,
    ) -> None:
        self.settings = settings
        self.community = community
        self.content_dir = content_dir
        self.out = out
        self.interactive = interactive
        self.read = read or (lambda prompt: None)
        self.exit_code = 0
        self.console: Console | None = None
        self.bot: PeerlightBot | None = None
        self.greeting = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread = threading.Thread(target=self._main, name="peerlight-demo", daemon=True)

    # -- the loop's thread ---------------------------------------------------------------

    def _main(self) -> None:
        # Ctrl-C must reach the reading thread, whatever it is blocked in (a signal the
        # kernel hands to this thread instead would leave it waiting for Enter).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.exit_code = asyncio.run(self._serve())
        except Exception:
            logging.getLogger("bot.demo").exception("the demo stopped")
            self.exit_code = 1
        finally:
            self._inbox.put(("ended", None))

    async def _ask(self, prompt: str) -> str | None:
        answer: concurrent.futures.Future[str | None] = concurrent.futures.Future()
        self._inbox.put(("ask", (prompt, answer)))
        return await asyncio.wrap_future(answer)

    async def _serve(self) -> int:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        with tempfile.TemporaryDirectory(prefix="peerlight-demo-") as tmp:
            base = Path(tmp)
            attachments = Path(tempfile.gettempdir()) / "peerlight-demo"
            attachments.mkdir(exist_ok=True)
            async with Sandbox() as sandbox:
                demo_settings = sandbox_settings(
                    self.settings,
                    sandbox,
                    database=base / "demo.sqlite3",
                    content_dir=self.content_dir,
                )
                report = await asyncio.to_thread(load_content, demo_settings)
                if report.catalog is None:
                    for problem in report.errors:
                        print(problem.format(), file=sys.stderr)
                    print(
                        f"peerlight: the content has errors ({report.summary()})", file=sys.stderr
                    )
                    return 1
                # The demo's summaries carry noise as the bot's do, drawn from a fixed seed
                # so that the same script shows the same summary (`peerlight run` draws
                # from the operating system's secure generator).
                noise = random.Random(DEMO_NOISE_SEED)
                async with running_bot(sandbox, demo_settings, report=report, noise=noise) as bot:
                    self.bot = bot
                    console = Console(
                        sandbox,
                        self.out,
                        attachments,
                        self._ask,
                        interactive=self.interactive,
                        seed=lambda: _seed(bot, sandbox.guild.id),
                    )
                    seeded = ""
                    if self.community:
                        seeded = "\n" + wrapped(await _seed(bot, sandbox.guild.id), indent="")
                    console.start()
                    counts = report.catalog.counts()
                    self.greeting = (
                        "Peerlight demo: the real bot, talking to a local stand-in for Discord.\n"
                        f"Loaded {counts['techniques']} techniques, {counts['stories']} "
                        f"stories, {counts['prompts']} prompts and {counts['regions']} regions "
                        "of support lines. Type help for what to try, quit (or Ctrl-C) to "
                        f"leave.{seeded}\nYou are {console.who}."
                    )
                    self.console = console
                    self._inbox.put(("ready", None))
                    try:
                        await self._stop.wait()
                    finally:
                        await console.aclose()
        return 0

    # -- the reading thread --------------------------------------------------------------

    def _wait(self, until: concurrent.futures.Future[Any] | None) -> Any:
        """Serve the loop's requests until `until` is done (or, without it, ready)."""
        while True:
            kind, payload = self._inbox.get()
            if kind == "ask":
                prompt, answer = payload
                try:
                    line = self.read(prompt)
                except EOFError:
                    line = None
                if not answer.done():
                    answer.set_result(line)
            elif kind == "ready" and until is None:
                return True
            elif kind == "ended":
                self._inbox.put(("ended", None))  # later waits end at once too
                return False
            elif kind == "done" and payload is until:
                return until.result() if until is not None else None

    def start(self) -> bool:
        """Start the sandbox and the bot; False when they could not start."""
        self._thread.start()
        return bool(self._wait(None))

    def call(self, make: Callable[[Console], Awaitable[Any]]) -> Any:
        """Run a coroutine on the loop (given the console) and wait for its result."""
        assert self._loop is not None and self.console is not None
        console = self.console
        future = asyncio.run_coroutine_threadsafe(_call(make, console), self._loop)
        future.add_done_callback(lambda done: self._inbox.put(("done", done)))
        try:
            return self._wait(future)
        except BaseException:
            future.cancel()  # Ctrl-C while a reply was awaited: stop waiting for it
            raise

    def run_line(self, line: str) -> bool:
        """Handle one line as typed; False when the member asked to leave."""
        return bool(self.call(lambda console: console.run_line(line)))

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


async def _seed(bot: PeerlightBot, guild_id: int) -> str:
    """A simulated month of check-ins in the demo server, as one line to show."""
    from .community import SeedRefused, seed_community

    services = bot.services
    try:
        report = await seed_community(
            services.checkins,
            guild_id,
            services.clock().astimezone(dt.UTC).date(),
            tuple(services.content.catalog.feelings),
            publisher=services.publisher,
        )
    except SeedRefused as refused:
        raise TypedError(f"nothing seeded: {refused}") from None
    return report.describe()


async def _call(make: Callable[[Console], Awaitable[Any]], console: Console) -> Any:
    return await make(console)


def _reader(interactive: bool, out: TextIO) -> Callable[[str], str | None]:
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())

        def read_tty(prompt: str) -> str | None:
            try:
                return input(prompt)
            except EOFError:
                print(file=out)
                return None

        return read_tty

    def read_pipe(prompt: str) -> str | None:
        line = sys.stdin.readline()
        if not line:
            return None
        if line.strip():
            print(f"{prompt}{line.rstrip()}", file=out, flush=True)
        return line

    return read_pipe


def run_demo(
    settings: Settings,
    *,
    content_dir: Path | None = None,
    out: TextIO | None = None,
    community: bool = False,
) -> int:
    """The demo in this terminal; returns the exit code."""
    from bot.logs import configure_logging

    configure_logging(logging.WARNING)
    stream = out or sys.stdout
    interactive = sys.stdin.isatty() and stream.isatty()
    read = _reader(interactive, stream)
    runner = DemoRunner(
        settings,
        content_dir=content_dir,
        out=stream,
        interactive=interactive,
        read=read,
        community=community,
    )
    try:
        try:
            if not runner.start():
                return runner.exit_code or 1
            assert runner.console is not None
            console = runner.console
            print(runner.greeting, file=stream, flush=True)
            while True:
                prompt = f"{console.member.name}> "
                console.prompt_shown = prompt
                try:
                    line = read(prompt)
                finally:
                    console.prompt_shown = None
                if line is None or not runner.run_line(line):
                    break
        except KeyboardInterrupt:
            print(file=stream)
        finally:
            runner.stop()
    except KeyboardInterrupt:
        pass  # a second Ctrl-C while closing: leave without waiting
    print("Goodbye. Take care of yourself.", file=stream, flush=True)
    return runner.exit_code
