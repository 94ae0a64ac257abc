"""/cope, /technique and /story: choosing a technique, the replies that show techniques
and stories, and their buttons ("Another one", "A story about this", a technique to open).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.domain.catalog import Catalog, why_this_one
from bot.domain.content import Area, Audience, Feeling, Story, Technique
from bot.domain.errors import DATABASE_ERRORS, UserFacingError
from bot.domain.memory import Shown
from bot.domain.votes import VOTES_PER_DAY, Verdict, VoteOutcome
from bot.services import Services
from bot.ui import window
from bot.ui.replies import (
    CARDS,
    Button,
    Item,
    Reply,
    button_label,
    guarded,
    replace_message,
    send,
    services_of,
    story_cards,
    technique_cards,
)

STORY_TECHNIQUE_BUTTONS = 10


# -- choosing what to show ------------------------------------------------------------------


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CopeRequest:
    """What a member asked /cope for: feelings (at most three), an area, and whether the
    card is for them or for supporting someone else."""

    feelings: tuple[str, ...] = ()
    area: Area | None = None
    audience: Audience = Audience.SELF
    # The techniques the member's words point at (`Catalog.read_cues`), when they typed.
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    technique: Technique
    alternatives: int  # how many techniques fitted, this one included
    reason: str  # one line: why this one


def suggest_technique(
    services: Services, member_id: int, request: CopeRequest, guild_id: int | None = None
) -> Suggestion | None:
    """The best technique for this request that the member wasn't shown lately.

    With neither feeling nor area, any technique for the audience: a member who just
    types /cope still gets something (never a card for supporters, unless asked for).
    """
    catalog = services.content.catalog
    shown = services.memory.shown_to(member_id)
    # Ids only: a technique is built from the compact library just once it is chosen.
    ids = catalog.recommend_ids(
        request.feelings,
        request.area,
        exclude=shown.recent(Shown.TECHNIQUE),
        rng=services.rng,
        audience=request.audience,
        prior=services.votes.prior(guild_id),
        cues=request.cues,
    )
    chosen = shown.pick_fresh(Shown.TECHNIQUE, ids)
    if chosen is None:
        return None
    technique = catalog.techniques[chosen]
    return Suggestion(technique, len(ids), why_this_one(catalog, technique, request.feelings))


async def refresh_prior(services: Services, guild_id: int | None) -> None:
    """Make sure the server's ranking prior is this week's (publishing the vote counts of
    weeks that are over), before `suggest_technique` reads it."""
    today = services.clock().astimezone(dt.UTC).date()
    if guild_id is None or services.votes.has_prior(guild_id, today):
        return
    try:
        await services.votes.refresh_prior(
            services.publisher,
            services.vote_scale,
            guild_id,
            today,
            sorted(services.content.catalog.techniques),
            services.server(guild_id).min_group_size.value,
            services.settings.privacy.retention_days,
        )
    except DATABASE_ERRORS as error:
        # The ranking goes on without the votes (or with last week's) until it can.
        log.warning("could not read the published votes (%s: %s)", type(error).__name__, error)


# -- replies for content --------------------------------------------------------------------


def technique_reply(
    catalog: Catalog,
    technique: Technique,
    *,
    another: CopeRequest | None = None,
    reason: str = "",
) -> Reply:
    """A technique with "Another one" (when `another` names what was asked for) and
    "A story about this" (when a specialist's story models it), after the one-line
    `reason` it was chosen for, when there is one."""
    reply = CARDS.reply(
        catalog,
        ("technique", technique.id, another),
        lambda: _technique_reply(catalog, technique, another),
    )
    return reply.with_line(reason) if reason else reply


def suggestion_reply(catalog: Catalog, suggestion: Suggestion, request: CopeRequest) -> Reply:
    """The chosen technique, why it was chosen, and "Another one" when others fit."""
    return technique_reply(
        catalog,
        suggestion.technique,
        another=request if suggestion.alternatives > 1 else None,
        reason=suggestion.reason,
    )


def _technique_reply(catalog: Catalog, technique: Technique, another: CopeRequest | None) -> Reply:
    buttons: list[Item] = []
    if another is not None:
        buttons.append(AnotherTechnique(another))
    if catalog.stories_for_technique(technique.id):
        buttons.append(StoryAboutTechnique(technique.id))
    votes: tuple[Item, ...] = tuple(VoteButton(technique.id, v) for v in Verdict)
    return technique_cards(catalog, technique, (tuple(buttons), votes))


def story_reply(catalog: Catalog, story: Story) -> Reply:
    """A story with a button for each technique it models."""
    return CARDS.reply(catalog, ("story", story.id), lambda: _story_reply(catalog, story))


def _story_reply(catalog: Catalog, story: Story) -> Reply:
    ids = list(dict.fromkeys(story.techniques))
    techniques = [catalog.techniques[i] for i in ids if i in catalog.techniques]
    buttons: tuple[Item, ...] = tuple(
        OpenTechnique(t.id, label=t.title) for t in techniques[:STORY_TECHNIQUE_BUTTONS]
    )
    return story_cards(catalog, story, (buttons,))


def closest_feelings_reply(
    catalog: Catalog, message: str, feelings: Sequence[Feeling], area: Area | None
) -> Reply:
    buttons: tuple[Item, ...] = tuple(
        FeelingChoice(feeling.id, area, label=feeling.label, emoji=feeling.emoji)
        for feeling in feelings
    )
    return Reply.text(message, buttons)


# -- buttons ---------------------------------------------------------------------------------

_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_AREAS = "|".join(area.value for area in Area)


def _area(value: str) -> Area | None:
    try:
        return Area(value) if value else None
    except ValueError:
        return None


_FEELINGS = rf"(?:{_ID}(?:\+{_ID}){{0,2}})?"


class AnotherTechnique(
    discord.ui.DynamicItem[Button],
    template=(
        rf"peerlight:cope:next:(?P<feelings>{_FEELINGS}):(?P<area>(?:{_AREAS})?)"
        r"(?::(?P<audience>supporter))?"
    ),
):
    """ "Another one": the next technique for the same request, in place. The custom id
    holds the feelings (joined by "+"), the area, and ":supporter" for supporters' cards;
    buttons made before several feelings existed hold one feeling and still work."""

    def __init__(self, request: CopeRequest) -> None:
        area = request.area.value if request.area else ""
        audience = ":supporter" if request.audience is Audience.SUPPORTER else ""
        super().__init__(
            discord.ui.Button(
                label="Another one",
                style=discord.ButtonStyle.primary,
                custom_id=f"peerlight:cope:next:{'+'.join(request.feelings)}:{area}{audience}",
            )
        )
        self.request = request

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> AnotherTechnique:
        feelings = tuple(match["feelings"].split("+")) if match["feelings"] else ()
        audience = Audience.SUPPORTER if match["audience"] else Audience.SELF
        return cls(CopeRequest(feelings, _area(match["area"]), audience))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "Another one", lambda: self._next(interaction))

    async def _next(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        await refresh_prior(services, interaction.guild_id)
        suggestion = suggest_technique(
            services, interaction.user.id, self.request, interaction.guild_id
        )
        if suggestion is None:
            raise UserFacingError(
                "The library changed since this message, and I have nothing to match it now. "
                "Try /cope again."
            )
        reply = suggestion_reply(services.content.catalog, suggestion, self.request)
        await replace_message(interaction, reply)


class FeelingChoice(
    discord.ui.DynamicItem[Button],
    template=rf"peerlight:cope:pick:(?P<feeling>{_ID}):(?P<area>(?:{_AREAS})?)",
):
    """One of the closest feelings offered when /cope couldn't match what was typed."""

    def __init__(
        self, feeling: str, area: Area | None, *, label: str = "", emoji: str | None = None
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=button_label(label or feeling),
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"peerlight:cope:pick:{feeling}:{area.value if area else ''}",
            )
        )
        self.feeling = feeling
        self.area = area

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> FeelingChoice:
        return cls(match["feeling"], _area(match["area"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "feeling choice", lambda: self._pick(interaction))

    async def _pick(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        request = CopeRequest((self.feeling,), self.area)
        await refresh_prior(services, interaction.guild_id)
        suggestion = suggest_technique(services, interaction.user.id, request, interaction.guild_id)
        if suggestion is None:
            raise UserFacingError("I have no technique for that feeling now. Try /cope again.")
        await send(interaction, suggestion_reply(services.content.catalog, suggestion, request))


class StoryAboutTechnique(
    discord.ui.DynamicItem[Button], template=rf"peerlight:cope:story:(?P<technique>{_ID})"
):
    """ "A story about this": a specialist's story in which this technique is used."""

    def __init__(self, technique_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="A story about this",
                style=discord.ButtonStyle.secondary,
                custom_id=f"peerlight:cope:story:{technique_id}",
            )
        )
        self.technique_id = technique_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> StoryAboutTechnique:
        return cls(match["technique"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "A story about this", lambda: self._story(interaction))

    async def _story(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        catalog = services.content.catalog
        candidates = list(catalog.stories_for_technique(self.technique_id))
        services.rng.shuffle(candidates)
        chosen = services.memory.pick_fresh(interaction.user.id, Shown.STORY, candidates)
        if chosen is None:
            raise UserFacingError(
                "There's no story about this technique in the library now. "
                "/story shows the ones there are."
            )
        await send(interaction, story_reply(catalog, catalog.stories[chosen]))


# "This helped" / "Not for me": what each press says (SAFETY.md §3).
VOTE_LABELS = {Verdict.HELPED: "This helped", Verdict.NOT_FOR_ME: "Not for me"}
VOTE_COUNTED = (
    "Thank you. It's counted for this server without anything about you, and it shapes "
    "which techniques members here see first once the week is over."
)
VOTE_ALREADY = "You've already told me about this technique today; one vote a card a day counts."
VOTE_LIMIT = (
    f"You've voted {VOTES_PER_DAY} times today in this server, the most that count in a day. "
    "Thank you; you can vote again tomorrow (UTC)."
)
VOTE_NOT_IN_A_SERVER = (
    "Votes are counted for a server's members, so I can only count one in a server."
)
VOTE_GONE = "That technique is no longer in the library, so the vote wasn't counted."
_VOTE_REPLIES = {
    VoteOutcome.COUNTED: VOTE_COUNTED,
    VoteOutcome.ALREADY: VOTE_ALREADY,
    VoteOutcome.DAILY_LIMIT: VOTE_LIMIT,
}


class VoteButton(
    discord.ui.DynamicItem[Button],
    template=rf"peerlight:vote:(?P<verdict>helped|not):(?P<technique>{_ID})",
):
    """ "This helped" or "Not for me" on a technique card: one anonymous vote."""

    def __init__(self, technique_id: str, verdict: Verdict) -> None:
        helped = verdict is Verdict.HELPED
        super().__init__(
            discord.ui.Button(
                label=VOTE_LABELS[verdict],
                style=discord.ButtonStyle.success if helped else discord.ButtonStyle.secondary,
                custom_id=f"peerlight:vote:{verdict.value}:{technique_id}",
            )
        )
        self.technique_id = technique_id
        self.verdict = verdict

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["technique"], Verdict(match["verdict"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, VOTE_LABELS[self.verdict], lambda: self._vote(interaction))

    async def _vote(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        guild_id = interaction.guild_id
        if guild_id is None:
            raise UserFacingError(VOTE_NOT_IN_A_SERVER)
        if self.technique_id not in services.content.catalog.techniques:
            raise UserFacingError(VOTE_GONE)
        today = services.clock().astimezone(dt.UTC).date()
        outcome = await window.within(
            interaction,
            services.votes.record(
                guild_id, interaction.user.id, self.technique_id, self.verdict, today
            ),
        )
        await send(interaction, Reply.text(_VOTE_REPLIES[outcome]))


class OpenTechnique(
    discord.ui.DynamicItem[Button], template=rf"peerlight:technique:(?P<technique>{_ID})"
):
    """Opens one technique privately, with its own buttons: from a story that models it
    (labelled with the technique's title) or wherever one is suggested (any label, e.g.
    "Open the technique"). Without a label the button shows the technique's id."""

    def __init__(
        self,
        technique_id: str,
        label: str = "",
        *,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=button_label(label or technique_id),
                style=style,
                custom_id=f"peerlight:technique:{technique_id}",
            )
        )
        self.technique_id = technique_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> OpenTechnique:
        return cls(match["technique"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "open technique", lambda: self._open(interaction))

    async def _open(self, interaction: discord.Interaction[Any]) -> None:
        catalog = services_of(interaction).content.catalog
        technique = catalog.techniques.get(self.technique_id)
        if technique is None:
            raise UserFacingError(
                "That technique is no longer in the library. /technique lists the ones there are."
            )
        await send(interaction, technique_reply(catalog, technique))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    AnotherTechnique,
    FeelingChoice,
    StoryAboutTechnique,
    OpenTechnique,
    VoteButton,
)
