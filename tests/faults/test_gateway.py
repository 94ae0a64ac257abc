"""A dropped gateway connection, with the real bot: it resumes (the sandbox replays what it
missed), or, when Discord has forgotten the session, identifies again; either way it is
answering members again within seconds, and nothing is logged as an ERROR (the shared
`sandbox` fixture checks that)."""

from __future__ import annotations

import asyncio

from bot.app import PeerlightBot
from bot.sandbox.server import Sandbox

RECONNECT_SECONDS = 15  # discord.py waits up to 5 s before identifying again


async def _answers(sandbox: Sandbox) -> bool:
    message = await (await sandbox.command("cope", {"feeling": "anxious"})).response_message()
    return bool(message.embeds)


async def test_after_a_dropped_connection_the_bot_resumes_and_answers(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    assert await _answers(sandbox)
    await sandbox.drop_connection()
    await sandbox.wait_until_connected(RECONNECT_SECONDS)
    assert any(frame.get("op") == 6 for frame in sandbox.gateway_received)  # RESUME
    assert sandbox.sessions_started == 1
    assert await _answers(sandbox)


async def test_when_the_session_is_forgotten_the_bot_identifies_again_and_answers(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    assert await _answers(sandbox)
    # The new session's READY waits for its servers before it is done; the test ends only
    # after that, so the bot never closes with that wait still running.
    ready_again = asyncio.ensure_future(bot.wait_for("ready", timeout=RECONNECT_SECONDS * 2))
    sandbox.forget_sessions()  # Discord no longer knows the session: RESUME is refused
    await sandbox.drop_connection()
    for _ in range(RECONNECT_SECONDS * 10):  # the refused RESUME, the wait, then IDENTIFY
        if sandbox.sessions_started == 2:
            break
        await asyncio.sleep(0.1)
    await sandbox.wait_until_connected(RECONNECT_SECONDS)
    assert sandbox.sessions_started == 2  # a full IDENTIFY, a new session
    assert await _answers(sandbox)
    assert await _answers(sandbox)
    await ready_again
