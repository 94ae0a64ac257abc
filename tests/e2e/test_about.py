"""/about through the whole stack: sandbox gateway and REST, discord.py, the bot."""

from __future__ import annotations

from bot.app import PeerlightBot
from bot.sandbox.server import Sandbox

NO_MENTIONS = {"parse": []}


async def test_about_is_ephemeral_and_says_what_is_stored(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    interaction = await sandbox.command("about")
    message = await interaction.response_message()
    assert message.ephemeral
    (embed,) = message.embeds
    assert embed["title"] == "About Peerlight"
    assert "not a crisis service" in embed["description"]
    assert "/resources" in embed["description"]
    stored = next(f["value"] for f in embed["fields"] if f["name"] == "What a check-in stores")
    assert "no user id" in stored and "day (not the time)" in stored
    assert embed["footer"]["text"] == "Peer support, not a crisis service · /resources"
    callback = await sandbox.wait_for_request("POST", r"/interactions/\d+/[^/]+/callback")
    assert callback.json is not None
    assert callback.json["data"]["allowed_mentions"] == NO_MENTIONS


async def test_the_bot_asks_for_server_events_only(sandbox: Sandbox, bot: PeerlightBot) -> None:
    """No message intents: Peerlight never receives what members write in channels."""
    identify = next(f for f in sandbox.gateway_received if f.get("op") == 2)
    assert identify["d"]["intents"] == 1  # GUILDS


async def test_commands_are_synced_to_the_configured_server(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    names = {c["name"] for c in sandbox.registered_commands(sandbox.guild.id)}
    assert "about" in names
    assert sandbox.registered_commands(None) == []
    assert bot.synced == [f"to server {sandbox.guild.id}"]
    command = next(c for c in sandbox.registered_commands(sandbox.guild.id) if c["name"] == "about")
    assert command["description"].startswith("What Peerlight is")


async def test_a_failing_command_gets_a_kind_private_apology(
    sandbox: Sandbox, bot: PeerlightBot, error_records
) -> None:  # type: ignore[no-untyped-def]
    from discord import app_commands

    @app_commands.command(name="broken")
    async def broken(interaction) -> None:  # type: ignore[no-untyped-def]
        """Always fails."""
        raise RuntimeError("boom")

    guild = bot.get_guild(sandbox.guild.id)
    assert guild is not None
    bot.tree.add_command(broken, guild=guild)
    await bot.tree.sync(guild=guild)
    interaction = await sandbox.command("broken")
    message = await interaction.response_message()
    assert message.ephemeral
    assert message.content.startswith("Sorry — something went wrong on my side")
    assert any("command /broken failed" in r.getMessage() for r in error_records.records)
    error_records.records.clear()  # the one expected error record
