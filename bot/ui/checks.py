"""Who counts as a moderator: Manage Server, or the role named in `moderation.role`.

A runtime check rather than `default_member_permissions`: Discord would hide such a command
from the moderator role unless an admin also granted it in Server Settings, and a member
who runs a moderator command should read why nothing happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.app import PeerlightBot
from bot.config import ModerationSettings
from bot.ui.errors import NotModerator

T = TypeVar("T")


def holds_moderator_role(roles: list[discord.Role], configured: str | None) -> bool:
    if not configured:
        return False
    wanted = configured.strip().removeprefix("@")
    if wanted.isdigit():
        return any(role.id == int(wanted) for role in roles)
    folded = wanted.casefold()
    return any(role.name.casefold() == folded for role in roles)


def is_moderator(interaction: discord.Interaction[Any], settings: ModerationSettings) -> bool:
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild or interaction.permissions.manage_guild:
        return True
    return holds_moderator_role(member.roles, settings.role)


def moderator_only() -> Callable[[T], T]:
    """An app-command check raising `NotModerator`, which the error handler turns into a
    kind refusal that says nothing was changed."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        client = interaction.client
        if isinstance(client, PeerlightBot) and is_moderator(
            interaction, client.services.settings.moderation
        ):
            return True
        raise NotModerator()

    return app_commands.check(predicate)
