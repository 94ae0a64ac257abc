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

import pytest

from bot.app import PeerlightBot
from bot.sandbox.server import Sandbox, SandboxMessage

from .test_window import locked_by_another_process, start_checkin

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
