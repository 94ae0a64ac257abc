"""The /about card."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.cards.base import (
    EMERGENCY_LINE,
    Card,
    CardField,
    Rendered,
    Tone,
)


@dataclass(frozen=True)
class ServerSwitches:
    """What one server has switched on, for its members to read in /about."""

    reach_out: bool
    region: str | None  # the name of the server's region, None when it has none
    fallback_region: str  # the host's default region, by name
    min_group_size: int


def server_field(switches: ServerSwitches) -> CardField:
    """ "In this server": the choices its moderators made, in a member's words."""
    if switches.reach_out:
        reach = (
            "**Asking a moderator to reach out: on.** When the crisis lines are shown, a "
            "button lets you ask this server's moderators to check in with you privately. "
            "Only your press sends anything, and only your name."
        )
    else:
        reach = "**Asking a moderator to reach out: off** in this server."
    if switches.region is not None:
        lines = (
            f"**Support lines shown first:** {switches.region}, unless you ask `/resources` "
            "for another region."
        )
    else:
        lines = (
            "**Support lines shown first:** for the region your Discord language names, else "
            f"{switches.fallback_region}; `/resources` takes any region."
        )
    summary = f"**Moderators' summaries** hide any number below {switches.min_group_size}."
    return CardField("In this server", "\n".join((reach, lines, summary)))


def about_card(
    *,
    min_group_size: int,
    retention_days: int,
    checkin_window_hours: int,
    epsilon: float = 3.0,
    here: ServerSwitches | None = None,
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
    fields: tuple[CardField, ...] = (
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
    if here is not None:
        fields = (*fields, server_field(here))
    return Rendered(
        (Card(title="About Peerlight", description=description, fields=fields, tone=Tone.INFO),)
    )
