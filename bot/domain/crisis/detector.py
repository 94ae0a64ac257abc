"""Crisis detection: rules composed from slots, matched clause by clause.

A rule is a short pattern over slots ("{desire} .. {die}": a word for wanting, up to three
other words, then a word for dying) within one clause. Around every match the detector
decides, the same way for every rule:

- who it is about: the people words inside the match ("myself", "herself", "his pills"),
  else the nearest subject before it in the clause ("she wants to die"), else the writer.
  Danger to the writer is DANGER; danger to someone else is HELPER; when a message holds
  both, the writer's danger wins;
- whether it is negated: a negation cue just before it, with at most `window` bridge words
  between and no clause break ("I'm not going to hurt myself"), or a bare "did" then a cue
  then the act again ("i did not take too many pills"); a denial limited to now ("not
  going to hurt myself today", `negation.for_now`) with a later time told after it
  ("tomorrow": `negation.later`) is no denial;
- whether it is in the past: a past marker in the clause or a neighbouring one ("years
  ago", "used to"; "...once. that was 2012") and no recent one ("last night", "just")
  in the clause makes it distress (a whole next clause that opens with a time tells of
  its own time; a match across clauses is past when every clause it touches is), unless
  the rule says `past: keep`; a message that tells of a crisis now over ("still here and
  glad", with a past marker) reads as the past for every rule;
- for topic rules (a mention of the subject, not a statement about oneself): in a question
  it is distress (unless the question points back at what someone else was told doing now:
  "he did it again tonight. is that self harm?" is the helper reply), and in a message
  about a film, a book, a game or the news it is nothing, unless the writer is plainly
  speaking of themselves.

Where no danger rule matched, the second reader may answer: a small trained model
(`bot.domain.crisis.model`) that can raise a text to the crisis block, never lower one,
and never overrules a rule that understood the text. It also reads whose danger it is
where the words mislead ("he said kms").

Every decision is recorded, so `peerlight crisis explain` can show why a message got the
answer it got. The detector reads nothing from disk: the rule file, word lists and model
are handed in.

Why this file is long (about 1,000 lines) and better whole: compiling a rule file, matching
it and judging each match share one compiled form (`_Trie`, `_CompiledRule`,
`_ClauseView`) and one set of slot names; split apart, each half would need the other's
private structures, and a reviewer tracing `crisis explain` would read across files for
one decision. The reading of text is already its own module (`text.py`), and the model
its own (`model.py`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import product
from typing import NamedTuple

from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from bot.domain.crisis.model import CrisisModel, featurise
from bot.domain.crisis.rules import CrisisRules, Rule, RuleLevel, parse_pattern
from bot.domain.crisis.text import Clause, Lexicon, Reader, squeeze

__all__ = [
    "NO_MATCH",
    "CrisisDetector",
    "CrisisLevel",
    "CrisisMatch",
    "CrisisSet",
    "Explanation",
    "compile_rules",
]

_SLOT_REF_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_SELF = "people:self"
_OTHER = "people:other"
_ANYONE = "people:anyone"
_CREATURE = "people:creature"
_REPORTS = "people:reports"
# Who may be the one whose words are reported: someone else, someone, or a relation
# named alone ("my 15 year old daughter wrote ...").
_REPORTERS = frozenset({_OTHER, _ANYONE, "relation"})
# How reported words begin: a subject, or "that" or "like" ("he said that he...").
_SPEECH_OPENERS = frozenset({"i", "im", "ive", "we", "he", "she", "they", "that", "like", "its"})
# "said i should...": the writer told what to do, no words of someone else's.
_TOLD_TO = frozenset({"should", "deserve", "ought", "need", "must", "better", "shud", "shld"})
_CONJUNCTIONS = frozenset({"and", "but", "so", "because", "cause", "then", "also", "too"})
_MEANING = "context:meaning"
_AFTER = "negation:after"
_FOR_NOW = "negation:for_now"
_LATER = "negation:later"
_PAST_BEFORE = "context:past_before"
_PRESENT = "context:present"
_NEGATION = "negation:cue"
_BRIDGE = "negation:bridge"
_PAST = "context:past"
# The longest clause that only says when the one before it happened ("tonight lol").
_WHEN_CLAUSE_WORDS = 3
_RECENT = "context:recent"
_UNTIL_NOW = "context:until_now"
_RECOVERED = "context:recovered"
_SHARED = "context:shared"
_NOW = "context:now"
_WELL = "context:well"
_TOLD = "context:told"
_HYPERBOLE = "context:hyperbole"
_LAUGH = "context:laugh"
_QUOTE = "context:quote_frame"
_SINCERE = "context:sincere"
_DISAVOWAL = "context:disavowal"
_BY_DEFAULT = "the writer, by default"
# First-person words that make the writer the subject, not an object ("gave me", "my").
_SUBJECTS = frozenset({"i", "we", "us", "ourselves"})
# Words for someone else that name nobody in particular on their own.
_PRONOUNS = frozenset(
    {
        "he",
        "she",
        "they",
        "him",
        "her",
        "them",
        "his",
        "their",
        "herself",
        "himself",
        "themselves",
        "themself",
    }
)
# Words by which a question points back at what was told before it ("is that self harm?").
_POINTERS = frozenset({"that", "this", "it"})
_QUESTION = "context:question"
_MEDIA = "context:media"
_EXPANSION_LIMIT = 5000
# No slot phrase is longer than this many words (checked when the rules compile).
_LONGEST_PHRASE = 12


class CrisisLevel(IntEnum):
    NONE = 0
    DISTRESS = 1
    HELPER = 2  # someone else may be in danger; the writer asks for help for them
    DANGER = 3


@dataclass(frozen=True, slots=True)
class CrisisMatch:
    """The strongest signal in a text. `rule` is the rule's id, never the member's words,
    so it is safe to count in logs."""

    level: CrisisLevel
    rule: str

    @property
    def phrase(self) -> str:  # the name logs and older callers use
        return self.rule


NO_MATCH = CrisisMatch(CrisisLevel.NONE, "")
# The least probability at which the model raises a text a distress rule already read.
DISTRESS_THRESHOLD = 0.85
# The id a match found by the model carries, in logs and counts, in place of a rule's id.
MODEL_RULE = "model"


# -- compiled form -------------------------------------------------------------------------


class _Trie:
    __slots__ = ("children", "slots")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.slots: set[str] = set()

    def add(self, words: Sequence[str], slot: str) -> None:
        node = self
        for word in words:
            node = node.children.setdefault(word, _Trie())
        node.slots.add(slot)


@dataclass(frozen=True)
class _Step:
    slots: frozenset[str]  # any of these slots (a literal word is a slot of its own)
    optional: bool
    gap: int


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    index: int
    steps: tuple[_Step, ...]
    at_start: bool
    at_end: bool
    end_gap: int
    not_followed_by: frozenset[str]
    not_preceded_by: frozenset[str]
    not_with: frozenset[str]
    unless_with: frozenset[str]
    only_with: frozenset[str]
    # The first step that is not optional: where a match starts.
    first_step: int = field(init=False)

    def __post_init__(self) -> None:
        first = next((i for i, s in enumerate(self.steps) if not s.optional), 0)
        object.__setattr__(self, "first_step", first)


class _Occurrence(NamedTuple):
    start: int
    end: int
    slot: str


# Made straight from a tuple where the scan makes many (the named constructor adds a call).
_new_occurrence = tuple.__new__


@dataclass
class _ClauseView:
    """One clause, with every slot found in it, by where it starts."""

    tokens: Clause
    at: dict[int, list[_Occurrence]]
    question: bool
    # Where a phrase might run on past the clause's end: the only places a message-wide
    # view must scan again (`_merged`).
    runs_on: tuple[int, ...] = ()
    slots: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.slots = frozenset(o.slot for group in self.at.values() for o in group)

    def slots_at(self, start: int) -> list[_Occurrence]:
        return self.at.get(start, [])

    def has(self, slot: str) -> bool:
        return slot in self.slots


@dataclass(frozen=True, slots=True)
class Decision:
    """One rule's match and what was made of it."""

    rule: str
    words: str
    level: CrisisLevel
    why: str


@dataclass
class Explanation:
    """What `crisis explain` prints: the words as read, the slots found, every match."""

    clauses: list[list[str]] = field(default_factory=list)
    slots: list[list[str]] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    model: str = ""
    result: CrisisMatch = NO_MATCH

    def lines(self) -> list[str]:
        out: list[str] = []
        for number, (words, slots) in enumerate(zip(self.clauses, self.slots, strict=True), 1):
            out.append(f"clause {number}: {' '.join(words)}")
            if slots:
                out.append(f"  slots: {', '.join(slots)}")
        if not self.decisions:
            out.append("no rule matched")
        for decision in self.decisions:
            out.append(
                f"rule {decision.rule} matched {decision.words!r}: "
                f"{decision.level.name.lower()} ({decision.why})"
            )
        if self.model:
            out.append(self.model)
        level = self.result.level.name.lower()
        out.append(f"result: {level}" + (f" (rule {self.result.rule})" if self.result.rule else ""))
        return out


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("crisis_rules", "{problem}", {"problem": message})


class _Compiler:
    def __init__(self, rules: CrisisRules) -> None:
        self.rules = rules
        self.problems: list[InitErrorDetails] = []
        self.expanded: dict[str, list[tuple[str, ...]]] = {}

    def report(self, loc: tuple[str | int, ...], given: object, message: str) -> None:
        self.problems.append({"type": _problem(message), "loc": loc, "input": given})

    def expand(self, name: str, trail: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        """A slot's phrases as word tuples, with `{slot}` references written out."""
        if name in self.expanded:
            return self.expanded[name]
        if name in trail:
            self.report(("slots", name), name, f"refers to itself through {' → '.join(trail)}")
            return []
        out: list[tuple[str, ...]] = []
        for phrase in self.rules.slots.get(name, []):
            options: list[tuple[str, ...]] = [()]
            for part in phrase.split():
                ref = _SLOT_REF_RE.fullmatch(part)
                if ref:
                    inner = self.expand(ref.group(1), (*trail, name))
                    options = [o + i for o in options for i in inner]
                else:
                    options = [(*o, part) for o in options]
                if len(options) > _EXPANSION_LIMIT:
                    self.report(("slots", name), phrase, "expands to too many phrases")
                    return out
            out.extend(options)
        self.expanded[name] = out
        return out

    def phrases(self, phrases: Iterable[str]) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for phrase in phrases:
            options: list[tuple[str, ...]] = [()]
            for part in phrase.split():
                ref = _SLOT_REF_RE.fullmatch(part)
                inner = self.expand(ref.group(1)) if ref else [(part,)]
                options = [o + i for o in options for i in inner]
            out.extend(options)
        return out


def compile_rules(rules: CrisisRules, lexicon: Lexicon) -> CrisisDetector:
    """The detector for a rule file, checked against its own examples; raises
    ValidationError listing every problem, each at its place in the file."""
    compiler = _Compiler(rules)
    groups: dict[str, list[tuple[str, ...]]] = {}
    for name in rules.slots:
        groups[name] = compiler.expand(name)
    groups[_SELF] = compiler.phrases(rules.people.self)
    groups[_OTHER] = compiler.phrases(rules.people.other)
    groups[_ANYONE] = compiler.phrases(rules.people.anyone)
    groups[_CREATURE] = compiler.phrases(rules.people.creature)
    groups[_REPORTS] = compiler.phrases(rules.people.reports)
    groups[_MEANING] = compiler.phrases(rules.context.meaning)
    groups[_AFTER] = compiler.phrases(rules.negation.after)
    groups[_FOR_NOW] = compiler.phrases(rules.negation.for_now)
    groups[_LATER] = compiler.phrases(rules.negation.later)
    groups[_PAST_BEFORE] = compiler.phrases(rules.context.past_before)
    groups[_PRESENT] = compiler.phrases(rules.context.present)
    groups[_NEGATION] = compiler.phrases(rules.negation.cues)
    groups[_BRIDGE] = compiler.phrases(rules.negation.bridges)
    groups[_PAST] = compiler.phrases(rules.context.past)
    groups[_RECENT] = compiler.phrases(rules.context.recent)
    groups[_UNTIL_NOW] = compiler.phrases(rules.context.until_now)
    groups[_RECOVERED] = compiler.phrases(rules.context.recovered)
    groups[_SHARED] = compiler.phrases(rules.context.shared)
    groups[_NOW] = compiler.phrases(rules.context.now)
    groups[_WELL] = compiler.phrases(rules.context.well)
    groups[_TOLD] = compiler.phrases(rules.context.told)
    groups[_HYPERBOLE] = compiler.phrases(rules.context.hyperbole)
    groups[_LAUGH] = compiler.phrases(rules.context.laugh)
    groups[_QUOTE] = compiler.phrases(rules.context.quote_frame)
    groups[_SINCERE] = compiler.phrases(rules.context.sincere)
    groups[_DISAVOWAL] = compiler.phrases(rules.context.disavowal)
    groups[_QUESTION] = compiler.phrases(rules.context.question_openers)
    groups[_MEDIA] = compiler.phrases(rules.context.media)

    compiled: list[_CompiledRule] = []
    literal_words: set[str] = set()
    for index, rule in enumerate(rules.rules):
        elements = parse_pattern(rule.pattern)
        steps: list[_Step] = []
        at_start = at_end = False
        end_gap = 0
        for element in elements:
            if element.kind == "start":
                at_start = True
            elif element.kind == "end":
                at_end = True
                end_gap = element.gap
            elif element.kind == "word":
                literal_words.add(element.name)
                steps.append(
                    _Step(frozenset({_word_slot(element.name)}), element.optional, element.gap)
                )
            else:
                steps.append(_Step(frozenset({element.name}), element.optional, element.gap))
        compiled.append(
            _CompiledRule(
                rule,
                index,
                tuple(steps),
                at_start,
                at_end,
                end_gap,
                frozenset(rule.not_followed_by),
                frozenset(rule.not_preceded_by),
                frozenset(rule.not_with),
                frozenset(rule.unless_with),
                frozenset(rule.only_with),
            )
        )
    for word in literal_words:
        groups[_word_slot(word)] = [(word,)]

    vocabulary = {w for phrases in groups.values() for phrase in phrases for w in phrase}
    reader = Reader(
        vocabulary=vocabulary,
        spellings=rules.reading.spellings,
        leetspeak=rules.reading.leetspeak,
        number_words=rules.reading.number_words,
        any_number=rules.reading.any_number,
        not_shorthand_with=rules.reading.not_shorthand_with,
        symbols=rules.reading.symbols,
        lexicon=lexicon,
    )
    trie = _Trie()
    for name, phrases in groups.items():
        for phrase in phrases:
            for words in _spellings_of(_phrase_words(reader, phrase), lexicon.english):
                if len(words) > _LONGEST_PHRASE:
                    compiler.report(
                        ("slots", name), " ".join(phrase), f"is longer than {_LONGEST_PHRASE} words"
                    )
                    continue
                trie.add(words, name)
    detector = CrisisDetector(rules, reader, trie, compiled, rules.negation.window)
    compiler.problems.extend(detector.self_check())
    if compiler.problems:
        raise ValidationError.from_exception_data("CrisisRules", compiler.problems)
    return detector


# The most fillers stepped over in a row inside a phrase (`ReadingSettings.fillers`).
_MAX_FILLERS = 2


def _drop_inside(
    at: dict[int, list[_Occurrence]], slot: str, within: str, longer: bool = False
) -> None:
    """Drop from `at` each occurrence of `slot` that lies inside an occurrence of `within`
    (with `longer`, only inside a longer one)."""
    spans = [(o.start, o.end) for group in at.values() for o in group if o.slot == within]
    if not spans:
        return
    for start in list(at):
        at[start] = [
            o
            for o in at[start]
            if o.slot != slot
            or not any(
                a <= o.start and o.end <= b and (not longer or b - a > o.end - o.start)
                for a, b in spans
            )
        ]
        if not at[start]:
            del at[start]


def _clause_spans(views: list[_ClauseView]) -> Iterator[tuple[int, int]]:
    """Where each clause starts and ends in the message read as one clause (`_merged`)."""
    start = 0
    for view in views:
        yield start, start + len(view.tokens)
        start += len(view.tokens)


def _writer_in(view: _ClauseView, positions: range) -> bool:
    """Whether "i" or "we" of the writer's starts a word in `positions`."""
    return any(
        o.slot == _SELF and view.tokens[o.start].readings[0] in _SUBJECTS
        for p in positions
        for o in view.slots_at(p)
    )


def _clause_at(views: list[_ClauseView], position: int) -> tuple[int, int] | None:
    """Which clause word `position` of the message read as one clause (`_merged`) is in,
    and where that clause starts there; None past the end."""
    for index, (begin, end) in enumerate(_clause_spans(views)):
        if position < end:
            return index, begin
    return None


def _last_person(view: _ClauseView) -> str | None:
    """Who the clause names last (`people.self`, `other`, `anyone` or `creature`); of two
    ending at the same word, the longer ("my brother" over "my")."""
    people = (_SELF, _OTHER, _ANYONE, _CREATURE)
    found = [o for group in view.at.values() for o in group if o.slot in people]
    if not found:
        return None
    return max(found, key=lambda o: (o.end, o.end - o.start)).slot


def _word_slot(word: str) -> str:
    return f"word:{word}"


def _spellings_of(words: tuple[str, ...], english: Collection[str]) -> Iterator[tuple[str, ...]]:
    """The phrase as written, and with double letters made single where that does not
    make another everyday word ("kill" is also "kil"; "off" is never "of")."""
    options: list[tuple[str, ...]] = []
    for word in words:
        squeezed = squeeze(word)
        if squeezed != word and squeezed not in english:
            options.append((word, squeezed))
        else:
            options.append((word,))
    yield from product(*options)


def _phrase_words(reader: Reader, phrase: tuple[str, ...]) -> tuple[str, ...]:
    """A listed phrase read the way a member's text is, so shorthand agrees on both sides."""
    tokens = [t for clause in reader.read(" ".join(phrase)) for t in clause]
    return tuple(t.readings[0] for t in tokens)


# -- the detector --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Match:
    rule: _CompiledRule
    start: int
    end: int
    spans: tuple[_Occurrence, ...]


class CrisisDetector:
    """Finds the strongest crisis signal in a text. Build with `compile_rules`."""

    def __init__(
        self,
        rules: CrisisRules,
        reader: Reader,
        trie: _Trie,
        compiled: list[_CompiledRule],
        window: int,
    ) -> None:
        self.language = rules.language
        self.rules = rules
        self._reader = reader
        self._trie = trie
        self._fillers = frozenset(rules.reading.fillers)
        self._compiled = compiled
        self._window = window
        self.model: CrisisModel | None = None
        self._message_rules = any(r.rule.scope == "message" for r in compiled)
        # The rules by the slots of their first step: all of them, and those of each scope.
        self._by_first: dict[str | None, dict[str, list[_CompiledRule]]] = {
            None: {},
            "clause": {},
            "message": {},
        }
        for rule in compiled:
            for slot in rule.steps[rule.first_step].slots:
                self._by_first[None].setdefault(slot, []).append(rule)
                self._by_first[rule.rule.scope].setdefault(slot, []).append(rule)

    def with_model(self, model: CrisisModel | None) -> CrisisDetector:
        """The same rules with the second reader beside them (see `model`)."""
        twin = copy.copy(self)
        twin.model = model
        return twin

    def features(self, text: str) -> list[str]:
        """What the model reads of `text` (for training and `crisis explain`)."""
        return self._features(self._views(text))

    def _features(self, views: list[_ClauseView]) -> list[str]:
        return featurise(
            ([t.readings[0] for t in view.tokens] for view in views),
            (
                o.slot
                for view in views
                for group in view.at.values()
                for o in group
                if not o.slot.startswith("word:")
            ),
        )

    def _second_reader(
        self,
        views: list[_ClauseView],
        best: CrisisMatch,
        explanation: Explanation | None,
        reading: list[tuple[float, bool]],
    ) -> CrisisMatch:
        """Where no danger rule matched, the model may answer: danger, or the helper reply
        when it reads the danger as someone else's. A danger rule that matched has
        understood the text (negated, past, a question, a film), and so has one held back by
        its look-alike guard ("i want to die my hair blue"): the model never overrules them.
        A distress rule ("hopeless") does not stand in its way, but then the model needs
        `DISTRESS_THRESHOLD`."""
        if self.model is None or best.level >= CrisisLevel.HELPER:
            return best
        if sum(len(view.tokens) for view in views) < self.model.min_words:
            return best
        probability, someone_else = self._model_reading(views, reading)
        # Where a distress rule already read the text ("it's all too much right now"), the
        # model needs stronger evidence to raise it to the crisis block.
        threshold = self.model.threshold
        if best.level is CrisisLevel.DISTRESS:
            threshold = max(threshold, DISTRESS_THRESHOLD)
        answers = probability >= threshold
        other = answers and someone_else
        level = CrisisLevel.HELPER if other else CrisisLevel.DANGER
        if explanation is not None:
            features = self._features(views)
            pushes = ", ".join(
                f"{name} {push:+.2f}" for name, push in self.model.strongest(features)
            )
            verdict = level.name.lower() if answers else "below its threshold"
            explanation.model = f"model: {probability:.2f} against {threshold:.2f}: {verdict}" + (
                f" (strongest: {pushes})" if pushes else ""
            )
        return CrisisMatch(level, MODEL_RULE) if answers else best

    def _writer_named(self, match: _Match, view: _ClauseView) -> bool:
        """The writer is the subject of the match: "i" or "we" inside it, or just before it
        ("so do i, i want to die"; "me and my girlfriend are going to kill ourselves").
        Then the writer's danger wins, whatever else the message says."""
        return _writer_in(view, range(max(0, match.start - 3), match.end))

    def _others(self, views: list[_ClauseView], reading: list[tuple[float, bool]]) -> bool:
        """Whether the model reads the danger as someone else's. Words alone mislead in
        reported speech ("he said kms": the "myself" is his) and gifts ("gave me his dog"),
        and say nothing where no subject is named ("jay hasnt been online in 3 days after
        that last message"). Cross-validated on the tuned split, this reading agrees with
        the labels for 98.8 % of crisis messages."""
        return self.model is not None and self._model_reading(views, reading)[1]

    def _model_reading(
        self, views: list[_ClauseView], reading: list[tuple[float, bool]]
    ) -> tuple[float, bool]:
        """The model's probability of danger and whether it reads it as someone else's,
        worked out once per message: `reading` is the message's memo, empty at first."""
        assert self.model is not None
        if not reading:
            reading.append(self.model.read(self._features(views)))
        return reading[0]

    @property
    def rule_ids(self) -> list[str]:
        return [r.rule.id for r in self._compiled]

    # -- public ----------------------------------------------------------------------------

    def detect(self, text: str) -> CrisisMatch:
        """The strongest signal in `text`."""
        return self._run(text, None)

    def detect_all(self, *texts: str | None) -> CrisisMatch:
        """The strongest signal across several free-text entries; None is skipped."""
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

    def explain(self, text: str) -> Explanation:
        """Everything the detector did with `text`, for a reviewer."""
        explanation = Explanation()
        explanation.result = self._run(text, explanation)
        return explanation

    def normalise(self, text: str) -> str:
        """The text's words as the rules see them (first readings, clauses joined)."""
        return " ".join(t.shown for clause in self._reader.read(text) for t in clause)

    def matches(self, text: str) -> list[tuple[str, CrisisLevel]]:
        """Every rule that fires on `text`, with the level it gives there."""
        explanation = self.explain(text)
        return [(d.rule, d.level) for d in explanation.decisions]

    # -- internals -------------------------------------------------------------------------

    def _views(self, text: str) -> list[_ClauseView]:
        views: list[_ClauseView] = []
        for clause, asked in self._reader.read_marked(text):
            at: dict[int, list[_Occurrence]] = {}
            runs_on: list[int] = []
            for start in range(len(clause)):
                found, running_on = self._scan(clause, start)
                if found:
                    at[start] = found
                if running_on:
                    runs_on.append(start)
            # The slots found, before any is dropped: each drop below runs only where what
            # it looks for is there (after the first, a past marker it dropped leaves the
            # second nothing to find).
            present = {o.slot for group in at.values() for o in group}
            # A past marker inside a stretch that runs up to now ("the best part of the
            # last year") is no past, nor the past told ("a will at 22": the age now).
            if _UNTIL_NOW in present and (_PAST in present or _TOLD in present):
                _drop_inside(at, _PAST, _UNTIL_NOW)
                _drop_inside(at, _TOLD, _UNTIL_NOW)
            # A time inside a longer past marker is the past's ("two years ago tonight"),
            # not a sign that something is happening now.
            if _PAST in present and _RECENT in present:
                _drop_inside(at, _RECENT, _PAST, longer=True)
            opener = any(o.slot == _QUESTION for o in at.get(0, ()))
            views.append(_ClauseView(clause, at, asked or opener, tuple(runs_on)))
        return views

    def _scan(self, clause: Clause, start: int) -> tuple[list[_Occurrence], bool]:
        """Every slot's phrase that starts at `start`, and whether a phrase could still
        go on where the clause ends (then a message-wide view scans here again)."""
        found: list[_Occurrence] = []
        root = self._trie
        for reading in clause[start].readings:
            if reading in root.children:
                break
        else:
            return found, False
        frontier: list[tuple[_Trie, int, int]] = [(root, start, 0)]
        size = len(clause)
        fillers = self._fillers
        stepped = False
        running_on = False
        while frontier:
            node, position, skipped = frontier.pop()
            if position >= size:
                running_on = True
                continue
            readings = clause[position].readings
            children = node.children
            for reading in readings:
                child = children.get(reading)
                if child is None:
                    continue
                for slot in child.slots:
                    found.append(_new_occurrence(_Occurrence, (start, position + 1, slot)))
                if child.children:
                    frontier.append((child, position + 1, 0))
            # A filler inside a phrase ("would | just | like to") is stepped over; never
            # the first word of one.
            if skipped < _MAX_FILLERS and node is not root and readings[0] in fillers:
                frontier.append((node, position + 1, skipped + 1))
                stepped = True
        # Two ways through a phrase ("would just like to" listed, and "would like to" with
        # "just" stepped over) find the same occurrence once.
        return (list(dict.fromkeys(found)) if stepped else found), running_on

    def _run(self, text: str, explanation: Explanation | None) -> CrisisMatch:
        views = self._views(text)
        several = len(views) > 1 and self._message_rules
        media = any(view.has(_MEDIA) for view in views)
        sincere = any(v.has(_SINCERE) or v.has(_RECENT) for v in views)
        joke = (
            not sincere
            and any(v.has(_HYPERBOLE) for v in views)
            and any(v.has(_LAUGH) for v in views)
        )
        quoted = media and not sincere
        disavowed = not sincere and any(v.has(_DISAVOWAL) for v in views)
        asked = any(view.question for view in views)
        matched = False  # did a danger rule match, whatever was made of it?
        set_aside: list[str] = []  # danger rules held back by their look-alike guards
        others: bool | None = None  # the model's reading of whose danger it is, once
        reading: list[tuple[float, bool]] = []  # the model's reading, worked out once
        best = NO_MATCH
        previous: _ClauseView | None = None
        earlier: str | None = None  # the last person named in the clauses before this one
        recovered = self._recovered(views)
        pasts: list[bool] = []  # each clause: is it told as the past?
        happened = any(v.has(_RECENT) for v in views)
        # Whether a clause after each one names a later time (`negation.later`).
        later_after = [False] * len(views)
        for index in range(len(views) - 2, -1, -1):
            later_after[index] = later_after[index + 1] or views[index + 1].has(_LATER)
        for index, view in enumerate(views):
            if explanation is not None:
                explanation.clauses.append([_shown(t) for t in view.tokens])
                explanation.slots.append(
                    sorted(
                        {
                            f"{o.slot.split(':', 1)[-1] if o.slot.startswith('word:') else o.slot}"
                            f"={' '.join(t.readings[0] for t in view.tokens[o.start : o.end])}"
                            for group in view.at.values()
                            for o in group
                            if not o.slot.startswith("word:")
                        }
                    )
                )
            following = views[index + 1] if index + 1 < len(views) else None
            past = recovered or self._in_past(view, previous, following)
            pasts.append(past)
            if previous is not None:
                earlier = _last_person(previous) or earlier
            previous = view
            for match in self._matches(view, "clause" if several else None, set_aside):
                if self._held_by_message(match, views, set_aside):
                    continue
                level, why = self._judge(
                    match,
                    view,
                    media,
                    past,
                    asked,
                    recovered,
                    joke,
                    quoted,
                    disavowed,
                    put_off=later_after[index],
                    happened=happened,
                    earlier=earlier,
                )
                matched = matched or match.rule.rule.level is RuleLevel.DANGER
                if level is CrisisLevel.DANGER and not self._writer_named(match, view):
                    if others is None:
                        others = self._others(views, reading)
                    if others:
                        level, why = CrisisLevel.HELPER, f"{why}; the model reads someone else's"
                if level is CrisisLevel.HELPER and self._said_too(views, index, match.end):
                    level, why = (
                        CrisisLevel.DANGER,
                        f"{why}; the writer says the same of themselves",
                    )
                if explanation is not None:
                    words = " ".join(t.shown for t in view.tokens[match.start : match.end])
                    explanation.decisions.append(Decision(match.rule.rule.id, words, level, why))
                if level > best.level:
                    best = CrisisMatch(level, match.rule.rule.id)
                    if level is CrisisLevel.DANGER and explanation is None:
                        return best
        if several:
            merged = self._merged(views)
            for match in self._matches(merged, "message", set_aside):
                if self._held_by_message(match, views, set_aside):
                    continue
                level, why = self._judge(
                    match,
                    merged,
                    media,
                    self._spans_past(views, pasts, match),
                    asked,
                    recovered,
                    joke,
                    quoted,
                    disavowed,
                    happened=happened,
                    negated=self._negated_in_clause(views, match.start),
                    told_before=self._spans_past_before(views, match),
                )
                if level is CrisisLevel.HELPER and self._said_too_after(views, match.end):
                    level, why = (
                        CrisisLevel.DANGER,
                        f"{why}; the writer says the same of themselves",
                    )
                matched = matched or match.rule.rule.level is RuleLevel.DANGER
                if explanation is not None:
                    words = " ".join(t.shown for t in merged.tokens[match.start : match.end])
                    explanation.decisions.append(Decision(match.rule.rule.id, words, level, why))
                if level > best.level:
                    best = CrisisMatch(level, match.rule.rule.id)
        if matched or set_aside:
            return best
        return self._second_reader(views, best, explanation, reading)

    @staticmethod
    def _held_by_message(match: _Match, views: list[_ClauseView], set_aside: list[str]) -> bool:
        """The rule's `not_in_message` guard holds: one of its slots is somewhere in the
        message ("back after the 20th") and none of its `unless_with` is ("for good")."""
        rule = match.rule.rule
        if not rule.not_in_message:
            return False
        held = any(v.has(slot) for v in views for slot in rule.not_in_message) and not any(
            v.has(slot) for v in views for slot in rule.unless_with
        )
        if held and rule.level is RuleLevel.DANGER:
            set_aside.append(rule.id)
        return held

    def _negated_in_clause(self, views: list[_ClauseView], start: int) -> bool:
        """Whether the clause in which a match across clauses starts negates it: a clause
        break ends a negation's reach ("oh wait no. day 0" is no "no day 0")."""
        found = _clause_at(views, start)
        return found is not None and self._negated(start - found[1], views[found[0]])

    @staticmethod
    def _spans_past(views: list[_ClauseView], pasts: list[bool], match: _Match) -> bool:
        """A match across clauses is told as the past when every clause it touches is
        ("two years ago tonight i tried to end my life. tonight i am making pasta": the
        second clause's time is not the first's)."""
        touched = [
            past
            for past, (start, end) in zip(pasts, _clause_spans(views), strict=True)
            if start < match.end and match.start < end
        ]
        return bool(touched) and all(touched)

    @staticmethod
    def _spans_past_before(views: list[_ClauseView], match: _Match) -> bool:
        """A match across clauses is told as a past wish when the clauses it touches say
        so before it ("i used to | starve myself") and none of them tells of now, as for
        its twin inside one clause: a later clause's time ("...3 years into recovery and
        tonight i ate pizza") is that clause's, not the wish's."""
        touched = [
            (view, start)
            for view, (start, end) in zip(views, _clause_spans(views), strict=True)
            if start < match.end and match.start < end
        ]
        return not any(view.has(_RECENT) for view, _ in touched) and any(
            o.slot == _PAST_BEFORE
            for view, start in touched
            for p in range(max(0, match.start - start))
            for o in view.slots_at(p)
        )

    def _merged(self, views: list[_ClauseView]) -> _ClauseView:
        """The whole message as one clause, for rules whose scope is the message: each
        clause's slots, shifted, and the places where a phrase could run on past a
        clause's end (`runs_on`) scanned again for phrases that run across it."""
        tokens: Clause = tuple(t for view in views for t in view.tokens)
        at: dict[int, list[_Occurrence]] = {}
        again: list[int] = []
        for view, (offset, _) in zip(views, _clause_spans(views), strict=True):
            if offset:
                for start, group in view.at.items():
                    at[start + offset] = [
                        _Occurrence(o.start + offset, o.end + offset, o.slot) for o in group
                    ]
            else:
                at.update(view.at)
            if view is not views[-1]:
                again.extend(start + offset for start in view.runs_on)
        for start in again:
            found, _ = self._scan(tokens, start)
            if found:
                at[start] = found
            else:
                at.pop(start, None)
        return _ClauseView(tokens, at, any(v.question for v in views))

    def _matches(
        self, view: _ClauseView, scope: str | None, set_aside: list[str] | None = None
    ) -> Iterator[_Match]:
        """Every rule that matches in `view` (of `scope` only, when one is given). A danger
        rule whose words were all there but whose look-alike guard (`not_followed_by`,
        `not_preceded_by`, `not_with`) held is named in `set_aside`: the rules read that
        text too. A rule matches again only after the end of its last match: "he said he
        wants to die and i want to die too" is two matches, his and the writer's."""
        done: dict[int, int] = {}  # each rule that matched: where its last match ended
        by_first = self._by_first[scope]
        for start in sorted(view.at):
            for occurrence in view.at[start]:
                for rule in by_first.get(occurrence.slot, ()):
                    if occurrence.start < done.get(rule.index, 0):
                        continue
                    match = self._try(rule, view, occurrence, set_aside)
                    if match is not None:
                        done[rule.index] = match.end
                        yield match

    def _try(
        self,
        rule: _CompiledRule,
        view: _ClauseView,
        first: _Occurrence,
        set_aside: list[str] | None = None,
    ) -> _Match | None:
        first_index = rule.first_step
        if rule.at_start and not self._only_lead(view, 0, first.start):
            return None
        result = self._extend(rule, view, first_index + 1, first.end, [first], 0)
        if result is None:
            return None
        spans = tuple(result)
        end = spans[-1].end
        if rule.at_end and not self._only_tail(view, end, rule.end_gap):
            return None
        if rule.only_with and not any(view.has(slot) for slot in rule.only_with):
            return None  # not what the rule is about: no look-alike set aside either
        if (
            (
                rule.not_followed_by
                and any(o.slot in rule.not_followed_by for o in view.slots_at(end))
            )
            or (
                rule.not_preceded_by
                and any(
                    o.slot in rule.not_preceded_by and o.end == first.start
                    for p in range(max(0, first.start - 4), first.start)
                    for o in view.slots_at(p)
                )
            )
            or (
                # what is happening now ("on the bridge rn sending me pics") is no day out
                rule.not_with
                and not view.has(_RECENT)
                and any(view.has(slot) for slot in rule.not_with)
                and not any(view.has(slot) for slot in rule.unless_with)
            )
        ):
            if set_aside is not None and rule.rule.level is RuleLevel.DANGER:
                set_aside.append(rule.rule.id)
            return None
        return _Match(rule, first.start, end, spans)

    def _extend(
        self,
        rule: _CompiledRule,
        view: _ClauseView,
        index: int,
        position: int,
        spans: list[_Occurrence],
        carried_gap: int,
    ) -> list[_Occurrence] | None:
        if index == len(rule.steps):
            return spans
        step = rule.steps[index]
        gap = step.gap + carried_gap
        at = view.at
        for start in range(position, min(position + gap, len(view.tokens) - 1) + 1):
            for occurrence in at.get(start, ()):
                if occurrence.slot in step.slots:
                    found = self._extend(
                        rule, view, index + 1, occurrence.end, [*spans, occurrence], 0
                    )
                    if found is not None:
                        return found
        if step.optional:
            return self._extend(rule, view, index + 1, position, spans, gap)
        return None

    def _said_too(self, views: list[_ClauseView], index: int, start: int) -> bool:
        """Whether the writer says the same of themselves (`context.shared`) at the end of
        a clause (only the rules' `tail` after it), from word `start` of clause `index` on:
        "she wants to die and honestly so do i", "same here tbh"; not "me too scared to
        ask"."""
        for number in range(index, len(views)):
            view = views[number]
            if not view.has(_SHARED):
                continue
            for position, group in view.at.items():
                if number == index and position < start:
                    continue
                for o in group:
                    if o.slot == _SHARED and self._only_tail(view, o.end, 0):
                        return True
        return False

    def _said_too_after(self, views: list[_ClauseView], end: int) -> bool:
        """`_said_too` from word `end` of the message read as one clause (`_merged`)."""
        found = _clause_at(views, end)
        return found is not None and self._said_too(views, found[0], end - found[1])

    def _only_lead(self, view: _ClauseView, start: int, end: int) -> bool:
        position = start
        while position < end:
            step = max(
                (
                    o.end
                    for o in view.slots_at(position)
                    if o.slot in ("lead", _SELF) and o.end <= end
                ),
                default=None,
            )
            if step is None:
                return False
            position = step
        return True

    def _only_tail(self, view: _ClauseView, start: int, gap: int) -> bool:
        position = start
        skipped = 0
        while position < len(view.tokens):
            step = max((o.end for o in view.slots_at(position) if o.slot == "tail"), default=None)
            if step is None:
                if skipped >= gap:
                    return False
                skipped += 1
                position += 1
                continue
            position = step
        return True

    def _judge(
        self,
        match: _Match,
        view: _ClauseView,
        media: bool,
        past: bool,
        asked: bool = False,
        recovered: bool = False,
        joke: bool = False,
        quoted: bool = False,
        disavowed: bool = False,
        put_off: bool = False,
        happened: bool = False,
        negated: bool | None = None,
        earlier: str | None = None,
        told_before: bool | None = None,
    ) -> tuple[CrisisLevel, str]:
        """The level a match gives, and why. `asked`: the message holds a question;
        `recovered`: it tells of a crisis now over, which even `past: keep` rules heed;
        `joke`: a complaint about something small, laughed at ("if i hear that song one
        more time i'm gonna shoot myself lol"); `quoted`: the message is about a work and
        nothing in it is said in earnest or of now, so a quotation frame can apply;
        `disavowed`: the writer says it is not meant darkly ("not that kind of note") and
        nothing in the message is said in earnest or of now; `put_off`: a later clause
        names a later time, so a denial limited to now is none (`_for_now`); `happened`:
        something recent is told ("she said it tonight"), so a question about someone is
        about a real person now, not what someone might say; `negated`: for a match across
        clauses, whether the clause it starts in negates it (None: look in `view`);
        `earlier`: the last person named in the clauses before this one; `told_before`: for
        a match across clauses, whether the clauses it touches tell the wish as the past
        (None: look in `view`)."""
        rule = match.rule.rule
        if (
            (
                (self._negated(match.start, view) if negated is None else negated)
                and not (put_off and self._for_now(match, view))
            )
            or self._did_not(match, view)
            or any(o.slot == _AFTER for p in (match.end, match.end + 1) for o in view.slots_at(p))
        ):
            return CrisisLevel.NONE, "negated"
        if joke:
            return CrisisLevel.NONE, "a joke about something small"
        if disavowed:
            return CrisisLevel.NONE, "the writer says it is not meant that way"
        if rule.person == "writer":
            person, how, near = "self", "about the writer (the rule says so)", True
        elif rule.person == "other":
            person, how, near = "other", "about someone else (the rule says so)", False
        else:
            person, how, near = self._person(match, view)
        explicit_self = person == "self" and near
        if person == "creature":
            return CrisisLevel.NONE, how
        if rule.level is RuleLevel.DISTRESS:
            level = CrisisLevel.DISTRESS
        else:
            level = CrisisLevel.DANGER if person == "self" else CrisisLevel.HELPER
        if media and not explicit_self:
            return CrisisLevel.NONE, f"{how}; about a film, book, game or the news"
        if quoted and any(
            o.slot == _QUOTE and o.end <= match.start
            for p in range(match.start)
            for o in view.slots_at(p)
        ):
            return CrisisLevel.NONE, f"{how}; quoted from a film, song or book"
        if view.question and view.has(_MEANING):
            return min(level, CrisisLevel.DISTRESS), f"{how}; asks what a word means"
        if rule.topic and view.question and (person == "anyone" or not explicit_self):
            if (
                how == _BY_DEFAULT
                and earlier == _OTHER
                and happened
                and any(t.readings[0] in _POINTERS for t in view.tokens[: match.start])
            ):
                # "he did it again tonight. is that self harm?": the question names nobody
                # but points back at what someone else was told doing, now: about them
                return CrisisLevel.HELPER, "asks whether what someone else did now is it"
            return min(level, CrisisLevel.DISTRESS), f"{how}; a question about the subject"
        if person == "anyone" and level is CrisisLevel.HELPER and view.question:
            return CrisisLevel.DISTRESS, f"{how}; a question about people in general"
        conditional = asked and any(
            t.readings[0] in ("if", "when") for t in view.tokens[: match.start]
        )
        if (
            person != "self"
            and (view.question or conditional)
            and not happened
            and self._hypothetical(match, view)
        ):
            return min(
                level, CrisisLevel.DISTRESS
            ), f"{how}; a question about what someone might say"
        if level > CrisisLevel.DISTRESS and (
            (self._past_before(match, view) if told_before is None else told_before)
            or (recovered and not self._present(match, view))
            or (
                rule.past == "distress"
                and (self._past_adjacent(match, view) or (past and not self._present(match, view)))
            )
        ):
            return CrisisLevel.DISTRESS, f"{how}; in the past"
        return level, how

    def _recovered(self, views: list[_ClauseView]) -> bool:
        """The message tells of a crisis now over: a past marker, and either a phrase of
        `context.recovered` or, after the past is told, a clause that says the writer is
        well now ("it's march now and i'm doing loads better"). That second way needs
        nothing recent anywhere ("again", "tonight") and wellness not negated ("now i'm
        not ok"); told the other way round ("sober 4 months, work is ok. i'm bringing the
        pills") it is no story of recovery."""
        if any(v.has(_RECOVERED) for v in views) and any(v.has(_PAST) for v in views):
            # ...unless something recent is told after the last word of recovery: "i was 2
            # years free from sh and now i'm at 0" is a relapse, not a story of recovery.
            marks = [
                (o.slot, (index, o.end))
                for index, view in enumerate(views)
                for group in view.at.values()
                for o in group
                if o.slot in (_RECOVERED, _RECENT)
            ]
            last = max(end for slot, end in marks if slot == _RECOVERED)
            return not any(slot == _RECENT and end > last for slot, end in marks)
        if any(v.has(_RECENT) for v in views):
            return False
        # The second way needs the past told, a word for now and one for being well.
        if not (
            any(v.has(_NOW) for v in views)
            and any(v.has(_WELL) for v in views)
            and any(v.has(_PAST) or v.has(_PAST_BEFORE) or v.has(_TOLD) for v in views)
        ):
            return False
        told: tuple[int, int] | None = None  # (clause, word) where the past is first told
        for index, view in enumerate(views):
            for start in sorted(view.at):
                if told is None and any(
                    o.slot in (_PAST, _PAST_BEFORE, _TOLD) for o in view.at[start]
                ):
                    told = (index, start)
            if told is None:
                continue
            after = told[1] if told[0] == index else -1
            now = any(o.slot == _NOW for p, g in view.at.items() if p > after for o in g)
            if now and any(
                o.slot == _WELL and p > after and not self._negated(o.start, view)
                for p, group in view.at.items()
                for o in group
            ):
                return True
        return False

    def _hypothetical(self, match: _Match, view: _ClauseView) -> bool:
        """A question that names nobody in particular before the match ("what do i say if
        someone posts that they want to die?"): general advice, not someone in danger."""
        before = [o for p in range(match.end) for o in view.slots_at(p) if o.end <= match.end]
        general = {o.start for o in before if o.slot == _ANYONE}
        named = any(
            o.slot == _OTHER
            and o.start not in general
            and view.tokens[o.start].readings[0] not in _PRONOUNS
            for o in before
        )
        return bool(general) and not named

    def _past_adjacent(self, match: _Match, view: _ClauseView) -> bool:
        """A past marker that ends where the match starts ("when i was | planning to end
        it"): the wish inside the match is told as the past, not felt now, unless the
        clause is recent ("tonight's the night i | kms")."""
        return not view.has(_RECENT) and any(
            o.slot == _PAST and o.end == match.start
            for p in range(max(0, match.start - 4), match.start)
            for o in view.slots_at(p)
        )

    def _person(self, match: _Match, view: _ClauseView) -> tuple[str, str, bool]:
        """Who the match is about ("self", "other", "anyone" or "creature": an animal or a
        plant), how that was decided, and whether the writer is named close by (inside the
        match or just before it)."""
        inside: set[str] = set()
        for position in range(match.start, match.end):
            for occurrence in view.slots_at(position):
                if occurrence.end <= match.end and occurrence.slot in (_SELF, _OTHER, _ANYONE):
                    inside.add(occurrence.slot)
        if _SELF in inside:
            if self._reported(match.start, view):
                return "other", "someone else's words, reported", False
            return "self", "about the writer", True
        if _OTHER in inside:
            return "other", "about someone else", False
        nearest: _Occurrence | None = None
        for position in range(match.start):
            for occurrence in view.slots_at(position):
                if (
                    occurrence.slot not in (_SELF, _OTHER, _ANYONE, _CREATURE)
                    or occurrence.end > match.start
                ):
                    continue
                if nearest is None or (occurrence.end, occurrence.end - occurrence.start) > (
                    nearest.end,
                    nearest.end - nearest.start,
                ):
                    nearest = occurrence
        if nearest is None:
            if _ANYONE in inside:
                return "anyone", "about people in general", False
            return "self", _BY_DEFAULT, False
        if nearest.slot == _OTHER:
            return "other", "someone else is the subject", False
        if nearest.slot == _ANYONE:
            return "anyone", "about people in general", False
        if nearest.slot == _CREATURE:
            return "creature", "an animal or a plant is the subject", False
        if self._reported(nearest.start, view):
            return "other", "someone else's words, reported", False
        return "self", "the writer is the subject", match.start - nearest.end <= 3

    def _reported(self, start: int, view: _ClauseView) -> bool:
        """The first-person words at `start` are someone else's, reported: someone else or
        someone (a relation named alone too), then, at most four words on, a word of
        reporting (`people.reports`) followed straight away by what they said ("my friend
        says kms", "my daughter wrote i wish i was not alive", "someone in our discord dmd
        me saying they are going to kms"). Not when the writer comes between, when a
        conjunction does ("she said hi and i want to die": the writer's own), nor when the
        "i" is told what to do ("my mom said i should kill myself" is said to the writer)."""
        tokens = view.tokens

        def word(p: int) -> str:
            return tokens[p].readings[0] if p < len(tokens) else ""

        for position in range(start):
            for report in view.slots_at(position):
                if report.slot != _REPORTS or report.end > start:
                    continue
                said = report.end  # where what they said begins
                if said < start and word(said) not in _SPEECH_OPENERS:
                    continue
                if word(said) in _SUBJECTS and word(said + 1) in _TOLD_TO:
                    continue
                if any(word(p) in _CONJUNCTIONS for p in range(said, start)):
                    continue
                for p in range(max(0, report.start - 8), report.start):
                    for o in view.slots_at(p):
                        if (
                            o.slot in _REPORTERS
                            and 0 <= report.start - o.end <= 4
                            and not _writer_in(view, range(o.end, report.start))
                        ):
                            return True
        return False

    def _negated(self, start: int, view: _ClauseView) -> bool:
        """A negation cue just before `start`, or with at most `window` bridge words
        between; a clause break always ends its reach."""
        position = start
        bridges = 0
        while position > 0:
            ends_here = [
                o
                for p in range(max(0, position - 4), position)
                for o in view.slots_at(p)
                if o.end == position
            ]
            if any(o.slot == _NEGATION for o in ends_here):
                return True
            bridge = [o for o in ends_here if o.slot == _BRIDGE]
            if bridge and bridges < self._window:
                bridges += 1
                position = min(o.start for o in bridge)
                continue
            return False
        return False

    def _for_now(self, match: _Match, view: _ClauseView) -> bool:
        """A denial limited to now, straight after the match ("not going to hurt myself |
        today"): with a later time named after it ("tomorrow after the kids are at
        school"), the act is put off, not denied."""
        return any(o.slot == _FOR_NOW for o in view.slots_at(match.end))

    def _did_not(self, match: _Match, view: _ClauseView) -> bool:
        """The match opens with a bare 'did', then a negation cue, then the same slot's
        word again ("i did not take too many pills"): the act is denied, though the cue
        sits inside the match."""
        tokens = view.tokens
        if match.start + 2 >= match.end or tokens[match.start].readings[0] != "did":
            return False
        first = match.spans[0].slot if match.spans else None
        cue = [o for o in view.slots_at(match.start + 1) if o.slot == _NEGATION]
        return any(o.slot == first for c in cue for o in view.slots_at(c.end) if o.end <= match.end)

    def _past_before(self, match: _Match, view: _ClauseView) -> bool:
        return any(
            o.slot == _PAST_BEFORE for p in range(match.start) for o in view.slots_at(p)
        ) and not view.has(_RECENT)

    def _present(self, match: _Match, view: _ClauseView) -> bool:
        """A present wish or intention inside the match or just before it; one told as the
        past ("i was | going to", "i was | gonna", "did not want") is not present."""
        told_ends: set[int] = set()
        # ...nor one inside a phrase of the past ("a year ago i | did not want | to wake up")
        past_spans: list[tuple[int, int]] = []
        for p in range(max(0, match.start - 6), match.end):
            for o in view.slots_at(p):
                if o.slot in (_TOLD, _PAST):
                    told_ends.add(o.end)
                elif o.slot == _PAST_BEFORE:
                    past_spans.append((o.start, o.end))
        return any(
            o.slot == _PRESENT
            and o.end <= match.end
            and o.start not in told_ends
            and not any(a <= o.start and o.end <= b for a, b in past_spans)
            for p in range(max(0, match.start - 3), match.end)
            for o in view.slots_at(p)
        )

    def _in_past(
        self,
        view: _ClauseView,
        previous: _ClauseView | None,
        following: _ClauseView | None = None,
    ) -> bool:
        """A past marker in this clause or a neighbouring one ("i had a noose in my closet
        once. that was 2012"), and no recent one in this."""
        marked = view.has(_PAST) or (
            previous is not None and previous.has(_PAST) and not previous.has(_RECENT)
        )
        if following is not None and not marked:
            # The next clause counts only when it opens with the marker ("that was 2012"),
            # not when it tells something else's past ("grandpa died last year").
            marked = any(o.slot == _PAST for p in (0, 1) for o in following.slots_at(p))
        if (
            following is not None
            and (len(following.tokens) <= _WHEN_CLAUSE_WORDS or following.has(_PRESENT))
            and any(o.slot == _RECENT for p in (0, 1) for o in following.slots_at(p))
        ):
            # "...at 20 like a bad game. tonight": a short next clause says when, and so
            # does one with a wish or an intention ("...and tonight i'm going to finish
            # it"). Any other clause that opens with a time tells of something else ("two
            # years ago tonight i tried to end my life. tonight i am making pasta").
            return False
        return marked and not view.has(_RECENT)

    # -- checks at load --------------------------------------------------------------------

    def self_check(self) -> Iterator[InitErrorDetails]:
        """Each rule catches every message in its `catches` at its level, and leaves every
        message in its `ignores` alone; a rule that catches none of its own examples can
        never match; a rule whose every catch another rule of the same or higher level
        already explains, and whose pattern that rule's contains, is shadowed."""
        for compiled in self._compiled:
            rule = compiled.rule
            index = compiled.index
            wanted = CrisisLevel.DANGER if rule.level is RuleLevel.DANGER else CrisisLevel.DISTRESS
            caught = 0
            for position, text in enumerate(rule.catches):
                fired = dict(self.matches(text))
                if rule.id not in fired:
                    yield _located(
                        ("rules", index, "catches", position),
                        text,
                        f"rule {rule.id!r} does not match this example; change the pattern or "
                        "the example",
                    )
                elif fired[rule.id] < wanted and fired[rule.id] is not CrisisLevel.HELPER:
                    yield _located(
                        ("rules", index, "catches", position),
                        text,
                        f"rule {rule.id!r} matches this example but only at "
                        f"{fired[rule.id].name.lower()}",
                    )
                else:
                    caught += 1
            for position, text in enumerate(rule.ignores):
                fired = dict(self.matches(text))
                if fired.get(rule.id, CrisisLevel.NONE) > CrisisLevel.NONE:
                    yield _located(
                        ("rules", index, "ignores", position),
                        text,
                        f"rule {rule.id!r} matches this look-alike; it must leave it alone",
                    )
            if not caught:
                yield _located(
                    ("rules", index, "pattern"),
                    rule.pattern,
                    f"rule {rule.id!r} can never match: none of its examples is caught",
                )
        yield from self._shadows()

    def _shadows(self) -> Iterator[InitErrorDetails]:
        for a in self._compiled:
            for b in self._compiled:
                if a.index == b.index or not _contains(a, b):
                    continue
                if a.rule.level is RuleLevel.DISTRESS and b.rule.level is RuleLevel.DANGER:
                    continue
                if _contains(b, a) and b.index < a.index:
                    continue  # the same rule twice: report it once, at the later one
                yield _located(
                    ("rules", b.index, "pattern"),
                    b.rule.pattern,
                    f"rule {b.rule.id!r} is shadowed by {a.rule.id!r}: everything it matches, "
                    f"{a.rule.id!r} matches too; remove one or narrow the other",
                )


def _contains(a: _CompiledRule, b: _CompiledRule) -> bool:
    """Whether every clause that `b` matches is matched by `a` (by structure)."""
    if len(a.steps) != len(b.steps):
        return False
    if (a.at_start and not b.at_start) or (a.at_end and not b.at_end):
        return False
    if a.rule.topic and not b.rule.topic:
        return False
    if (
        not a.not_followed_by <= b.not_followed_by
        or not a.not_preceded_by <= b.not_preceded_by
        or not a.not_with <= b.not_with
        or not b.unless_with <= a.unless_with
        or not set(a.rule.not_in_message) <= set(b.rule.not_in_message)
        or (a.only_with and not (b.only_with and b.only_with <= a.only_with))
    ):
        return False
    if a.rule.scope != b.rule.scope:
        return False
    return all(
        sa.slots >= sb.slots and sa.gap >= sb.gap and (sa.optional or not sb.optional)
        for sa, sb in zip(a.steps, b.steps, strict=True)
    )


def _located(loc: tuple[str | int, ...], given: object, message: str) -> InitErrorDetails:
    return {"type": _problem(message), "loc": loc, "input": given}


def _shown(token: object) -> str:
    assert hasattr(token, "shown") and hasattr(token, "readings")
    shown: str = token.shown
    extra = [r for r in token.readings[1:] if r != squeeze(shown)]
    return shown + (f"[{'/'.join(extra)}]" if extra else "")


class CrisisSet:
    """Every language's detector; a text gets the strongest answer any of them gives.
    English is the only rule file today; another language is a file beside it."""

    def __init__(self, detectors: Sequence[CrisisDetector]) -> None:
        if not detectors:
            raise ValueError("at least one rule file is needed")
        self.detectors = tuple(detectors)

    def detect(self, text: str) -> CrisisMatch:
        best = NO_MATCH
        for detector in self.detectors:
            found = detector.detect(text)
            if found.level > best.level:
                best = found
        return best

    def detect_all(self, *texts: str | None) -> CrisisMatch:
        best = NO_MATCH
        for detector in self.detectors:
            found = detector.detect_all(*texts)
            if found.level > best.level:
                best = found
        return best

    def explain(self, text: str) -> list[tuple[str, Explanation]]:
        return [(d.language, d.explain(text)) for d in self.detectors]

    def normalise(self, text: str) -> str:
        """The text's words as the first language's rules read them (for matching members'
        words to feelings the same way crisis detection reads them)."""
        return self.detectors[0].normalise(text)
