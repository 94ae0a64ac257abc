"""The word lists crisis detection reads text with, from packages that keep them.

- English words, with how often each is used: pyspellchecker's English frequency list. A
  word in it is an "ordinary English word", never read as a near-by crisis word ("fridge"
  stays "fridge"); its most frequent words are the everyday words a split word's halves
  may be.
- Look-alike characters: Unicode's confusables data (TR39) as confusable_homoglyphs ships
  it, reduced to the characters that imitate one Latin letter.

Both are read from the installed packages, never from the network.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources

from bot.domain.crisis import Lexicon

__all__ = ["COMMON_WORDS", "load_lexicon"]

# How many of the most frequent English words count as everyday words.
COMMON_WORDS = 3000


def _english() -> dict[str, int]:
    path = resources.files("spellchecker") / "resources" / "en.json.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        data = json.load(text)
    if not isinstance(data, dict):
        raise ValueError("the English word list is not a word → count mapping")
    return {str(word): int(count) for word, count in data.items()}


def _confusables() -> dict[str, str]:
    path = resources.files("confusable_homoglyphs") / "confusables.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        latin = [
            g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()
        ]
        if latin:
            table[char] = latin[0].lower()
    return table


def load_lexicon() -> Lexicon:
    """Read both lists. Takes a fraction of a second; the caller keeps what it needs."""
    english = _english()
    common = sorted(english, key=english.__getitem__, reverse=True)[:COMMON_WORDS]
    return Lexicon(english=frozenset(english), confusables=_confusables(), common=frozenset(common))
