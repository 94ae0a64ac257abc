"""Cards: what a piece of content looks like when the bot shows it, independent of Discord.

A `Card` maps 1:1 onto a Discord embed (`bot.ui.embeds.to_embed`). The content check
renders every item with the same functions the bot uses and measures the result against
Discord's limits (`card_limit_problems`), so a file that passes the check always sends.
Each part of a card remembers which content field it came from, so an overflow is
reported against that field's line in the YAML file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.content import (
    ContentWarning,
    EvidenceLevel,
    Prompt,
    PromptKind,
    ResourceRegion,
    Story,
    Technique,
)

FOOTER = "Peer support, not a crisis service · /resources"
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
    extra: dict[str, str] = field(default_factory=dict)


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


EVIDENCE_LABELS = {
    EvidenceLevel.STRONG: "Strong research evidence",
    EvidenceLevel.MODERATE: "Moderate research evidence",
    EvidenceLevel.LIMITED: "Limited research evidence",
    EvidenceLevel.PEER_WISDOM: "Peer wisdom: learned in the recovery community, not yet studied",
}

WARNING_LABELS = {
    ContentWarning.SUICIDE: "suicide",
    ContentWarning.SELF_HARM: "self-harm",
    ContentWarning.SUBSTANCE_USE: "substance use",
    ContentWarning.RELAPSE: "relapse",
    ContentWarning.TRAUMA: "trauma",
    ContentWarning.ABUSE: "abuse",
    ContentWarning.EATING: "eating",
    ContentWarning.GRIEF: "grief",
    ContentWarning.VIOLENCE: "violence",
}

PROMPT_TITLES = {
    PromptKind.CHECK_IN: "Check-in",
    PromptKind.REFLECTION: "A moment to reflect",
    PromptKind.GRATITUDE: "Gratitude",
    PromptKind.CONNECTION: "Connection",
    PromptKind.SKILL: "A skill to try",
}


def _numbered(steps: Sequence[str]) -> str:
    return "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))


def _minutes(minutes: int) -> str:
    return "About 1 minute" if minutes == 1 else f"About {minutes} minutes"


def technique_card(technique: Technique) -> Rendered:
    fields = [
        CardField("Why it works", technique.why_it_works, source="why_it_works"),
        CardField("When to use it", technique.when_to_use, source="when_to_use"),
    ]
    if technique.cautions:
        fields.append(CardField("Take care", technique.cautions, source="cautions"))
    fields.append(
        CardField(
            "Time", _minutes(technique.duration_minutes), inline=True, source="duration_minutes"
        )
    )
    evidence = EVIDENCE_LABELS[technique.evidence.level]
    if technique.evidence.sources:
        links = "\n".join(
            f"[{source.citation}]({source.link})" for source in technique.evidence.sources
        )
        evidence = f"{evidence}\n{links}"
    fields.append(CardField("Evidence", evidence, inline=True, source="evidence"))
    description = f"{technique.summary}\n\n**Steps**\n{_numbered(technique.steps)}"
    card = Card(
        title=technique.title,
        description=description,
        fields=tuple(fields),
        tone=Tone.TECHNIQUE,
        title_source="title",
        description_source="steps",
    )
    return Rendered((card,))


def warnings_line(warnings: Iterable[ContentWarning]) -> str:
    """Content notes as a spoiler-wrapped line: a choice, visible only if the member wants."""
    labels = [WARNING_LABELS[w] for w in warnings]
    if not labels:
        return ""
    return f"Content notes: ||{', '.join(labels)}||"


def story_card(story: Story) -> Rendered:
    fields = [
        CardField("What was happening", story.situation, source="situation"),
        CardField("What I did", story.what_i_did, source="what_i_did"),
        CardField("What changed", story.what_changed, source="what_changed"),
    ]
    if story.what_helped:
        fields.append(CardField("What helped", story.what_helped, source="what_helped"))
    footer = FOOTER
    if story.illustrative:
        footer = f"An illustrative story written for Peerlight · {FOOTER}"
    card = Card(
        title=story.title,
        description=warnings_line(story.content_warnings),
        fields=tuple(fields),
        footer=footer,
        author=f"{story.author.alias} · {story.author.role}",
        tone=Tone.STORY,
        title_source="title",
        description_source="content_warnings",
    )
    return Rendered((card,))


def prompt_card(prompt: Prompt) -> Rendered:
    card = Card(
        title=PROMPT_TITLES[prompt.kind],
        description=prompt.text,
        footer=FOOTER,
        tone=Tone.PROMPT,
        description_source="text",
    )
    return Rendered((card,))


def resource_fields(region: ResourceRegion) -> tuple[CardField, ...]:
    fields = []
    for index, entry in enumerate(region.entries):
        ways = ", ".join(method.value for method in entry.how)
        lines = [f"**{entry.contact}** ({ways}) · {entry.hours}", entry.description]
        if entry.url:
            lines.append(entry.url)
        fields.append(CardField(entry.name, "\n".join(lines), source=f"entries[{index}]"))
    return tuple(fields)


def resources_card(region: ResourceRegion, international: ResourceRegion | None = None) -> Rendered:
    """The region's lines, then the international directory, then the emergency line."""
    fields = list(resource_fields(region))
    if international is not None and international.region != region.region:
        fields.extend(resource_fields(international))
    card = Card(
        title=f"Support lines · {region.name}",
        description=(
            "Free, confidential people to talk to, any time things feel like too much.\n"
            f"**{EMERGENCY_LINE}**"
        ),
        fields=tuple(fields),
        footer=FOOTER,
        tone=Tone.SAFETY,
    )
    return Rendered((card,))


def about_card(*, min_group_size: int, retention_days: int, checkin_window_hours: int) -> Rendered:
    """What Peerlight is, what it is not, and exactly what it keeps (SAFETY.md §3)."""
    description = (
        "Peerlight brings peer support into this server: coping techniques, and stories in "
        "which Certified Peer Specialists (people with lived experience of recovery) show what "
        "they actually did on a hard day, and why it helped. Recovery has many pathways; take "
        "what fits and leave the rest.\n\n"
        "**Peerlight is peer support, not a crisis service.** It is a bot, not a clinician, and "
        "it never diagnoses. If you might be in danger, `/resources` lists people you can talk "
        f"to right now. {EMERGENCY_LINE}"
    )
    fields = (
        CardField(
            "Try",
            "`/cope` a technique for how you feel · `/technique` look one up · "
            "`/story` a specialist's story · `/checkin` an anonymous check-in · "
            "`/resources` support lines",
        ),
        CardField(
            "What a check-in stores",
            "A mood from 1 to 5, up to three feelings from a fixed list, this server, and the "
            "day (not the time). Nothing about who you are: no user id, no name, no message, no "
            "free text. Even whoever holds the database cannot tell a check-in was yours.",
        ),
        CardField(
            "What moderators see",
            f"Only totals for the whole server over at least 7 days. Any number below "
            f"{min_group_size} is shown as “fewer than {min_group_size}”, and with fewer than "
            f"{min_group_size} check-ins in total there is no summary at all.",
        ),
        CardField(
            "What is kept, and for how long",
            f"Check-ins are deleted after {retention_days} days, and at once if Peerlight is "
            f"removed from this server. To allow one check-in per {checkin_window_hours} hours, "
            "Peerlight remembers a scrambled code for you in memory only; it is never written "
            "down and is gone when the bot restarts. Peerlight does not read channel messages.",
        ),
    )
    return Rendered(
        (Card(title="About Peerlight", description=description, fields=fields, tone=Tone.INFO),)
    )
