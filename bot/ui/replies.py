"""Shared reply plumbing: the `Reply` every feature sends, the cache of cards and
replies made once per catalog, and sending, replacing and guarding presses.

Every button is a `DynamicItem`: its custom id holds all a press needs (a feeling id, a
technique id), so buttons on messages sent before a restart, or before a content reload,
still work. Nothing about the member is ever in a custom id.

A press that fails goes through the same error path as a command (`errors.on_view_error`),
so a member never sees "This interaction failed".
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any

import discord

from bot.app import PeerlightBot
from bot.domain.cards.base import Rendered, fits_one_message
from bot.domain.cards.library import story_card, technique_card
from bot.domain.catalog import Catalog
from bot.domain.content import Story, Technique
from bot.domain.text import cut
from bot.services import Services
from bot.ui import errors, window
from bot.ui.embeds import message_kwargs, to_embeds

log = logging.getLogger(__name__)

Button = discord.ui.Button[discord.ui.View]
Item = discord.ui.Item[Any]

BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5
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
        await window.follow_up(interaction, ephemeral=ephemeral, **reply.kwargs())
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


def button_label(text: str) -> str:
    return cut(text, BUTTON_LABEL_LIMIT)
