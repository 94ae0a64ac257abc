"""Each server's settings: the server's own choice where it made one, else the host's default.

The host's config file holds the defaults and the floors no server may go below; a
server's moderators choose the rest with /settings (stored per server,
`bot.storage.server_settings`). Every reader asks `resolve` for the value in force, so a
change takes effect at once, and `/settings view` can say where each value comes from.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

INTERNATIONAL = "INTL"
# The part of a language tag that names a region: `en-GB` → GB, `pt-BR` → BR.
_LOCALE_REGION = re.compile(r"^[a-z]{2,3}-([A-Z]{2})$")


class Source(StrEnum):
    SERVER = "set in this server"
    HOST = "the host's default"


@dataclass(frozen=True)
class Chosen:
    """What one server stored; None (or, for roles, not chosen) means the host's default."""

    moderator_roles: frozenset[int] | None = None
    reach_out_channel: int | None = None
    region: str | None = None
    timezone: str | None = None
    min_group_size: int | None = None
    first_run_noted: bool = False

    def replace(self, **changes: object) -> Chosen:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class HostDefaults:
    """The host's config: defaults for every server, and the floor of the group size.

    `moderator_roles` and `reach_out_channels` come from settings that are deprecated in
    favour of /settings; they still count until they are copied into the servers' rows.
    """

    moderator_roles: frozenset[int] = frozenset()
    reach_out_channels: Mapping[int, int] = field(default_factory=dict)
    region: str = INTERNATIONAL
    timezone: str = "UTC"
    min_group_size: int = 10
    min_group_size_floor: int = 10


@dataclass(frozen=True)
class Value(Generic[T]):
    value: T
    source: Source


@dataclass(frozen=True)
class ServerSettings:
    """The values in force in one server, each with where it comes from.

    `region` is the server's own region, or None: then a member's Discord language
    decides, else the host's `default_region` (see `crisis_region`).
    """

    guild_id: int
    moderator_roles: Value[frozenset[int]]
    reach_out_channel: Value[int | None]
    region: Value[str | None]
    host_region: str
    timezone: Value[str]
    min_group_size: Value[int]
    min_group_size_floor: int
    first_run_noted: bool


def _pick(chosen: T | None, default: T) -> Value[T]:
    if chosen is None:
        return Value(default, Source.HOST)
    return Value(chosen, Source.SERVER)


def resolve(guild_id: int, chosen: Chosen, host: HostDefaults) -> ServerSettings:
    roles = chosen.moderator_roles
    group = _pick(chosen.min_group_size, host.min_group_size)
    if group.value < host.min_group_size_floor:
        # The host raised the floor after the server chose: the floor wins.
        group = Value(host.min_group_size_floor, Source.HOST)
    return ServerSettings(
        guild_id=guild_id,
        moderator_roles=(
            Value(roles, Source.SERVER)
            if roles is not None
            else Value(host.moderator_roles, Source.HOST)
        ),
        reach_out_channel=_pick(chosen.reach_out_channel, host.reach_out_channels.get(guild_id)),
        region=Value(chosen.region, Source.SERVER if chosen.region else Source.HOST),
        host_region=host.region,
        timezone=_pick(chosen.timezone, host.timezone),
        min_group_size=group,
        min_group_size_floor=host.min_group_size_floor,
        first_run_noted=chosen.first_run_noted,
    )


def region_of_locale(locale: str | None, locale_regions: Mapping[str, str]) -> str | None:
    """The region a Discord language names (`en-GB` → GB), else the one whose support
    lines list that language; None for a language without a region (`fr`)."""
    if not locale:
        return None
    match = _LOCALE_REGION.match(locale)
    if match:
        return match.group(1)
    return locale_regions.get(locale)


def crisis_region(
    *,
    asked: str | None,
    server: str | None,
    locale: str | None,
    host_default: str,
    known: Container[str],
    locale_regions: Mapping[str, str],
) -> str:
    """Whose crisis lines a member sees: the region they asked for; else the server's;
    else the one their Discord language names (below the server's, since many people
    never change it from en-US); else the host's default; else the international
    directory. Only regions with shipped lines (`known`) count at each step."""
    candidates = (
        asked,
        server,
        region_of_locale(locale, locale_regions),
        host_default,
        INTERNATIONAL,
    )
    for candidate in candidates:
        if candidate and candidate in known:
            return candidate
    return INTERNATIONAL


def group_size_in_force(current: int, published_under: Iterable[int | None], legacy: int) -> int:
    """The smallest group size for a summary of periods published under these sizes.

    A raise applies at once (hiding more is always safe); a lowering only to periods
    published after it, so counts once hidden stay hidden. `None`: a period published
    before sizes were recorded, taken as published under the host's size (`legacy`).
    """
    sizes = [legacy if size is None else size for size in published_under]
    return max([current, *sizes])


SETTING_NAMES: Mapping[str, str] = {
    "moderator_roles": "moderator roles",
    "reach_out_channel": "moderators' channel for reach-out requests",
    "region": "crisis region",
    "timezone": "time zone for schedules",
    "min_group_size": "smallest group size for summaries",
}


class SettingError(ValueError):
    """A value a server may not choose, with what to do instead."""


def checked_group_size(value: int, floor: int) -> int:
    if value < floor:
        raise SettingError(
            f"The smallest group size can't go below {floor}, the floor the host of this bot "
            f"set. Pick {floor} or more. Nothing was changed."
        )
    if value > 1000:
        raise SettingError("Pick a group size of 1000 or less. Nothing was changed.")
    return value
