"""Cards: what a piece of content looks like when the bot shows it, independent of Discord.

A `Card` maps 1:1 onto a Discord embed (`bot.ui.embeds.to_embed`). The content check
renders every item with the same functions the bot uses and measures the result against
Discord's limits (`card_limit_problems`), so a file that passes the check always sends.
Each part of a card remembers which content field it came from, so an overflow is
reported against that field's line in the YAML file.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.checkins import (
    INSUFFICIENT_MESSAGE,
    MOOD_LABELS,
    MOODS,
    Summary,
    suppression_note,
)
from bot.domain.content import (
    ContentWarning,
    EvidenceLevel,
    Prompt,
    PromptKind,
    ResourceEntry,
    ResourceRegion,
    Story,
    Technique,
)

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


def emergency_line(region: ResourceRegion, *, someone_else: bool = False) -> str:
    """What to call in immediate danger, with the region's own number: "call 999 or 112";
    for the international directory, "your local emergency number"."""
    who = "they are" if someone_else else "you are"
    return f"If {who} in immediate danger, call {region.emergency} now."


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
            f"**{emergency_line(region)}**"
        ),
        fields=tuple(fields),
        footer=FOOTER,
        tone=Tone.SAFETY,
    )
    return Rendered((card,))


def about_card(
    *,
    min_group_size: int,
    retention_days: int,
    checkin_window_hours: int,
    epsilon: float = 3.0,
) -> Rendered:
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
            "free text.",
        ),
        CardField(
            "What moderators see",
            "Only totals for the whole server over whole UTC weeks that are over, never this "
            "week. Each week's numbers get random noise once and are kept, so asking again "
            "gives the same answer; every number would have been about as likely had you not "
            f"checked in that week (differential privacy, ε = {epsilon:g} a week). Any number "
            f"below {min_group_size} reads “hidden”, and with fewer than {min_group_size} "
            "check-ins there is no summary at all.",
        ),
        CardField(
            "What is kept, and for how long",
            f"Check-ins and weekly numbers are deleted after {retention_days} days, and at once "
            "if Peerlight is removed from this server while it runs (removed while it is "
            "offline: a week after it next starts). One check-in a day "
            "counts: for today only, Peerlight keeps a scrambled code for you (a keyed hash "
            "under a key made for today), deleted with its key when the day ends; it also "
            f"waits {checkin_window_hours} hours between your check-ins, in memory only. "
            "Peerlight does not read channel messages.",
        ),
    )
    return Rendered(
        (Card(title="About Peerlight", description=description, fields=fields, tone=Tone.INFO),)
    )


# -- crisis ---------------------------------------------------------------------------------

CRISIS_TITLE = "You don't have to go through this alone"
CRISIS_ACKNOWLEDGEMENT = "It sounds like things are really hard right now. Thank you for saying so."
NOT_A_CRISIS_SERVICE = (
    "I'm a bot, not a crisis service. The people below are there to listen, and you can "
    "reach them right now."
)
RESOURCES_POINTER = (
    "If things feel like too much, /resources lists people you can talk to, any time."
)

# When a member is worried that someone else is in danger: how to support them now, before
# the same lines. Asking directly does not put the idea in anyone's head, and a supporter
# who knows that is more likely to ask.
HELPER_TITLE = "Helping someone who may be in danger"
HELPER_ACKNOWLEDGEMENT = (
    "It sounds like you're worried about someone. Thank you for looking out for them. "
    "Here is what helps right now:"
)
HELPER_NOT_A_CRISIS_SERVICE = (
    "I'm a bot, not a crisis service. The people below can talk with you, with them, or "
    "with you both, right now."
)
HELPER_LOOK_AFTER_YOURSELF = (
    "Supporting someone through this is hard. These lines are there for you too, whenever "
    "you need them."
)
# A repeat within minutes: the same steps in one line, then the lines.
HELPER_STEPS_SHORT = "Stay with them, ask them directly, and help them reach one of these lines."


def helper_steps(region: ResourceRegion) -> str:
    return "\n".join(
        (
            "1. Stay with them, or keep talking with them, if it is safe for you to do so.",
            "2. Ask them directly: \u201cAre you thinking about suicide?\u201d Asking does not "
            "put the idea in their head, and it shows them they can talk to you.",
            "3. Listen without judging, and help them reach one of the lines below; you can "
            "call or text together.",
            f"4. {emergency_line(region, someone_else=True)}",
        )
    )


def _contact_line(entry: ResourceEntry) -> str:
    ways = ", ".join(method.value for method in entry.how)
    return f"**{entry.name}**: {entry.contact} ({ways}) · {entry.hours}"


def _contact_lines(region: ResourceRegion) -> str:
    lines: list[str] = []
    for entry in region.entries:
        candidate = "\n".join([*lines, _contact_line(entry)])
        if len(candidate) > FIELD_VALUE_LIMIT - 40:
            lines.append("…and more in /resources")
            break
        lines.append(_contact_line(entry))
    return "\n".join(lines)


def crisis_card(
    region: ResourceRegion,
    international: ResourceRegion | None = None,
    *,
    someone_else: bool = False,
    repeat: bool = False,
) -> Rendered:
    """The crisis block: the lines for the member's region and the international directory,
    then the region's emergency number.

    Before the lines: for a member in danger, an acknowledgement and what the bot is not;
    for a member worried about someone else (`someone_else`), how to support them now.
    A `repeat` within minutes of the last block leaves out that longer text (the steps for
    a supporter shrink to one line), never the lines or the emergency number.
    """
    fields = [CardField(f"Support lines · {region.name}", _contact_lines(region))]
    if international is not None and international.region != region.region:
        fields.append(CardField("Anywhere in the world", _contact_lines(international)))
    emergency = f"**{emergency_line(region, someone_else=someone_else)}**"
    fields.append(CardField("In an emergency", emergency))
    if someone_else:
        title = HELPER_TITLE
        if repeat:
            description = HELPER_STEPS_SHORT
        else:
            description = (
                f"{HELPER_ACKNOWLEDGEMENT}\n{helper_steps(region)}\n\n{HELPER_NOT_A_CRISIS_SERVICE}"
            )
            fields.append(CardField("Look after yourself too", HELPER_LOOK_AFTER_YOURSELF))
    else:
        title = CRISIS_TITLE
        description = "" if repeat else f"{CRISIS_ACKNOWLEDGEMENT}\n\n{NOT_A_CRISIS_SERVICE}"
    card = Card(
        title=title,
        description=description,
        fields=tuple(fields),
        footer=FOOTER,
        tone=Tone.SAFETY,
    )
    return Rendered((card,))


def crisis_cards(region: ResourceRegion, international: ResourceRegion | None) -> list[Rendered]:
    """Every crisis block a member may see with this region's lines: for their own danger
    and for someone else's, whole and as a repeat."""
    return [
        crisis_card(region, international, someone_else=someone_else, repeat=repeat)
        for someone_else in (False, True)
        for repeat in (False, True)
    ]


def fits_one_message(rendered: Rendered) -> bool:
    """Whether Discord takes these cards in one message: the 6,000 characters are counted
    over all of a message's embeds together."""
    return (
        len(rendered.cards) <= EMBEDS_PER_MESSAGE
        and len(rendered.content) <= MESSAGE_CONTENT_LIMIT
        and sum(card.text_length() for card in rendered.cards) <= EMBED_TOTAL_LIMIT
        and not card_limit_problems(rendered)
    )


# -- moderators: the content library ---------------------------------------------------------

ERRORS_SHOWN = 10
_COUNT_LABELS = (
    ("techniques", "Techniques"),
    ("stories", "Stories"),
    ("prompts", "Prompts"),
    ("regions", "Regions"),
    ("feelings", "Feelings"),
)


def _count_fields(counts: Mapping[str, int]) -> list[CardField]:
    return [
        CardField(label, str(counts[key]), inline=True)
        for key, label in _COUNT_LABELS
        if key in counts
    ]


def _warnings_field(warnings: int) -> CardField:
    if not warnings:
        return CardField("Warnings", "None", inline=True)
    return CardField(
        "Warnings",
        f"{warnings} (run `peerlight content check` to see them)",
        inline=True,
    )


def content_status_card(
    counts: Mapping[str, int], loaded_at: dt.datetime, revision: str | None, warnings: int
) -> Rendered:
    fields = _count_fields(counts)
    fields.append(CardField("Loaded", f"<t:{int(loaded_at.timestamp())}:R>", inline=True))
    if revision:
        fields.append(CardField("Revision", f"`{revision[:12]}`", inline=True))
    fields.append(_warnings_field(warnings))
    card = Card(title="Content library", fields=tuple(fields), footer="", tone=Tone.INFO)
    return Rendered((card,))


def content_reloaded_card(counts: Mapping[str, int], warnings: int) -> Rendered:
    fields = [*_count_fields(counts), _warnings_field(warnings)]
    card = Card(
        title="Content reloaded",
        description="Members see the new library from now on.",
        fields=tuple(fields),
        footer="",
        tone=Tone.INFO,
    )
    return Rendered((card,))


def content_reload_failed_card(error_lines: Sequence[str], summary: str) -> Rendered:
    """The first errors as `peerlight content check` prints them, cut to fit one card."""
    shown = list(error_lines[:ERRORS_SHOWN])
    intro = (
        "The files have errors, so nothing changed: members still see the library that was "
        "already loaded. Fix these and reload again."
    )
    outro = f"{summary}. `peerlight content check` lists every problem."

    def text(lines: Sequence[str], more: int) -> str:
        block = "\n".join(lines).replace("```", "'''")
        tail = f"\n…and {more} more" if more else ""
        return f"{intro}\n```\n{block}{tail}\n```\n{outro}"

    hidden = len(error_lines) - len(shown)
    while len(shown) > 1 and len(text(shown, hidden)) > DESCRIPTION_LIMIT:
        shown.pop()
        hidden += 1
    if len(text(shown, hidden)) > DESCRIPTION_LIMIT:
        room = DESCRIPTION_LIMIT - len(text([], hidden)) - 1
        shown = [shown[0][: max(room, 0)]]
    card = Card(
        title="Reload stopped: nothing changed",
        description=text(shown, hidden),
        footer="",
        tone=Tone.SAFETY,
    )
    return Rendered((card,))


# -- check-ins ------------------------------------------------------------------------------

# Faces with their own emoji presentation, so none needs the variation selector (U+FE0F)
# that Discord renders differently from one device to another.
MOOD_EMOJI: dict[int, str] = {1: "😢", 2: "😟", 3: "😐", 4: "🙂", 5: "😊"}
CHECKIN_QUESTION = "How are you doing right now?"
CHECKIN_PRIVACY = (
    "Anonymous: Peerlight keeps only a mood, any feelings you pick, this server and "
    "today's date. Nothing about who you are."
)
CHECKIN_NOT_SAVED = (
    "Sorry — that check-in wasn't saved, so nothing was recorded. Please try again in a moment."
)
CHECKIN_SERVER_ONLY = (
    "Check-ins are counted per server, so they only work inside a server, not in direct messages."
)
CHECKIN_NO_SUGGESTION = "/cope finds a technique for how you feel, whenever you want one."


def mood_label(mood: int) -> str:
    return f"{MOOD_EMOJI[mood]} {MOOD_LABELS[mood]}"


def wait_text(wait: dt.timedelta) -> str:
    """ "in about 5 hours", rounded up so the member is never told a time that is too early."""
    hours = math.ceil(wait.total_seconds() / 3600)
    if hours <= 1:
        return "in less than an hour" if wait < dt.timedelta(hours=1) else "in about 1 hour"
    return f"in about {hours} hours"


def already_checked_in_line(wait: dt.timedelta) -> str:
    return f"You already checked in recently — you can check in again {wait_text(wait)}."


def checkin_saved_line(feelings: int) -> str:
    """Exactly what was stored, in the member's words."""
    if feelings == 0:
        what = "a mood"
    elif feelings == 1:
        what = "a mood and 1 feeling"
    else:
        what = f"a mood and {feelings} feelings"
    return f"Saved: {what} for this server and today's date — nothing about who you are."


def checkin_question_card(*, wait: dt.timedelta | None = None) -> Rendered:
    description = CHECKIN_PRIVACY
    if wait is not None:
        description = (
            f"{already_checked_in_line(wait)} You can still pick how you are for something "
            "to try; this time nothing will be recorded."
        )
    card = Card(title=CHECKIN_QUESTION, description=description, tone=Tone.PROMPT)
    return Rendered((card,))


def checkin_feelings_card(mood: int) -> Rendered:
    if mood == 1:
        description = (
            "Thank you for telling me. When you're ready, choose up to three feelings, or "
            "Skip, and I'll suggest something that might help right now."
        )
    else:
        description = (
            f"You picked {mood_label(mood)}. Choose up to three feelings, or Skip, and "
            "I'll suggest something to try."
        )
    card = Card(title="Anything you're feeling?", description=description, tone=Tone.PROMPT)
    return Rendered((card,))


def _suggestion_field(technique: Technique | None) -> CardField:
    if technique is None:
        return CardField("Something to try", CHECKIN_NO_SUGGESTION)
    text = f"**{technique.title}**\n{technique.summary}"
    if len(text) > FIELD_VALUE_LIMIT:
        text = text[: FIELD_VALUE_LIMIT - 1] + "…"
    return CardField("Something to try", text)


def checkin_thanks_card(*, feelings: int, technique: Technique | None) -> Rendered:
    card = Card(
        title="Thank you for checking in",
        description=checkin_saved_line(feelings),
        fields=(_suggestion_field(technique),),
        tone=Tone.TECHNIQUE,
    )
    return Rendered((card,))


def checkin_flood_card(*, wait: dt.timedelta, technique: Technique | None) -> Rendered:
    card = Card(
        title="Thanks for checking in again",
        description=(
            f"{already_checked_in_line(wait)} Nothing new was recorded, but here is "
            "something that might help."
        ),
        fields=(_suggestion_field(technique),),
        tone=Tone.TECHNIQUE,
    )
    return Rendered((card,))


def _day_range(start: dt.date, end: dt.date) -> str:
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def _change_text(summary: Summary) -> str:
    weeks = summary.days // 7
    before = "the week before" if weeks == 1 else f"the {weeks} weeks before"
    if summary.change is not None and summary.previous_mean is not None:
        return f"{summary.change:+.1f} against {before} ({summary.previous_mean:.1f} then)"
    if summary.mean is None:
        return "Not shown while a mood count is hidden."
    return f"No comparison: {before} had too few check-ins to compare safely."


def summary_card(
    summary: Summary,
    *,
    start: dt.date,
    end: dt.date,
    feeling_labels: Mapping[str, str],
    epsilon: float = 3.0,
) -> Rendered:
    """What a moderator sees for one window of completed weeks: only what `summary`
    allows (rules in `bot.domain.checkins`), for the whole server."""
    weeks = summary.days // 7
    title = (
        "Check-ins · last completed week"
        if weeks == 1
        else (f"Check-ins · last {weeks} completed weeks")
    )
    where = f"{_day_range(start, end)} (UTC) · the whole server"
    if not summary.enough:
        card = Card(
            title=title,
            description=(
                f"{where}\n\n**{INSUFFICIENT_MESSAGE}**\nA summary appears once enough "
                "members have checked in that nobody can be picked out."
            ),
            footer=noise_note(epsilon),
            tone=Tone.INFO,
        )
        return Rendered((card,))
    k = summary.k
    moods = "\n".join(
        f"{mood_label(mood)}: {summary.distribution[mood].render(k)}" for mood in MOODS
    )
    average = (
        f"{summary.mean:.1f} of 5"
        if summary.mean is not None
        else "Not shown while a mood count is hidden."
    )
    if summary.top_feelings:
        feelings = "\n".join(
            f"{feeling_labels.get(name, name)}: {count}" for name, count in summary.top_feelings
        )
    else:
        feelings = f"None named in {k} or more check-ins."
    hidden = any(cell.hidden for cell in summary.distribution.values())
    card = Card(
        title=title,
        description=where,
        fields=(
            CardField("Check-ins", str(summary.total), inline=True),
            CardField("Average mood", average, inline=True),
            CardField("Change", _change_text(summary), inline=True),
            CardField("Moods", moods),
            CardField("Most-named feelings", feelings),
        ),
        footer=(f"{suppression_note(k)} " if hidden else "") + noise_note(epsilon),
        tone=Tone.INFO,
    )
    return Rendered((card,))


def noise_note(epsilon: float) -> str:
    """What every summary says about its numbers (SAFETY.md §4)."""
    return (
        "Only whole weeks that are over are shown. Each week's numbers carry random noise, "
        "added once when the week ended and kept, so asking again gives the same answer "
        f"and no one member's check-ins can be made out (ε = {epsilon:g} a week)."
    )


# -- moderators: scheduled prompts -------------------------------------------------------------

PROMPT_KIND_LABELS = {
    PromptKind.CHECK_IN: "Check-in",
    PromptKind.REFLECTION: "Reflection",
    PromptKind.GRATITUDE: "Gratitude",
    PromptKind.CONNECTION: "Connection",
    PromptKind.SKILL: "Skill to try",
}
# Below this many unused prompts, /schedule list says a kind will soon start repeating.
FEW_PROMPTS_LEFT = 5
# Reasons and problems are cut shorter until a full list fits one message.
_SCHEDULE_DETAIL_LIMITS = (200, 120, 60)


@dataclass(frozen=True)
class ScheduleSummary:
    """One schedule as moderators read it; times are already written in its time zone."""

    short_id: str
    channel: str  # "#general"
    kind: PromptKind
    when: str  # "09:00 weekdays, America/New_York"
    upcoming: tuple[str, ...] = ()
    paused_reason: str | None = None
    last_problem: str | None = None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _schedule_heading(summary: ScheduleSummary) -> str:
    channel = _clip(summary.channel, 60)
    return f"`{summary.short_id}` · {PROMPT_KIND_LABELS[summary.kind]} in {channel}"


def _schedule_value(
    summary: ScheduleSummary, detail_limit: int = _SCHEDULE_DETAIL_LIMITS[0]
) -> str:
    lines = [summary.when]
    if summary.paused_reason is not None:
        lines.append(f"**Not posting:** {_clip(summary.paused_reason, detail_limit)}")
        lines.append(f"`/schedule resume id:{summary.short_id}` starts it again.")
    else:
        if summary.upcoming:
            lines.append(f"Next: {summary.upcoming[0]}")
        if summary.last_problem:
            lines.append(f"Last post: {_clip(summary.last_problem, detail_limit)}")
    return "\n".join(lines)


def schedule_saved_card(summary: ScheduleSummary, *, title: str = "Schedule added") -> Rendered:
    """The reply to /schedule add and /schedule resume: the id and the next occurrences."""
    description = (
        f"{PROMPT_KIND_LABELS[summary.kind]} prompts in {summary.channel}, "
        f"{summary.when}.\nIts id is `{summary.short_id}`: use it with /schedule pause, "
        "resume, remove and preview."
    )
    fields = (CardField("Next posts", "\n".join(summary.upcoming) or "None planned"),)
    card = Card(title=title, description=description, fields=fields, footer="", tone=Tone.INFO)
    return Rendered((card,))


def schedule_changed_card(summary: ScheduleSummary, *, title: str, note: str) -> Rendered:
    """The reply to /schedule pause and /schedule remove."""
    card = Card(
        title=title,
        description=note,
        fields=(CardField(_schedule_heading(summary), _schedule_value(summary)),),
        footer="",
        tone=Tone.INFO,
    )
    return Rendered((card,))


def schedule_list_card(
    summaries: Sequence[ScheduleSummary], prompts_left: Mapping[PromptKind, int]
) -> Rendered:
    """This server's schedules, active first, and the kinds that will soon repeat."""
    if not summaries:
        description = (
            "No scheduled prompts in this server yet. `/schedule add` plans one, for example "
            "`time:09:00 days:weekdays kind:check-in`."
        )
    else:
        description = f"{len(summaries)} scheduled prompt{'s' if len(summaries) != 1 else ''}."
    running_low = [
        f"{PROMPT_KIND_LABELS[kind]}: {left} unused prompt{'' if left == 1 else 's'} left "
        "before they start to repeat."
        for kind, left in sorted(prompts_left.items())
        if left < FEW_PROMPTS_LEFT
    ]
    if running_low:
        description += (
            "\n\n**Running low:** "
            + " ".join(running_low)
            + " Peer specialists can add more in `content/prompts/`."
        )
    rendered = Rendered(())
    for limit in _SCHEDULE_DETAIL_LIMITS:
        fields = tuple(
            CardField(_schedule_heading(s), _schedule_value(s, limit)) for s in summaries
        )
        card = Card(
            title="Scheduled prompts",
            description=description,
            fields=fields,
            footer="",
            tone=Tone.INFO,
        )
        rendered = Rendered((card,))
        if fits_one_message(rendered):
            break
    return rendered


def schedule_preview_card(summary: ScheduleSummary, prompt: Prompt, *, shared: bool) -> Rendered:
    """What the schedule will post next, introduced by a line saying when and where."""
    when = summary.upcoming[0] if summary.upcoming else "when it is resumed"
    line = f"Preview of `{summary.short_id}`: the next post in {summary.channel}, {when}."
    if summary.paused_reason is not None:
        line += " This schedule is paused."
    if shared:
        line += (
            f" Another schedule here also posts {PROMPT_KIND_LABELS[summary.kind].lower()} "
            "prompts; if it posts first, this one takes the prompt after."
        )
    return Rendered(prompt_card(prompt).cards, content=line)
