"""Values a member picks from a fixed list, read from whatever they typed for them.

Some command options take names from a fixed list: the content notes a member wants to
leave out of a story (`/story skip`), the region whose support lines they want
(`/resources region`). Members type these the way people do: "suicide, self harm",
"Suicide/Self-Harm", "suicide and relapse", "self harm substance use", "U.K.", "untied
kingdom". A name is recognised across separators (commas, semicolons, slashes, "and",
"or", plain spaces), spacing, case, accents, dots, a hyphen written as a space or left out,
and one typo (a letter added, dropped, changed or two swapped) in a name of four letters
or more.

A name picked from a list is a choice, not something a member says about themselves:
skipping stories about suicide is not a sign of danger. What is left over is the member's
own words, and is read as such (the crisis detector sees it). The line is drawn per part
of the list: a name counts as a choice while only names and connecting words ("the",
"please", "stories about") come before it in its part; from the first other word to the
end of that part, everything is left over as it was typed, so "suicide, I want to self
harm" leaves "I want to self harm" for the detector rather than eating "self harm" as a
choice.

Pure: no discord, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.domain.catalog import fold
from bot.domain.content import ContentWarning, ResourceRegion

T = TypeVar("T")

# Where one item of a list ends and the next begins.
_SEPARATORS = re.compile(r"[,;/|&+\n]+|\s+(?:and|or|plus)\s+", re.IGNORECASE)
# A word as typed: anything between spaces, hyphens and underscores.
_WORD = re.compile(r"[^\s\-_\u2010-\u2015]+")
# Dots, quotes and apostrophes inside or around a word do not change which name it is:
# "U.K." is "uk", "I'm" is "im".
_IGNORED_MARKS = str.maketrans("", "", ".'\"`\u2018\u2019\u201c\u201d()[]!?:")
# A typo is only forgiven in names at least this long: "us" must not become "uk".
TYPO_MIN_LENGTH = 4


def _key(word: str) -> str:
    return fold(word).translate(_IGNORED_MARKS)


def _keys_of(name: str) -> tuple[str, ...]:
    return tuple(k for k in (_key(w) for w in _WORD.findall(name)) if k)


def within_one_edit(a: str, b: str) -> bool:
    """Whether `a` becomes `b` by at most one insertion, deletion, substitution or swap of
    two neighbouring letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """What a member typed, read as choices: the values named, in the order first named,
    and the words that named nothing, as typed."""

    chosen: tuple[T, ...]
    # The words that named nothing, one entry per part of the list they were in.
    leftover_parts: tuple[str, ...] = ()

    @property
    def leftover(self) -> str:
        return ", ".join(self.leftover_parts)

    @property
    def has_leftover(self) -> bool:
        return bool(self.leftover_parts)


class Choices(Generic[T]):
    """A fixed list of values, each with the names a member may type for it."""

    def __init__(self, names: Iterable[tuple[str, T]], *, connecting: Iterable[str] = ()) -> None:
        self._spaced: dict[tuple[str, ...], T] = {}
        self._compact: dict[str, T] = {}
        for name, value in names:
            keys = _keys_of(name)
            if not keys:
                raise ValueError(f"a choice needs a name with letters in it, got {name!r}")
            compact = "".join(keys)
            if self._spaced.get(keys, value) != value or self._compact.get(compact, value) != value:
                raise ValueError(f"the name {name!r} stands for two different choices")
            self._spaced[keys] = value
            self._compact[compact] = value
        self._longest = max((len(k) for k in self._spaced), default=1)
        self._connecting = frozenset(k for w in connecting for k in _keys_of(w))

    def parse(self, text: str) -> Parsed[T]:
        chosen: list[T] = []
        leftover: list[str] = []
        for part in _SEPARATORS.split(text):
            words = _WORD.findall(part)
            keys = [_key(w) for w in words]
            position = 0
            after_name = 0  # where the words after the last name found begin
            while position < len(words):
                found = self._name_at(keys, position) if keys[position] else None
                if found is not None:
                    value, length = found
                    if value not in chosen:
                        chosen.append(value)
                    position += length
                    after_name = position
                elif not keys[position] or keys[position] in self._connecting:
                    position += 1
                else:
                    # The member's own words to the end of this part, as typed, with the
                    # joining words before them: "I am done" stays "I am done".
                    leftover.append(" ".join(_rest(part, words, after_name).split()))
                    break
        return Parsed(tuple(chosen), tuple(leftover))

    def _name_at(self, keys: list[str], position: int) -> tuple[T, int] | None:
        """The longest name starting at `position`, exact first, then with one typo."""
        for length in range(min(self._longest, len(keys) - position), 0, -1):
            span = tuple(keys[position : position + length])
            if not all(span):
                continue
            if span in self._spaced:
                return self._spaced[span], length
            compact = "".join(span)
            if compact in self._compact:
                return self._compact[compact], length
        for length in range(min(self._longest, len(keys) - position), 0, -1):
            span = tuple(keys[position : position + length])
            compact = "".join(span)
            if not all(span) or len(compact) < TYPO_MIN_LENGTH:
                continue
            close = {
                value
                for name, value in self._compact.items()
                if len(name) >= TYPO_MIN_LENGTH and within_one_edit(compact, name)
            }
            if len(close) == 1:
                return close.pop(), length
        return None


def _rest(part: str, words: list[str], position: int) -> str:
    """The text of `part` from its `position`th word on."""
    offset = 0
    for index, word in enumerate(words):
        offset = part.index(word, offset)
        if index == position:
            return part[offset:]
        offset += len(word)
    return ""


# -- the lists members pick from --------------------------------------------------------------

# Words that join the names in a list without naming anything: "no stories about suicide
# or self harm please". None of them can start a sentence about oneself ("want", "to",
# "I" are not here), so "want to self harm" is read as words, not as a choice.
SKIP_CONNECTING = (
    "no",
    "not",
    "without",
    "skip",
    "leave",
    "out",
    "please",
    "any",
    "anything",
    "stories",
    "story",
    "about",
    "with",
    "mention",
    "mentions",
    "mentioning",
    "content",
    "note",
    "notes",
    "warning",
    "warnings",
    "the",
    "of",
)
REGION_CONNECTING = (
    "i",
    "im",
    "am",
    "in",
    "the",
    "from",
    "live",
    "living",
    "based",
    "country",
    "region",
    "please",
    "lines",
    "for",
)
# Other names members use for a region, for the regions the library has a file for.
REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "GB": (
        "UK",
        "Britain",
        "Great Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "US": ("USA", "America", "United States of America"),
    "IE": ("Eire", "Éire", "Republic of Ireland"),
    "INTL": ("International", "Worldwide", "Anywhere", "World"),
}


def content_warning_choices(labels: Mapping[ContentWarning, str]) -> Choices[ContentWarning]:
    """Content notes by value ("self-harm"), label ("substance use") and a few everyday
    words for them."""
    names: list[tuple[str, ContentWarning]] = []
    for warning in ContentWarning:
        names.append((warning.value, warning))
        names.append((labels[warning], warning))
    names += [
        ("self injury", ContentWarning.SELF_HARM),
        ("drugs", ContentWarning.SUBSTANCE_USE),
        ("drug use", ContentWarning.SUBSTANCE_USE),
        ("alcohol", ContentWarning.SUBSTANCE_USE),
        ("drinking", ContentWarning.SUBSTANCE_USE),
        ("eating disorders", ContentWarning.EATING),
        ("eating disorder", ContentWarning.EATING),
        ("death", ContentWarning.GRIEF),
        ("loss", ContentWarning.GRIEF),
    ]
    return Choices(names, connecting=SKIP_CONNECTING)


def region_choices(regions: Iterable[ResourceRegion]) -> Choices[str]:
    """Regions by code ("GB"), name ("United Kingdom") and other names ("UK")."""
    names: list[tuple[str, str]] = []
    for region in regions:
        names.append((region.region, region.region))
        names.append((region.name, region.region))
        names += [(alias, region.region) for alias in REGION_ALIASES.get(region.region, ())]
    return Choices(names, connecting=REGION_CONNECTING)
