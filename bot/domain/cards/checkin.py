"""Check-in cards, and the moderators' summary of check-ins."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from bot.domain.cards.base import (
    FIELD_VALUE_LIMIT,
    Card,
    CardField,
    Rendered,
    Tone,
)
from bot.domain.checkins import (
    INSUFFICIENT_MESSAGE,
    MOOD_LABELS,
    MOODS,
    Summary,
    suppression_note,
)
from bot.domain.content import (
    Technique,
)
from bot.domain.votes import VoteTotals

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


VOTES_TITLE = "What members found helpful"
VOTES_SHOWN = 10


def _vote_count(value: int | None) -> str:
    return "hidden" if value is None else str(value)


def votes_card(
    totals: Mapping[str, VoteTotals],
    titles: Mapping[str, str],
    *,
    start: dt.date,
    end: dt.date,
    k: int,
    epsilon: float = 3.0,
) -> Card:
    """Per-technique "This helped" / "Not for me" totals over completed weeks, as
    published (noisy, counts from 1 to k−1 hidden), most helped first (SAFETY.md §4)."""
    shown = sorted(
        ((t, v) for t, v in totals.items() if v.shown and t in titles),
        key=lambda item: (-(item[1].helped or 0), titles[item[0]]),
    )
    where = f"{_day_range(start, end)} (UTC) · votes on technique cards"
    if not shown:
        body = f"{where}\n\nNo technique has {k} or more votes either way yet."
    else:
        lines = [
            f"{titles[t]}: {_vote_count(v.helped)} helped · {_vote_count(v.not_for_me)} not for me"
            for t, v in shown[:VOTES_SHOWN]
        ]
        more = len(shown) - VOTES_SHOWN
        if more > 0:
            lines.append(f"… and {more} more (specialists see all with `peerlight content stats`).")
        body = where + "\n\n" + "\n".join(lines)
    return Card(
        title=VOTES_TITLE,
        description=body,
        footer=f"{suppression_note(k)} Noise as above (ε = {epsilon:g} a week, its own budget).",
        tone=Tone.INFO,
    )
