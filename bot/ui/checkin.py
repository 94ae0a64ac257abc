"""The check-in flow: mood buttons, the feelings menu, Skip, and the suggested technique.

Every component is a `DynamicItem` whose custom id carries all the flow needs so far
(`peerlight:checkin:mood:2`, `peerlight:checkin:feel:2`), so nothing about a member is held
between steps, and a check-in started before a restart can still be finished after it.
The "Check in" button (`checkin_button`, custom id `peerlight:checkin:start`) that every
scheduled prompt carries starts the same flow from any message, however old.

A press that fails goes through the one error path (`replies.guarded`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.domain.cards.base import Card, Rendered
from bot.domain.cards.checkin import (
    CHECKIN_NOT_SAVED,
    CHECKIN_SERVER_ONLY,
    MOOD_EMOJI,
    checkin_feelings_card,
    checkin_flood_card,
    checkin_question_card,
    checkin_thanks_card,
)
from bot.domain.catalog import Catalog
from bot.domain.checkin_suggestion import technique_for_mood
from bot.domain.checkins import MAX_FEELINGS, MOOD_LABELS, MOODS
from bot.domain.errors import DATABASE_ERRORS, UserFacingError
from bot.domain.text import cut
from bot.services import Services
from bot.ui import crisis, library, replies, window
from bot.ui.embeds import message_kwargs
from bot.ui.replies import guarded, services_of

log = logging.getLogger(__name__)

Button = discord.ui.Button[discord.ui.View]
Select = discord.ui.Select[discord.ui.View]
Item = discord.ui.Item[Any]

START_CUSTOM_ID = "peerlight:checkin:start"
_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def _view(rows: Sequence[Sequence[Item]]) -> discord.ui.View | None:
    if not any(rows):
        return None
    view = discord.ui.View(timeout=None)
    for index, row in enumerate(r for r in rows if r):
        for item in row:
            item.row = index
            view.add_item(item)
    return replies.untracked(view)


async def _show(
    interaction: discord.Interaction[Any], kwargs: dict[str, Any], view: discord.ui.View | None
) -> None:
    """Replace the member's private check-in message with the message `kwargs` (from
    `message_kwargs`) and `view`; a public post (a scheduled prompt) is never edited, the
    member gets a private message instead."""
    message = interaction.message
    if interaction.response.is_done():
        # Acknowledged while the work was slow (`window.within`): edit what was deferred.
        if window.updates_in_place(interaction):
            await window.edit_original(
                interaction,
                content=None,
                embeds=kwargs["embeds"],
                view=view,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        if view is not None:
            kwargs["view"] = view
        await window.follow_up(interaction, ephemeral=True, **kwargs)
        return
    if message is not None and message.flags.ephemeral:
        await interaction.response.edit_message(
            content=None,
            embeds=kwargs["embeds"],
            view=view,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return
    if view is not None:
        kwargs["view"] = view
    await interaction.response.send_message(ephemeral=True, **kwargs)


# -- what the steps show -------------------------------------------------------------------
# Made for each reply: the benchmark's check-in round trip is no faster with them made once
# and kept (CONTRIBUTING.md, "Machinery kept, and removed").


def _feelings_options(catalog: Catalog) -> tuple[discord.SelectOption, ...]:
    # Every feeling: the content model holds the vocabulary to what one menu can list.
    return tuple(
        discord.SelectOption(label=cut(feeling.label), value=feeling.id, emoji=feeling.emoji)
        for feeling in catalog.vocabulary.feelings
    )


def _mood_view() -> discord.ui.View:
    view = _view([mood_buttons()])
    assert view is not None  # five moods
    return view


def _feelings_view(catalog: Catalog, mood: int) -> discord.ui.View | None:
    """The feelings menu and Skip, for a mood answered without the crisis block."""
    return _view([(FeelingsChoice(mood, _feelings_options(catalog)),), (SkipFeelings(mood),)])


# -- the steps ------------------------------------------------------------------------------


def mood_buttons() -> tuple[Item, ...]:
    return tuple(MoodChoice(mood) for mood in MOODS)


async def start(interaction: discord.Interaction[Any]) -> None:
    """Step 1: "How are you doing right now?" with the five moods, privately."""
    services = services_of(interaction)
    guild_id = interaction.guild_id
    if guild_id is None:
        raise UserFacingError(CHECKIN_SERVER_ONLY)
    now = services.clock()
    # A read, but on the one database connection: behind a write that waits out another
    # process's lock it waits too, so it keeps the acknowledgement budget.
    wait = await window.within(interaction, _wait(services, guild_id, interaction.user.id, now))
    kwargs = message_kwargs(checkin_question_card(wait=wait))
    await window.reply(interaction, view=_mood_view(), **kwargs)


async def choose_mood(interaction: discord.Interaction[Any], mood: int) -> None:
    """Step 2: the feelings menu and Skip; for "Not OK", the crisis block first."""
    services = services_of(interaction)
    catalog = services.content.catalog
    if mood != 1:
        await _show(
            interaction,
            message_kwargs(checkin_feelings_card(mood)),
            _feelings_view(catalog, mood),
        )
        return
    # The lines first, every time; within minutes of the last crisis block, the shorter one.
    member_id = interaction.user.id
    whole = services.memory.claim_crisis_block(member_id, services.clock())
    try:
        crisis_block = crisis.crisis_reply(
            services, interaction.locale, guild_id=interaction.guild_id, repeat=not whole
        )
        rendered = Rendered(crisis_block.rendered.cards + checkin_feelings_card(mood).cards)
        rows = [
            *crisis_block.groups,
            (FeelingsChoice(mood, _feelings_options(catalog)),),
            (SkipFeelings(mood),),
        ]
        await _show(interaction, message_kwargs(rendered), _view(rows))
    except Exception:
        if whole:
            services.memory.release_crisis_block(member_id)
        raise


async def save(interaction: discord.Interaction[Any], mood: int, picked: Sequence[str]) -> None:
    """Step 3: store the check-in (committed before the member reads "Saved"), then thank
    them and offer a technique. Inside the flood window nothing is stored, and the
    technique is offered all the same."""
    services = services_of(interaction)
    guild_id = interaction.guild_id
    if guild_id is None:
        raise UserFacingError(CHECKIN_SERVER_ONLY)
    catalog = services.content.catalog
    # Only ids from the vocabulary are ever stored, whatever a client sends.
    feelings = list(dict.fromkeys(f for f in picked if f in catalog.feelings))[:MAX_FEELINGS]
    technique = technique_for_mood(catalog, mood, feelings, services.rng)

    crisis_cards: tuple[Card, ...] = ()
    if mood == 1:
        # The support lines stay in view after "Not OK" is saved: the shorter block, since
        # the whole one was shown a step ago.
        crisis_block = crisis.crisis_reply(
            services, interaction.locale, guild_id=interaction.guild_id, repeat=True
        )
        crisis_cards = crisis_block.rendered.cards
        open_row: tuple[Item, ...] = (open_technique(technique.id),) if technique else ()
        view = _view([*crisis_block.groups, open_row])
    else:
        view = _view([(open_technique(technique.id),)]) if technique else None

    now = services.clock()
    member_id = interaction.user.id
    decision = services.flood.allow(guild_id, member_id, now)
    if not decision:
        wait = await _wait(services, guild_id, member_id, now) or decision.wait
        flood = checkin_flood_card(wait=wait, technique=technique)
        await _show(interaction, message_kwargs(Rendered(crisis_cards + flood.cards)), view)
        return
    try:
        counted = await window.within(
            interaction,
            services.checkins.record(guild_id, utc_day(now), mood, feelings, member_id=member_id),
        )
    except Exception as error:
        # Not stored, so not counted: the member may try again straight away.
        services.flood.release(guild_id, member_id)
        if isinstance(error, DATABASE_ERRORS):
            log.warning("a check-in could not be saved (%s: %s)", type(error).__name__, error)
            raise UserFacingError(CHECKIN_NOT_SAVED) from None
        raise
    if not counted:
        # Already counted today: one check-in per member per UTC day (SAFETY.md §4).
        flood = checkin_flood_card(wait=until_next_utc_day(now), technique=technique)
        await _show(interaction, message_kwargs(Rendered(crisis_cards + flood.cards)), view)
        return
    thanks = checkin_thanks_card(feelings=len(feelings), technique=technique)
    await _show(interaction, message_kwargs(Rendered(crisis_cards + thanks.cards)), view)


def until_next_utc_day(moment: dt.datetime) -> dt.timedelta:
    """How long until the next UTC day starts, when a new check-in counts again."""
    start = dt.datetime.combine(utc_day(moment) + dt.timedelta(days=1), dt.time(), dt.UTC)
    return start - moment.astimezone(dt.UTC)


async def _wait(
    services: Services, guild_id: int, member_id: int, now: dt.datetime
) -> dt.timedelta | None:
    """How long until this member's next check-in here counts; None if it would now.
    The longer of the in-memory window and the daily rule."""
    waits: list[dt.timedelta] = []
    decision = services.flood.peek(guild_id, member_id, now)
    if not decision:
        waits.append(decision.wait)
    if await services.checkins.counted_today(guild_id, member_id, utc_day(now)):
        waits.append(until_next_utc_day(now))
    return max(waits, default=None)


def utc_day(moment: dt.datetime) -> dt.date:
    """The UTC day of a moment: the only time a check-in keeps."""
    return moment.astimezone(dt.UTC).date()


def open_technique(technique_id: str) -> library.OpenTechnique:
    """The button under a check-in's reply that opens the suggested technique."""
    return library.OpenTechnique(
        technique_id, label="Open the technique", style=discord.ButtonStyle.primary
    )


# -- components -----------------------------------------------------------------------------


class CheckinStart(discord.ui.DynamicItem[Button], template=re.escape(START_CUSTOM_ID)):
    """The "Check in" button on scheduled prompt posts: starts a private check-in."""

    def __init__(self, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Check in",
                emoji="📝",
                style=discord.ButtonStyle.primary,
                custom_id=START_CUSTOM_ID,
                disabled=disabled,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> CheckinStart:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "Check in", lambda: start(interaction))


def checkin_button(disabled: bool = False) -> CheckinStart:
    """The one "Check in" button: on every scheduled post, and switched off in previews."""
    return CheckinStart(disabled=disabled)


class MoodChoice(
    discord.ui.DynamicItem[Button], template=r"peerlight:checkin:mood:(?P<mood>[1-5])"
):
    def __init__(self, mood: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=MOOD_LABELS[mood],
                emoji=MOOD_EMOJI[mood],
                style=discord.ButtonStyle.secondary,
                custom_id=f"peerlight:checkin:mood:{mood}",
            )
        )
        self.mood = mood

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> MoodChoice:
        return cls(int(match["mood"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "check-in mood", lambda: choose_mood(interaction, self.mood))


class FeelingsChoice(
    discord.ui.DynamicItem[Select], template=r"peerlight:checkin:feel:(?P<mood>[1-5])"
):
    def __init__(self, mood: int, options: Sequence[discord.SelectOption]) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder=f"Pick up to {MAX_FEELINGS} feelings",
                min_values=1,
                max_values=max(1, min(MAX_FEELINGS, len(options))),
                options=list(options),
                custom_id=f"peerlight:checkin:feel:{mood}",
            )
        )
        self.mood = mood

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> FeelingsChoice:
        options = item.options if isinstance(item, discord.ui.Select) else []
        return cls(int(match["mood"]), options)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        picked = list(self.item.values)
        await guarded(
            interaction, "check-in feelings", lambda: save(interaction, self.mood, picked)
        )


class SkipFeelings(
    discord.ui.DynamicItem[Button], template=r"peerlight:checkin:skip:(?P<mood>[1-5])"
):
    def __init__(self, mood: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Skip",
                style=discord.ButtonStyle.secondary,
                custom_id=f"peerlight:checkin:skip:{mood}",
            )
        )
        self.mood = mood

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> SkipFeelings:
        return cls(int(match["mood"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, "check-in skip", lambda: save(interaction, self.mood, ()))


class OpenSuggestion(
    discord.ui.DynamicItem[Button], template=rf"peerlight:checkin:open:(?P<technique>{_ID})"
):
    """The "Open the technique" button on check-in replies that carry the earlier custom
    id; it opens the technique as `library.OpenTechnique` does. New replies carry
    `open_technique` instead."""

    def __init__(self, technique_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Open the technique",
                style=discord.ButtonStyle.primary,
                custom_id=f"peerlight:checkin:open:{technique_id}",
            )
        )
        self.technique_id = technique_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item, match: re.Match[str], /
    ) -> OpenSuggestion:
        return cls(match["technique"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await open_technique(self.technique_id).callback(interaction)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    CheckinStart,
    MoodChoice,
    FeelingsChoice,
    SkipFeelings,
    OpenSuggestion,
)
