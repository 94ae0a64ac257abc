"""Sharing a card without attribution (SAFETY.md §3).

A slash command's public reply shows "<member> used /cope" above it, and in a recovery
server the technique can say what that member is going through. So a shared card is
never the command's reply: the member gets a private acknowledgement, and then the card
is posted to the channel as Peerlight's own message, with nothing to show who asked.

Because nothing shows who asked, sharing is held to what the member could do openly:
only in a server channel where they may send messages themselves, and at most
`SHARES_PER_HOUR` cards an hour (`bot.domain.shares`). Whenever a card is not posted, the
member gets it privately, with a line saying why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import discord

from bot.domain.shares import SHARES_PER_HOUR
from bot.ui import replies, window
from bot.ui.replies import Reply, services_of

log = logging.getLogger(__name__)

Answer = Callable[[bool], Reply]  # shared → the reply

SHARED = "Shared in this channel as Peerlight's own post: nothing in it shows who asked for it."
NOT_IN_A_SERVER = (
    "Sharing posts a card in a channel of a server Peerlight is part of, so here it's just for you."
)
MEMBER_CANNOT_POST = (
    "You can't send messages in this channel yourself, so I haven't posted this here "
    "either. Here it is just for you; you can share it in a channel where you can post."
)
BOT_CANNOT_POST = (
    "I can't post in this channel: I need the Send Messages and Embed Links permissions "
    "here, which a moderator can give me. Here it is just for you."
)
NOT_POSTED = "I couldn't post it in this channel just now, so here it is just for you."


def limit_reached(wait: dt.timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"You've shared {SHARES_PER_HOUR} cards in the last hour, the most I post for one "
        f"person. You can share again in {minutes} {unit}; here it is just for you."
    )


def _in_thread(interaction: discord.Interaction[Any]) -> bool:
    return isinstance(interaction.channel, discord.Thread)


def _can_send(permissions: discord.Permissions, in_thread: bool) -> bool:
    return permissions.send_messages_in_threads if in_thread else permissions.send_messages


def refusal(interaction: discord.Interaction[Any]) -> str | None:
    """Why a card may not be shared here, in words for the member; None if it may."""
    # No server, or one the bot is not part of, or a channel it cannot see (then it could
    # not post there either). The interaction's own guild and channel may be partial
    # objects built from the payload, so the bot's cache decides.
    guild = interaction.client.get_guild(interaction.guild_id or 0)
    if (
        guild is None
        or guild.get_channel_or_thread(interaction.channel_id or 0) is None
        or not isinstance(interaction.channel, discord.abc.Messageable)
    ):
        return NOT_IN_A_SERVER
    in_thread = _in_thread(interaction)
    if not _can_send(interaction.permissions, in_thread):
        return MEMBER_CANNOT_POST
    bot = interaction.app_permissions
    if not (bot.view_channel and bot.embed_links and _can_send(bot, in_thread)):
        return BOT_CANNOT_POST
    return None


async def share(interaction: discord.Interaction[Any], answer: Answer) -> None:
    """Post the shareable answer as Peerlight's own message after a private
    acknowledgement; or, where it may not be shared, send the answer privately and say why.
    Anything `answer` raises goes to the caller's error path."""
    services = services_of(interaction)
    member_id = interaction.user.id
    why = refusal(interaction)
    if why is None:
        decision = services.shares.allow(member_id, services.clock())
        if not decision:
            why = limit_reached(decision.wait)
    if why is not None:
        await replies.send(interaction, answer(False).with_line(why))
        return
    try:
        reply = answer(True)
    except BaseException:
        services.shares.release(member_id)
        raise
    if not reply.shareable:
        # Not a card of content (no technique matched): a message for the member alone.
        services.shares.release(member_id)
        await replies.send(interaction, reply)
        return
    await replies.send(interaction, Reply.text(SHARED))
    await _post(interaction, reply)


async def _post(interaction: discord.Interaction[Any], reply: Reply) -> None:
    channel = interaction.channel
    assert isinstance(channel, discord.abc.Messageable)  # checked by `refusal`
    try:
        # Bounded like every post on an interaction path: a rate limit longer than
        # discord.py waits out raises RateLimited, a stall ends at `OUTBOUND_TIMEOUT`.
        await window.bounded(channel.send(**reply.kwargs()))
    except (discord.HTTPException, discord.RateLimited, TimeoutError) as error:
        services_of(interaction).shares.release(interaction.user.id)
        log.warning(
            "could not post a shared card in channel %s (%s)",
            interaction.channel_id,
            _why(error),
        )
        await window.follow_up(interaction, ephemeral=True, **reply.with_line(NOT_POSTED).kwargs())


def _why(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}, code {error.code}"
    if isinstance(error, discord.RateLimited):
        return f"rate limited for {error.retry_after:.0f} s"
    return "no answer in time"
