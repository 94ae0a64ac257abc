"""The crisis block and its choices: a grounding exercise, every support line, and asking
a moderator to reach out; /resources' reply.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any

import discord

from bot.domain.cards.crisis import crisis_card, resources_card
from bot.domain.catalog import Catalog
from bot.domain.content import ResourceRegion, Technique
from bot.domain.crisis import CrisisLevel
from bot.domain.errors import UserFacingError
from bot.domain.memory import CRISIS_BLOCK_COOLDOWN
from bot.services import Services
from bot.ui import window
from bot.ui.library import OpenTechnique, technique_reply
from bot.ui.replies import Button, Item, Reply, guarded, send, services_of

log = logging.getLogger(__name__)

GROUNDING_TECHNIQUE = "grounding-5-4-3-2-1"
SUPPORTERS_TECHNIQUE = "ask-directly-and-listen"
SUPPORTERS_LABEL = "How to ask and listen"
REACH_OUT_COOLDOWN_ACTION = "reach-out"


def grounding_technique(catalog: Catalog) -> Technique | None:
    if GROUNDING_TECHNIQUE in catalog.techniques:
        return catalog.techniques[GROUNDING_TECHNIQUE]
    tagged = sorted(catalog.techniques_tagged("grounding"))
    return catalog.techniques[tagged[0]] if tagged else None


def supporters_technique(catalog: Catalog) -> Technique | None:
    """The technique for someone worried about another person: how to ask and listen."""
    if SUPPORTERS_TECHNIQUE in catalog.techniques:
        return catalog.techniques[SUPPORTERS_TECHNIQUE]
    written_for_them = sorted(catalog.techniques_for_supporters())
    return catalog.techniques[written_for_them[0]] if written_for_them else None


def member_region(
    services: Services,
    locale: discord.Locale | str | None,
    guild_id: int | None,
    asked: str | None = None,
) -> ResourceRegion:
    """Whose lines a member sees: `asked`, else the server's region, else the region
    their Discord language names, else the host's default (`crisis_region`)."""
    server = services.server(guild_id).region.value if guild_id is not None else None
    return services.content.catalog.region_for(
        asked=asked,
        server=server,
        locale=str(locale) if locale else None,
        host_default=services.settings.crisis.default_region,
    )


def resources_reply(services: Services, region: ResourceRegion) -> Reply:
    return Reply(resources_card(region, services.content.catalog.regions.get("INTL")))


def crisis_reply(
    services: Services,
    locale: discord.Locale | str | None,
    *,
    guild_id: int | None = None,
    offer_exercise: bool = True,
    someone_else: bool = False,
    repeat: bool = False,
    region: ResourceRegion | None = None,
) -> Reply:
    """The crisis block and its choices.

    The lines are for `region` when the member named one, else for their Discord
    language (`locale`). For a member in danger the choices are a grounding exercise,
    every support line and, only in a server that opted in (`guild_id`, None in a DM),
    asking a moderator to reach out; for a member worried about someone else
    (`someone_else`), how to ask and listen, and every support line. `repeat`: the
    shorter block for a repeat within minutes (`cards.crisis_card`).
    """
    catalog = services.content.catalog
    choices: list[Item] = []
    if someone_else:
        supporters = supporters_technique(catalog)
        if offer_exercise and supporters is not None:
            choices.append(
                OpenTechnique(
                    supporters.id, label=SUPPORTERS_LABEL, style=discord.ButtonStyle.primary
                )
            )
        choices.append(SupportLinesButton())
    else:
        if offer_exercise and grounding_technique(catalog) is not None:
            choices.append(GroundingButton())
        choices.append(SupportLinesButton())
        if reach_out_channel_id(services, guild_id) is not None:
            choices.append(ReachOutButton())
    shown = region if region is not None else member_region(services, locale, guild_id)
    card = crisis_card(shown, catalog.regions.get("INTL"), someone_else=someone_else, repeat=repeat)
    return Reply(card, (tuple(choices),))


async def crisis_first(
    interaction: discord.Interaction[Any],
    level: CrisisLevel,
    answer: Callable[[bool], Reply] | None = None,
    *,
    block_alone: bool = False,
    region: ResourceRegion | None = None,
) -> None:
    """For danger or worry for someone else (HELPER): the crisis block, then the `answer`
    (given False: never shared), privately.

    The whole block at most once in ten minutes per member, else the shorter one: the
    lines come first every time. With `block_alone`, the whole block is the whole reply;
    when the answer can't be given (it raises `UserFacingError`) the block is too. The
    member's own danger outranks worry for someone else (the detector says DANGER when a
    message has both); each has its own cooldown.
    """
    services = services_of(interaction)
    member_id = interaction.user.id
    someone_else = level is CrisisLevel.HELPER
    whole = services.memory.claim_crisis_block(
        member_id, services.clock(), someone_else=someone_else
    )
    try:
        reply = crisis_reply(
            services,
            interaction.locale,
            guild_id=interaction.guild_id,
            someone_else=someone_else,
            repeat=not whole,
            # The exercise the block offers as a button is then shown as a card instead.
            offer_exercise=whole or not block_alone or answer is None,
            region=region,
        )
        if answer is not None and not (block_alone and whole):
            with contextlib.suppress(UserFacingError):
                reply = reply.then(answer(False))
        await send(interaction, reply)
    except Exception:
        if whole:
            # Not delivered, so not seen: the next try must show the whole block.
            services.memory.release_crisis_block(member_id, someone_else=someone_else)
        raise


class GroundingButton(discord.ui.DynamicItem[Button], template=r"peerlight:crisis:grounding"):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Try a grounding exercise",
                style=discord.ButtonStyle.primary,
                custom_id="peerlight:crisis:grounding",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> GroundingButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "Try a grounding exercise", lambda: self._ground(interaction))

    async def _ground(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        catalog = services.content.catalog
        technique = grounding_technique(catalog)
        if technique is None:
            await send(
                interaction,
                resources_reply(
                    services, member_region(services, interaction.locale, interaction.guild_id)
                ),
            )
            return
        await send(interaction, technique_reply(catalog, technique))


class SupportLinesButton(discord.ui.DynamicItem[Button], template=r"peerlight:crisis:lines"):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="All support lines",
                style=discord.ButtonStyle.secondary,
                custom_id="peerlight:crisis:lines",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> SupportLinesButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "All support lines", lambda: self._lines(interaction))

    async def _lines(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        await send(
            interaction,
            resources_reply(
                services, member_region(services, interaction.locale, interaction.guild_id)
            ),
        )


REACH_OUT_SENT = (
    "I've let the moderators know you'd like someone to reach out. They'll see your name "
    "only, not anything you typed. While you wait, /resources lists people you can talk to "
    "right now."
)
REACH_OUT_ALREADY = (
    "The moderators already know you'd like someone to reach out. While you wait, "
    "/resources lists people you can talk to right now."
)
REACH_OUT_FAILED = (
    "I couldn't reach the moderators just now. /resources lists people you can talk to "
    "right now, any time."
)
REACH_OUT_OFF = (
    "This server hasn't turned on requests to moderators. /resources lists people you can "
    "talk to right now."
)
REACH_OUT_UNAVAILABLE = (
    "I can't pass a request to this server's moderators right now, so nothing was sent. "
    "/resources lists people you can talk to right now, any time."
)

ModeratorsChannel = discord.TextChannel | discord.Thread


def reach_out_channel_id(services: Services, guild_id: int | None) -> int | None:
    """The moderators' channel set for this server; None in a DM or a server that did
    not opt in."""
    if guild_id is None:
        return None
    return services.server(guild_id).reach_out_channel.value


def reach_out_problem(client: discord.Client, guild_id: int, channel_id: int) -> str | None:
    """Why a request from `guild_id` could not be posted in `channel_id`, or None when
    the bot can see it, it is a text channel of that same server, and the bot may post."""
    channel = client.get_channel(channel_id)
    if channel is None:
        return "the bot cannot see that channel"
    if not isinstance(channel, ModeratorsChannel):
        return "it is not a text channel"
    if channel.guild.id != guild_id:
        return f"it is in another server ({channel.guild.id})"
    me = channel.guild.me
    if me is not None:
        permissions = channel.permissions_for(me)
        if not (permissions.view_channel and permissions.send_messages):
            return "the bot may not post there (it needs View Channel and Send Messages)"
    return None


def _moderators_channel(
    interaction: discord.Interaction[Any], channel_id: int
) -> ModeratorsChannel | None:
    """The configured channel, only if it is a text channel of the server pressed in."""
    channel = interaction.client.get_channel(channel_id)
    if not isinstance(channel, ModeratorsChannel):
        return None
    if interaction.guild_id is None or channel.guild.id != interaction.guild_id:
        return None
    return channel


class ReachOutButton(discord.ui.DynamicItem[Button], template=r"peerlight:crisis:reach-out"):
    """Only this press sends anything to moderators, and only to the moderators' channel
    of the server it was pressed in: the member's name, nothing they typed."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Ask a moderator to reach out",
                style=discord.ButtonStyle.secondary,
                custom_id="peerlight:crisis:reach-out",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> ReachOutButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "Ask a moderator to reach out", lambda: self._ask(interaction))

    async def _ask(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        channel_id = reach_out_channel_id(services, interaction.guild_id)
        if channel_id is None:
            await send(interaction, Reply.text(REACH_OUT_OFF))
            return
        channel = _moderators_channel(interaction, channel_id)
        if channel is None:
            log.warning(
                "not posting a reach-out request from server %s: channel %s is not a text "
                "channel of that server the bot can see (/settings reach-out)",
                interaction.guild_id,
                channel_id,
            )
            await send(interaction, Reply.text(REACH_OUT_UNAVAILABLE))
            return
        member = interaction.user
        # Pressing again within the crisis cooldown doesn't post the request twice. The
        # cooldown is per server: a request in one server tells nothing to another's.
        action = reach_out_action(channel.guild.id)
        if not services.memory.claim(member.id, action, services.clock(), CRISIS_BLOCK_COOLDOWN):
            await send(interaction, Reply.text(REACH_OUT_ALREADY))
            return
        # The mention names the member for moderators but, with no mentions allowed,
        # pings nobody. A slow or rate-limited post is given `OUTBOUND_TIMEOUT`, the
        # member an acknowledgement after `ACK_BUDGET`, so they are never left waiting.
        post = channel.send(
            f"<@{member.id}> asked for a moderator to reach out to them. Please check in "
            "with them privately and kindly.",
            allowed_mentions=discord.AllowedMentions.none(),
        )
        try:
            await window.within(interaction, window.bounded(post))
        except (discord.HTTPException, discord.RateLimited, TimeoutError) as error:
            status: object = error.status if isinstance(error, discord.HTTPException) else "none"
            if isinstance(error, discord.RateLimited):
                status = f"429, retry after {error.retry_after:.0f} s"
            log.warning(
                "could not post a reach-out request to channel %s (HTTP %s)", channel_id, status
            )
            services.memory.release(member.id, action)
            await send(
                interaction,
                resources_reply(
                    services, member_region(services, interaction.locale, interaction.guild_id)
                ).with_line(REACH_OUT_FAILED),
            )
            return
        await send(interaction, Reply.text(REACH_OUT_SENT))


def reach_out_action(guild_id: int) -> str:
    """The member-memory action of a reach-out request in one server."""
    return f"{REACH_OUT_COOLDOWN_ACTION}:{guild_id}"


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    GroundingButton,
    SupportLinesButton,
    ReachOutButton,
)
