"""Technique and story cards: /cope, /technique and /story."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.domain.cards.base import (
    FOOTER,
    Card,
    CardField,
    Rendered,
    Tone,
)
from bot.domain.content import (
    ContentWarning,
    EvidenceLevel,
    Story,
    Technique,
)

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
