"""The one error path for every slash command and component.

Order of precedence:
1. `UserFacingError` (raised by domain, storage or a cog): its message, ephemeral.
   A database that refuses a change (locked, read-only, full, damaged): "nothing was
   recorded", ephemeral, and a WARNING naming the error.
2. A check that refused the member (not a moderator, missing permission): a kind refusal.
3. Anything else: logged with the command's name (never the member's input), and the
   member gets a short apology, ephemeral, so they are never left with "interaction failed".
If the interaction was already answered, the message goes out as a follow-up instead.
"""

from __future__ import annotations

import logging
import sqlite3

import discord
from discord import app_commands

from bot.domain.errors import StorageError, UserFacingError
from bot.ui import window

log = logging.getLogger(__name__)

APOLOGY = (
    "Sorry — something went wrong on my side and I couldn't finish that. "
    "Nothing you did caused it. Please try again in a moment."
)
NOT_ALLOWED = (
    "This command is for moderators (Manage Server permission or the moderator role). "
    "Nothing was changed."
)


DISCORD_REFUSED = "Sorry — Discord didn't take my reply just now. Please try again in a moment."
STORAGE_UNAVAILABLE = (
    "Sorry — I couldn't reach my records just now, so nothing was recorded or changed. "
    "Please try again in a moment."
)
NOT_A_CHOICE = (
    "That isn't one of the values this command offers, so nothing was done. Pick one from "
    "the list Discord shows as you type."
)
OUT_OF_DATE = (
    "That command reached me in a shape this version of Peerlight doesn't expect (Discord "
    "may still be updating its list of commands), so nothing was done. Please try again in "
    "a minute."
)
NOT_HOST = (
    "Only the host of this bot (the owner of its Discord application) can reload the "
    "content, because a reload changes it for every server. Nothing was changed."
)


class NotModerator(app_commands.CheckFailure):
    """Raised by the moderator check."""


class NotHost(app_commands.CheckFailure):
    """Raised by the host check."""


class CrisisShown(app_commands.CheckFailure):
    """Raised by the check that reads a command's text options first
    (`checks.words_first`) once it has shown the crisis block: that is the answer, and
    nothing more is said."""


def message_for(error: BaseException) -> tuple[str, bool]:
    """(text for the member, whether it was expected). Unwraps discord.py's wrapper."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, UserFacingError):
        return original.message, True
    if isinstance(original, sqlite3.DatabaseError | StorageError):
        # Locked by another process, read-only, full or damaged: the transaction was
        # rolled back, so nothing happened, and the member is told exactly that.
        log.warning("the database refused a change (%s: %s)", type(original).__name__, original)
        return STORAGE_UNAVAILABLE, True
    if isinstance(original, discord.HTTPException) and original.status != 400:
        # Discord refused a request (gone: 404, forbidden: 403, unavailable: 5xx that
        # discord.py does not retry, or a rate limit): nothing in Peerlight broke. A 400
        # means a request Peerlight built was wrong, and stays an error.
        log.warning(
            "Discord refused a request (%s %s): %s",
            original.status,
            type(original).__name__,
            original.text,
        )
        return DISCORD_REFUSED, True
    if isinstance(original, app_commands.CommandSignatureMismatch):
        log.warning("a command arrived with options that do not match: %s", original)
        return OUT_OF_DATE, True
    if isinstance(original, app_commands.TransformerError):
        # Discord's client only sends offered values; a different one was forged.
        return NOT_A_CHOICE, True
    if isinstance(original, NotModerator | app_commands.MissingPermissions):
        return NOT_ALLOWED, True
    if isinstance(original, NotHost):
        return NOT_HOST, True
    if isinstance(original, app_commands.CheckFailure):
        return "You can't use this command here. Nothing was changed.", True
    return APOLOGY, False


async def send_private(interaction: discord.Interaction, text: str) -> None:
    """Send an ephemeral message whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await window.follow_up(
                interaction,
                content=text,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)


async def on_app_command_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    if isinstance(error, CrisisShown):
        return
    text, expected = message_for(error)
    if not expected:
        name = interaction.command.qualified_name if interaction.command else "(unknown)"
        original = getattr(error, "original", error)
        log.error("command /%s failed", name, exc_info=original)
    await send_private(interaction, text)


async def on_view_error(
    interaction: discord.Interaction, error: Exception, item_label: str
) -> None:
    """Views and modals report here so buttons follow the same rules as commands."""
    text, expected = message_for(error)
    if not expected:
        log.error("component %r failed", item_label, exc_info=error)
    await send_private(interaction, text)


def install(tree: app_commands.CommandTree[discord.Client]) -> None:
    tree.on_error = on_app_command_error  # type: ignore[method-assign]
