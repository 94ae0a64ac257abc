"""Wording rules for content (SAFETY.md §2), as pure functions over text.

Errors stop a merge: other people's contact details in stories, "committed suicide",
medication instructions. Warnings are for the reviewer to weigh: stigmatising terms (with
the person-first words to use instead), absolutes, clinical words in stories. A story
may keep a person's own words about themselves, which is why those are warnings.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

Key = Hashable


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    message: str


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    severity: Severity
    message: str
    # Lower-case fragments at least one of which any match must contain; a text with none
    # of them skips the regex. Most content has no finding at all, so one search for all
    # needles of a kind settles most texts.
    needles: tuple[str, ...]  # DIGITS stands for a run of digits


# Stands for "a run of digits long enough to be a phone number" (checked by _DIGIT_RUN).
DIGITS = "<digits>"

# What every match of each rule must contain (see _Rule.needles); keyed by the rule's message.
_NEEDLES: dict[str, tuple[str, ...]] = {
    "say “died by suicide”": ("committed suicide", "commit suicide", "commits suicide"),
    "say “suicide attempt”": ("attempt",),
    "is stigmatising: say “person with a substance": ("addict", "junk", "drugg", "abuser"),
    "is stigmatising: say “person with an alcohol": ("alcoholic",),
    "say “person in recovery”": ("addict",),
    "say “not using”": ("clean", "dirty"),
    "describe the experience": ("crazy", "psycho", "lunatic", "nutcase", "insane"),
    "is an absolute": (
        "always works",
        "never fails",
        "guaranteed",
        "cure",
        "100% effective",
        "works every time",
        "you must",
        "you have to",
        "you should always",
    ),
    "is clinical language": ("patient", "compliant", "compliance", "suffer"),
    "remove the mention": ("@",),
    "remove the e-mail": ("@",),
    "remove the phone number": (DIGITS,),
    "remove the dose": ("mg", "ml", "mcg", "µg", "milligram", "microgram", "millilit"),
    "never suggest starting or stopping": ("meds", "medic", "pills", "tablets", "prescription"),
    "never describe method": (
        "overdos",
        "how many pills",
        "lethal",
        "hanged",
        "hanging",
        "hang myself",
        "hang himself",
        "hang herself",
        "hang themselves",
        "jump",
        "slit",
        "noose",
    ),
}


def _needles_for(message: str) -> tuple[str, ...]:
    for fragment, needles in _NEEDLES.items():
        if fragment in message:
            return needles
    return ()


def _words(*alternatives: str) -> str:
    return r"\b(?:" + "|".join(alternatives) + r")\b"


_STIGMA = [
    (
        _words("committed suicide", "commit suicide", "commits suicide"),
        Severity.ERROR,
        "say “died by suicide” (or “took their own life”) instead of “{match}”",
    ),
    (
        _words("successful attempt", "failed attempt", "unsuccessful attempt"),
        Severity.ERROR,
        "say “suicide attempt” without judging it; “{match}” suggests success or failure",
    ),
    (
        _words("addicts?", "junkies?", "junky", "druggies?", "abusers?"),
        Severity.WARNING,
        "“{match}” is stigmatising: say “person with a substance use disorder” or "
        "“person who uses drugs”",
    ),
    (
        r"\balcoholics?\b(?! anonymous)",
        Severity.WARNING,
        "“{match}” is stigmatising: say “person with an alcohol use disorder”",
    ),
    (
        _words("former addicts?", "ex-addicts?"),
        Severity.WARNING,
        "“{match}”: say “person in recovery”",
    ),
    (
        r"\b(?:clean|dirty)\b(?=[^.!?\n]{0,40}\b(?:days?|weeks?|months?|years?|time|test|urine|screen)\b)|"
        r"\b(?:stay(?:ed|ing)?|got|get|getting|been|being) (?:clean|dirty)\b",
        Severity.WARNING,
        "“{match}”: say “not using” / “actively using” or “in recovery”",
    ),
    (
        _words("crazy", "psycho", "lunatic", "nutcase", "insane"),
        Severity.WARNING,
        "“{match}”: describe the experience itself instead",
    ),
]

_ABSOLUTES = [
    (
        _words(
            "always works",
            "never fails",
            "guaranteed",
            "cures?",
            "100% effective",
            "works every time",
            "you must",
            "you have to",
            "you should always",
        ),
        Severity.WARNING,
        "“{match}” is an absolute; recovery has many pathways, so offer rather than promise",
    ),
]

_CLINICAL_IN_STORIES = [
    (
        _words(
            "patients?",
            "non-compliant",
            "noncompliant",
            "compliance",
            "suffers from",
            "suffering from",
        ),
        Severity.WARNING,
        "“{match}” is clinical language; a story is one person talking to another",
    ),
]

# Six or more digits, optionally grouped: "116 123", "+44 20 7946 0000", "(555) 010-9999".
# Checked further in `_is_phone`, so "5-4-3-2-1" or a year range "2019-2023" is not one.
_PHONE = r"(?<![\w.])\+?\(?\d[\d\s().-]{4,}\d(?![\w.]\w)"

_CONTACT_DETAILS = [
    (
        r"(?<![\w.])@(?:everyone|here)\b|<@[!&]?\d+>|(?<![\w.])@[A-Za-z0-9_.]{2,32}\b",
        Severity.ERROR,
        "remove the mention “{match}”: content never pings anyone",
    ),
    (
        r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b",
        Severity.ERROR,
        "remove the e-mail address “{match}”: no one's contact details in content",
    ),
    (
        _PHONE,
        Severity.ERROR,
        "remove the phone number “{match}”: support lines belong in content/resources",
    ),
]

_MEDICAL = [
    (
        r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|µg|ml|milligrams?|micrograms?|millilitres?|milliliters?)\b",
        Severity.ERROR,
        "remove the dose “{match}”: medication advice is for a prescriber",
    ),
    (
        _words(
            r"(?:stop|start|quit|skip|double) (?:taking|your) (?:your |the )?"
            r"(?:meds|medication|medicine|pills|tablets|prescription)"
        ),
        Severity.ERROR,
        "“{match}”: never suggest starting or stopping medication",
    ),
]

_METHOD = [
    (
        _words(
            "overdos(?:e|ed|ing) on",
            "how many pills",
            "lethal dose",
            "hang(?:ed|ing)? (?:myself|himself|herself|themselves)",
            "jump(?:ed|ing)? (?:off|from) (?:a|the) (?:bridge|roof|building)",
            "slit",
            "noose",
        ),
        Severity.ERROR,
        "remove “{match}”: never describe method or means",
    ),
]


def _compile(rules: Iterable[tuple[str, Severity, str]]) -> list[_Rule]:
    return [_Rule(re.compile(p, re.IGNORECASE), s, m, _needles_for(m)) for p, s, m in rules]


class StyleChecker:
    """Compiled once per content check; `check(kind, text)` runs the rules for that kind."""

    def __init__(self) -> None:
        common = _compile(_STIGMA + _ABSOLUTES + _MEDICAL + _METHOD)
        contact = _compile(_CONTACT_DETAILS)
        clinical = _compile(_CLINICAL_IN_STORIES)
        self._rules: dict[str, list[_Rule]] = {
            "technique": common + contact,
            "story": common + contact + clinical,
            "prompt": common + contact,
            "resource": _compile(_STIGMA),
        }
        # Each distinct needle is looked for once per item, whichever rules share it.
        self._needles = {
            kind: frozenset(n for rule in rules for n in rule.needles if n != DIGITS)
            for kind, rules in self._rules.items()
        }

    def check(self, kind: str, text: str) -> list[Finding]:
        return [finding for _, finding in self.check_item(kind, [((), text)])]

    def check_item(self, kind: str, texts: Sequence[tuple[Key, str]]) -> list[tuple[Key, Finding]]:
        """Findings for all texts of one item, each with the key its text came with.

        The rules' needles are looked for once in the item's texts joined together (plain
        substring tests, which are far cheaper than regular expressions); only the rules
        whose needles occur are then run, on each text.
        """
        joined = "\n".join(text for _, text in texts).casefold()
        present = {n for n in self._needles[kind] if n in joined}
        if _DIGIT_RUN.search(joined):
            present.add(DIGITS)
        active = [rule for rule in self._rules[kind] if present.intersection(rule.needles)]
        findings: list[tuple[Key, Finding]] = []
        if not active:
            return findings
        for key, text in texts:
            for rule in active:
                for match in rule.pattern.finditer(text):
                    found = match.group(0).strip()
                    if rule.pattern.pattern == _PHONE and not _is_phone(found):
                        continue
                    findings.append((key, Finding(rule.severity, rule.message.format(match=found))))
        return findings


# Starts with \d so the regex engine skips ahead by character class; a text without such
# a run cannot hold a phone number of six or more digits.
_DIGIT_RUN = re.compile(r"\d[\d\s().+-]{4,}\d")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\s*[-–]\s*(?:19|20)?\d\d$")


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    groups = re.findall(r"\d+", candidate)
    # A countdown like 5-4-3-2-1 is all single digits; a phone number has longer groups.
    return digits >= 6 and max(len(g) for g in groups) >= 3 and not _YEAR_RANGE.match(candidate)
