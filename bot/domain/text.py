"""Shortening text to a length Discord allows, for labels, choice names and menu options."""

from __future__ import annotations

from collections.abc import Sequence

# Discord's limit for a choice's name, a select option's label and a placeholder.
CHOICE_NAME_LIMIT = 100


def cut(text: str, limit: int = CHOICE_NAME_LIMIT) -> str:
    """`text` as it is when it fits `limit`, else shortened to end in "…" within it."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def or_list(numbers: Sequence[int]) -> str:
    """ "7", "7 or 30", "7, 30 or 90"."""
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
