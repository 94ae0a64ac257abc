"""The relevance set: member phrasings with the techniques a specialist would accept first.

Kept in `content/relevance/`: every `tuned*.yaml` file is the tuned split, which the
ranking may be adjusted against; every `holdout*.yaml` file is the holdout, each written
before a round of ranking changes and only ever scored. `peerlight content eval` reads
them all (see `bot.domain.evaluation`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, Strict, StringConstraints

from bot.domain.content import Area, Audience, Slug, _Model

# A technique is judged on the first card, so a case names the few a specialist would
# accept there; more would make any pick look right.
MAX_ACCEPTED = 3


class Split(StrEnum):
    TUNED = "tuned"
    HOLDOUT = "holdout"


class RelevanceCase(_Model):
    text: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    feelings: Annotated[tuple[Slug, ...], Field(min_length=1, max_length=3)]
    accept: Annotated[tuple[Slug, ...], Field(min_length=1, max_length=MAX_ACCEPTED)]
    area: Area | None = None
    audience: Audience = Audience.SELF


class RelevanceSet(_Model):
    split: Split
    cases: Annotated[tuple[RelevanceCase, ...], Field(min_length=1)]
