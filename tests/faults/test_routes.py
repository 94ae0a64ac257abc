"""Discord misbehaving, route by route: the routes an answer to a member travels on (the
interaction callback for a command and for a button), with each way Discord fails (429
with a short and a long `retry_after`, 500, 502, 503, 504, 403, 404), and then the member
asking again.

What each must give: the answer where Discord lets it through (discord.py waits out a short
429 and tries a 5xx again); where Discord refuses it, no ERROR record (nothing in
Peerlight broke: the refusal is written down as a warning), and the bot answering the next
command at once. The shared `sandbox` fixture fails any test that leaves an ERROR record,
an unhandled request or a message that could ping.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import PeerlightBot
from bot.config import Settings
from bot.sandbox.payloads import SandboxMember
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.storage.content_files import LoadReport
from bot.ui import sharing, window

from .test_window import (
    DEADLINE,
    REACH_OUT,
    answered_in_time,
    bot_on,
    crisis_reply,
    locked_by_another_process,
    start_checkin,
)

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
FEELING = "anxious"

# (status, retry_after) of each failure. discord.py waits out a short 429 and tries a 5xx
# again; a long 429, 403 and 404 reach Peerlight.
PASSES = {
    "429 short": (429, 0.3),
    "500": (500, None),
    "502": (502, None),
    "503": (503, None),
    "504": (504, None),
}
REFUSED = {"429 long": (429, 60.0), "403": (403, None), "404": (404, None)}


def _inject(sandbox: Sandbox, status: int, retry: float | None) -> None:
    body: dict[str, object] = {"message": "injected", "code": 0}
    if retry is not None:
        body = {"message": "You are being rate limited.", "retry_after": retry, "global": False}
    sandbox.inject_failure("POST", CALLBACK, status=status, body=body)


async def _cope(sandbox: Sandbox) -> SandboxMessage:
    return await (await sandbox.command("cope", {"feeling": FEELING})).response_message()


@pytest.mark.parametrize("fault", sorted(PASSES))
async def test_a_command_answer_gets_through_what_discord_py_waits_out_or_retries(
    sandbox: Sandbox, bot: PeerlightBot, fault: str
) -> None:
    _inject(sandbox, *PASSES[fault])
    assert (await _cope(sandbox)).embeds
    assert (await _cope(sandbox)).embeds


@pytest.mark.parametrize("fault", sorted(PASSES))
async def test_a_button_answer_gets_through_what_discord_py_waits_out_or_retries(
    sandbox: Sandbox, bot: PeerlightBot, fault: str
) -> None:
    card = await _cope(sandbox)
    _inject(sandbox, *PASSES[fault])
    another = await (await sandbox.press(card, "Another one")).response_message()
    assert another.embeds


@pytest.mark.parametrize("fault", sorted(REFUSED))
async def test_a_refused_command_answer_is_a_warning_and_the_next_command_is_answered(
    sandbox: Sandbox, bot: PeerlightBot, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    _inject(sandbox, *REFUSED[fault])
    refused = await sandbox.command("cope", {"feeling": FEELING})
    await sandbox.wait_for_request("POST", CALLBACK, timeout=10)
    assert refused.responded_after is None  # Discord never took the answer
    assert (await _cope(sandbox)).embeds
    assert any(r.levelno == logging.WARNING for r in caplog.records)


@pytest.mark.parametrize("fault", sorted(REFUSED))
async def test_a_refused_button_answer_is_a_warning_and_the_button_works_again(
    sandbox: Sandbox, bot: PeerlightBot, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    card = await _cope(sandbox)
    _inject(sandbox, *REFUSED[fault])
    refused = await sandbox.press(card, "Another one")
    await sandbox.wait_for_request("POST", CALLBACK, timeout=10)
    assert refused.responded_after is None
    another = await (await sandbox.press(card, "Another one")).response_message()
    assert another.embeds
    assert any(r.levelno == logging.WARNING for r in caplog.records)


# -- the edit that follows an acknowledgement ------------------------------------------------

EDIT_ORIGINAL = r"^/webhooks/\d+/[^/]+/messages/@original$"


@pytest.mark.parametrize("fault", sorted(PASSES) + sorted(REFUSED))
async def test_a_check_in_saved_after_an_acknowledgement_is_kept_whatever_the_edit_meets(
    sandbox: Sandbox, bot: PeerlightBot, fault: str
) -> None:
    """A slow write is acknowledged first and answered by editing the message; whatever
    Discord does with that edit, the check-in is stored once and the bot goes on."""
    step = await start_checkin(sandbox)
    status, retry = (PASSES | REFUSED)[fault]
    body: dict[str, object] = {"message": "injected", "code": 0}
    if retry is not None:
        body = {"message": "You are being rate limited.", "retry_after": retry, "global": False}
    sandbox.inject_failure("PATCH", EDIT_ORIGINAL, status=status, body=body)
    with locked_by_another_process(bot.services.database.path, 1.5):
        pressed = await sandbox.press(step, "Skip")
        await sandbox.wait_for_request("PATCH", EDIT_ORIGINAL, timeout=10)
    assert pressed.callback_type == 6  # acknowledged while the write waited
    for _ in range(100):
        if await bot.services.checkins.count() == 1:
            break
        await asyncio.sleep(0.05)
    assert await bot.services.checkins.count() == 1
    if fault in PASSES:
        saved = await pressed.response_message(timeout=8)
        assert saved.embeds[0]["description"].startswith("Saved")
    assert (await _cope(sandbox)).embeds


# -- the edit or follow-up that answers after an acknowledgement ------------------------------

FOLLOW_UP = r"^/webhooks/\d+/[^/]+$"
LIMITED = {"message": "You are being rate limited.", "global": False}
# discord.py's webhook requests wait out a 429 of any length and try a 5xx five times; the
# bot gives up an answer Discord does not take within `window.FOLLOW_UP_TIMEOUT`.
GIVEN_UP = ("429 long", "stall")


async def _logged(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 8) -> None:
    for _ in range(int(timeout / 0.05)):
        if any(r.levelno == logging.WARNING and text in r.getMessage() for r in caplog.records):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no WARNING containing {text!r}")


async def test_a_check_in_whose_edit_stalls_is_kept_and_the_edit_given_up(
    sandbox: Sandbox,
    bot: PeerlightBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The deferred message's edit hangs (Discord stopped answering) or meets a long rate
    limit: the check-in is stored once, the edit is given up with a WARNING in bounded time
    instead of holding the handler for minutes, and the bot goes on."""
    monkeypatch.setattr(window, "FOLLOW_UP_TIMEOUT", 1.5)
    for n, fault in enumerate(GIVEN_UP):
        caplog.clear()
        member = sandbox.add_member(SandboxMember(id=1191300000000100000 + n, name=f"e{n}"))
        prompt = await (await sandbox.command("checkin", member=member)).response_message()
        step = await (await sandbox.press(prompt, "Struggling", member=member)).response_message()
        edits = len(sandbox.requests_matching("PATCH", EDIT_ORIGINAL))
        stall = None
        if fault == "stall":
            stall = sandbox.faults.stall("PATCH", EDIT_ORIGINAL)
        else:
            limited = {**LIMITED, "retry_after": 60.0}
            sandbox.inject_failure("PATCH", EDIT_ORIGINAL, status=429, body=limited)
        try:
            with locked_by_another_process(bot.services.database.path, 1.5):
                pressed = await sandbox.press(step, "Skip", member=member)
                await _logged(caplog, "gave up the edit of the acknowledged message")
        finally:
            if stall is not None:
                stall.release()
        assert pressed.callback_type == 6, fault
        assert len(sandbox.requests_matching("PATCH", EDIT_ORIGINAL)) == edits + 1, fault
        assert await bot.services.checkins.count() == n + 1, fault
        assert (await _cope(sandbox)).embeds, fault


async def test_every_fault_on_the_follow_up_of_a_reach_out_request(
    sandbox: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ "Ask a moderator to reach out" with a slow moderators' channel is acknowledged,
    then answered by a follow-up (`POST /webhooks/{app}/{token}`). Each fault on that
    follow-up, one member each, in one bot start: the moderators' request is posted exactly
    once whatever happens to the member's answer; the member gets the answer where Discord
    lets it through; a refused or stalled one is a WARNING; the next command is answered."""
    monkeypatch.setattr(window, "FOLLOW_UP_TIMEOUT", 1.5)
    monkeypatch.setattr(window, "ACK_BUDGET", 0.2)  # the same path, sooner
    sandbox.callback_deadline = DEADLINE
    moderators = await sandbox.add_channel("moderators")
    to_moderators = rf"^/channels/{moderators.id}/messages$"
    faults = sorted(PASSES) + sorted(REFUSED) + ["stall"]
    async with bot_on(
        sandbox,
        settings,
        shipped_report,
        tmp_path,
        reach_out_channels={sandbox.guild.id: moderators.id},
    ):
        for n, fault in enumerate(faults):
            caplog.clear()
            member = sandbox.add_member(SandboxMember(id=1191300000000200000 + n, name=f"m{n}"))
            reply = await crisis_reply(sandbox, member)
            # Slower than the acknowledgement budget: the press is deferred first.
            sandbox.inject_failure("POST", to_moderators, status=None, delay=0.4)
            stall = None
            if fault == "stall":
                stall = sandbox.faults.stall("POST", FOLLOW_UP)
            else:
                status, retry = (PASSES | REFUSED)[fault]
                body: dict[str, object] = {"message": "injected", "code": 10015}
                if retry is not None:
                    body = {**LIMITED, "retry_after": retry}
                # A 403 or 404 on an interaction's webhook is for good: the token is gone.
                times = None if status in (403, 404) else 1
                sandbox.inject_failure("POST", FOLLOW_UP, status=status, body=body, times=times)
            try:
                pressed = await sandbox.press(reply, REACH_OUT, member=member)
                if fault in PASSES:
                    (confirm,) = await pressed.messages(1, timeout=8)
                    assert "let the moderators know" in confirm.content, fault
                elif fault in GIVEN_UP:
                    await _logged(caplog, "gave up the follow-up")
                else:
                    await _logged(caplog, "could not deliver an error message")
                answered_in_time(pressed)
                assert pressed.callback_type == 6, fault
            finally:
                if stall is not None:
                    stall.release()
                sandbox.clear_failures()
            requests = sandbox.channel_messages(moderators.id)
            assert len(requests) == n + 1, fault  # posted once, whatever the answer met
            assert f"<@{member.id}>" in requests[-1].content, fault
            assert (await _cope(sandbox)).embeds, fault


async def _posted(sandbox: Sandbox, channel_id: int, count: int) -> None:
    for _ in range(100):
        if len(sandbox.channel_messages(channel_id)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} message(s) never reached channel {channel_id}")


# -- the shared card's post -------------------------------------------------------------------

# 503 is handed on by discord.py; 403, 404, a rate limit too long to wait and a post that
# does not answer within `window.OUTBOUND_TIMEOUT` are not posted either.
SHARE_PASSES = ("429 short", "500", "502", "504")
SHARE_REFUSED = ("503", "429 long", "403", "404", "timeout")


async def test_every_fault_on_a_shared_card_posts_it_once_or_gives_it_privately(
    sandbox: Sandbox,
    bot: PeerlightBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """/cope share:True with each fault on the channel post, one member each, in one bot
    start: the card is in the channel once, or (never both) the member gets it privately
    with the reason; a refusal is a WARNING, and the bot answers the next command."""
    monkeypatch.setattr(window, "OUTBOUND_TIMEOUT", 1.5)
    general = sandbox.guild.channel("general").id
    post = rf"^/channels/{general}/messages$"
    posted = 0
    for n, fault in enumerate(SHARE_PASSES + SHARE_REFUSED):
        caplog.clear()
        member = sandbox.add_member(SandboxMember(id=1191300000000300000 + n, name=f"s{n}"))
        if fault == "timeout":
            sandbox.inject_failure("POST", post, status=503, delay=2.0)
        else:
            status, retry = (PASSES | REFUSED | {"503": (503, None)})[fault]
            body: dict[str, object] | None = None
            if retry is not None:
                body = {**LIMITED, "retry_after": retry}
            sandbox.inject_failure("POST", post, status=status, body=body)
        shared = await sandbox.command("cope", {"feeling": FEELING, "share": True}, member=member)
        assert (await shared.response_message()).content == sharing.SHARED, fault
        if fault in SHARE_PASSES:
            posted += 1
            await _posted(sandbox, general, posted)
            assert len(sandbox.channel_messages(general)) == posted, fault
            assert shared.followups == [], fault
        else:
            _, privately = await shared.messages(2, timeout=8)
            assert privately.ephemeral and privately.content.startswith(sharing.NOT_POSTED), fault
            assert privately.embeds, fault
            assert len(sandbox.channel_messages(general)) == posted, fault
            await _logged(caplog, "could not post a shared card")
        sandbox.clear_failures()
        assert (await _cope(sandbox)).embeds, fault
