"""The demo's console in this process: every command and option, `?` everywhere, mistakes
of every kind, and random lines; none may show a traceback or wait for a timeout."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import parse_settings
from bot.sandbox.console import DemoRunner

BROKEN = ("Traceback", "no reply from the bot", "did not answer in time", "Discord would not")


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Session:
    """A running demo: send a line, get what it printed."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.runner = DemoRunner(parse_settings({}), out=self.out)
        self.errors = Errors()

    def send(self, line: str) -> str:
        start = len(self.out.getvalue())
        began = time.monotonic()
        self.runner.run_line(line)
        assert time.monotonic() - began < 4.5, f"{line!r} waited for a timeout"
        printed = self.out.getvalue()[start:]
        for broken in BROKEN:
            assert broken not in printed, f"{line!r} printed {printed!r}"
        assert not self.errors.records, [r.getMessage() for r in self.errors.records]
        return printed


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    demo = Session()
    logging.getLogger().addHandler(demo.errors)
    try:
        assert demo.runner.start()
        yield demo
    finally:
        demo.runner.stop()
        logging.getLogger().removeHandler(demo.errors)


def _leaves(session: Session) -> list[tuple[str, list[dict[str, object]]]]:
    """Every command a member can type (name with subcommand), with its options."""
    assert session.runner.console is not None
    sandbox = session.runner.console.sandbox
    found: list[tuple[str, list[dict[str, object]]]] = []
    for command in sandbox.registered_commands(sandbox.guild.id):
        options = command.get("options") or []
        subs = [o for o in options if o.get("type") == 1]
        if subs:
            found += [(f"/{command['name']} {s['name']}", s.get("options") or []) for s in subs]
        else:
            found.append((f"/{command['name']}", options))
    return found


def test_question_mark_on_every_option_of_every_command_suggests(session: Session) -> None:
    session.send("as moderator")
    leaves = _leaves(session)
    assert len(leaves) >= 12
    asked = 0
    for command, options in leaves:
        for option in options:
            printed = session.send(f"{command} {option['name']}:?")
            assert f"suggestions for {option['name']}:" in printed, printed
            assert "✗" not in printed, printed
            asked += 1
    assert asked >= 15
    days = session.send("/summary days:?")
    assert "summary" not in days or "days:30" in days
    assert "#general" in session.send("/schedule add channel:?")
    assert "kind:reflection" in session.send("/schedule add kind:?")
    session.send("as member")


def test_every_command_runs_without_options_or_says_what_it_needs(session: Session) -> None:
    session.send("as moderator")
    for command, options in _leaves(session):
        printed = session.send(command)
        required = [o["name"] for o in options if o.get("required")]
        if required:
            assert f"needs {required[0]}:" in printed, printed
        else:
            assert "┌" in printed, f"{command} printed no reply: {printed!r}"
    session.send("as member")


def test_words_after_an_option_are_part_of_its_value_as_in_discord(session: Session) -> None:
    """A newcomer types a sentence without quotes; Discord's box takes it whole."""
    printed = session.send("/cope feeling:my palms are sweaty before the interview")
    assert "┌" in printed and "needs an option name" not in printed, printed
    assert "✗" not in printed, printed


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('/cope feeling:"anxious', "a quote is not closed"),
        ("/cope anxious", "/cope takes no more words"),
        ("/cope area:physical please", "takes emotional, physical, social or psychological"),
        ("/cope feeling:? calm", "needs an option name in front"),
        ("/cope :calm", "needs an option name before the colon"),
        ("/cope mood:calm", "its options are feeling, area,"),
        ("/cope area:legs", "takes emotional, physical, social or psychological"),
        ("/cope share:maybe", "takes true or false"),
        ("/cope feeling:calm feeling:low", "given twice"),
        ("/cope feeling:? area:?", "one option at a time"),
        ("/summary days:x", "takes 7, 30 or 90"),
        ("/schedule", "needs one more word"),
        ("/schedule move", "has no “move”"),
        ("/schedule add channel:#nowhere time:9:00 days:daily kind:skill", "no channel #nowhere"),
        ("/nothing", "there is no /nothing command"),
        ("/", "type a command after the slash"),
        ("/about area:", "/about takes no options"),
        ("/cope feeling:", "is empty"),
        ("hello", "start a command with /"),
        ("as nobody", "say `as moderator`"),
        ("in #nowhere", "no channel #nowhere"),
    ],
)
def test_mistakes_get_one_plain_line(session: Session, line: str, says: str) -> None:
    printed = session.send(line)
    assert says in printed, printed
    assert printed.count("\n") == 1, printed
    for internal in ("[", "]", "'", "{", "Error"):
        assert internal not in printed, printed


def test_an_ambiguous_press_or_choose_lists_the_candidates(session: Session) -> None:
    session.send("as member")
    session.send("/checkin")
    ambiguous = session.send("press ok")
    assert "“ok” could be Not OK or Okay" in ambiguous
    assert "(updated)" not in ambiguous  # nothing was pressed
    session.send("press okay")
    printed = session.send("choose s")
    assert "could be" in printed and "stressed" in printed and "restless" in printed
    assert "nothing was recorded" not in printed
    session.send("press skip")


def test_a_reply_shown_to_someone_else_is_not_theirs_to_press(session: Session) -> None:
    session.send("as member")
    session.send("/cope feeling:anxious")
    session.send("as moderator")
    printed = session.send("press another")
    assert "shown only to river" in printed
    session.send("as member")


def test_a_post_the_bot_makes_on_its_own_appears_without_any_input(session: Session) -> None:
    runner = session.runner
    assert runner.bot is not None and runner.console is not None and runner._loop is not None
    channel = runner.bot.get_channel(runner.console.sandbox.guild.channel("check-ins").id)
    assert channel is not None and hasattr(channel, "send")
    before = len(session.out.getvalue())
    asyncio.run_coroutine_threadsafe(channel.send("How is everyone today?"), runner._loop)
    deadline = time.monotonic() + 5
    while "How is everyone today?" not in session.out.getvalue()[before:]:
        assert time.monotonic() < deadline, "the post was not printed until the next line"
        time.sleep(0.02)
    assert "posted in #check-ins" in session.out.getvalue()[before:]


_WORDS = st.sampled_from(
    [
        "/cope",
        "/technique",
        "/story",
        "/resources",
        "/about",
        "/checkin",
        "/summary",
        "/schedule",
        "add",
        "list",
        "remove",
        "pause",
        "resume",
        "preview",
        "press",
        "choose",
        "feeling:",
        "area:",
        "share:",
        "name:",
        "theme:",
        "skip:",
        "region:",
        "days:",
        "channel:",
        "time:",
        "kind:",
        "timezone:",
        "id:",
        "?",
        ":",
        '"',
        "#",
        "/",
        "as",
        "moderator",
        "member",
        "in",
        "#general",
        "true",
        "ok",
        "Another",
        "anxious",
        "9:00",
    ]
)
_LINES = st.one_of(
    st.lists(_WORDS, min_size=1, max_size=6).map(" ".join),
    st.lists(_WORDS, min_size=1, max_size=6).map("".join),
    st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(line=_LINES)
def test_random_lines_never_show_a_traceback_or_wait(session: Session, line: str) -> None:
    if line.strip().lower() in ("quit", "exit", "q"):
        return
    session.send(line)
