"""Events that discord.py hands over after the bot has closed (a READY still being
handled when a restart or a test ends) are dropped, not scheduled on a loop the closed
client no longer has (which logged "Task exception was never retrieved")."""

from __future__ import annotations

from bot.app import PeerlightBot
from bot.sandbox.server import Sandbox


async def test_an_event_after_close_is_dropped(sandbox: Sandbox, bot: PeerlightBot) -> None:
    await bot.close()
    assert bot.is_closed()
    bot.dispatch("ready")  # raised AttributeError: the closed client has no loop
    bot.dispatch("guild_available", sandbox.guild)
