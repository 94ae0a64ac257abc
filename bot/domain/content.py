"""The content model: what a specialist writes in a YAML file, as typed, strict models.

Each model forbids unknown keys, so a typo such as `why_it_work:` is an error rather than
a silently missing field. Rules that need more than one field (cautions for breathing and
body-focused techniques, `what_helped` for stories that mention suicide or self-harm)
live here too, so the JSON Schema, the content check and the bot agree. Rules that need
the whole library (cross-references, unique ids) live in the loader. Wording rules
(stigmatising terms, absolutes, contact details) live in `bot.domain.style`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[
    str, Strict(), StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=64)
]
Date = Annotated[dt.date, Field(strict=False)]


# Generous sanity bounds; the content check measures the rendered cards against Discord's
# real limits, which is what decides whether a text fits.
Title = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
]
OneLine = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Short = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]
Medium = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
]
MaybeMedium = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=1000)]


class Area(StrEnum):
    EMOTIONAL = "emotional"
    PHYSICAL = "physical"
    SOCIAL = "social"
    PSYCHOLOGICAL = "psychological"


class Audience(StrEnum):
    """Who a technique card is written for."""

    SELF = "self"  # the member, for how they feel
    SUPPORTER = "supporter"  # someone supporting another person


class EvidenceLevel(StrEnum):
    STRONG = "strong"
    MODERATE = "moderate"
    LIMITED = "limited"
    PEER_WISDOM = "peer-wisdom"


class ContentWarning(StrEnum):
    SUICIDE = "suicide"
    SELF_HARM = "self-harm"
    SUBSTANCE_USE = "substance-use"
    RELAPSE = "relapse"
    TRAUMA = "trauma"
    ABUSE = "abuse"
    EATING = "eating"
    GRIEF = "grief"
    VIOLENCE = "violence"


class PromptKind(StrEnum):
    CHECK_IN = "check-in"
    REFLECTION = "reflection"
    GRATITUDE = "gratitude"
    CONNECTION = "connection"
    SKILL = "skill"


class ContactMethod(StrEnum):
    CALL = "call"
    TEXT = "text"
    CHAT = "chat"
    WEB = "web"


# Tags that make `cautions` required: focusing on the breath can raise panic for some
# people, and body focus can distress trauma survivors (SAFETY.md §2).
CAUTION_TAGS = frozenset({"breathing", "body"})
WARNINGS_NEEDING_WHAT_HELPED = frozenset({ContentWarning.SUICIDE, ContentWarning.SELF_HARM})


class _Model(BaseModel):
    # Strings, numbers and booleans are strict (a YAML `title: 2024` or `given: yes` is an
    # error, not a silent conversion); lists become tuples and names become enums.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    citation: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=3, max_length=300)
    ]
    doi: Annotated[str, Strict(), StringConstraints(pattern=r"^10\.\d{4,9}/\S+$")] | None = None
    url: (
        Annotated[str, Strict(), StringConstraints(pattern=r"^https?://\S+$", max_length=500)]
        | None
    ) = None

    @model_validator(mode="after")
    def _needs_a_link(self) -> Source:
        if self.doi is None and self.url is None:
            raise ValueError("a source needs a `doi` (like 10.1016/j.xcrm.2022.100895) or a `url`")
        return self

    @property
    def link(self) -> str:
        """The address for a Markdown link; brackets are escaped so `](` parsing holds."""
        raw = f"https://doi.org/{self.doi}" if self.doi else (self.url or "")
        return raw.replace("(", "%28").replace(")", "%29")


class Evidence(_Model):
    level: EvidenceLevel
    sources: tuple[Source, ...] = ()

    @model_validator(mode="after")
    def _sources_unless_peer_wisdom(self) -> Evidence:
        if self.level is not EvidenceLevel.PEER_WISDOM and not self.sources:
            raise ValueError(
                f"evidence level `{self.level.value}` needs at least one source "
                "(or use level `peer-wisdom` for what the recovery community has learned)"
            )
        return self


class Review(_Model):
    by: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    on: Date


class HelpsWith(_Model):
    """The feelings a technique is for: `main`, what it is written for and is offered
    first for; `also`, feelings it helps with too, offered only after every technique
    that is mainly for them."""

    main: Annotated[tuple[Slug, ...], Field(min_length=1)]
    also: tuple[Slug, ...] = ()

    @model_validator(mode="after")
    def _each_feeling_once(self) -> HelpsWith:
        both = sorted(set(self.main) & set(self.also))
        if both:
            raise ValueError(
                f"{', '.join(both)} is listed under both `main` and `also`; keep it in one"
            )
        return self

    @property
    def feelings(self) -> tuple[str, ...]:
        return self.main + self.also

    def __contains__(self, feeling: object) -> bool:
        return feeling in self.main or feeling in self.also


# What a member reads as the reason for a card: "For a racing mind, 5 minutes."
BestFor = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=3, max_length=60)
]


class Technique(_Model):
    id: Slug
    title: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    summary: OneLine
    areas: Annotated[tuple[Area, ...], Field(min_length=1)]
    helps_with: HelpsWith
    best_for: BestFor | None = None
    audience: Audience = Audience.SELF
    tags: tuple[Slug, ...] = ()
    steps: Annotated[tuple[Short, ...], Field(min_length=1, max_length=15)]
    why_it_works: Medium
    when_to_use: Medium
    # Validated even when absent, so a missing caution is reported against `cautions`.
    cautions: Annotated[Medium | None, Field(validate_default=True)] = None
    duration_minutes: Annotated[int, Strict(), Field(ge=1, le=120)]
    evidence: Evidence
    modeled_in: tuple[Slug, ...] = ()
    reviewed: Review | None = None
    locale: Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"

    @field_validator("helps_with", mode="before")
    @classmethod
    def _a_plain_list_is_main(cls, value: object) -> object:
        # Files written before `main` and `also` existed list feelings plainly; each of
        # them counts as a main feeling, as it always did.
        return {"main": value} if isinstance(value, list | tuple) else value

    @field_validator("cautions")
    @classmethod
    def _cautions_for_breath_and_body(cls, value: str | None, info: ValidationInfo) -> str | None:
        needs = CAUTION_TAGS.intersection(info.data.get("tags", ()))
        if needs and not value:
            raise ValueError(
                f"`cautions` is required for techniques tagged {', '.join(sorted(needs))}: "
                "say who should take care and what to do instead"
            )
        return value


class Consent(_Model):
    given: Annotated[bool, Strict()]
    date: Date
    scope: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=3, max_length=300)
    ]

    @model_validator(mode="after")
    def _must_be_given(self) -> Consent:
        if not self.given:
            raise ValueError("a story can only be shared with the author's consent (`given: true`)")
        return self


class Author(_Model):
    alias: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=60)
    ]
    role: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
    ]
    consent: Consent


class Story(_Model):
    id: Slug
    title: Title
    illustrative: Annotated[bool, Strict()] = False
    author: Author
    content_warnings: tuple[ContentWarning, ...]
    themes: tuple[Slug, ...] = ()
    situation: Medium
    what_i_did: Medium
    what_changed: Medium
    what_helped: Annotated[MaybeMedium, Field(validate_default=True)] = ""
    techniques: Annotated[tuple[Slug, ...], Field(min_length=1)]
    reviewed: Review | None = None
    locale: Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"

    @field_validator("what_helped")
    @classmethod
    def _show_the_way_through(cls, value: str, info: ValidationInfo) -> str:
        heavy = WARNINGS_NEEDING_WHAT_HELPED.intersection(info.data.get("content_warnings", ()))
        if heavy and not value.strip():
            names = ", ".join(sorted(w.value for w in heavy))
            raise ValueError(
                f"a story with the content warning {names} must say `what_helped`: "
                "stories show the way through, not only the pain"
            )
        return value


class Prompt(_Model):
    id: Slug
    kind: PromptKind
    text: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
    ]
    themes: tuple[Slug, ...] = ()
    content_warnings: tuple[ContentWarning, ...] = ()


class PromptFile(_Model):
    prompts: Annotated[tuple[Prompt, ...], Field(min_length=1)]


class ResourceEntry(_Model):
    name: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    how: Annotated[tuple[ContactMethod, ...], Field(min_length=1)]
    contact: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    hours: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    description: Short
    url: Annotated[str, Strict(), StringConstraints(pattern=r"^https?://\S+$")] | None = None
    source: Annotated[str, Strict(), StringConstraints(pattern=r"^https?://\S+$")]
    last_verified: Date


INTERNATIONAL = "INTL"
# A country's emergency number as members dial it: "911", or several that all work,
# the first one best known: "999 or 112".
EMERGENCY_NUMBERS = r"^[0-9]{2,4}( or [0-9]{2,4})*$"
_EMERGENCY_NUMBERS_RE = re.compile(EMERGENCY_NUMBERS)


class ResourceRegion(_Model):
    region: Annotated[str, Strict(), StringConstraints(pattern=r"^([A-Z]{2}|INTL)$")]
    name: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
    ]
    # What to call in immediate danger, shown on every crisis and support-lines card for
    # the region: the number itself for a country, words for the international directory.
    emergency: Annotated[
        str,
        Strict(),
        StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
        Field(
            description=(
                'The emergency number, e.g. "911", or several as "999 or 112"; for INTL, '
                '"your local emergency number"'
            )
        ),
    ]
    locales: tuple[
        Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")], ...
    ] = ()
    entries: Annotated[tuple[ResourceEntry, ...], Field(min_length=1)]

    @field_validator("emergency")
    @classmethod
    def _a_number_to_dial(cls, value: str, info: ValidationInfo) -> str:
        region = info.data.get("region")
        if region is None or region == INTERNATIONAL:
            return value
        if not _EMERGENCY_NUMBERS_RE.match(value):
            raise ValueError(
                f'write the number a member dials in an emergency, like "911", or several '
                f'as "999 or 112"; got {value!r}'
            )
        return value


class Cue(_Model):
    """Words that point, for one feeling, at one technique mainly for it: "what if" at
    worry time, for anxious."""

    technique: Slug
    words: Annotated[
        tuple[Annotated[str, Strict(), StringConstraints(min_length=1, max_length=60)], ...],
        Field(min_length=1),
    ]


class Feeling(_Model):
    id: Slug
    label: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=40)
    ]
    emoji: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=8)]
    words: tuple[Annotated[str, Strict(), StringConstraints(min_length=1, max_length=60)], ...] = ()
    # The techniques peer specialists offer first for this feeling, in order (ids of
    # techniques mainly for it): among the cards that fit equally, /cope shows these first.
    first: tuple[Slug, ...] = ()
    # What the member's own words point at (`Cue`): among the cards that fit equally, the
    # one they point at comes before the first choices ("spiralling with what ifs" is
    # helped with worry time, though specialists offer box breathing first for anxious).
    cues: tuple[Cue, ...] = ()

    @model_validator(mode="after")
    def _plain_emoji(self) -> Feeling:
        # U+FE0F makes Discord pick a different glyph per platform, and a button whose
        # emoji has it can be rejected; write the emoji without it.
        if "\ufe0f" in self.emoji:
            raise ValueError(
                "the emoji contains an invisible variation selector (U+FE0F); remove it"
            )
        return self


class Theme(_Model):
    id: Slug
    label: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=60)
    ]


# The check-in's feelings menu lists every feeling, and a Discord select menu holds at
# most 25 options.
SELECT_OPTIONS_LIMIT = 25


class Vocabulary(_Model):
    feelings: Annotated[tuple[Feeling, ...], Field(min_length=1, max_length=SELECT_OPTIONS_LIMIT)]
    themes: tuple[Theme, ...] = ()
