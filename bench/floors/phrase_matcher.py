"""Crisis-language detection over the free text a member gives the bot.

The phrase lists live in `bench/floors/crisis_phrases.yaml` (the bot's lists before its
rules, kept as this floor's); this module only does the mechanics. It is deliberately
a transparent list matcher, not a classifier: every decision can be traced to one line of
that file, and a false alarm costs no more than showing crisis resources (SAFETY.md §1).

Matching is on whole words, after the member's text and the listed phrases have gone
through the same normalisation, so a phrase written once matches its many spellings.
Double letters count the same as single ones, so "kill", "kil" and "killllll" agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from itertools import product
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

__all__ = [
    "WILDCARD",
    "CrisisDetector",
    "CrisisLevel",
    "CrisisMatch",
    "CrisisPhrases",
    "normalise",
]

WILDCARD = "*"
# A clause boundary in the normalised word stream. Phrases match across it (so
# "want to... die" still matches) but a negation never reaches over it ("no, I want to die").
_BREAK = "|"


class CrisisLevel(IntEnum):
    NONE = 0
    DISTRESS = 1
    HELPER = 2
    DANGER = 3


@dataclass(frozen=True, slots=True)
class CrisisMatch:
    """The strongest signal in a text. `phrase` is the list entry as written in the file,
    never the member's words, so it is safe to count in logs."""

    level: CrisisLevel
    phrase: str


NO_MATCH = CrisisMatch(CrisisLevel.NONE, "")


# -- normalisation -------------------------------------------------------------------------

# Typography that NFKC leaves alone but phones substitute as people type. Mapping it to
# ASCII first also lets most real messages take the fast ASCII path below.
_TYPOGRAPHY = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u02b9": "'",
    "\u02bb": "'",
    "\u02bc": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2028": "\n",
    "\u2029": "\n",
}
_TYPOGRAPHY_RE = re.compile("[" + "".join(_TYPOGRAPHY) + "]")
# Latin diacritics only: marks that other scripts need to spell a word are left in place.
_ACCENTS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_CLAUSE_CHARS = ".,;:!?|\n\r"
_CLAUSE_RE = re.compile(f"[{re.escape(_CLAUSE_CHARS)}]+")
_NON_WORD_RE = re.compile(f"[^\\w\\s{re.escape(_CLAUSE_CHARS)}]+|_+")
_RUN3_RE = re.compile(r"([^\W\d_])\1{2,}")
_SQUEEZE_RE = re.compile(r"(\S)\1+")
_HAS_WORD_CHAR_RE = re.compile(r"[^\W_]")
_LETTER_RE = re.compile(r"[^\W\d_]")


def _ascii_table() -> dict[int, str | None]:
    # One translate() over plain-ASCII text does the work of the two regexes above.
    table: dict[int, str | None] = {}
    for code in range(128):
        ch = chr(code)
        if ch.isalnum():
            continue
        if ch in _CLAUSE_CHARS:
            table[code] = f" {_BREAK} "
        else:
            table[code] = " "
    return table


_ASCII_TABLE = _ascii_table()

# Per-word results are memoised, since members reuse a small vocabulary. A cache is
# emptied when it passes this size, so unusual input can't make it grow without bound.
_CACHE_LIMIT = 50_000


def _fold(text: str) -> str:
    """Case, compatibility forms, Latin accents and typographic quotes folded away."""
    if text.isascii():
        return text.lower()
    text = _typography(text)
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    text = _ACCENTS_RE.sub("", _typography(text))
    return unicodedata.normalize("NFC", text)


def _typography(text: str) -> str:
    return _TYPOGRAPHY_RE.sub(lambda match: _TYPOGRAPHY[match.group(0)], text)


def _held_down_readings(token: str) -> tuple[str, ...]:
    """The readings of a word whose letters were held down: each run of three or more
    becomes two letters or one, because "killll" means "kill" but "diiie" means "die".
    The first reading (every run as two) is the one shown."""
    runs = list(_RUN3_RE.finditer(token))
    if not runs:
        return (token,)
    if len(runs) > 4:  # keep the fan-out small for keyboard mashing
        return (_RUN3_RE.sub(r"\1\1", token), _RUN3_RE.sub(r"\1", token))
    pieces: list[tuple[str, ...]] = []
    last = 0
    for run in runs:
        pieces.append((token[last : run.start()],))
        pieces.append((run.group(1) * 2, run.group(1)))
        last = run.end()
    pieces.append((token[last:],))
    return tuple("".join(choice) for choice in product(*pieces))


def _squeeze(text: str) -> str:
    return _SQUEEZE_RE.sub(r"\1", text)


# A spelling: the words it replaces and the words it is replaced by.
_Spelling = tuple[tuple[str, ...], tuple[str, ...]]
# What the normaliser knows about one raw word: how it is shown, every reading of it, and
# the spellings that could start at it (longest first).
_WordInfo = tuple[str, tuple[str, ...], tuple[_Spelling, ...]]


class _Normaliser:
    """Turns text into the word list that phrases are matched against."""

    __slots__ = (
        "_cache",
        "_leet",
        "_leet_probe",
        "_leet_symbols",
        "_leet_word",
        "_spellings",
    )

    def __init__(self, spellings: Mapping[str, str], leetspeak: Mapping[str, str]) -> None:
        self._leet = str.maketrans(dict(leetspeak))
        escaped = "".join(re.escape(ch) for ch in leetspeak)
        self._leet_probe = re.compile(f"[{escaped}]") if leetspeak else None
        # A word for this purpose is letters, digits and look-alike symbols, so "0.a0"
        # holds two words however it is later spaced.
        self._leet_word = re.compile(f"(?:[^\\W_]|[{escaped}])+" if leetspeak else r"[^\W_]+")
        symbols = "".join(re.escape(ch) for ch in leetspeak if not ch.isalnum())
        self._leet_symbols = re.compile(f"[{symbols}]+") if symbols else None
        by_first: dict[str, list[_Spelling]] = {}
        for key, value in spellings.items():
            key_words = tuple(key.split())
            if key_words:
                by_first.setdefault(key_words[0], []).append((key_words, tuple(value.split())))
        self._spellings = {
            first: sorted(options, key=lambda option: -len(option[0]))
            for first, options in by_first.items()
        }
        self._cache: dict[str, _WordInfo] = {}

    def words(self, text: str) -> list[str]:
        """Normalised words, with `_BREAK` between clauses (never first, last or doubled)."""
        text = _fold(text)
        if "'" in text or "`" in text:
            text = text.replace("'", "").replace("`", "")  # "don't" -> "dont"
        if self._leet_probe is not None and self._leet_probe.search(text):
            text = self._leet_word.sub(self._deleet, text)
        if text.isascii():
            text = text.translate(_ASCII_TABLE)
        else:
            text = _CLAUSE_RE.sub(f" {_BREAK} ", _NON_WORD_RE.sub(" ", text))
        return self._respell(text.split())

    def _deleet(self, match: re.Match[str]) -> str:
        return self._deleet_word(match.group(0))

    def _deleet_word(self, word: str) -> str:
        # Only in words: "su1c1de" and "$uicide" are words; "3am", "24hrs", "100%" are not.
        if _LETTER_RE.search(word) and not word[0].isdigit():
            return word.translate(self._leet)
        # Elsewhere a symbol is punctuation, and what it separates is looked at on its own,
        # so the result is the same however the text was spaced ("0@a0" -> "0 ao").
        parts = self._leet_symbols.split(word) if self._leet_symbols is not None else [word]
        if len(parts) == 1:
            return word
        return " ".join(self._deleet_word(part) for part in parts if part)

    def _info(self, token: str) -> _WordInfo:
        info = self._cache.get(token)
        if info is None:
            readings = _held_down_readings(token)
            options = tuple(
                option for reading in readings for option in self._spellings.get(reading, ())
            )
            info = (readings[0], readings, options)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = info
        return info

    def _respell(self, raw: list[str]) -> list[str]:
        cache = self._cache
        out: list[str] = []
        count = len(raw)
        i = 0
        while i < count:
            token = raw[i]
            if token == _BREAK:
                if out and out[-1] != _BREAK:
                    out.append(_BREAK)
                i += 1
                continue
            shown, _, options = cache.get(token) or self._info(token)
            # Shorthand straight after a number is a unit ("ran 5 kms"), not shorthand.
            if options and not (i and raw[i - 1].isdigit()):
                replaced = self._replace(raw, i, options, out)
                if replaced:
                    i += replaced
                    continue
            out.append(shown)
            i += 1
        if out and out[-1] == _BREAK:
            out.pop()
        return out

    def _replace(
        self, raw: list[str], start: int, options: tuple[_Spelling, ...], out: list[str]
    ) -> int:
        """Applies the longest spelling that starts at `start`; how many tokens it took.
        Like phrases, a spelling of several words reads across punctuation ("i. m")."""
        for key, value in options:
            taken = 1
            for word in key[1:]:
                while start + taken < len(raw) and raw[start + taken] == _BREAK:
                    taken += 1
                if start + taken == len(raw) or word not in self._info(raw[start + taken])[1]:
                    break
                taken += 1
            else:
                out.extend(value)
                return taken
        return 0


def normalise(
    text: str,
    spellings: Mapping[str, str],
    *,
    leetspeak: Mapping[str, str] | None = None,
) -> str:
    """The text as the matcher reads it: case-folded, accents and punctuation removed,
    letters held down shortened to two, shorthand from `spellings` written out, and (when
    a `leetspeak` map is given) digits and symbols used as letters inside words read as
    those letters. Double letters are kept here; the matcher treats them as single."""
    leetspeak = leetspeak or {}
    normaliser = _Normaliser(_normalised_spellings(spellings, leetspeak), leetspeak)
    return " ".join(word for word in normaliser.words(text) if word != _BREAK)


# -- the file's model ----------------------------------------------------------------------

_REGEX_LOOKING_RE = re.compile(r"[()\[\]{}\\^+|<>]")


def _problem(message: str) -> PydanticCustomError:
    # The message travels in the context so that braces in a quoted phrase stay literal.
    return PydanticCustomError("crisis_phrases", "{problem}", {"problem": message})


def _check_text(value: str, *, wildcards: bool) -> str:
    stripped = value.strip()
    if not stripped:
        raise _problem("is empty; write a phrase or remove the line")
    if found := _REGEX_LOOKING_RE.search(stripped):
        raise _problem(
            f"{value!r} contains {found.group(0)!r}; write plain words (patterns are not "
            "supported, and a lone * is the only special mark)"
        )
    words = stripped.split()
    for word in words:
        if WILDCARD in word and (word != WILDCARD or not wildcards):
            where = "must stand alone as a word" if wildcards else "is not allowed here"
            raise _problem(f"{value!r}: the * wildcard {where}")
    if wildcards and WILDCARD in (words[0], words[-1]):
        raise _problem(f"{value!r}: a phrase can't start or end with the * wildcard")
    if not _HAS_WORD_CHAR_RE.search(stripped.replace(WILDCARD, "")):
        raise _problem(f"{value!r} has no letters or digits, so nothing would be left to match")
    return value


def _check_phrase(value: str) -> str:
    return _check_text(value, wildcards=True)


def _check_plain(value: str) -> str:
    return _check_text(value, wildcards=False)


def _check_leet_key(value: str) -> str:
    if len(value) != 1 or value.isalpha() or value.isspace() or value in "'`*":
        raise _problem(f"{value!r}: each key is one digit or symbol that stands for a letter")
    return value


def _check_leet_letter(value: str) -> str:
    if len(value) != 1 or not ("a" <= value <= "z"):
        raise _problem(f"{value!r}: each value is one lower-case letter a-z")
    return value


Phrase = Annotated[str, AfterValidator(_check_phrase)]
PlainText = Annotated[str, AfterValidator(_check_plain)]
LeetKey = Annotated[str, AfterValidator(_check_leet_key)]
LeetLetter = Annotated[str, AfterValidator(_check_leet_letter)]


class CrisisPhrases(BaseModel):
    """`bench/floors/crisis_phrases.yaml`; the file's header explains every section.

    Besides each entry's own checks, validation compiles the lists and reports, all at
    once and each at its entry: duplicates (also after normalisation), a phrase in both
    tiers, a tier phrase that is not found when it stands alone, and a harmless phrase that
    has nothing to cancel."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    danger: list[Phrase] = Field(min_length=1)
    distress: list[Phrase] = Field(min_length=1)
    harmless: list[Phrase] = Field(default_factory=list)
    negations: list[PlainText] = Field(default_factory=list)
    negation_window: int = Field(default=4, ge=0, le=8)
    negation_bridges: list[PlainText] = Field(default_factory=list)
    spellings: dict[PlainText, PlainText] = Field(default_factory=dict)
    leetspeak: dict[LeetKey, LeetLetter] = Field(default_factory=dict)

    _detector: CrisisDetector | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compiles(self) -> CrisisPhrases:
        problems: list[InitErrorDetails] = []
        spellings = _normalised_spellings(self.spellings, self.leetspeak, problems)
        if problems:  # every phrase depends on the spellings, so stop at their problems
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        compiled = _Compiled(self, spellings)
        detector = CrisisDetector(compiled)
        problems.extend(compiled.problems)
        problems.extend(detector._self_check())
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        self._detector = detector
        return self


def _normalised_spellings(
    spellings: Mapping[str, str],
    leetspeak: Mapping[str, str],
    problems: list[InitErrorDetails] | None = None,
) -> dict[str, str]:
    """Keys and values in the form the matcher sees, so `don't` and `dont` are one key."""
    base = _Normaliser({}, leetspeak)
    normalised: dict[str, str] = {}
    written_as: dict[str, str] = {}
    for key, value in spellings.items():
        norm_key = " ".join(w for w in base.words(key) if w != _BREAK)
        norm_value = " ".join(w for w in base.words(value) if w != _BREAK)
        message = None
        if not norm_key or not norm_value:
            message = f"{key!r}: {value!r} has nothing left once normalised"
        elif norm_key == norm_value:
            message = f"{key!r} is replaced by itself; remove it"
        elif norm_key in written_as:
            message = f"{key!r} is the same as {written_as[norm_key]!r} once normalised; keep one"
        if message is not None:
            if problems is not None:
                problems.append(
                    {"type": _problem(message), "loc": ("spellings", key), "input": key}
                )
            continue
        written_as[norm_key] = key
        normalised[norm_key] = norm_value
    return normalised


# -- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    written: str  # as in the file, which is what a match reports
    level: CrisisLevel
    words: tuple[str, ...]  # normalised and squeezed; WILDCARD marks an optional word
    section: str
    position: int


@dataclass(frozen=True, slots=True)
class _Pattern:
    """One concrete reading of an entry: each `*` either left out or standing for any
    single word (None)."""

    entry: _Entry
    words: tuple[str | None, ...]
    exact: bool


# Patterns indexed by first word: (one-word patterns, by second word, any second word).
_Head = tuple[tuple[_Pattern, ...], dict[str, tuple[_Pattern, ...]], tuple[_Pattern, ...]]
_Index = dict[str, _Head]


def _readings(words: tuple[str, ...]) -> Iterator[tuple[str | None, ...]]:
    options: list[tuple[tuple[str | None, ...], ...]] = [
        ((), (None,)) if word == WILDCARD else ((word,),) for word in words
    ]
    for combination in product(*options):
        yield tuple(word for part in combination for word in part)


def _build_index(entries: Iterable[_Entry]) -> _Index:
    singles: dict[str, list[_Pattern]] = {}
    by_second: dict[str, dict[str, list[_Pattern]]] = {}
    any_second: dict[str, list[_Pattern]] = {}
    for entry in entries:
        for words in _readings(entry.words):
            pattern = _Pattern(entry, words, None not in words)
            first = words[0]
            assert first is not None  # a phrase can't start with *
            by_second.setdefault(first, {})
            if len(words) == 1:
                singles.setdefault(first, []).append(pattern)
            elif words[1] is None:
                any_second.setdefault(first, []).append(pattern)
            else:
                by_second[first].setdefault(words[1], []).append(pattern)

    def ordered(patterns: Iterable[_Pattern]) -> tuple[_Pattern, ...]:
        # Strongest and longest first, so the first usable danger match can end a search.
        return tuple(sorted(patterns, key=lambda p: (-p.entry.level, -len(p.words))))

    return {
        first: (
            ordered(singles.get(first, ())),
            {second: ordered(group) for second, group in seconds.items()},
            ordered(any_second.get(first, ())),
        )
        for first, seconds in by_second.items()
    }


def _matches(index: _Index, words: tuple[str, ...]) -> Iterator[tuple[_Pattern, int, int]]:
    """Every (pattern, start, end) found in `words`, in text order."""
    count = len(words)
    for start, word in enumerate(words):
        head = index.get(word)
        if head is None:
            continue
        singles, by_second, any_second = head
        for pattern in singles:
            yield pattern, start, start + 1
        if start + 1 == count:
            continue
        for group in (by_second.get(words[start + 1], ()), any_second):
            for pattern in group:
                end = start + len(pattern.words)
                if end > count:
                    continue
                if pattern.exact:
                    if words[start:end] == pattern.words:
                        yield pattern, start, end
                elif all(
                    want is None or want == got
                    for want, got in zip(pattern.words, words[start:end], strict=True)
                ):
                    yield pattern, start, end


class _Compiled:
    """The file turned into lookup tables, plus anything found wrong on the way."""

    def __init__(self, phrases: CrisisPhrases, spellings: Mapping[str, str]) -> None:
        self.problems: list[InitErrorDetails] = []
        self.normaliser = _Normaliser(spellings, phrases.leetspeak)
        self.window = phrases.negation_window

        # Keyed by every concrete reading, so `want to die` next to `want to * die` is
        # caught as well as a plain duplicate.
        owners: dict[tuple[str | None, ...], _Entry] = {}
        self.tiers: list[_Entry] = []
        for section, level in (("danger", CrisisLevel.DANGER), ("distress", CrisisLevel.DISTRESS)):
            for position, written in enumerate(getattr(phrases, section)):
                entry = self._entry(written, level, section, position)
                if entry is not None and self._unique(entry, owners):
                    self.tiers.append(entry)
        harmless_owners: dict[tuple[str | None, ...], _Entry] = {}
        self.harmless: list[_Entry] = []
        for position, written in enumerate(phrases.harmless):
            entry = self._entry(written, CrisisLevel.NONE, "harmless", position)
            if entry is not None and self._unique(entry, harmless_owners):
                self.harmless.append(entry)

        self.tier_index = _build_index(self.tiers)
        self.harmless_index = _build_index(self.harmless)

        # Indexed by last word: the search walks backwards from a phrase.
        self.negations: dict[str, list[tuple[str, ...]]] = {}
        negation_seen: dict[tuple[str, ...], str] = {}
        for position, written in enumerate(phrases.negations):
            words = self._words(written)
            if words in negation_seen:
                self._report_at(
                    ("negations", position),
                    written,
                    f"{written!r} is the same as {negation_seen[words]!r} once normalised "
                    "(contractions are written out first); keep one",
                )
                continue
            negation_seen[words] = written
            self.negations.setdefault(words[-1], []).append(words)

        bridges: set[str] = set()
        for position, written in enumerate(phrases.negation_bridges):
            words = self._words(written)
            if len(words) != 1:
                self._report_at(
                    ("negation_bridges", position),
                    written,
                    f"{written!r} becomes {' '.join(words)!r}; each entry must be one word",
                )
            elif words[0] in bridges:
                self._report_at(
                    ("negation_bridges", position), written, f"{written!r} is listed twice"
                )
            else:
                bridges.add(words[0])
        self.bridges = frozenset(bridges)

    def _words(self, written: str) -> tuple[str, ...]:
        words = [w for w in self.normaliser.words(written) if w != _BREAK]
        return tuple(_squeeze(" ".join(words)).split())

    def _entry(
        self, written: str, level: CrisisLevel, section: str, position: int
    ) -> _Entry | None:
        words: list[str] = []
        for part in re.split(r"(?:^|\s)\*(?=\s|$)", written):
            words.extend(self._words(part))
            words.append(WILDCARD)
        words.pop()
        entry = _Entry(written, level, tuple(words), section, position)
        if all(word == WILDCARD for word in words):
            self._report(entry, f"{written!r} has nothing left to match once normalised")
            return None
        if words[0] == WILDCARD or words[-1] == WILDCARD:
            # Only reachable when the words around a * normalise to nothing.
            self._report(entry, f"{written!r} starts or ends with * once normalised")
            return None
        return entry

    def _unique(self, entry: _Entry, owners: dict[tuple[str | None, ...], _Entry]) -> bool:
        readings = list(_readings(entry.words))
        for reading in readings:
            owner = owners.get(reading)
            if owner is None:
                continue
            where = "" if owner.section == entry.section else f" in {owner.section}"
            relation = "the same as" if owner.words == entry.words else "already matched by"
            self._report(
                entry,
                f"{entry.written!r} is {relation} {owner.written!r}{where} once normalised; "
                "keep one",
            )
            return False
        owners.update(dict.fromkeys(readings, entry))
        return True

    def _report(self, entry: _Entry, message: str) -> None:
        self._report_at((entry.section, entry.position), entry.written, message)

    def _report_at(self, loc: tuple[str | int, ...], given: object, message: str) -> None:
        self.problems.append({"type": _problem(message), "loc": loc, "input": given})


class CrisisDetector:
    """Finds the strongest crisis signal in a text. Build once; `detect` is cheap."""

    __slots__ = (
        "_bridges",
        "_compiled",
        "_harmless",
        "_negations",
        "_normaliser",
        "_squeezed",
        "_tiers",
        "_window",
    )

    def __init__(self, compiled: _Compiled) -> None:
        self._compiled = compiled
        self._normaliser = compiled.normaliser
        self._tiers = compiled.tier_index
        self._harmless = compiled.harmless_index
        self._negations = compiled.negations
        self._bridges = compiled.bridges
        self._window = compiled.window
        self._squeezed: dict[str, str] = {}

    @classmethod
    def from_phrases(cls, phrases: CrisisPhrases) -> CrisisDetector:
        """The detector for a validated file (validation already compiled it)."""
        if phrases._detector is None:  # built with model_construct(), so never validated
            phrases = CrisisPhrases.model_validate(phrases.model_dump())
        assert phrases._detector is not None
        return phrases._detector

    def normalise(self, text: str) -> str:
        """The text as this detector reads it, with this file's spellings."""
        return " ".join(w for w in self._normaliser.words(text) if w != _BREAK)

    def detect(self, text: str) -> CrisisMatch:
        """The strongest signal in `text`: DANGER, else DISTRESS, else NONE."""
        words, breaks = self._prepare(text)
        best: _Entry | None = None
        harmless: list[tuple[int, int]] | None = None
        for pattern, start, end in _matches(self._tiers, words):
            entry = pattern.entry
            if best is not None and entry.level <= best.level:
                continue
            if harmless is None:
                harmless = [(s, e) for _, s, e in _matches(self._harmless, words)]
            if any(s <= start and end <= e for s, e in harmless):
                continue
            if self._negated(start, words, breaks):
                continue
            best = entry
            if entry.level is CrisisLevel.DANGER:
                break
        return NO_MATCH if best is None else CrisisMatch(best.level, best.written)

    def detect_all(self, *texts: str | None) -> CrisisMatch:
        """The strongest signal across several free-text options; None is skipped."""
        best = NO_MATCH
        for text in texts:
            if not text:
                continue
            found = self.detect(text)
            if found.level > best.level:
                best = found
                if found.level is CrisisLevel.DANGER:
                    break
        return best

    # -- internals -------------------------------------------------------------------------

    def _prepare(self, text: str) -> tuple[tuple[str, ...], frozenset[int]]:
        """Squeezed words, and where the clause breaks are (a break at `i` sits just
        before `words[i]`)."""
        cache = self._squeezed
        words: list[str] = []
        breaks: list[int] = []
        for word in self._normaliser.words(text):
            if word == _BREAK:
                breaks.append(len(words))
                continue
            squeezed = cache.get(word)
            if squeezed is None:
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                squeezed = cache[word] = _squeeze(word)
            words.append(squeezed)
        return tuple(words), frozenset(breaks)

    def _negated(self, start: int, words: tuple[str, ...], breaks: frozenset[int]) -> bool:
        """Whether a negation governs the phrase at `start`: it comes just before it, or
        with at most `negation_window` bridge words between ("not GOING TO hurt myself"),
        and no clause break in the way."""
        j = start
        gap = 0
        while j > 0 and j not in breaks:
            for cue in self._negations.get(words[j - 1], ()):
                begin = j - len(cue)
                if (
                    begin >= 0
                    and words[begin:j] == cue
                    and not any(b in breaks for b in range(begin + 1, j))
                ):
                    return True
            if gap < self._window and words[j - 1] in self._bridges:
                gap += 1
                j -= 1
                continue
            return False
        return False

    def _self_check(self) -> Iterator[InitErrorDetails]:
        """Every listed phrase must be found when it stands alone (so the list can't hold a
        phrase the matcher never matches), and every harmless phrase must contain
        something to cancel."""
        compiled = self._compiled
        for entry in compiled.tiers:
            alone = entry.written.replace(WILDCARD, " ")
            if self.detect(alone).level >= entry.level:
                continue
            words, _ = self._prepare(alone)
            covering = [p.entry.written for p, _, _ in _matches(self._harmless, words)]
            reason = (
                f"harmless {covering[0]!r} cancels it"
                if covering
                else "its words read differently once spellings apply to the whole phrase"
            )
            yield {
                "type": _problem(f"{entry.written!r} is not found when it stands alone: {reason}"),
                "loc": (entry.section, entry.position),
                "input": entry.written,
            }
        for entry in compiled.harmless:
            words, _ = self._prepare(entry.written.replace(WILDCARD, " "))
            if next(_matches(self._tiers, words), None) is None:
                yield {
                    "type": _problem(
                        f"{entry.written!r} contains no danger or distress phrase, so it has "
                        "nothing to cancel; remove it"
                    ),
                    "loc": ("harmless", entry.position),
                    "input": entry.written,
                }
