"""How the crisis detector reads a member's text: clauses of tokens, each with its readings.

Everything a member might do to a word, on purpose or by accident, is undone here before
any rule looks at it (see `content/safety/rules/en.yaml`, "How text is read"):

- invisible format characters (zero-width spaces, soft hyphens, joiners) are removed, so
  "ki\u200bll" is "kill";
- case, compatibility forms, accents and typographic quotes are folded, and letters from
  other scripts that look like Latin ones are read as those (Unicode's confusables data,
  passed in as `Lexicon.confusables`), so Cyrillic "\u0441" in "\u0441ommit" is "c";
- apostrophes go ("don't" is "dont", which `spellings` writes out as "do not");
- letters masked with "*" are filled in from the rules' own words ("s*icide", "k*ll");
- letters split by dots or dashes are joined ("k.m.s", "s-u-i-c-i-d-e");
- digits and symbols used as letters inside words are read as those letters ("su1c1de");
- letters typed apart are joined and split again into words ("k i l l  m y s e l f");
- a word split in two is joined when the halves are not both everyday words ("sui cide");
- shorthand is written out (`spellings`), letters held down are shortened, and double
  letters count as single ones ("killll", "kil" and "kill" agree);
- a digit between two words may also be read as a word ("want 2 die");
- a word of five or more letters that is not an ordinary English word and is one edit
  (a letter added, dropped, changed, or two swapped) from a word the rules use is also
  read as that word ("suicdie", "myslef"). Ordinary words never are: "putting", "fridge"
  and "blame" stay themselves, never "cutting", "bridge" or "blade".

Pure: the word lists it needs are handed in (`Lexicon`), and nothing here reads files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

__all__ = ["Clause", "Lexicon", "Reader", "Token", "squeeze"]

_CLAUSE_CHARS = ".,;:!?|\n\r"
_CACHE_LIMIT = 50_000
# Fuzzy reading applies to words at least this long, as typed.
FUZZY_MIN_LETTERS = 5

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


class CharMap:
    """`str.translate` for a table of single characters that are not ASCII (emoji,
    curly quotes, letters of other scripts): only the text's runs of characters beyond
    ASCII are translated. `translate` looks every character up in its table, and most of
    a long message is plain ASCII."""

    __slots__ = ("_table",)

    def __init__(self, table: Mapping[str, str]) -> None:
        if any(ch.isascii() for ch in table):
            raise ValueError("a CharMap maps characters beyond ASCII only")
        self._table = str.maketrans(dict(table))

    def __call__(self, text: str) -> str:
        if text.isascii():
            return text
        table = self._table
        return _BEYOND_ASCII_RE.sub(lambda m: m.group(0).translate(table), text)


_BEYOND_ASCII_RE = re.compile(r"[^\x00-\x7f]+")
_TYPOGRAPHY_MAP = CharMap(_TYPOGRAPHY)
# Latin diacritics only: marks that other scripts need to spell a word are left in place.
_ACCENTS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_RUN3_RE = re.compile(r"([^\W\d_])\1{2,}")
_SQUEEZE_RE = re.compile(r"(.)\1+")
_DOTTED_RE = re.compile(r"(?<![^\W_])[a-z](?:[.\-_][a-z]){2,}[.\-_]?(?![^\W_])")
# Starts only where a word starts: a match found inside a word is found from its start too,
# and trying every letter of every word made this the slowest step for long messages.
_MASKED_RE = re.compile(r"(?<![a-z])[a-z]+[*#]+[a-z][a-z*#]*")
_CAPITAL_I_RE = re.compile(r"(?<=[a-z])I+(?=[a-z]|\b)|(?<=[a-z]I)I+")
_LOWER_THEN_I_RE = re.compile(r"[a-z]I")
# What every dotted or dashed run of single letters holds (a faster scan than the full
# pattern, which looks around every letter): three letters, two separators between.
_DOTTED_HINT_RE = re.compile(r"[a-z][.\-_][a-z][.\-_][a-z]")
_CLOCK_RE = re.compile(r"(\d):(\d\d)")
_WORD_RE = re.compile(r"[^\W_]+")
_CLAUSE_MARKS_RE = re.compile(rf"([{re.escape(_CLAUSE_CHARS)}]+)")


def _wide_gaps(piece: str) -> list[bool]:
    """For each word of a clause's text, whether two or more spaces come before it (where
    letters typed apart end a word: "k i l l  m y s e l f")."""
    gaps: list[bool] = []
    last_end = 0
    for match in _WORD_RE.finditer(piece):
        begin = match.start()
        gaps.append(begin - last_end >= 2 and piece.count(" ", last_end, begin) >= 2)
        last_end = match.end()
    return gaps


@lru_cache(maxsize=1 << 16)
def squeeze(word: str) -> str:
    """Runs of one letter become one letter: "killll" and "kill" both read "kil"."""
    return _SQUEEZE_RE.sub(r"\1", word)


# Unicode's format characters (category Cf): invisible, and removed before reading.
# tests/domain/test_crisis.py checks this against unicodedata.
INVISIBLE_RE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)


@dataclass(frozen=True)
class Lexicon:
    """Word knowledge the reader needs, loaded by the storage layer.

    `english` answers whether a word is an ordinary English word (those are never read as
    another word); `confusables` maps a look-alike character to the Latin letter it
    imitates; `common` holds everyday short words that a split word's halves may be
    (so "my self" is not joined by accident, though `spellings` may say it should be)."""

    english: frozenset[str] = frozenset()
    confusables: Mapping[str, str] = field(default_factory=dict)
    common: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a clause. `readings` are what it may be read as: the word as typed
    (letters held down shortened) first, then with double letters made single, then any
    word of the rules' that it is one edit away from."""

    shown: str
    readings: tuple[str, ...]
    how: str = ""  # how an extra reading was found: shown by `crisis explain`


Clause = tuple[Token, ...]


@dataclass(frozen=True)
class _Spelling:
    words: tuple[str, ...]
    becomes: tuple[str, ...]


class Reader:
    """Turns text into clauses of tokens. Built once per rule file; `read` is cheap."""

    def __init__(
        self,
        *,
        vocabulary: Iterable[str],
        spellings: Mapping[str, str],
        leetspeak: Mapping[str, str],
        number_words: Mapping[str, Iterable[str]],
        lexicon: Lexicon,
        symbols: Mapping[str, str] | None = None,
        any_number: str = "",
        not_shorthand_with: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._not_shorthand_with = {
            short: frozenset(words) for short, words in (not_shorthand_with or {}).items()
        }
        self._any_number = (any_number,) if any_number else ()
        self._symbols = CharMap({ch: f" {words} " for ch, words in (symbols or {}).items()})
        self._confusables = CharMap(
            {ch: latin for ch, latin in lexicon.confusables.items() if len(ch) == 1}
        )
        self._leet = str.maketrans(dict(leetspeak))
        escaped = "".join(re.escape(ch) for ch in leetspeak)
        # Only words with a digit or a stand-in character in them: the rest are unchanged.
        self._leet_word = (
            re.compile(
                f"(?<![^\\W_]|[{escaped}])(?=[^\\W\\d_]*[\\d{escaped}])(?:[^\\W_]|[{escaped}])+"
            )
            if leetspeak
            else None
        )
        self._number_words = {digit: tuple(words) for digit, words in number_words.items()}
        vocabulary = [w for w in vocabulary if w]
        # The rules' own words (and their squeezed forms): what fuzzy readings, masks and
        # joins may become.
        self.vocabulary = frozenset(vocabulary) | frozenset(squeeze(w) for w in vocabulary)
        self._by_length: dict[int, list[str]] = {}
        for word in sorted(vocabulary):
            self._by_length.setdefault(len(word), []).append(word)
        self._deletions: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) >= FUZZY_MIN_LETTERS:
                key = squeeze(word)
                for variant in (key, *deletions(key)):
                    self._deletions.setdefault(variant, set()).add(word)
        # Of the English words, only those one edit from a rule word need remembering:
        # no other word can be read as a rule word.
        english = lexicon.english
        near_keys: set[str] = set()
        for word in vocabulary:
            if len(word) >= FUZZY_MIN_LETTERS - 1:
                near_keys.update(one_edit_variants(word))
                near_keys.update(one_edit_variants(squeeze(word)))
        self._english = frozenset(w for w in near_keys if w in english)
        self._common = lexicon.common
        self._spellings: dict[str, list[_Spelling]] = {}
        for key, value in spellings.items():
            words = tuple(key.split())
            if words:
                self._spellings.setdefault(words[0], []).append(
                    _Spelling(words, tuple(value.split()))
                )
        for options in self._spellings.values():
            options.sort(key=lambda s: -len(s.words))
        self._cache: dict[str, Token] = {}

    # -- the pipeline ----------------------------------------------------------------------

    def fold(self, text: str) -> str:
        """Invisible characters removed; case, look-alikes, accents and typography folded."""
        # A capital I inside a lower-case word stands for l ("kiII"); both of the
        # pattern's forms need a lower-case letter just before an I.
        if "I" in text and _LOWER_THEN_I_RE.search(text):
            text = _CAPITAL_I_RE.sub(lambda m: "l" * len(m.group(0)), text)
        if text.isascii():
            text = text.lower()
        else:
            text = self._symbols(INVISIBLE_RE.sub("", text))
            text = _TYPOGRAPHY_MAP(unicodedata.normalize("NFKC", text).casefold())
            if not text.isascii():
                text = self._confusables(text)
                text = unicodedata.normalize("NFKD", text)
                text = unicodedata.normalize("NFC", _ACCENTS_RE.sub("", text))
        if "'" in text or "`" in text:
            text = text.replace("'", "").replace("`", "")
        if ":" in text:  # a clock time ("the 7:40 train") is one word, not a clause break
            text = _CLOCK_RE.sub(r"\1\2", text)
        if "*" in text or "#" in text:
            text = _MASKED_RE.sub(self._unmask, text)
        if ("." in text or "-" in text or "_" in text) and _DOTTED_HINT_RE.search(text):
            text = _DOTTED_RE.sub(lambda m: re.sub(r"[.\-_]", "", m.group(0)), text)
        if self._leet_word is not None:
            text = self._leet_word.sub(self._deleet, text)
        return text

    def read(self, text: str) -> tuple[Clause, ...]:
        """The text as clauses of tokens."""
        return tuple(clause for clause, _ in self.read_marked(text))

    def read_marked(self, text: str) -> list[tuple[Clause, bool]]:
        """The clauses, each with whether it ended with a question mark."""
        folded = self.fold(text)
        blocked: frozenset[str] = frozenset()
        if self._not_shorthand_with and any(s in folded for s in self._not_shorthand_with):
            said = set(_WORD_RE.findall(folded))
            blocked = frozenset(
                short for short, words in self._not_shorthand_with.items() if words & said
            )
        clauses: list[tuple[Clause, bool]] = []
        # Pieces of text between runs of clause marks, and the marks: [text, marks, text...]
        pieces = _CLAUSE_MARKS_RE.split(folded)
        for index in range(0, len(pieces), 2):
            piece = pieces[index]
            words = _WORD_RE.findall(piece)
            if not words:
                continue
            asked = index + 1 < len(pieces) and "?" in pieces[index + 1]
            clauses.append((self._clause(words, piece, blocked), asked))
        return [(clause, question) for clause, question in clauses if clause]

    def _clause(
        self, words: list[str], piece: str, blocked: frozenset[str] = frozenset()
    ) -> Clause:
        """The tokens of one clause: `words` are the words of its text `piece`."""
        words = self._join_letters(words, piece)
        words = self._join_halves(words)
        words = self._respell(words, blocked)
        tokens: list[Token] = []
        cache = self._cache
        number_words = self._number_words
        for i, word in enumerate(words):
            token = cache.get(word) or self._token(word)
            if word.isalpha():  # a word without a digit is no number (most of them)
                tokens.append(token)
                continue
            readings = number_words.get(word)
            if (
                readings
                and 0 < i < len(words) - 1
                and words[i - 1].isalpha()
                and words[i + 1].isalpha()
            ):
                token = Token(token.shown, token.readings + readings, "a digit read as a word")
            if self._any_number and word.isdigit():
                token = Token(token.shown, token.readings + self._any_number, token.how)
            tokens.append(token)
        return tuple(tokens)

    # -- steps -----------------------------------------------------------------------------

    def _unmask(self, match: re.Match[str]) -> str:
        word = match.group(0)
        pattern = re.compile(re.sub(r"[*#]+", lambda m: f"[a-z]{{1,{len(m.group(0))}}}", word))
        for length in range(len(word) - word.count("*") - word.count("#") + 1, len(word) + 1):
            for candidate in self._by_length.get(length, ()):
                if pattern.fullmatch(candidate):
                    return candidate
        return word.replace("*", "").replace("#", "")

    def _deleet(self, match: re.Match[str]) -> str:
        word = match.group(0)
        # Only inside words: "su1c1de", "5u1c1d3" and "k!ll" are words; "3am", "24" and
        # "100" are not.
        # "!" and "|" are punctuation too: only between letters are they letters.
        core = word.rstrip("!|")
        tail = word[len(core) :]
        letters = sum(ch.isalpha() for ch in core)
        if core and not core.isalpha() and (core[0].isalpha() or (len(core) >= 5 and letters >= 2)):
            return core.translate(self._leet) + tail
        return word

    def _join_letters(self, words: list[str], piece: str) -> list[str]:
        """Runs of three or more single letters are joined and split again into words;
        two or more spaces in the clause's text `piece` mark where a word ended."""
        if sum(1 for w in words if len(w) == 1) < 3:
            return words
        wide_gap = _wide_gaps(piece)
        out: list[str] = []
        i = 0
        while i < len(words):
            j = i
            while j < len(words) and len(words[j]) == 1 and words[j].isalpha():
                j += 1
            if j - i >= 3:
                group: list[str] = []
                for k in range(i, j):
                    if k > i and wide_gap[k] and group:
                        out.extend(self._segment("".join(group)))
                        group = []
                    group.append(words[k])
                out.extend(self._segment("".join(group)))
                i = j
            else:
                out.append(words[i])
                i += 1
        return out

    def _known(self, word: str) -> bool:
        return word in self.vocabulary or squeeze(word) in self.vocabulary or word in self._common

    def _segment(self, letters: str) -> list[str]:
        """The fewest known words that spell `letters`, or `letters` whole."""
        if self._known(letters) or len(letters) > 40:
            return [letters]
        best: list[list[str] | None] = [None] * (len(letters) + 1)
        best[0] = []
        for end in range(1, len(letters) + 1):
            for start in range(max(0, end - 15), end):
                before = best[start]
                piece = letters[start:end]
                if before is not None and self._known(piece):
                    candidate = [*before, piece]
                    current = best[end]
                    if current is None or len(candidate) < len(current):
                        best[end] = candidate
        found = best[len(letters)]
        return found if found is not None else [letters]

    def _join_halves(self, words: list[str]) -> list[str]:
        """ "sui cide" → "suicide": two neighbours that spell one of the rules' words, when
        they are not both everyday words."""
        common = self._common
        if len(words) < 2 or common.issuperset(words):  # two everyday words are never joined
            return words
        out: list[str] = []
        i = 0
        while i < len(words):
            if i + 1 < len(words):
                a, b = words[i], words[i + 1]
                joined = a + b
                # The cheap tests first: most neighbours are two everyday words.
                if (
                    not (a in common and b in common)
                    and (len(joined) >= 4 or (len(joined) == 3 and min(len(a), len(b)) == 1))
                    and a.isalpha()
                    and b.isalpha()
                    and squeeze(joined) in self.vocabulary
                    and squeeze(a) not in self.vocabulary
                ):
                    out.append(joined)
                    i += 2
                    continue
            out.append(words[i])
            i += 1
        return out

    def _respell(self, words: list[str], blocked: frozenset[str] = frozenset()) -> list[str]:
        # Most clauses hold no shorthand and no letter held down: nothing to respell.
        if self._spellings.keys().isdisjoint(words) and not _RUN3_RE.search(" ".join(words)):
            return words
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            options = next(
                (
                    self._spellings[r]
                    for r in _held_down(word)
                    if r in self._spellings and r not in blocked
                ),
                None,
            )
            # Shorthand straight after a number is a unit ("ran 5 kms"), not shorthand.
            if options and not (i and words[i - 1].isdigit() and len(word) <= 3):
                for spelling in options:
                    end = i + len(spelling.words)
                    if end <= len(words) and all(
                        want in _held_down(w)
                        for w, want in zip(words[i:end], spelling.words, strict=True)
                    ):
                        out.extend(spelling.becomes)
                        i = end
                        break
                else:
                    out.append(word)
                    i += 1
                continue
            out.append(word)
            i += 1
        return out

    def _token(self, word: str) -> Token:
        token = self._cache.get(word)
        if token is not None:
            return token
        readings: list[str] = []
        held = _held_down(word)
        for reading in (*held, *(squeeze(r) for r in held)):
            if reading not in readings:
                readings.append(reading)
        how = ""
        if (
            len(word) >= FUZZY_MIN_LETTERS
            and word.isalpha()
            and not any(r in self.vocabulary for r in readings)
            and not any(r in self._english for r in held)
        ):
            for near in self._near(squeeze(held[0])):
                if near not in readings:
                    readings.append(near)
                    how = f"read as {near!r}: one letter away from it"
        token = Token(held[0], tuple(readings), how)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = token
        return token

    def _near(self, word: str) -> list[str]:
        """The rules' words one edit away from `word` (both squeezed)."""
        found: set[str] = set()
        for variant in (word, *deletions(word)):
            for key in self._deletions.get(variant, ()):
                if one_edit(word, squeeze(key)):
                    found.add(key)
        return sorted(found)


def _first_reading(word: str) -> str:
    return _held_down(word)[0]


@lru_cache(maxsize=1 << 15)
def _held_down(word: str) -> tuple[str, ...]:
    """The readings of a word whose letters were held down: each run of three or more
    becomes two letters or one ("killll" → "kill"; "diiie" → "die")."""
    runs = list(_RUN3_RE.finditer(word))
    if not runs:
        return (word,)
    if len(runs) > 4:
        return (_RUN3_RE.sub(r"\1\1", word), _RUN3_RE.sub(r"\1", word))
    pieces: list[tuple[str, ...]] = []
    last = 0
    for run in runs:
        pieces.append((word[last : run.start()],))
        pieces.append((run.group(1) * 2, run.group(1)))
        last = run.end()
    pieces.append((word[last:],))
    return tuple("".join(choice) for choice in product(*pieces))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit_variants(word: str) -> set[str]:
    """Every string one insertion, deletion, substitution or swap away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
    out.update(a + c + b[1:] for a, b in splits if b for c in _LETTERS)
    out.update(a + c + b for a, b in splits for c in _LETTERS)
    return out


def deletions(word: str) -> set[str]:
    """Every string one letter shorter than `word`."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` differ by exactly one insertion, deletion, substitution or
    swap of two neighbouring letters."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    if la > lb:
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))
