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

import logging

import pytest

from bot.app import PeerlightBot
from bot.sandbox.server import Sandbox, SandboxMessage

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
