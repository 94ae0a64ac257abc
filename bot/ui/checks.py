"""Who counts as a moderator, who hosts the bot, and words read before anything else.

A moderator has Manage Server in that server, or one of the moderator roles set for that
server (`/settings`, else the host's default). Roles are matched by id only: role ids are
unique across Discord, names are not, and anyone able to create a role could give it a
moderator role's name.

A runtime check rather than `default_member_permissions`: Discord would hide such a command
from the moderator role unless an admin also granted it in Server Settings, and a member
who runs a moderator command should read why nothing happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.app import PeerlightBot
from bot.domain.crisis import CrisisLevel
from bot.services import Services
from bot.ui import crisis
from bot.ui.errors import CrisisShown, NotHost, NotModerator

T = TypeVar("T")


def moderator_role_ids(services: Services, guild_id: int | None) -> frozenset[int]:
    """The role ids that make a member a moderator in `guild_id`: that server's own
    settings only, so a moderator role of one server has no power in another."""
    if guild_id is None:
        return frozenset()
    return services.server(guild_id).moderator_roles.value


def holds_moderator_role(roles: Iterable[discord.abc.Snowflake], wanted: frozenset[int]) -> bool:
    return any(role.id in wanted for role in roles)


def is_moderator(interaction: discord.Interaction[Any], services: Services) -> bool:
    member = interaction.user
    if not isinstance(member, discord.Member) or interaction.guild_id is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    return holds_moderator_role(member.roles, moderator_role_ids(services, interaction.guild_id))


def moderator_only() -> Callable[[T], T]:
    """An app-command check raising `NotModerator`, which the error handler turns into a
    kind refusal that says nothing was changed."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        client = interaction.client
        if isinstance(client, PeerlightBot) and is_moderator(interaction, client.services):
            return True
        raise NotModerator()

    return app_commands.check(predicate)


async def is_host(client: PeerlightBot, user: discord.abc.User) -> bool:
    """The application's owner, a member of its team, or a user id in `moderation.host_ids`."""
    if user.id in client.services.settings.moderation.host_ids:
        return True
    return await client.is_owner(user)


def host_only() -> Callable[[T], T]:
    """For what acts on every server at once (reloading the library): the host only."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        client = interaction.client
        if isinstance(client, PeerlightBot) and await is_host(client, interaction.user):
            return True
        raise NotHost()

    return app_commands.check(predicate)


def words_first() -> Callable[[T], T]:
    """Every text option a member typed into the command goes through the crisis detector
    before anything else, whoever the member is and whatever the command: for danger, or
    worry for someone else, the crisis block is the answer (nothing else happens; it is
    not a refusal). Put it last, right above the function, so it runs before the other
    checks (a member who is not a moderator still sees the lines).

    For commands whose text is not the member's own words but a value to parse (a time,
    a schedule's id); the library's commands read theirs themselves, to answer after the
    block.
    """

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        client = interaction.client
        if not isinstance(client, PeerlightBot):
            return True
        texts = [value for _, value in interaction.namespace if isinstance(value, str)]
        level = client.services.content.catalog.crisis.detect_all(*texts).level
        if level < CrisisLevel.HELPER:
            return True
        await crisis.crisis_first(interaction, level)
        raise CrisisShown()

    return app_commands.check(predicate)
