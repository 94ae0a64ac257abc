"""Controls Peerlight no longer knows: a button or menu on an old message whose custom id
matches none of today's controls (made by an earlier version, or changed by hand). Each
gets a kind private answer instead of the silence that reads "This interaction failed"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.ui import errors

UNKNOWN_CONTROL = (
    "This button is from an older message that Peerlight can no longer act on, so nothing "
    "happened. Try the command again (for example /cope or /checkin) for fresh buttons."
)

Button = discord.ui.Button[discord.ui.View]
_PLAIN_GROUP = re.compile(r"\(\?P<\w+>")


def unknown_control(
    known: Sequence[type[discord.ui.DynamicItem[Any]]],
) -> type[discord.ui.DynamicItem[Button]]:
    """A control that matches every custom id none of `known` matches."""
    # Named groups are made plain: the same name in two templates cannot be joined.
    patterns = "|".join(
        "(?:" + _PLAIN_GROUP.sub("(?:", item.__discord_ui_compiled_template__.pattern) + ")"
        for item in known
    )
    template = re.compile(rf"(?!(?:{patterns})\Z).*", re.DOTALL)

    class UnknownControl(discord.ui.DynamicItem[Button], template=template):
        def __init__(self, custom_id: str) -> None:
            super().__init__(discord.ui.Button(label="Unavailable", custom_id=custom_id[:100]))

        @classmethod
        async def from_custom_id(
            cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
        ) -> UnknownControl:
            return cls(match.string or "peerlight:unknown")

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await errors.send_private(interaction, UNKNOWN_CONTROL)

    return UnknownControl
