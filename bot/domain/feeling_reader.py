"""Reading the feelings a member names in a phrase or short sentence (`/cope`'s free text).

The words are first normalised the way crisis detection normalises them (so "I'm" and
"im", "can't" and "cannot", "ANXIOUS!!" and "anxious" are the same to both); then, at
each place, the longest name of a feeling in the vocabulary (`content/vocabulary.yaml`)
is taken: its id, its label or one of its everyday words. Three things make this more
than a look-up of the whole text:

- **Inflections.** A word also matches a name whose word is another inflection of the
  same word (and a name's words are read as their family, so "feel nothing" also reads
  "feeling nothing"): "worrying", "worries" and "worried"; "panicked" and "panic"; "freaking out"
  and "freaked out"; "craved" and "craving"; "lonelier", "loneliest" and "lonely". Only
  endings are stripped (-s, -es, -ed, -ing, -ies, -ied, -ier, -iest), never a word's
  meaning: "hopeless" is not "hopeful".
- **Words in between.** Intensifiers and fillers ("really", "so", "a bit", "totally",
  "kind of", "a complete") are skipped, also inside a name: "stressed right out", "worn
  totally out", "a complete fraud".
- **A dropped g.** "runnin on empty" is "running on empty", "freakin out" "freaking out".
- **Negation.** A feeling named within `NEGATION_REACH` words after a negation ("not",
  "no", "never", "no longer", "don't") is not meant: "not anxious, just tired" is tired;
  "can't settle" and "can't sleep" are names of feelings, not negations, and "I don't
  know, just sad", "not sure, anxious I think" and "never felt so alone" negate nothing
  (`UNSURE`, `EMPHATIC`). A name may
  itself hold a negation ("not sleeping", "no one to talk to"), and is then read whole;
  one that says "anyone" or "anything" goes with the negation before it instead of being
  undone by it ("haven't spoken to anyone in days" is lonely).

- **Typos.** A word of at least `TYPO_MIN_LETTERS` letters that names nothing, is not
  an ordinary English word, and is one edit (a letter added, dropped, changed, or two
  swapped) from exactly one word that names a feeling on its own is read as that word:
  "lonley", "stresed", "overwhelmd", "gratefull". The English word list decides, as it
  does for crisis detection, so "tried" never becomes "tired" nor "scarred" "scared"
  (`english_near` keeps only the English words that could be mistaken for one).

- **Guessing.** A sentence that names no feeling at all is first read as a whole: a naive
  Bayes reading of its words against the vocabulary's names (each feeling's names are its
  examples), taken only when one feeling is clearly the most likely (`FeelingReader.guess`).
- **Leaning.** A sentence that names no feeling and cannot be guessed ("palms sweaty and
  my breath all shallow in the waiting room") is read by its words: each word of the
  vocabulary's names that few feelings use leans to those feelings, and the one the words
  lean to most, by a margin, is read (`FeelingReader.lean`). Thin or even evidence reads
  nothing, and /cope asks which feeling is close instead.

Phrases that hold a feeling's word but name none ("sit down", "wind down": `NOT_FEELINGS`)
are read as no feeling. Words that say little on their own ("okay", "fine", "better":
`HEDGES`) count only when nothing else is named: "I'm okay, just a bit flat" is low. So do
signs in the body that come with several feelings ("trembling", "heart pounding": "so
angry my hands are trembling" is angry), "happy" beside another feeling, and a count
of clean time ("first week sober and the cravings are brutal" is craving), tears and
"wound up" ("in tears at the funeral" is grieving).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence

from bot.domain.content import Feeling
from bot.domain.crisis.text import deletions, one_edit, one_edit_variants

# Words that make the next feeling named, within NEGATION_REACH words, not meant:
# "not anxious", "never really lonely", "no longer angry". As read after normalising.
NEGATIONS = frozenset({"not", "no", "never", "nor", "without", "isnt", "dont", "arent"})
NEGATION_REACH = 3
# Words that a negation goes with rather than undoes: a name that holds one is read after a
# negation too ("haven't spoken to anyone in days" is lonely, "don't feel anything" numb).
ANY = frozenset({"anyone", "anybody", "anything"})
CAN = frozenset({"can", "could"})
# Words that make a negation just before them say something else than "not this feeling":
# "I don't know, just sad" and "not sure, anxious I think" name a feeling.
UNSURE = frozenset({"know", "sure", "kidding", "joking", "idea", "only"})
# "never been so tired", "never felt this alone": "never" then one of these, then one of
# EMPHATIC, says how much, not that the feeling is not there.
NEVER_BEFORE = frozenset({"been", "felt", "feel", "feeling"})
EMPHATIC = frozenset({"so", "this", "that", "more", "as", "such", "quite"})
# Words that only say how much or how sure, skipped inside a feeling's name ("stressed
# right out") and never a feeling themselves.
FILLERS = frozenset(
    {
        "really",
        "so",
        "very",
        "super",
        "totally",
        "completely",
        "utterly",
        "absolutely",
        "extremely",
        "incredibly",
        "quite",
        "pretty",
        "right",
        "just",
        "bit",
        "little",
        "kind",
        "kinda",
        "sort",
        "sorta",
        "of",
        "a",
        "all",
        "too",
        "fully",
        "literally",
        "honestly",
        "seriously",
        "properly",
        "bloody",
        "damn",
        "fucking",
        "freaking",
        "frickin",
        "such",
        "more",
        "most",
        "mostly",
        "somewhat",
        "slightly",
        "rather",
        "way",
        "total",
        "complete",
        "utter",
        "absolute",
        "proper",
    }
)
# Names that say little on their own: they are read only when the text names no other
# feeling ("I'm fine" is calm; "I'm fine, just tired" is tired; "trembling" is anxious,
# "so angry my hands are trembling" angry).
HEDGES = (
    "okay",
    "fine",
    "alright",
    "all right",
    "better",
    "happy",
    # a count of clean time is context beside a feeling ("first week sober and the
    # cravings are brutal" is craving), and hopeful only alone
    "days sober",
    "weeks sober",
    "months sober",
    "days clean",
    "weeks clean",
    "months clean",
    # signs in the body that come with several feelings: "so angry my hands are
    # trembling" is angry, "restless legs and a jumpy body" restless
    "trembling",
    "trembly",
    "jittery",
    "jumpy",
    "freaking out",
    "heart pounding",
    "heart racing",
    "heart is racing",
    "heart is pounding",
    "can not stop shaking",
    "shaking all over",
    "hands are shaking",
    "shaky",
    "twitchy",
    # ...and names that come with several feelings: "wound up" after a row is angry,
    # unable to settle restless; tears at a funeral are grief, "overwhelmed and in tears"
    # is overwhelmed; thoughts that won't stop are guilt in "can't stop thinking about how
    # I let everyone down"; "wrecked" is worn out alone, but a wrecked sleep schedule is
    # no tiredness
    "wound up",
    "all over the place",
    "in tears",
    "teary",
    "tearful",
    "weepy",
    "crying in the car",
    "keyed up",
    "can not stop thinking",
    "want to scream",
    "wrecked",
)
# Phrases that hold a feeling's word but name no feeling: "down" is low, "sit down" is not.
NOT_FEELINGS = (
    "sit down",
    "lie down",
    "write down",
    "wind down",
    "slow down",
    "down the road",
    "down the street",
    "up and down",
    "count down",
    # "down" that is no mood: sitting or putting down, talking down, a car broken down
    "sitting down",
    "sat down",
    "putting down",
    "putting them down",
    "put it down",
    "talk me down",
    "talked down",
    "talking down",
    "car broke down",
    "car broken down",
    "van broke down",
    "bus broke down",
    "boiler broke down",
    # "flat" that is a home, a tyre or a battery
    "the flat",
    "my flat",
    "our flat",
    "a flat",
    "his flat",
    "her flat",
    "their flat",
    "flat tyre",
    "flat tire",
    "flat battery",
    # "wrong" that is no wrong done to someone ("could go wrong", "feels wrong")
    "go wrong",
    "went wrong",
    "going wrong",
    "feels wrong",
    "something wrong",
    # "tired of" that is fed up, not worn out ("tired of feeling guilty")
    "tired of",
    # "nightmare" that is a bad time, not a bad dream ("work is a nightmare")
    "is a nightmare",
    "was a nightmare",
    "been a nightmare",
    # "alone" that is how one goes, not how one feels ("scared to go out alone")
    "go out alone",
    "walk home alone",
    # "too much" that is a drink, not a load ("wired after too much coffee")
    "too much coffee",
    "too much caffeine",
    "too much sugar",
)
# The longest run of fillers skipped inside a name.
MAX_SKIPPED = 3
# Stems shorter than this are not matched by inflection ("used" is not "us").
MIN_STEM = 4
# Words shorter than this are never read as missing their last g ("sin" is not "sing").
DROPPED_G_MIN = 4
# Words shorter than this are never read as a typo of another ("sda" is not "sad").
TYPO_MIN_LETTERS = 5
# Leaning (see `FeelingReader.lean`): a word counts only if the names of at most this share
# of the feelings use it ("feel", "my" and "like" say nothing of which), and the best
# feeling needs at least LEAN_MIN evidence and LEAN_MARGIN more than the next.
LEAN_MAX_SHARE = 1 / 3
LEAN_MIN = 1.5
LEAN_MARGIN = 0.5
# ...and at least this many words that lean at all: a word or two is no sentence ("nothing
# helps" and "i tried my best" name no feeling). Chosen on the tuned split: looser settings
# read half a point more of it, and read phrases like those two as feelings.
LEAN_WORDS = 3
# Guessing (see `FeelingReader.guess`), tried before leaning: a naive Bayes reading of the
# words, learned from the vocabulary's names alone, with add-GUESS_SMOOTHING counts; it is
# taken only when its best feeling has at least GUESS_MIN of the probability. Chosen on the
# tuned split, among sentences that name no feeling (152): leaning alone read 60 of them
# right and 41 wrong; guessing, then leaning, reads 81 right and 38 wrong.
GUESS_SMOOTHING = 0.1
GUESS_MIN = 0.8
# ...and at least this many of its words in some name: a word or two is no sentence ("I
# need to sit down", "her chair").
GUESS_WORDS = 3
# Words that say nothing of a feeling, left out of guessing (beside FILLERS).
GUESS_STOP = frozenset(
    {
        *("i", "im", "am", "an", "the", "and", "to", "my", "me", "it", "is", "was", "be"),
        *("been", "in", "on", "at", "for", "with", "that", "this", "have", "has", "had"),
        *("but", "or", "its", "about", "like", "feel", "feeling", "felt", "get", "got"),
    }
)


def _negates(words: Sequence[str], i: int) -> bool:
    """Whether the word at `i` is a negation of what follows: "not anxious" is, "can't
    settle" ("can not") is a name, not a negation, "don't know" or "not sure" (`UNSURE`)
    negate no feeling, and "never been so tired" is very tired."""
    if (
        words[i] == "never"
        and i + 2 < len(words)
        and words[i + 1] in NEVER_BEFORE
        and words[i + 2] in EMPHATIC
    ):
        return False  # "never been so tired" is very tired
    return (
        words[i] in NEGATIONS
        and (i == 0 or words[i - 1] not in CAN)
        and (i + 1 == len(words) or words[i + 1] not in UNSURE)
    )


def name_words(feelings: Iterable[Feeling], normalise: Callable[[str], str]) -> set[str]:
    """The words a typo may be read as: those that name a feeling on their own ("lonely",
    "knackered"), as normalised, of at least `TYPO_MIN_LETTERS` letters."""
    return {
        words[0]
        for feeling in feelings
        for name in (feeling.id.replace("-", " "), feeling.label, *feeling.words)
        if len(words := normalise(name).split()) == 1
        and len(words[0]) >= TYPO_MIN_LETTERS
        and words[0].isalpha()
    }


def english_near(words: Iterable[str], english: Collection[str]) -> frozenset[str]:
    """The English words one edit from `words` (`name_words`): the only ordinary words a
    typo reading could take for a feeling's word, and so the only ones `FeelingReader`
    needs to know (a few thousand, where the whole list holds over 150,000)."""
    near: set[str] = set()
    for word in words:
        near.update(one_edit_variants(word))
    return frozenset(near.intersection(english))


def inflections(word: str) -> frozenset[str]:
    """The word and the stems it may be an inflection of: "worried", "worries",
    "worrying" and "worry" all give "worry"; "panicked" gives "panic"; "craving" and
    "craved" give "crave" (and "crav"); "stressed" gives "stress"."""
    forms = {word}
    candidates: list[str] = []
    if word.endswith(("ies", "ied")) and len(word) > 4:
        candidates.append(word[:-3] + "y")
    # "lonelier", "loneliest": "lonely"
    if word.endswith(("ier", "iest")) and len(word) > 5:
        candidates.append(word[: -3 if word.endswith("ier") else -4] + "y")
    if word.endswith(("cked", "cking")):
        candidates.append(word[: -4 if word.endswith("cked") else -5] + "c")
    for ending in ("ing", "ed"):
        if word.endswith(ending):
            stem = word[: -len(ending)]
            candidates += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "sl":
                candidates.append(stem[:-1])  # "stopping", "stopped": "stop"
    if word.endswith("es") and not word.endswith("ies"):
        candidates += [word[:-2], word[:-1]]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        candidates.append(word[:-1])
    forms.update(c for c in candidates if len(c) >= MIN_STEM)
    # "worrying" gives "worry" by its stem; "worry" itself gives "worry".
    if word.endswith("ying") and len(word) > 5:
        forms.add(word[:-3])
    return frozenset(forms)


class FeelingReader:
    """The feelings named in a text, in the order written (see the module docstring)."""

    def __init__(
        self,
        feelings: Iterable[Feeling],
        normalise: Callable[[str], str],
        english: frozenset[str] | None = None,
    ) -> None:
        """`english`: the English words that typos must not be read into (from
        `english_near`); None reads no typos at all."""
        self._normalise = normalise
        feelings = list(feelings)
        names: list[tuple[tuple[str, ...], str | None]] = []
        # The words of each feeling's label and everyday names, normalised once: for the
        # names here and for leaning below.
        said: dict[str, list[tuple[str, ...]]] = {}
        for feeling in feelings:
            names.append((tuple(normalise(feeling.id.replace("-", " ")).split()), feeling.id))
            said[feeling.id] = [
                tuple(normalise(name).split()) for name in (feeling.label, *feeling.words)
            ]
            names += [(words, feeling.id) for words in said[feeling.id]]
        names += [(tuple(normalise(name).split()), None) for name in NOT_FEELINGS]
        # Words of names that are inflections of each other are one word: "feel nothing"
        # also reads "feeling nothing". Each word stands for the shortest of its family.
        # (The words of cues too, so that "keeps checking" reads a cue "keep checking".)
        cue_words = {
            word
            for feeling in feelings
            for cue in feeling.cues
            for phrase in cue.words
            for word in normalise(phrase).split()
        }
        known = {word for words, _ in names for word in words} | cue_words
        family = {word: word for word in known}

        def top(word: str) -> str:
            while family[word] != word:
                word = family[word]
            return word

        first_with: dict[str, str] = {}
        for word in sorted(known):
            for stem in inflections(word):
                # A short stem only joins words when it is one of them: "scars" is not
                # "scared".
                if len(stem) <= MIN_STEM and stem not in known:
                    continue
                other = first_with.setdefault(stem, word)
                a, b = top(word), top(other)
                if a != b:
                    keep, drop = sorted((a, b), key=lambda w: (len(w), w))
                    family[drop] = keep
        by_stem = {stem: top(word) for stem, word in first_with.items()}
        by_stem.update({word: top(word) for word in known})
        self._by_stem = by_stem
        phrases: dict[tuple[str, ...], str | None] = {}
        for words, feeling_id in names:
            if words:
                phrases.setdefault(tuple(by_stem[w] for w in words), feeling_id)
        self._phrases = phrases
        self._prefixes = {words[:n] for words in phrases for n in range(1, len(words) + 1)}
        # Typos: each long word of the names under its one-letter deletions, to find the
        # words one edit from a word typed.
        self._english = english
        self._by_deletion: dict[str, set[str]] = {}
        if english is not None:
            for word in name_words(feelings, normalise):
                for variant in (word, *deletions(word)):
                    self._by_deletion.setdefault(variant, set()).add(word)
        self._hedges = {
            tuple(self._canonical(w) for w in normalise(hedge).split()) for hedge in HEDGES
        }
        # Cues: each feeling's words that point at one of its techniques, read as the
        # text is (fillers left out), by their words.
        self._cues: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for feeling in feelings:
            for cue in feeling.cues:
                for phrase in cue.words:
                    pointed = self._cues.setdefault(self._cue_words(phrase), [])
                    pointed.append((feeling.id, cue.technique))
        self._cue_lengths = sorted({len(words) for words in self._cues if words}, reverse=True)
        # The names' words as read (inflections and typos folded), once for leaning and
        # guessing below.
        read_names = {
            feeling_id: [[self._canonical(w) for w in name] for name in spoken]
            for feeling_id, spoken in said.items()
        }
        # Each word of the names, and how strongly it leans to each feeling: the share of
        # its uses in that feeling's names, weighted by how few feelings use it at all.
        uses: dict[str, Counter[str]] = {}
        for feeling_id, names_read in read_names.items():
            for name in names_read:
                for word in set(name):
                    uses.setdefault(word, Counter())[feeling_id] += 1
        count = max(1, len(feelings))
        self._leanings: dict[str, dict[str, float]] = {}
        for word, by_feeling in uses.items():
            if (
                len(word) < 3
                or word in FILLERS
                or word in NEGATIONS
                or len(by_feeling) > count * LEAN_MAX_SHARE
            ):
                continue
            weight = math.log(count / len(by_feeling))
            total = sum(by_feeling.values())
            self._leanings[word] = {f: n / total * weight for f, n in by_feeling.items()}
        # Guessing: per feeling, how many names it has (its prior), how often its names use
        # each word, and the smoothed total every word's count is divided by.
        named = sum(len(spoken) for spoken in said.values()) or 1
        word_counts: dict[str, Counter[str]] = {}
        for feeling_id, names_read in read_names.items():
            if names_read:
                counts: Counter[str] = Counter()
                for name in names_read:
                    counts.update(self._guess_words(name))
                word_counts[feeling_id] = counts
        self._guess_vocabulary = frozenset(w for counts in word_counts.values() for w in counts)
        size = len(self._guess_vocabulary)
        self._guess_model: dict[str, tuple[float, Counter[str], float]] = {
            feeling_id: (
                math.log(len(said[feeling_id]) / named),
                counts,
                math.log(sum(counts.values()) + GUESS_SMOOTHING * size),
            )
            for feeling_id, counts in word_counts.items()
        }

    def _guess_words(self, words: Sequence[str]) -> set[str]:
        """The words guessing looks at: no fillers or small words, and those just after a
        negation marked as negated ("not sleeping" is another word than "sleeping")."""
        out: set[str] = set()
        negated_until = -1
        for i, word in enumerate(words):
            if _negates(words, i):
                negated_until = i + NEGATION_REACH
                continue
            if len(word) < 3 or word in FILLERS or word in GUESS_STOP:
                continue
            out.add(f"not {word}" if i <= negated_until else word)
        return out

    def guess(self, words: Sequence[str]) -> str | None:
        """The feeling a sentence that names none most likely means, when the vocabulary's
        names make it clear: each feeling's names are its examples, and the words of the
        sentence are weighed by how often each feeling's names use them (naive Bayes,
        `GUESS_SMOOTHING`). "my brain feels like mush and i keep yawning" is tired. None
        unless one feeling has at least `GUESS_MIN` of the probability, or when no word of
        the sentence is in any name."""
        known = [w for w in self._guess_words(words) if w in self._guess_vocabulary]
        if len(known) < GUESS_WORDS:
            return None
        scores: dict[str, float] = {}
        for feeling_id, (prior, counts, denominator) in self._guess_model.items():
            score = prior
            for word in known:
                score += math.log(counts.get(word, 0) + GUESS_SMOOTHING) - denominator
            scores[feeling_id] = score
        best = max(scores, key=lambda f: scores[f])
        top = scores[best]
        share = 1.0 / sum(math.exp(score - top) for score in scores.values())
        return best if share >= GUESS_MIN else None

    def _cue_words(self, text: str) -> tuple[str, ...]:
        return tuple(self._canonical(w) for w in self._normalise(text).split() if w not in FILLERS)

    def cues(self, text: str, feelings: Collection[str]) -> tuple[str, ...]:
        """The techniques the words of `text` point at (a feeling's `cues`), for the
        feelings read from it, in the order written: "spiralling with what ifs", read as
        anxious, points at worry time."""
        words = self._cue_words(text)
        found: list[str] = []
        for start in range(len(words)):
            for length in self._cue_lengths:
                for feeling, technique in self._cues.get(words[start : start + length], ()):
                    if feeling in feelings and technique not in found:
                        found.append(technique)
        return tuple(found)

    def _canonical(self, word: str) -> str:
        if word in self._by_stem:
            return self._by_stem[word]
        for stem in sorted(inflections(word), key=len, reverse=True):
            if stem in self._by_stem:
                return self._by_stem[stem]
        # A dropped g, as typed and said: "runnin on fumes", "feelin lost".
        if word.endswith("in") and len(word) >= DROPPED_G_MIN:
            for stem in sorted(inflections(word + "g"), key=len, reverse=True):
                if stem in self._by_stem:
                    return self._by_stem[stem]
        return self._typo(word) or word

    def _typo(self, word: str) -> str | None:
        """The name word `word` is a typo of, when it is exactly one (see the module
        docstring); None otherwise."""
        if (
            self._english is None
            or len(word) < TYPO_MIN_LETTERS
            or not word.isalpha()
            or word in self._english
        ):
            return None
        found = {
            self._by_stem[key]
            for variant in (word, *deletions(word))
            for key in self._by_deletion.get(variant, ())
            if one_edit(word, key)
        }
        return found.pop() if len(found) == 1 else None

    def _match(self, words: Sequence[str], start: int) -> tuple[str | None, int, bool] | None:
        """The longest name of a feeling starting at `start`, fillers inside it skipped
        (at most `MAX_SKIPPED` in a row): the feeling, where the name ends, and whether
        the name is a hedge."""
        best: tuple[str | None, int, bool] | None = None
        taken: tuple[str, ...] = ()
        position = start
        while position < len(words):
            word = words[position]
            if (*taken, word) in self._prefixes:
                taken = (*taken, word)
                position += 1
                if taken in self._phrases:
                    best = (self._phrases[taken], position, taken in self._hedges)
                continue
            if not taken:
                break
            # Skip a few fillers, if the name goes on after them.
            ahead = position
            while (
                ahead < len(words)
                and ahead - position < MAX_SKIPPED
                and words[ahead] in FILLERS
                and (*taken, words[ahead]) not in self._prefixes
            ):
                ahead += 1
            if ahead in (position, len(words)) or (*taken, words[ahead]) not in self._prefixes:
                break
            position = ahead
        return best

    def lean(self, words: Sequence[str]) -> str | None:
        """The one feeling the words lean to, when no name of a feeling is in them: "palms
        sweaty and my breath all shallow in the waiting room" leans to anxious by "sweaty",
        "breath" and "shallow", words the vocabulary's names of anxious use and those of
        few other feelings do. Words just after a negation do not count. None when the
        evidence is thin (`LEAN_MIN`, `LEAN_WORDS`) or two feelings are close (`LEAN_MARGIN`): then
        /cope asks which feeling is close instead of guessing."""
        scores, telling = self._lean_scores(words)
        ranked = sorted(scores.items(), key=lambda item: -item[1])[:2]
        if telling < LEAN_WORDS or not ranked or ranked[0][1] < LEAN_MIN:
            return None
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < LEAN_MARGIN:
            return None
        return ranked[0][0]

    def leanings(self, text: str) -> list[str]:
        """The feelings the words of `text` lean to with at least `LEAN_MIN` evidence, most
        first: what /cope offers as close when it could not read one. Weaker leanings
        are left out ("nothing helps" leans a little to grateful, by "helps")."""
        words = [self._canonical(w) for w in self._normalise(text).split()]
        scores, _ = self._lean_scores(words)
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        return [f for f, score in ranked if score >= LEAN_MIN]

    def _lean_scores(self, words: Sequence[str]) -> tuple[dict[str, float], int]:
        """Each feeling's evidence, and how many words leaned at all."""
        scores: dict[str, float] = {}
        seen: set[str] = set()
        telling = 0  # words that lean at all
        negated_until = -1
        for i, word in enumerate(words):
            if _negates(words, i):
                negated_until = i + NEGATION_REACH
                continue
            if i <= negated_until or word in seen:
                continue
            seen.add(word)
            leaning = self._leanings.get(word)
            if leaning:
                telling += 1
                for feeling_id, weight in leaning.items():
                    scores[feeling_id] = scores.get(feeling_id, 0.0) + weight
        return scores, telling

    def read(self, text: str, limit: int) -> tuple[str, ...]:
        words = [self._canonical(w) for w in self._normalise(text).split()]
        found: list[str] = []
        hedged: list[str] = []
        spent: set[int] = set()  # the words of phrases that name no feeling
        negated_until = -1
        i = 0
        while i < len(words):
            match = self._match(words, i)
            if match is not None:
                feeling, end, hedge = match
                if feeling is None:
                    spent.update(range(i, end))  # words that name no feeling ("sit down")
                elif i <= negated_until and not ANY.intersection(words[i:end]):
                    negated_until = -1  # a negation covers one feeling
                elif feeling not in found and feeling not in hedged:
                    (hedged if hedge else found).append(feeling)
                i = end
                continue
            # "can't settle" is no negation of a feeling, "not anxious" is.
            if _negates(words, i):
                negated_until = i + NEGATION_REACH
            i += 1
        if not found and not hedged and limit > 0:
            guessed = self.guess([w for i, w in enumerate(words) if i not in spent])
            if guessed is not None:
                return (guessed,)
            leaning = self.lean(words)
            if leaning is not None:
                return (leaning,)
        return tuple((found or hedged)[:limit])
