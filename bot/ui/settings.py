"""What /settings says: every value of a server's settings with where it comes from, and
what a change changed."""

from __future__ import annotations

import discord

from bot.domain.server_settings import SETTING_NAMES, ServerSettings, Source, Value
from bot.services import Services
from bot.ui import crisis

GROUP_SIZE_NOTE = (
    "A larger size applies at once. A smaller one applies to weeks published from now on: "
    "weeks already published keep the size they were published under, so nothing hidden "
    "before is shown now."
)
HOW_TO_CHANGE = (
    "Change one with `/settings moderator-roles`, `/settings reach-out`, `/settings region`, "
    "`/settings timezone` or `/settings group-size`; `/settings reset` puts one back to the "
    "host's default."
)


def _source(value: Value[object]) -> str:
    return "set in this server" if value.source is Source.SERVER else "the host's default"


def value_of(settings: ServerSettings, name: str) -> object:
    value: Value[object] = getattr(settings, name)
    return value.value


def _roles(guild: discord.Guild, roles: frozenset[int]) -> str:
    if not roles:
        return "none (only members with Manage Server)"
    shown = []
    for role_id in sorted(roles):
        role = guild.get_role(role_id)
        shown.append(role.mention if role is not None else f"a role no longer here ({role_id})")
    return ", ".join(shown)


def _channel(client: discord.Client, guild: discord.Guild, channel_id: int | None) -> str:
    if channel_id is None:
        return "not set, so the button “Ask a moderator to reach out” is not offered"
    problem = crisis.reach_out_problem(client, guild.id, channel_id)
    where = f"<#{channel_id}>"
    return where if problem is None else f"{where} (requests can't be posted there: {problem})"


def _region(services: Services, settings: ServerSettings) -> str:
    regions = services.content.catalog.regions

    def name(code: str) -> str:
        region = regions.get(code)
        return f"{region.name} ({code})" if region is not None else code

    if settings.region.value is not None:
        return name(settings.region.value)
    return (
        "not set: each member's Discord language where it names a region (en-GB: GB), "
        f"else {name(settings.host_region)}"
    )


def shown(
    services: Services, guild: discord.Guild, client: discord.Client, settings: ServerSettings
) -> dict[str, str]:
    """Each setting's value in words."""
    group = f"{settings.min_group_size.value} (never below {settings.min_group_size_floor})"
    return {
        "moderator_roles": _roles(guild, settings.moderator_roles.value),
        "reach_out_channel": _channel(client, guild, settings.reach_out_channel.value),
        "region": _region(services, settings),
        "timezone": settings.timezone.value,
        "min_group_size": group,
    }


def overview(services: Services, guild: discord.Guild, client: discord.Client) -> str:
    settings = services.server(guild.id)
    words = shown(services, guild, client, settings)
    lines = ["**Peerlight's settings in this server**"]
    for name, label in SETTING_NAMES.items():
        source = _source(getattr(settings, name))
        lines.append(f"- {label.capitalize()}: {words[name]} — {source}")
    lines.append(HOW_TO_CHANGE)
    return "\n".join(lines)


def changed(
    services: Services,
    guild: discord.Guild,
    client: discord.Client,
    name: str,
    before: ServerSettings,
    after: ServerSettings,
) -> str:
    label = SETTING_NAMES[name].capitalize()
    was = shown(services, guild, client, before)[name]
    now = shown(services, guild, client, after)[name]
    source = _source(getattr(after, name))
    if value_of(before, name) == value_of(after, name) and getattr(before, name) == getattr(
        after, name
    ):
        return f"{label} stays {now} ({source}). Nothing else changed."
    return f"{label}: now {now} ({source}); it was {was}. This applies from now on."


FIRST_RUN_OFFER = (
    "Set them up with `/settings` (`/settings view` shows everything). Until then the "
    "host's defaults apply. This note is shown once, to the first moderator."
)


def first_run(services: Services, guild: discord.Guild, client: discord.Client) -> str | None:
    """The private note for the first moderator: what this server has not set up yet;
    None when it has set up everything."""
    settings = services.server(guild.id)
    words = shown(services, guild, client, settings)
    missing = [
        f"- {SETTING_NAMES[name].capitalize()}: {words[name]}"
        for name in SETTING_NAMES
        if getattr(settings, name).source is Source.HOST
    ]
    if not missing:
        return None
    heading = "**Peerlight isn't set up for this server yet.** Not chosen here so far:"
    return "\n".join([heading, *missing, FIRST_RUN_OFFER])
