"""Cards: what a piece of content looks like when the bot shows it, independent of Discord.

A `Card` maps 1:1 onto a Discord embed (`bot.ui.embeds.to_embed`). The content check
renders every item with the same functions the bot uses and measures the result against
Discord's limits (`card_limit_problems`), so a file that passes the check always sends.
Each part of a card remembers which content field it came from, so an overflow is
reported against that field's line in the YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FOOTER = "Peer support, not a crisis service · /resources"
# Where no region is known (the /about card); a region's cards name its own number.
EMERGENCY_LINE = "If you are in immediate danger, call your local emergency number."

# Discord's limits for one embed (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
MESSAGE_CONTENT_LIMIT = 2000


class Tone(StrEnum):
    """A colour hint; the Discord layer picks the actual colour."""

    TECHNIQUE = "technique"
    STORY = "story"
    SAFETY = "safety"
    PROMPT = "prompt"
    INFO = "info"


@dataclass(frozen=True)
class CardField:
    name: str
    value: str
    inline: bool = False
    source: str | None = None  # the content field this text came from, e.g. "why_it_works"


@dataclass(frozen=True)
class Card:
    title: str
    description: str = ""
    fields: tuple[CardField, ...] = ()
    footer: str = FOOTER
    author: str = ""
    tone: Tone = Tone.INFO
    url: str | None = None
    # Which content fields the title and description came from.
    title_source: str | None = None
    description_source: str | None = None

    def text_length(self) -> int:
        """Characters Discord counts towards the 6,000 per embed."""
        return (
            len(self.title)
            + len(self.description)
            + len(self.footer)
            + len(self.author)
            + sum(len(f.name) + len(f.value) for f in self.fields)
        )


@dataclass(frozen=True)
class LimitProblem:
    source: str | None  # content field to blame, None when it is the card as a whole
    message: str


@dataclass(frozen=True)
class Rendered:
    """An item rendered as the bot would send it: the cards, and the message text before them."""

    cards: tuple[Card, ...]
    content: str = ""
    content_source: str | None = None


def card_limit_problems(rendered: Rendered) -> list[LimitProblem]:
    problems: list[LimitProblem] = []

    def over(source: str | None, what: str, length: int, limit: int) -> None:
        if length > limit:
            problems.append(
                LimitProblem(
                    source,
                    f"{what} would be {length} characters once shown, over Discord's limit "
                    f"of {limit}; shorten it by {length - limit}",
                )
            )

    over(rendered.content_source, "the message text", len(rendered.content), MESSAGE_CONTENT_LIMIT)
    if len(rendered.cards) > EMBEDS_PER_MESSAGE:
        problems.append(
            LimitProblem(None, f"{len(rendered.cards)} cards, over Discord's {EMBEDS_PER_MESSAGE}")
        )
    for card in rendered.cards:
        over(card.title_source, "the title", len(card.title), TITLE_LIMIT)
        over(
            card.description_source,
            "the card's main text",
            len(card.description),
            DESCRIPTION_LIMIT,
        )
        over(None, "the footer", len(card.footer), FOOTER_LIMIT)
        over(None, "the author line", len(card.author), AUTHOR_LIMIT)
        if len(card.fields) > FIELDS_LIMIT:
            problems.append(
                LimitProblem(None, f"{len(card.fields)} sections, over Discord's {FIELDS_LIMIT}")
            )
        for card_field in card.fields:
            over(
                card_field.source,
                f"the section “{card_field.name[:40]}” heading",
                len(card_field.name),
                FIELD_NAME_LIMIT,
            )
            over(
                card_field.source,
                f"the section “{card_field.name[:40]}”",
                len(card_field.value),
                FIELD_VALUE_LIMIT,
            )
        total = card.text_length()
        if total > EMBED_TOTAL_LIMIT:
            biggest = max(
                [(len(f.value), f.source) for f in card.fields]
                + [(len(card.description), card.description_source)],
                key=lambda pair: pair[0],
            )
            problems.append(
                LimitProblem(
                    biggest[1],
                    f"the whole card would be {total} characters, over Discord's limit of "
                    f"{EMBED_TOTAL_LIMIT} for one card; shorten it by {total - EMBED_TOTAL_LIMIT}",
                )
            )
    return problems


def fits_one_message(rendered: Rendered) -> bool:
    """Whether Discord takes these cards in one message: the 6,000 characters are counted
    over all of a message's embeds together."""
    return (
        len(rendered.cards) <= EMBEDS_PER_MESSAGE
        and len(rendered.content) <= MESSAGE_CONTENT_LIMIT
        and sum(card.text_length() for card in rendered.cards) <= EMBED_TOTAL_LIMIT
        and not card_limit_problems(rendered)
    )
