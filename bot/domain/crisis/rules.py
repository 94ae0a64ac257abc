"""The model of a crisis rule file (`content/safety/rules/<language>.yaml`).

A file is read in two steps. This model checks its shape: every field, every pattern's
syntax, every slot a pattern names. `bot.domain.crisis.detector.compile_rules` then builds
the matcher and checks the rules against their own examples. The file's header explains
each section for the specialists who review it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

__all__ = [
    "ContextLists",
    "CrisisRules",
    "Element",
    "NegationSettings",
    "PeopleLists",
    "ReadingSettings",
    "Rule",
    "RuleLevel",
    "parse_pattern",
]

_SLOT_NAME = r"[a-z][a-z0-9_]*"
_SLOT_RE = re.compile(rf"\{{({_SLOT_NAME})\}}(\?)?")
_WORD_RE = re.compile(r"[a-z0-9]+(\?)?")
_GAPS = {"..": 3, "...": 8}
# Slots every file must have, because the detector itself uses them.
REQUIRED_SLOTS = ("lead", "tail")


def _problem(message: str) -> PydanticCustomError:
    # The message travels in the context so that braces in a quoted pattern stay literal.
    return PydanticCustomError("crisis_rules", "{problem}", {"problem": message})


class Element(BaseModel):
    """One step of a pattern: a slot or a literal word, or an anchor."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["slot", "word", "start", "end"]
    name: str = ""  # the slot's name, or the word
    optional: bool = False
    gap: int = 0  # how many other words may come just before this one


def parse_pattern(pattern: str) -> tuple[Element, ...]:
    """`{slot}`, `{slot}?`, `word`, `word?`, `..` (up to 3 words), `...` (up to 8), `^`
    (the clause starts here, after lead-in words), `$` (it ends here, before tail words)."""
    elements: list[Element] = []
    gap = 0
    parts = pattern.split()
    if not parts:
        raise _problem("is empty; write the words and {slots} to match")
    for index, part in enumerate(parts):
        if part in _GAPS:
            if not elements or gap:
                raise _problem(f"{part!r} must stand between two words or slots")
            gap = _GAPS[part]
        elif part == "^":
            if index:
                raise _problem("^ marks where the clause starts, so it comes first")
            elements.append(Element(kind="start"))
        elif part == "$":
            if index != len(parts) - 1:
                raise _problem("$ marks where the clause ends, so it comes last")
            elements.append(Element(kind="end", gap=gap))
            gap = 0
        elif match := _SLOT_RE.fullmatch(part):
            elements.append(
                Element(kind="slot", name=match.group(1), optional=bool(match.group(2)), gap=gap)
            )
            gap = 0
        elif _WORD_RE.fullmatch(part):
            optional = part.endswith("?")
            elements.append(Element(kind="word", name=part.rstrip("?"), optional=optional, gap=gap))
            gap = 0
        else:
            raise _problem(
                f"{part!r} is not understood: write lower-case words, {{slot}} names, "
                ".. or ... for a gap, ^ and $ for the clause's start and end"
            )
    if gap:
        raise _problem("a pattern can't end with a gap")
    required = [e for e in elements if e.kind in ("slot", "word") and not e.optional]
    if not required:
        raise _problem("needs at least one word or slot that is not optional")
    return tuple(elements)


def _check_pattern(value: str) -> str:
    parse_pattern(value)
    return value


def _check_phrase(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise _problem("is empty; write a phrase or remove the line")
    for part in stripped.split():
        if not (_SLOT_RE.fullmatch(part) and not part.endswith("?")) and not re.fullmatch(
            r"[a-z0-9]+", part
        ):
            raise _problem(
                f"{value!r}: write lower-case words and letters only (or a {{slot}} name); "
                f"{part!r} is not one"
            )
    return value


Pattern = Annotated[str, AfterValidator(_check_pattern)]
Phrase = Annotated[str, AfterValidator(_check_phrase)]
Example = Annotated[str, Field(min_length=1, max_length=500)]


class RuleLevel(StrEnum):
    DANGER = "danger"
    DISTRESS = "distress"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    level: RuleLevel
    pattern: Pattern
    # A mention of the subject rather than a statement about oneself: as a question it is
    # a gentle pointer (distress), and about a film, a book or the news it is nothing.
    topic: bool = False
    # Whether words that put it in the past ("years ago", "used to") make it distress.
    past: Literal["distress", "keep"] = "distress"
    # Who it is about: decided around the match (auto), always the writer, or always
    # someone else (the helper reply).
    person: Literal["auto", "writer", "other"] = "auto"
    # clause: the pattern matches inside one clause; message: across the whole message.
    scope: Literal["clause", "message"] = "clause"
    # Slots that may not come straight after the match ("kill myself {laughing}").
    not_followed_by: list[Annotated[str, Field(pattern=rf"^{_SLOT_NAME}$")]] = Field(
        default_factory=list
    )
    # Slots that may not come straight before the match ("{things_subject} falling apart").
    not_preceded_by: list[Annotated[str, Field(pattern=rf"^{_SLOT_NAME}$")]] = Field(
        default_factory=list
    )
    # Slots that may not appear anywhere in the match's clause ("on the bridge" with
    # {leisure}: a day out, not a method).
    not_with: list[Annotated[str, Field(pattern=rf"^{_SLOT_NAME}$")]] = Field(default_factory=list)
    # Slots that, anywhere in the clause, lift `not_with` ("hit my head on the wall until i
    # saw stars": {deliberate} says it was no accident).
    unless_with: list[Annotated[str, Field(pattern=rf"^{_SLOT_NAME}$")]] = Field(
        default_factory=list
    )
    # Slots that may not appear anywhere in the message ("back after the 20th": a goodbye
    # for a while, not a farewell); `unless_with`, anywhere in the message, lifts it.
    not_in_message: list[Annotated[str, Field(pattern=rf"^{_SLOT_NAME}$")]] = Field(
        default_factory=list
    )
    # Slots of which one must appear somewhere in the match's clause (the message, for a
    # rule whose scope is the message): "back to day 0" is a relapse into self-harm only
    # where self-harm is named.
    only_with: list[Annotated[str, Field(pattern=rf"^{_SLOT_NAME}$")]] = Field(default_factory=list)
    catches: list[Example] = Field(min_length=1)
    ignores: list[Example] = Field(min_length=1)
    note: str = ""


class ReadingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spellings: dict[str, str] = Field(default_factory=dict)
    leetspeak: dict[str, str] = Field(default_factory=dict)
    # Numbers in digits read as words too, between words ("want 2 die"): keys are digits.
    number_words: dict[Annotated[str, Field(pattern=r"^[0-9]+$")], list[str]] = Field(
        default_factory=dict
    )
    # Shorthand left as it is when the message holds one of the listed words ("kms" is
    # kilometres in a message about a run).
    not_shorthand_with: dict[str, list[str]] = Field(default_factory=dict)
    # A word every number written in digits also reads as, so that a phrase can say "any
    # number" ("broke anynumber days clean"); empty for none.
    any_number: Annotated[str, Field(pattern=r"^([a-z]+)?$")] = ""
    # Emoji and other symbols read as words ("💊" as "pills", "😂" as "lol").
    symbols: dict[str, str] = Field(default_factory=dict)
    # Words that only say how much or how sure ("just", "really"): skipped inside a slot's
    # phrase, at most two in a row, so "i would just like to" reads "would like to" and
    # "better off honestly dead" "better off dead". Never the first word of a phrase.
    fillers: list[Annotated[str, Field(pattern=r"^[a-z]+$")]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> ReadingSettings:
        for key, value in self.symbols.items():
            if len(key) != 1 or key.isalnum() or key.isascii():
                raise _problem(f"{key!r}: each symbol key is one character that is not a letter")
            if not value.strip() or not all(w.isalpha() for w in value.split()):
                raise _problem(f"{key!r}: {value!r} must be one or more words of letters")
        for key, value in self.spellings.items():
            if not key.strip() or not value.strip():
                raise _problem(f"spelling {key!r}: {value!r} has an empty side")
        for key, value in self.leetspeak.items():
            if len(key) != 1 or key.isalpha() or key.isspace():
                raise _problem(f"{key!r}: each key is one digit or symbol that stands for a letter")
            if len(value) != 1 or not ("a" <= value <= "z"):
                raise _problem(f"{key!r}: {value!r} must be one lower-case letter a-z")
        return self


class NegationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cues: list[Phrase] = Field(min_length=1)
    # Said straight after a match, these negate it too ("suicide is not an option").
    after: list[Phrase] = Field(default_factory=list)
    # Said straight after a negated match, these limit the denial to now; with a later
    # time named in a clause after it (`later`), it is no denial ("i am not going to hurt
    # myself today. tomorrow, that's the plan").
    for_now: list[Phrase] = Field(default_factory=list)
    later: list[Phrase] = Field(default_factory=list)
    bridges: list[Phrase] = Field(default_factory=list)
    window: int = Field(default=4, ge=0, le=8)


class ContextLists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    past: list[Phrase] = Field(default_factory=list)
    # The writer says the same of themselves after someone else's danger ("she wants to
    # die and honestly so do i", "me too"): the writer's danger, not the helper reply.
    shared: list[Phrase] = Field(default_factory=list)
    # Past markers that only count before the match ("i used to cut", not "the cliff
    # where we used to go").
    past_before: list[Phrase] = Field(default_factory=list)
    recent: list[Phrase] = Field(default_factory=list)
    # Stretches of time that run up to now ("the last year", "the past few months"): a
    # past marker inside one is no past ("you were the best part of the last year").
    until_now: list[Phrase] = Field(default_factory=list)
    # Said of the writer now, after a past crisis ("still here and glad", "got my 2 year
    # chip"): with a past marker anywhere in the message, every clause reads as the past
    # unless a present wish or intention is inside or just before the match.
    recovered: list[Phrase] = Field(default_factory=list)
    # A clause that says how the writer is now ("now", "these days", "it has been") and
    # that they are well ("better", "glad", "sober"), not negated: with a past marker
    # elsewhere and nothing recent ("tonight", "again"), the message tells of a crisis now
    # over, as `recovered` does, without a list of whole sentences.
    now: list[Phrase] = Field(default_factory=list)
    well: list[Phrase] = Field(default_factory=list)
    # Words that tell of the past only weakly ("i wanted", "i tried"): on their own they
    # change nothing; before a clause of `now` and `well` they make the story one of
    # recovery.
    told: list[Phrase] = Field(default_factory=list)
    # A complaint about something small ("if i hear that song one more time") together with
    # a laugh ("lol", "😂") anywhere in the message: what it says of dying is a joke.
    hyperbole: list[Phrase] = Field(default_factory=list)
    # Words that open a quotation ("the song goes", "the line"): in a message about a
    # film, a song or a book, what follows them is the work's words, not the writer's.
    quote_frame: list[Phrase] = Field(default_factory=list)
    # The writer says the words are not meant darkly ("not for any bad reason", "not that
    # kind of note"): with nothing said in earnest or of now, no rule's match is danger.
    disavowal: list[Phrase] = Field(default_factory=list)
    # Said in earnest ("i mean it", "not joking"): no joke, no quotation and no disavowal.
    sincere: list[Phrase] = Field(default_factory=list)
    laugh: list[Phrase] = Field(default_factory=list)
    # Present wishes and intentions: inside or just before a match, the past can't apply.
    present: list[Phrase] = Field(default_factory=list)
    question_openers: list[Phrase] = Field(default_factory=list)
    # In a question, these ask what a word means ("what does kms mean"): never danger.
    meaning: list[Phrase] = Field(default_factory=list)
    media: list[Phrase] = Field(default_factory=list)


class PeopleLists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    self: list[Phrase] = Field(min_length=1)
    other: list[Phrase] = Field(min_length=1)
    # People in general ("someone", "a friend"): in a question, a topic stays a question.
    anyone: list[Phrase] = Field(default_factory=list)
    # Animals and plants ("the cat", "my dog", "the basil"): as the subject of a match, it is
    # about no person at all ("the cat sits on the window ledge").
    creature: list[Phrase] = Field(default_factory=list)
    # Words that report what someone else said or wrote ("says", "wrote", "texted"): just
    # after someone else or someone, the first-person words that follow are theirs ("my
    # friend says kms", "she wrote i wish i was not alive").
    reports: list[Phrase] = Field(default_factory=list)


class CrisisRules(BaseModel):
    """One language's rule file. Shape only; `compile_rules` does the rest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
    reading: ReadingSettings = ReadingSettings()
    negation: NegationSettings
    context: ContextLists = ContextLists()
    people: PeopleLists
    slots: dict[Annotated[str, Field(pattern=rf"^{_SLOT_NAME}$")], list[Phrase]]
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> CrisisRules:
        problems: list[InitErrorDetails] = []

        def report(loc: tuple[str | int, ...], given: object, message: str) -> None:
            problems.append({"type": _problem(message), "loc": loc, "input": given})

        known = set(self.slots)
        for name in REQUIRED_SLOTS:
            if name not in known:
                report(("slots",), name, f"the slot {name!r} is required (the detector uses it)")
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            if rule.id in seen:
                report(
                    ("rules", index, "id"), rule.id, f"{rule.id!r} is used twice; keep ids unique"
                )
            seen.add(rule.id)
            for element in parse_pattern(rule.pattern):
                if element.kind == "slot" and element.name not in known:
                    report(
                        ("rules", index, "pattern"),
                        rule.pattern,
                        f"the slot {{{element.name}}} is not defined under `slots`",
                    )
            for field_name in (
                "not_followed_by",
                "not_preceded_by",
                "not_with",
                "unless_with",
                "only_with",
                "not_in_message",
            ):
                for position, name in enumerate(getattr(rule, field_name)):
                    if name not in known:
                        report(
                            ("rules", index, field_name, position),
                            name,
                            f"{name!r} is not defined under `slots`",
                        )
        for name, phrases in self.slots.items():
            if not phrases:
                report(("slots", name), phrases, "is empty; list at least one phrase")
            for position, phrase in enumerate(phrases):
                for ref in _SLOT_RE.findall(phrase):
                    if ref[0] not in known:
                        report(("slots", name, position), phrase, f"{{{ref[0]}}} is not a slot")
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self
