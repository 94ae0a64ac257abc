"""Scheduled prompts: the posted prompt's card, and the moderators' /schedule cards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.cards.base import (
    FOOTER,
    Card,
    CardField,
    Rendered,
    Tone,
    fits_one_message,
)
from bot.domain.content import (
    Prompt,
    PromptKind,
)

PROMPT_TITLES = {
    PromptKind.CHECK_IN: "Check-in",
    PromptKind.REFLECTION: "A moment to reflect",
    PromptKind.GRATITUDE: "Gratitude",
    PromptKind.CONNECTION: "Connection",
    PromptKind.SKILL: "A skill to try",
}


def prompt_card(prompt: Prompt) -> Rendered:
    card = Card(
        title=PROMPT_TITLES[prompt.kind],
        description=prompt.text,
        footer=FOOTER,
        tone=Tone.PROMPT,
        description_source="text",
    )
    return Rendered((card,))


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
