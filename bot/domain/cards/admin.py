"""Moderators' cards for the content library (/content status and reload)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.domain.cards.base import (
    DESCRIPTION_LIMIT,
    Card,
    CardField,
    Rendered,
    Tone,
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
