"""The crisis block and the support-lines card (/resources)."""

from __future__ import annotations

from bot.domain.cards.base import (
    FIELD_VALUE_LIMIT,
    FOOTER,
    Card,
    CardField,
    Rendered,
    Tone,
)
from bot.domain.content import (
    ResourceEntry,
    ResourceRegion,
)


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
