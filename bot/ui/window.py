"""Answering within Discord's window.

Discord drops the answer to an interaction that comes more than 3 seconds after it, and
the member reads "This interaction failed". Work that may wait on something slower than
memory (a database write, a post in another channel, a chart) runs through `within`:
when it finishes inside `ACK_BUDGET` the member gets one answer, as before; when it does
not, the interaction is acknowledged first (a deferral, private where the answer is) and
the answer follows once the work is done. The work itself is bounded elsewhere (SQLite's
busy timeout, `OUTBOUND_TIMEOUT` for posts), so the answer always comes: the result, or a
kind message saying what did not happen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long work may run before the interaction is acknowledged. Leaves two seconds of
# Discord's three for the deferral itself to arrive, even on a slow link.
ACK_BUDGET = 1.0
# The longest a post to another channel may take on an interaction path (discord.py's own
# bound on rate-limit waits, `max_ratelimit_timeout`, cannot be set below 30 seconds).
OUTBOUND_TIMEOUT = 8.0
# The longest an answer that follows an acknowledgement (a follow-up, or the edit of the
# deferred message) may take. discord.py's webhook requests wait out any 429 however long,
# and try a 5xx five times over 25 seconds; a stalled one would hold the handler for
# aiohttp's five minutes. Past this the answer is given up with a WARNING.
FOLLOW_UP_TIMEOUT = 30.0


def updates_in_place(interaction: discord.Interaction[Any]) -> bool:
    """A press on a private message, whose answer replaces that message."""
    message = interaction.message
    return (
        interaction.type is discord.InteractionType.component
        and message is not None
        and message.flags.ephemeral
    )


async def acknowledge(interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
    """Defer, unless answered already: an update of the pressed message when the answer
    replaces it, otherwise "thinking…", private when the answer is."""
    if interaction.response.is_done():
        return
    try:
        if updates_in_place(interaction):
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.HTTPException as error:
        # Too late or refused: the answer still goes out as a follow-up if it can.
        log.warning("could not acknowledge interaction %s (HTTP %s)", interaction.id, error.status)


async def within(
    interaction: discord.Interaction[Any],
    work: Awaitable[T],
    *,
    ephemeral: bool = True,
    budget: float | None = None,
) -> T:
    """The result of `work`; the interaction is acknowledged first if it takes longer
    than `budget` seconds (`ACK_BUDGET` unless given). The caller answers with
    `interaction.response` when `interaction.response.is_done()` is false, else with a
    follow-up or an edit."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET if budget is None else budget)
    if not done:
        await acknowledge(interaction, ephemeral=ephemeral)
    return await task


async def reply(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """A private answer: the response itself, or a follow-up once acknowledged."""
    if interaction.response.is_done():
        await follow_up(interaction, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=True, **kwargs)


async def follow_up(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """`interaction.followup.send(**kwargs)`, given up after `FOLLOW_UP_TIMEOUT` with a
    WARNING (the member cannot be told anything then: the route to them is what failed).
    Discord's refusals (403, 404, a 5xx after discord.py's tries) reach the caller."""
    try:
        await bounded(interaction.followup.send(**kwargs), FOLLOW_UP_TIMEOUT)
    except TimeoutError:
        _gave_up(interaction, "follow-up")


async def edit_original(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """`interaction.edit_original_response(**kwargs)`, bounded as `follow_up` is."""
    try:
        await bounded(interaction.edit_original_response(**kwargs), FOLLOW_UP_TIMEOUT)
    except TimeoutError:
        _gave_up(interaction, "edit of the acknowledged message")


def _gave_up(interaction: discord.Interaction[Any], what: str) -> None:
    log.warning(
        "gave up the %s answering interaction %s: Discord did not take it within %g s",
        what,
        interaction.id,
        FOLLOW_UP_TIMEOUT,
    )


async def bounded(work: Awaitable[T], timeout: float | None = None) -> T:
    """`work`, or TimeoutError after `timeout` seconds (`OUTBOUND_TIMEOUT` unless given);
    the work is cancelled then."""
    return await asyncio.wait_for(work, OUTBOUND_TIMEOUT if timeout is None else timeout)
