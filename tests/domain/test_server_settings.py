"""Per-server settings: the server's choice, else the host's default, within the host's floor;
and whose crisis lines a member sees."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_settings
from bot.domain.server_settings import (
    Chosen,
    HostDefaults,
    SettingError,
    Source,
    Value,
    checked_group_size,
    crisis_region,
    group_size_in_force,
    region_of_locale,
    resolve,
)
from bot.services import host_defaults

SERVER = 1190000000000000001
OTHER = 1190000000000000002
HOST = HostDefaults(
    moderator_roles=frozenset({77}),
    reach_out_channels={SERVER: 55},
    region="GB",
    timezone="Europe/London",
    min_group_size=10,
    min_group_size_floor=7,
)
KNOWN = {"GB", "US", "IE", "CA", "AU", "INTL"}


def test_a_server_without_choices_takes_every_host_default() -> None:
    settings = resolve(SERVER, Chosen(), HOST)
    assert settings.moderator_roles.value == frozenset({77})
    assert settings.reach_out_channel.value == 55
    assert settings.region.value is None
    assert settings.timezone.value == "Europe/London"
    assert settings.min_group_size.value == 10
    for value in (settings.moderator_roles, settings.timezone, settings.min_group_size):
        assert value.source is Source.HOST
    # Another server never gets this server's channel.
    assert resolve(OTHER, Chosen(), HOST).reach_out_channel.value is None


def test_a_server_choice_wins_and_says_so() -> None:
    chosen = Chosen(
        moderator_roles=frozenset({1, 2}),
        reach_out_channel=66,
        region="IE",
        timezone="America/New_York",
        min_group_size=12,
    )
    settings = resolve(SERVER, chosen, HOST)
    assert settings.moderator_roles == Value(frozenset({1, 2}), Source.SERVER)
    assert (settings.reach_out_channel.value, settings.reach_out_channel.source) == (
        66,
        Source.SERVER,
    )
    assert settings.region.value == "IE" and settings.region.source is Source.SERVER
    assert settings.timezone.value == "America/New_York"
    assert settings.min_group_size.value == 12


def test_no_moderator_roles_chosen_is_not_the_same_as_the_host_default() -> None:
    settings = resolve(SERVER, Chosen(moderator_roles=frozenset()), HOST)
    assert settings.moderator_roles.value == frozenset()
    assert settings.moderator_roles.source is Source.SERVER


def test_the_group_size_never_goes_below_the_host_floor() -> None:
    # Chosen when the floor was lower; the host has raised it since.
    settings = resolve(SERVER, Chosen(min_group_size=5), HOST)
    assert settings.min_group_size.value == 7
    assert settings.min_group_size.source is Source.HOST
    with pytest.raises(SettingError, match="below 7"):
        checked_group_size(6, 7)
    assert checked_group_size(7, 7) == 7


def test_the_floor_defaults_to_the_group_size_and_may_not_exceed_it() -> None:
    assert host_defaults(parse_settings({})).min_group_size_floor == 10
    lower = parse_settings({"privacy": {"min_group_size": 12, "min_group_size_floor": 6}})
    assert host_defaults(lower).min_group_size_floor == 6
    with pytest.raises(ConfigError) as caught:
        parse_settings({"privacy": {"min_group_size": 8, "min_group_size_floor": 9}})
    assert "min_group_size_floor (9) must be at most min_group_size (8)" in str(caught.value)
    with pytest.raises(ConfigError, match=r"privacy\.min_group_size_floor: must be at least 5"):
        parse_settings({"privacy": {"min_group_size_floor": 4}})


def test_a_lowering_applies_only_to_periods_published_after_it() -> None:
    # Weeks published under 10, then the server lowers to 6: still 10 for those weeks.
    assert group_size_in_force(6, [10, 10, 6], legacy=10) == 10
    # Once every week in view was published under 6, 6 applies.
    assert group_size_in_force(6, [6, 6], legacy=10) == 6
    # A raise applies at once.
    assert group_size_in_force(15, [10, 10], legacy=10) == 15
    # Weeks published before sizes were kept count as the host's size.
    assert group_size_in_force(6, [None], legacy=10) == 10


@pytest.mark.parametrize(
    ("locale", "region"),
    [("en-GB", "GB"), ("en-US", "US"), ("pt-BR", "BR"), ("fr", None), (None, None)],
)
def test_a_discord_language_names_its_region(locale: str | None, region: str | None) -> None:
    assert region_of_locale(locale, {}) == region


def test_a_language_without_a_region_can_be_listed_by_a_region_file() -> None:
    assert region_of_locale("ga", {"ga": "IE"}) == "IE"


def _region(**given: str | None) -> str:
    values: dict[str, str | None] = {"asked": None, "server": None, "locale": None}
    values.update(given)
    return crisis_region(
        asked=values["asked"],
        server=values["server"],
        locale=values["locale"],
        host_default=str(given.get("host_default") or "INTL"),
        known=KNOWN,
        locale_regions={},
    )


def test_crisis_region_order_asked_server_language_host_international() -> None:
    assert _region(asked="CA", server="IE", locale="en-GB", host_default="AU") == "CA"
    assert _region(server="IE", locale="en-GB", host_default="AU") == "IE"
    # The language ranks below the server's region: most people never change en-US.
    assert _region(server="IE", locale="en-US") == "IE"
    assert _region(locale="en-GB", host_default="AU") == "GB"
    assert _region(locale="fr", host_default="AU") == "AU"
    assert _region() == "INTL"


def test_a_region_without_shipped_lines_falls_through_to_the_next() -> None:
    assert _region(locale="pt-BR", host_default="AU") == "AU"
    assert _region(asked="ZZ", server="IE") == "IE"
    assert _region(host_default="ZZ") == "INTL"
