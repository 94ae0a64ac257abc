"""Buttons, and the replies that carry them.

Every button is a `DynamicItem`: its custom id holds all a press needs (a feeling id, a
technique id), so buttons on messages sent before a restart, or before a content reload,
still work. Nothing about the member is ever in a custom id.

A press that fails goes through the same error path as a command (`errors.on_view_error`),
so a member never sees "This interaction failed".
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import discord

from bot.app import PeerlightBot
from bot.domain.cards import (
    Rendered,
    crisis_card,
    fits_one_message,
    resources_card,
    story_card,
    technique_card,
)
from bot.domain.catalog import Catalog, cut, why_this_one
from bot.domain.content import Area, Audience, Feeling, ResourceRegion, Story, Technique
from bot.domain.crisis import CrisisLevel
from bot.domain.errors import UserFacingError
from bot.domain.memory import CRISIS_BLOCK_COOLDOWN, Shown
from bot.services import Services
from bot.ui import errors, window
from bot.ui.embeds import message_kwargs, to_embeds

log = logging.getLogger(__name__)

Button = discord.ui.Button[discord.ui.View]
Item = discord.ui.Item[Any]

BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5
STORY_TECHNIQUE_BUTTONS = 10
GROUNDING_TECHNIQUE = "grounding-5-4-3-2-1"
SUPPORTERS_TECHNIQUE = "ask-directly-and-listen"
SUPPORTERS_LABEL = "How to ask and listen"
REACH_OUT_COOLDOWN_ACTION = "reach-out"
# Cards (a few KiB each) and replies with their buttons (about twice that) kept ready:
# enough for the items members ask for most, little beside the catalog's own items.
CARD_CACHE_SIZE = 256
REPLY_CACHE_SIZE = 128


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The bot's services, for a button or form callback."""
    client = interaction.client
    if not isinstance(client, PeerlightBot):
        raise TypeError("Peerlight's buttons only run inside PeerlightBot")
    return client.services


# -- replies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Cards and button groups for one message; each group starts on a new row."""

    rendered: Rendered
    groups: tuple[tuple[Item, ...], ...] = ()
    # Only a card of content may be posted for everyone, never a message to the member.
    shareable: bool = False
    # The cards as embeds when they were made in advance (`technique_cards`,
    # `story_cards`); None to make them when the reply is sent.
    embeds: tuple[discord.Embed, ...] | None = field(default=None, compare=False)
    # The view of `groups` when it was made in advance, for a reply sent as it is many
    # times (`technique_reply`, `story_reply`); its items then belong to that view.
    prepared: Prepared | None = field(default=None, compare=False)

    @classmethod
    def text(cls, content: str, *groups: tuple[Item, ...]) -> Reply:
        return cls(Rendered((), content=content), tuple(g for g in groups if g))

    def with_line(self, line: str) -> Reply:
        content = "\n\n".join(part for part in (line, self.rendered.content) if part)
        return replace(self, rendered=replace(self.rendered, content=content))

    def then(self, other: Reply) -> Reply:
        """This reply followed by `other`, or this alone when both don't fit one message."""
        content = "\n\n".join(p for p in (self.rendered.content, other.rendered.content) if p)
        joined = Rendered(self.rendered.cards + other.rendered.cards, content=content)
        if not fits_one_message(joined):
            return self
        embeds = None
        if self.embeds is not None and other.embeds is not None:
            embeds = self.embeds + other.embeds
        groups = self.own_groups() + other.own_groups()
        return Reply(joined, groups, shareable=False, embeds=embeds)

    def own_groups(self) -> tuple[tuple[Item, ...], ...]:
        """The button groups, as items no other view holds: a prepared view keeps its
        own, and moving them to another view would change where they show in it."""
        if self.prepared is None:
            return self.groups
        return self.prepared.make().groups

    def view(self) -> discord.ui.View | None:
        if self.prepared is not None:
            return self.prepared.view
        if not any(self.groups):
            return None
        view = discord.ui.View(timeout=None)
        row = 0
        for group in self.groups:
            for start in range(0, len(group), BUTTONS_PER_ROW):
                if row >= ROWS_PER_MESSAGE:
                    return untracked(view)
                for item in group[start : start + BUTTONS_PER_ROW]:
                    item.row = row
                    view.add_item(item)
                row += 1
        return untracked(view)

    def kwargs(self) -> dict[str, Any]:
        if self.embeds is None:
            kwargs = message_kwargs(self.rendered)
        else:
            kwargs = {
                "embeds": list(self.embeds),
                "allowed_mentions": discord.AllowedMentions.none(),
            }
            if self.rendered.content:
                kwargs["content"] = self.rendered.content
        view = self.view()
        if view is not None:
            kwargs["view"] = view
        return kwargs


@dataclass(frozen=True)
class Prepared:
    """A reply's view made in advance, and how to make the reply anew."""

    view: discord.ui.View | None
    make: Callable[[], Reply]


@dataclass(frozen=True)
class _Made:
    rendered: Rendered
    embeds: tuple[discord.Embed, ...]


class CardCache:
    """The cards of techniques and stories (and their embeds), and the replies that show
    them with their buttons (and their views), made once per catalog.

    A catalog is never changed once built (a content reload builds a new one), so what is
    made from one of its items, known by its id, stays right for as long as that catalog
    is the one in use; the first thing asked of another catalog empties the cache. The
    catalog is held, not just its id, so its id cannot be taken by a newer catalog while
    what was made from it is kept. Embeds and views go into many messages, so nothing may
    change them once made; the views are stopped (`untracked`), which sending them leaves
    as they are. The least recently used go first past `size` cards or `replies`.
    """

    def __init__(self, size: int = CARD_CACHE_SIZE, replies: int = REPLY_CACHE_SIZE) -> None:
        if size < 1 or replies < 1:
            raise ValueError("a card cache holds at least one card and one reply")
        self._sizes = {"cards": size, "replies": replies}
        self._catalog: Catalog | None = None
        self._cards: OrderedDict[Hashable, _Made] = OrderedDict()
        self._replies: OrderedDict[Hashable, Reply] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cards) + len(self._replies)

    def _use(self, catalog: Catalog) -> None:
        if catalog is not self._catalog:
            self._cards.clear()
            self._replies.clear()
            self._catalog = catalog

    def card(
        self, catalog: Catalog, item: Technique | Story, make: Callable[[], Rendered]
    ) -> _Made:
        """`item`'s card, made by `make` the first time it is asked for."""
        self._use(catalog)
        key = (type(item).__name__, item.id)
        made = self._cards.get(key)
        if made is not None:
            self._cards.move_to_end(key)
            return made
        rendered = make()
        made = _Made(rendered, tuple(to_embeds(rendered)))
        self._keep(self._cards, key, made, self._sizes["cards"])
        return made

    def reply(self, catalog: Catalog, key: Hashable, make: Callable[[], Reply]) -> Reply:
        """The reply `make` makes (one for each `key`, which names the item and what else
        the reply depends on), with its view made."""
        self._use(catalog)
        ready = self._replies.get(key)
        if ready is not None:
            self._replies.move_to_end(key)
            return ready
        fresh = make()
        reply = replace(fresh, prepared=Prepared(fresh.view(), make))
        self._keep(self._replies, key, reply, self._sizes["replies"])
        return reply

    @staticmethod
    def _keep(kept: OrderedDict[Hashable, Any], key: Hashable, value: object, size: int) -> None:
        kept[key] = value
        kept.move_to_end(key)
        while len(kept) > size:
            kept.popitem(last=False)


CARDS = CardCache()


def technique_cards(
    catalog: Catalog,
    technique: Technique,
    groups: tuple[tuple[Item, ...], ...] = (),
    *,
    shareable: bool = False,
) -> Reply:
    """A technique's card (made once per catalog) with these button groups."""
    made = CARDS.card(catalog, technique, lambda: technique_card(technique))
    return Reply(made.rendered, groups, shareable=shareable, embeds=made.embeds)


def story_cards(
    catalog: Catalog,
    story: Story,
    groups: tuple[tuple[Item, ...], ...] = (),
    *,
    shareable: bool = False,
) -> Reply:
    """A story's card (made once per catalog) with these button groups."""
    made = CARDS.card(catalog, story, lambda: story_card(story))
    return Reply(made.rendered, groups, shareable=shareable, embeds=made.embeds)


def untracked(view: discord.ui.View) -> discord.ui.View:
    """`view`, stopped before it is sent, so that discord.py does not track it.

    Every Peerlight component is a `DynamicItem`, answered through its custom id by the
    items registered at start-up, never through the view it was sent with. Tracking a
    sent view would only give each private reply a 15-minute timer (discord.py's timeout
    for views on ephemeral messages) and keep the view alive that long. A stopped view is
    never changed by sending it, so one can also be sent again.
    """
    for item in view.walk_children():
        if item.is_dispatchable() and not isinstance(item, discord.ui.DynamicItem):
            raise TypeError(f"{item!r} would only work while its view is tracked")
    view.stop()
    return view


async def send(
    interaction: discord.Interaction[Any], reply: Reply, *, ephemeral: bool = True
) -> None:
    """A new message: the response itself, or a follow-up once the interaction was
    acknowledged (`window.within`)."""
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=ephemeral, **reply.kwargs())
    else:
        await interaction.response.send_message(ephemeral=ephemeral, **reply.kwargs())


async def replace_message(interaction: discord.Interaction[Any], reply: Reply) -> None:
    """Swap the cards and buttons of the message whose button was pressed (its text stays)."""
    kwargs = reply.kwargs()
    await interaction.response.edit_message(
        embeds=kwargs["embeds"],
        view=kwargs.get("view"),
        allowed_mentions=discord.AllowedMentions.none(),
    )


async def guarded(
    interaction: discord.Interaction[Any], label: str, action: Callable[[], Awaitable[None]]
) -> None:
    """Run a press's `action`; whatever it raises goes through the one error path, which
    names the control by `label` (never what the member typed)."""
    try:
        await action()
    except Exception as error:  # the one error path decides what the member reads
        await errors.on_view_error(interaction, error, label)


def _button_label(text: str) -> str:
    return cut(text, BUTTON_LABEL_LIMIT)


# -- choosing what to show ------------------------------------------------------------------


@dataclass(frozen=True)
class CopeRequest:
    """What a member asked /cope for: feelings (at most three), an area, and whether the
    card is for them or for supporting someone else."""

    feelings: tuple[str, ...] = ()
    area: Area | None = None
    audience: Audience = Audience.SELF


@dataclass(frozen=True)
class Suggestion:
    technique: Technique
    alternatives: int  # how many techniques fitted, this one included
    reason: str  # one line: why this one


def suggest_technique(
    services: Services, member_id: int, request: CopeRequest
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
    )
    chosen = shown.pick_fresh(Shown.TECHNIQUE, ids)
    if chosen is None:
        return None
    technique = catalog.techniques[chosen]
    return Suggestion(technique, len(ids), why_this_one(catalog, technique, request.feelings))


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
    return technique_cards(catalog, technique, (tuple(buttons),))


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


# -- buttons --------------------------------------------------------------------------------

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
        suggestion = suggest_technique(services, interaction.user.id, self.request)
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
                label=_button_label(label or feeling),
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
        suggestion = suggest_technique(services, interaction.user.id, request)
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
                label=_button_label(label or technique_id),
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
    AnotherTechnique,
    FeelingChoice,
    StoryAboutTechnique,
    OpenTechnique,
    GroundingButton,
    SupportLinesButton,
    ReachOutButton,
)
