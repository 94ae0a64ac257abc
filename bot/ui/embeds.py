"""Cards to Discord embeds, 1:1, so what the content check measured is what is sent."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.cards.base import Card, Rendered, Tone

TONE_COLOURS = {
    Tone.TECHNIQUE: discord.Colour(0x2E8B57),
    Tone.STORY: discord.Colour(0x6A5ACD),
    Tone.SAFETY: discord.Colour(0xC0504D),
    Tone.PROMPT: discord.Colour(0xE1A33B),
    Tone.INFO: discord.Colour(0x3B82B6),
}


def to_embed(card: Card) -> discord.Embed:
    embed = discord.Embed(
        title=card.title or None,
        description=card.description or None,
        colour=TONE_COLOURS[card.tone],
        url=card.url,
    )
    if card.author:
        embed.set_author(name=card.author)
    for field in card.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


def to_embeds(rendered: Rendered) -> list[discord.Embed]:
    return [to_embed(card) for card in rendered.cards]


def message_kwargs(rendered: Rendered) -> dict[str, Any]:
    """Keyword arguments for send_message / followup.send / channel.send."""
    kwargs: dict[str, Any] = {
        "embeds": to_embeds(rendered),
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if rendered.content:
        kwargs["content"] = rendered.content
    return kwargs
