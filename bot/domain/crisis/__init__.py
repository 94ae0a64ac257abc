"""Crisis-language detection over the free text a member gives the bot.

The rules live in `content/safety/rules/<language>.yaml` so that specialists can read and
improve them by pull request; this package does the mechanics: `text` reads a message
into clauses of words, `rules` is the file's model, and `detector` matches rules composed
from slots and decides, for each match, who it is about, whether it is negated, past, a
question or about a film. Every decision can be traced (`peerlight crisis explain`), and a
false alarm costs no more than showing crisis resources (SAFETY.md §1).
"""

from bot.domain.crisis.detector import (
    NO_MATCH,
    CrisisDetector,
    CrisisLevel,
    CrisisMatch,
    CrisisSet,
    Explanation,
    compile_rules,
)
from bot.domain.crisis.rules import CrisisRules
from bot.domain.crisis.text import Lexicon

__all__ = [
    "NO_MATCH",
    "CrisisDetector",
    "CrisisLevel",
    "CrisisMatch",
    "CrisisRules",
    "CrisisSet",
    "Explanation",
    "Lexicon",
    "compile_rules",
]
