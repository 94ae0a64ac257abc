"""/cope, /technique, /story and /resources: the library, and crisis safety around it.

Every free-text option goes through the crisis detector before anything else; names
picked from a fixed list (content notes in `skip`, a region) are read as choices
(`bot.domain.choices`) and only the rest as the member's words. Danger, and worry that
someone else is in danger, answer with the crisis lines first, every time: the whole
block, or within ten minutes of the last one a shorter block with the lines and the
emergency number. Distress gets the answer with a line pointing to /resources. What a
member types is never logged and never shown to anyone else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PeerlightBot
from bot.domain.cards.crisis import RESOURCES_POINTER
from bot.domain.cards.library import WARNING_LABELS
from bot.domain.catalog import Catalog, SearchIndex, fold
from bot.domain.choices import Choices, Parsed, content_warning_choices, region_choices
from bot.domain.content import (
    INTERNATIONAL,
    Area,
    Audience,
    ContentWarning,
    ResourceRegion,
    Story,
    Technique,
)
from bot.domain.crisis import CrisisLevel
from bot.domain.errors import UserFacingError
from bot.domain.memory import Shown
from bot.domain.text import cut
from bot.ui import crisis, library, replies, sharing
from bot.ui.replies import Reply

AREA_CHOICES = [
    app_commands.Choice(name="Emotional: feelings and mood", value=Area.EMOTIONAL.value),
    app_commands.Choice(name="Physical: body, breath, sleep, movement", value=Area.PHYSICAL.value),
    app_commands.Choice(name="Social: people and connection", value=Area.SOCIAL.value),
    app_commands.Choice(name="Psychological: thoughts and plans", value=Area.PSYCHOLOGICAL.value),
]
FOR_CHOICES = [
    app_commands.Choice(name="Me: how I feel", value=Audience.SELF.value),
    app_commands.Choice(
        name="Someone I'm supporting: how to be there for them", value=Audience.SUPPORTER.value
    ),
]
CLOSEST = 3
SHOWN_REGION_TEXT = 40
# The cooldown `MemberMemory.claim_crisis_block` records, released when the block is not
# delivered.

log = logging.getLogger(__name__)

Answer = Callable[[bool], Reply]  # shared → the reply; raises UserFacingError


def _choice(name: str, value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=cut(name), value=value[:100])


class LibraryCog(commands.Cog):
    def __init__(self, bot: PeerlightBot) -> None:
        self.bot = bot
        # The regions as choices, made once per catalog.
        self._regions: tuple[Catalog, Choices[str]] | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*library.DYNAMIC_ITEMS, *crisis.DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*library.DYNAMIC_ITEMS, *crisis.DYNAMIC_ITEMS)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # The caches are filled by now: a request to moderators that could never be
        # posted is reported to the operator before a member presses for it.
        services = self.bot.services
        for guild_id in sorted(services.host_defaults.reach_out_channels):
            if self.bot.get_guild(guild_id) is None:
                log.warning(
                    "moderation.reach_out_channels: the bot is not in server %s, so no "
                    "request can come from there",
                    guild_id,
                )
        for guild in self.bot.guilds:
            channel_id = crisis.reach_out_channel_id(services, guild.id)
            if channel_id is None:
                continue
            problem = crisis.reach_out_problem(self.bot, guild.id, channel_id)
            if problem is not None:
                log.warning(
                    "reach-out requests from server %s cannot be posted to channel %s: %s",
                    guild.id,
                    channel_id,
                    problem,
                )

    @property
    def catalog(self) -> Catalog:
        return self.bot.services.content.catalog

    # -- the one way every command answers -------------------------------------------

    async def _respond(
        self,
        interaction: discord.Interaction,
        level: CrisisLevel,
        answer: Answer,
        *,
        share: bool = False,
        point_to_resources: bool = True,
        block_alone: bool = False,
        region: ResourceRegion | None = None,
    ) -> None:
        """Danger or worry for someone else (HELPER): the crisis block first, then the
        answer (unless `block_alone` and the block is the whole one). Distress: the answer,
        privately, with a line pointing to /resources. Otherwise the answer; when shared,
        a card of content is posted as Peerlight's own message (`bot.ui.sharing`)."""
        if level >= CrisisLevel.HELPER:
            await crisis.crisis_first(
                interaction, level, answer, block_alone=block_alone, region=region
            )
            return
        if level is CrisisLevel.NONE:
            if share:
                await sharing.share(interaction, answer)
            else:
                await replies.send(interaction, answer(False))
            return
        # Anything about how a member feels stays private, so a share is not posted.
        try:
            reply = answer(False)
        except UserFacingError as error:
            reply = Reply.text(error.message)
        if point_to_resources:
            reply = reply.with_line(RESOURCES_POINTER)
        await replies.send(interaction, reply)

    @staticmethod
    def _listed(text: str, index: SearchIndex, ids: Mapping[str, object]) -> bool:
        """Whether `text` is exactly an id or a name from a fixed list (what autocomplete
        sends, or its name typed out), so a choice rather than the member's own words."""
        key = text.strip()
        if key in ids:
            return True
        wanted = fold(" ".join(key.split()))
        return any(fold(hit.label) == wanted for hit in index.search(key, limit=3))

    def _level(self, *texts: str | None) -> CrisisLevel:
        return self.catalog.crisis.detect_all(*texts).level

    # -- /cope -----------------------------------------------------------------------

    @app_commands.command(name="cope")
    @app_commands.describe(
        feeling="How you feel, in a word or two: pick one or type your own",
        area="Which part of you to look after (optional)",
        for_whom="For you (the default), or for supporting someone else",
        share="Also post the technique here as Peerlight's own post; nothing shows who asked",
    )
    @app_commands.rename(for_whom="for")
    @app_commands.choices(area=AREA_CHOICES, for_whom=FOR_CHOICES)
    async def cope(
        self,
        interaction: discord.Interaction,
        feeling: str | None = None,
        area: app_commands.Choice[str] | None = None,
        for_whom: app_commands.Choice[str] | None = None,
        share: bool = False,
    ) -> None:
        """A coping technique for how you feel right now: what to do and why it helps."""
        level = self._level(feeling)
        if level >= CrisisLevel.HELPER:
            # The crisis block (with a button for an exercise) is the answer, and within
            # its cooldown the shorter block and the exercise itself: grounding, or for a
            # member worried about someone else, how to ask and listen. Searching the
            # member's words for a feeling to match would only get in the way.
            someone_else = level is CrisisLevel.HELPER
            await self._respond(
                interaction,
                level,
                lambda shared: self._exercise(someone_else=someone_else),
                block_alone=True,
            )
            return
        chosen_area = Area(area.value) if area is not None else None
        audience = Audience(for_whom.value) if for_whom is not None else Audience.SELF
        member_id = interaction.user.id

        guild_id = interaction.guild_id
        await library.refresh_prior(self.bot.services, guild_id)

        def answer(shared: bool) -> Reply:
            return self._cope_answer(member_id, guild_id, feeling, chosen_area, audience, shared)

        await self._respond(interaction, level, answer, share=share)

    def _exercise(self, *, someone_else: bool) -> Reply:
        catalog = self.catalog
        if someone_else:
            technique = crisis.supporters_technique(catalog)
        else:
            technique = crisis.grounding_technique(catalog)
        if technique is None:
            return Reply.text("")  # the block alone is the answer
        return replies.technique_cards(catalog, technique)

    def _cope_answer(
        self,
        member_id: int,
        guild_id: int | None,
        feeling: str | None,
        area: Area | None,
        audience: Audience,
        shared: bool,
    ) -> Reply:
        catalog = self.catalog
        feelings: tuple[str, ...] = ()
        cues: tuple[str, ...] = ()
        if feeling and feeling.strip():
            # A phrase or short sentence: "really anxious", "scared and alone".
            feelings = catalog.read_feelings(feeling)
            # Every card for supporters fits someone supporting another person, so words
            # that match no feeling only narrow nothing down for them.
            if not feelings and audience is Audience.SELF:
                return self._closest_feelings(
                    "I couldn't match that to a feeling I know, so I can't pick a technique "
                    "for it yet. Is one of these close?",
                    feeling,
                    area,
                )
            cues = catalog.read_cues(feeling, feelings)
        request = library.CopeRequest(feelings, area, audience, cues)
        suggestion = library.suggest_technique(self.bot.services, member_id, request, guild_id)
        if suggestion is None:
            label = catalog.feelings[feelings[0]].label if feelings else "that"
            return self._closest_feelings(
                f"I don't have a technique for feeling {label.lower()} yet. Is one of these close?",
                feeling or "",
                area,
            )
        if shared:
            return replies.technique_cards(catalog, suggestion.technique, shareable=True)
        return library.suggestion_reply(catalog, suggestion, request)

    def _closest_feelings(self, message: str, text: str, area: Area | None) -> Reply:
        catalog = self.catalog
        feelings = [
            f
            for f in catalog.closest_feelings(text, limit=CLOSEST + 2)
            if catalog.techniques_for_feeling(f.id)
        ][:CLOSEST]
        return library.closest_feelings_reply(catalog, message, feelings, area)

    @cope.autocomplete("feeling")
    async def _feeling_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        catalog = self.catalog
        choices = []
        for hit in catalog.feeling_index.search(current):
            if catalog.techniques_for_feeling(hit.key):
                feeling = catalog.feelings[hit.key]
                choices.append(_choice(f"{feeling.emoji} {hit.label}", hit.key))
        return choices

    # -- /technique --------------------------------------------------------------------

    @app_commands.command(name="technique")
    @app_commands.describe(name="The technique's name: start typing to see them")
    async def technique(self, interaction: discord.Interaction, name: str) -> None:
        """Look up one coping technique by name."""

        def answer(shared: bool) -> Reply:
            return library.technique_reply(self.catalog, self._find_technique(name))

        # A technique picked from the list is a choice; anything else is read as words.
        picked = self._listed(name, self.catalog.technique_index, self.catalog.techniques)
        await self._respond(interaction, self._level(None if picked else name), answer)

    def _find_technique(self, name: str) -> Technique:
        catalog = self.catalog
        key = name.strip()
        if key in catalog.techniques:
            return catalog.techniques[key]
        hits = catalog.technique_index.search(key, limit=CLOSEST)
        wanted = fold(key)
        for hit in hits:
            if fold(catalog.techniques[hit.key].title) == wanted:
                return catalog.techniques[hit.key]
        if len(hits) == 1:
            return catalog.techniques[hits[0].key]
        if not hits:
            raise UserFacingError(
                "I couldn't find a technique by that name. Start typing in `name` to see "
                "the ones I know, or try /cope to get one for how you feel."
            )
        titles = ", ".join(f"“{catalog.techniques[h.key].title}”" for h in hits)
        raise UserFacingError(f"I couldn't find a technique by that name. Did you mean {titles}?")

    @technique.autocomplete("name")
    async def _technique_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [_choice(h.label, h.key) for h in self.catalog.technique_index.search(current)]

    # -- /story ------------------------------------------------------------------------

    @app_commands.command(name="story")
    @app_commands.describe(
        theme="What the story is about (optional): start typing to see the themes",
        skip="Content to leave out, separated by commas, e.g. suicide, self-harm",
        share="Also post the story here as Peerlight's own post; nothing shows who asked",
    )
    async def story(
        self,
        interaction: discord.Interaction,
        theme: str | None = None,
        skip: str | None = None,
        share: bool = False,
    ) -> None:
        """A peer specialist's story: what they did on a hard day, and what helped."""
        member_id = interaction.user.id
        # A content note's name ("suicide") is a choice from a fixed list, not something the
        # member says about themselves; everything else in `skip` is read like any text.
        skipped = WARNING_CHOICES.parse(skip or "")

        def answer(shared: bool) -> Reply:
            story = self._pick_story(member_id, theme, skipped)
            if shared:
                return replies.story_cards(self.catalog, story, shareable=True)
            return library.story_reply(self.catalog, story)

        picked = theme is not None and self._listed(
            theme, self.catalog.theme_index, self.catalog.themes
        )
        level = self._level(None if picked else theme, skipped.leftover)
        await self._respond(interaction, level, answer, share=share)

    def _pick_story(
        self, member_id: int, theme: str | None, skipped: Parsed[ContentWarning]
    ) -> Story:
        services = self.bot.services
        catalog = self.catalog
        theme_id = self._find_theme(theme) if theme and theme.strip() else None
        avoid = warnings_to_avoid(skipped)
        shown = services.memory.shown_to(member_id)
        story = catalog.pick_story(
            theme_id, avoid, exclude=shown.recent(Shown.STORY), rng=services.rng
        )
        if story is None:
            raise UserFacingError(
                "I don't have a story that fits those choices yet. Try another theme, or "
                "leave out fewer things."
            )
        shown.remember(Shown.STORY, story.id)
        return story

    def _find_theme(self, text: str) -> str:
        catalog = self.catalog
        key = text.strip()
        if key in catalog.themes and catalog.stories_with_theme(key):
            return key
        hits = catalog.theme_index.search(key, limit=1)
        if hits and (fold(hits[0].label) == fold(key) or fold(hits[0].key) == fold(key)):
            return hits[0].key
        if hits and len(fold(key)) >= 3 and fold(hits[0].label).startswith(fold(key)):
            return hits[0].key
        themes = ", ".join(h.label for h in catalog.theme_index.search("", limit=25))
        raise UserFacingError(
            f"I don't have stories on that theme yet. Themes with stories: {themes}."
        )

    @story.autocomplete("theme")
    async def _theme_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [_choice(h.label, h.key) for h in self.catalog.theme_index.search(current)]

    @story.autocomplete("skip")
    async def _skip_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [_choice(", ".join(ids), ",".join(ids)) for ids in complete_warnings(current)]

    # -- /resources --------------------------------------------------------------------

    @app_commands.command(name="resources")
    @app_commands.describe(
        region="Where you are (optional): otherwise your Discord language decides"
    )
    async def resources(self, interaction: discord.Interaction, region: str | None = None) -> None:
        """People you can talk to right now: free support and crisis lines."""
        services = self.bot.services
        catalog = self.catalog
        typed = region or ""
        # A region's name is a choice; the words around it are read like any text.
        parsed = self._regions_as_choices().parse(typed)
        named = catalog.regions[parsed.chosen[0]] if parsed.chosen else None
        level = self._level(parsed.leftover)
        # A place without lines of its own (a part of what was typed that names no region
        # and is not about how the member feels) gets the international directory, never
        # another country's lines. Words that are only about the member ("hopeless") are
        # not a place: their own region's lines are shown.
        unknown = named is None and any(
            self._level(part) is CrisisLevel.NONE for part in parsed.leftover_parts
        )
        if unknown:
            named = catalog.regions.get(INTERNATIONAL)

        def answer(shared: bool) -> Reply:
            shown = named or crisis.member_region(
                services, interaction.locale, interaction.guild_id
            )
            reply = crisis.resources_reply(services, shown)
            # Words that sound like distress are not repeated back as a place name.
            if unknown and level is CrisisLevel.NONE:
                reply = reply.with_line(self._unknown_region_line(typed))
            return reply

        await self._respond(interaction, level, answer, point_to_resources=False, region=named)

    def _regions_as_choices(self) -> Choices[str]:
        catalog = self.catalog
        if self._regions is None or self._regions[0] is not catalog:
            self._regions = (catalog, region_choices(catalog.regions.values()))
        return self._regions[1]

    def _unknown_region_line(self, text: str) -> str:
        shown = discord.utils.escape_markdown(cut(" ".join(text.split()), SHOWN_REGION_TEXT))
        names = ", ".join(
            f"{r.name} ({r.region})"
            for r in self.catalog.regions.values()
            if r.region != INTERNATIONAL
        )
        return (
            f"I don't have a list of lines for “{shown}” yet, sorry. Find A Helpline below "
            "lists free helplines in more than 130 countries, so you can search for one near "
            f"you.\nRegions I have lines for: {names}."
        )

    @resources.autocomplete("region")
    async def _region_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [_choice(h.label, h.key) for h in self.catalog.region_index.search(current)]


# -- content notes: parsing what a member types in `skip` ---------------------------------

WARNING_CHOICES = content_warning_choices(WARNING_LABELS)


def warnings_to_avoid(skipped: Parsed[ContentWarning]) -> tuple[ContentWarning, ...]:
    """The content notes to leave out. Words that name none are an error, not ignored: a
    member who asked to skip something must be able to trust the filter."""
    if skipped.has_leftover:
        known = ", ".join(w.value for w in ContentWarning)
        raise UserFacingError(
            "Some of what's in `skip` isn't a content note I know, so I didn't pick a story. "
            f"You can leave out: {known} (separate them with commas)."
        )
    return skipped.chosen


def complete_warnings(current: str) -> list[list[str]]:
    """Completions of the last item of a comma-separated list of content warnings."""
    *done_parts, last = current.split(",")
    done = [w.value for w in WARNING_CHOICES.parse(",".join(done_parts)).chosen]
    typed = fold(last).strip()
    options: list[list[str]] = []
    if done and not typed:
        options.append(list(done))
    for warning in ContentWarning:
        if warning.value in done:
            continue
        label = fold(WARNING_LABELS[warning])
        if not typed or warning.value.startswith(typed) or label.startswith(typed):
            options.append([*done, warning.value])
    if typed and not options:
        options = [
            [*done, w.value]
            for w in ContentWarning
            if w.value not in done and (typed in w.value or typed in fold(WARNING_LABELS[w]))
        ]
    return options[:25]


async def setup(bot: PeerlightBot) -> None:
    await bot.add_cog(LibraryCog(bot))
