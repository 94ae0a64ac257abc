"""Crisis-language detection: the shipped phrase file, its model, and a regression set.

The regression set is the heart of this file. When a specialist changes
content/safety/crisis_phrases.yaml, these are the messages that must keep behaving: real
signals found (with shorthand, misspellings, held-down letters, caps and curly quotes),
negations respected, and everyday look-alikes left alone.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.domain.crisis import (
    WILDCARD,
    CrisisDetector,
    CrisisLevel,
    CrisisMatch,
    CrisisPhrases,
    normalise,
)

PHRASES_FILE = Path(__file__).parents[2] / "content" / "safety" / "crisis_phrases.yaml"

NONE = CrisisLevel.NONE
DISTRESS = CrisisLevel.DISTRESS
DANGER = CrisisLevel.DANGER


def _shipped_data() -> dict[str, Any]:
    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


SHIPPED_DATA = _shipped_data()
SHIPPED = CrisisPhrases.model_validate(SHIPPED_DATA)


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector.from_phrases(SHIPPED)


def _minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "danger": ["kill myself", "want to * die", "not safe"],
        "distress": ["hopeless"],
        "harmless": ["kill myself laughing"],
        "negations": ["not", "never"],
        "negation_bridges": ["going", "to"],
        "spellings": {"dont": "do not", "kms": "kill myself", "im": "i am"},
        "leetspeak": {"1": "i"},
    }
    data.update(changes)
    return data


def _errors(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        CrisisPhrases.model_validate(data)
    return [(tuple(e["loc"]), str(e["msg"])) for e in caught.value.errors()]


# -- the regression set --------------------------------------------------------------------

DANGER_CASES = [
    "I want to die",
    "i just want to die",
    "i wanna diiiie",
    "I WANT TO KILL MYSELF",
    "kms",
    "honestly i might kms tonight",
    "Kill. Myself.",
    "i want to k1ll myself",
    "I’m not safe",
    "im not safe right now",
    "I'm thinking about suicide",
    "feeling really SUICIDAL tonight",
    "su1c1de",
    "$uicide is all i think about",
    "thinking about sewerslide",
    "i want to unalive myself",
    "I don't want to live anymore",
    "i dont want to be alive",
    "I can't stop thinking about killing myself",
    "there’s no reason to live",
    "I have nothing to live for",
    "I want to end it all",
    "ending it all tonight",
    "everyone would be better off without me",
    "Better off dead tbh",
    "I wish I was dead",
    "goodbye everyone, this is goodbye",
    "this is my final goodbye",
    "I'm going to take all my pills",
    "thinking about overdosing",
    "i want to hurt myself",
    "self-harm urges are bad tonight",
    "I've been cutting myself again",
    "I want to end my life",
    "I'm planning to take my own life",
    "no, I want to die",
    "no i want to die",
    "ngl i want to die",
    "I hope I never wake up",
    "sooooo done with life",
    "i don’t feel safe with myself",
    "nobody would miss me",
    "I'm sorry. By the time you read this",
    "i want to die!!!!!",
    "I can't keep myself safe",
    "i'm not ok, i want to die",
    "I dont know why but i want to die",
    "i'm not sure i'm safe",
    "I self harmed last night",
    "I want to die. I'm not going to lie",
    "Ｉ ＷＡＮＴ ＴＯ ＤＩＥ",
    "i wish i could just die",
    "I'm so tired of living",
    "what is the point of living",
    "i'm trying not to hurt myself",
    "trying so hard not to cut tonight",
    "I'm scared I'll hurt myself",
    "I'm not sure I won't hurt myself",
    "i want someone to kill me",
    "I don't care if I live or die",
]

DISTRESS_CASES = [
    "I feel hopeless",
    "HOPELESSSSS",
    "i cant cope anymore",
    "I'm falling apart",
    "I relapsed last night",
    "having a panic attack",
    "I hate myself",
    "i h8 myself",
    "everything is too much",
    "it’s all too much right now",
    "I feel worthless",
    "I'm a burden to everyone",
    "nobody cares about me",
    "i can't take it anymore",
    "i can't take this anymore",
    "I'm at my breaking point",
    "I've hit rock bottom",
    "I feel empty inside",
    "I can't stop crying",
    "i give up",
    "what's the point anymore",
    "I'm spiraling",
    "I'm spiralling",
    "started drinking again",
    "I feel trapped",
    "not suicidal, just completely hopeless",
    "I'm not going to hurt myself but I feel hopeless",
    "someone told me to kys",
    "I'm losing my mind",
    "i am in a really bad place",
    "I’m not okay",
    "craving so bad i think i'm going to relapse",
    "i feel like a burden",
    "I feel like giving up",
]

NONE_CASES = [
    # look-alikes
    "this traffic is killing me",
    "I could die of embarrassment",
    "my feet are killing me",
    "killing it at work today",
    "dying to see the new movie",
    "I nearly died laughing",
    "this cake is to die for",
    "can you kill the lights",
    "killer workout this morning",
    "dead tired after the night shift",
    "the battery died",
    "I'm dead 💀 that's hilarious",
    "I would kill for a coffee",
    "I cut myself shaving",
    "hurt myself at the gym again",
    "I was killing myself laughing",
    "I want to die my hair blue",
    "we watched suicide squad",
    "suicide prevention training was really good",
    "that link is not safe for work",
    "I'm taking my life back one day at a time",
    "I'm a hopeless romantic",
    "rock bottom prices at the market",
    "breaking down stigma in recovery",
    "ran 5 kms today",
    "my shoes are falling apart",
    "I need to take all my pills with food",
    "kill me now, this meeting is endless",
    # negations
    "I'm not going to hurt myself",
    "not suicidal, just tired",
    "I would never kill myself",
    "I don't want to die",
    "I’m not really going to hurt myself",
    "I have no plans to hurt myself",
    "no suicidal thoughts today",
    "i haven't relapsed",
    "I'm not hopeless anymore",
    "got through today without hurting myself",
    "I'm not suicidal, I promise",
    "I stopped cutting myself two years ago",
    "no I'm not suicidal",
    "I promise I won't kill myself",
    "I don't want to relapse",
    # ordinary feelings and everyday text
    "I feel anxious about work",
    "can't sleep",
    "craving a drink",
    "craving a cigarette tonight",
    "I'm safe",
    "I feel safe now",
    "had a good day",
    "feeling a bit down",
    "stressed about exams",
    "lonely tonight",
    "I miss my dad",
    "I'm tired",
    "",
    "   ",
    "!!!",
    "3am again, 24/7 tired, 100% done with this week",
]


@pytest.mark.parametrize("text", DANGER_CASES)
def test_danger(detector: CrisisDetector, text: str) -> None:
    assert detector.detect(text).level is DANGER, detector.normalise(text)


@pytest.mark.parametrize("text", DISTRESS_CASES)
def test_distress(detector: CrisisDetector, text: str) -> None:
    assert detector.detect(text).level is DISTRESS, detector.normalise(text)


@pytest.mark.parametrize("text", NONE_CASES)
def test_harmless_negated_and_ordinary_text_is_none(detector: CrisisDetector, text: str) -> None:
    found = detector.detect(text)
    assert found == CrisisMatch(NONE, ""), (detector.normalise(text), found)


def test_regression_set_is_large_enough() -> None:
    assert len(DANGER_CASES) >= 30
    assert len(DISTRESS_CASES) >= 20
    assert len(NONE_CASES) >= 30
    everything = DANGER_CASES + DISTRESS_CASES + NONE_CASES
    assert len(set(everything)) == len(everything)


# -- every shipped phrase is reachable -------------------------------------------------------


@pytest.mark.parametrize("phrase", SHIPPED.danger)
def test_every_danger_phrase_is_found_on_its_own(detector: CrisisDetector, phrase: str) -> None:
    assert detector.detect(phrase.replace(WILDCARD, " ")).level is DANGER


@pytest.mark.parametrize("phrase", SHIPPED.distress)
def test_every_distress_phrase_is_found_on_its_own(detector: CrisisDetector, phrase: str) -> None:
    assert detector.detect(phrase.replace(WILDCARD, " ")).level >= DISTRESS


@pytest.mark.parametrize("phrase", SHIPPED.harmless)
def test_no_harmless_phrase_is_danger_on_its_own(detector: CrisisDetector, phrase: str) -> None:
    assert detector.detect(phrase.replace(WILDCARD, " ")).level is not DANGER


def test_a_wildcard_stands_for_one_optional_word(detector: CrisisDetector) -> None:
    assert "want to * die" in SHIPPED.danger
    assert detector.detect("want to die") == CrisisMatch(DANGER, "want to * die")
    assert detector.detect("want to just die") == CrisisMatch(DANGER, "want to * die")
    assert detector.detect("want to really just die").level is NONE


def test_the_match_reports_the_phrase_as_written_in_the_file(detector: CrisisDetector) -> None:
    assert detector.detect("i'm NOT SAFE!!") == CrisisMatch(DANGER, "not safe")
    assert detector.detect("someone said kys") == CrisisMatch(DISTRESS, "kill yourself")


def test_danger_wins_over_distress_wherever_it_appears(detector: CrisisDetector) -> None:
    assert detector.detect("I feel hopeless and I want to die").level is DANGER
    assert detector.detect("I want to die and I feel hopeless").level is DANGER


def test_a_negated_phrase_does_not_hide_a_later_real_one(detector: CrisisDetector) -> None:
    assert detector.detect("I don't want to die, but I want to kill myself").level is DANGER
    assert detector.detect("not suicidal. I want to end it all").level is DANGER


def test_negation_reaches_only_across_bridge_words(detector: CrisisDetector) -> None:
    window = SHIPPED.negation_window
    near = "i am not " + "really " * window + "going to hurt myself"
    far = "i am not " + "really " * (window + 1) + "going to hurt myself"
    assert detector.detect(near.replace("going to ", "")).level is NONE
    assert detector.detect(far).level is DANGER


# -- detect_all ----------------------------------------------------------------------------


def test_detect_all_takes_the_strongest(detector: CrisisDetector) -> None:
    assert detector.detect_all("had a good day", "I feel hopeless", "I want to die") == (
        CrisisMatch(DANGER, "want to * die")
    )
    assert detector.detect_all("I feel hopeless", None, "lovely weather").level is DISTRESS


def test_detect_all_ignores_none_and_handles_no_texts(detector: CrisisDetector) -> None:
    assert detector.detect_all() == CrisisMatch(NONE, "")
    assert detector.detect_all(None, None) == CrisisMatch(NONE, "")
    assert detector.detect_all(None, "kms") == CrisisMatch(DANGER, "kill myself")


def test_levels_are_ordered() -> None:
    assert NONE < DISTRESS < DANGER
    assert max(CrisisLevel) is DANGER


# -- normalise -----------------------------------------------------------------------------

SPELLINGS = SHIPPED.spellings
LEET = SHIPPED.leetspeak


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'M NOT SAFE!!!", "i am not safe"),
        ("I’m not safe", "i am not safe"),
        ("i m not safe", "i am not safe"),
        ("don't", "do not"),
        ("don’t", "do not"),
        ("I can't", "i can not"),
        ("i cannot", "i can not"),
        ("wanna", "want to"),
        ("gonna", "going to"),
        ("wannnnnna", "want to"),
        ("kms", "kill myself"),
        ("KMS", "kill myself"),
        ("kmssss", "kill myself"),
        ("5 kms", "5 kms"),
        ("sewerslide", "suicide"),
        ("sewer slide", "suicide"),
        ("diiiiie", "diie"),
        ("killllll", "kill"),
        ("sooooo done", "soo done"),
        ("  lots   of\n\tspace  ", "lots of space"),
        ("self-harm", "self harm"),
        ("Café naïve RÉSUMÉ", "cafe naive resume"),
        ("ＦＵＬＬＷＩＤＴＨ", "fullwidth"),
        ("“quoted” words", "quoted words"),
        ("end—it…all", "end it all"),
        ("😢 sad", "sad"),
        ("snake_case", "snake case"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text, SPELLINGS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("su1c1de", "suicide"),
        ("$uicide", "suicide"),
        ("k1ll mys3lf", "kill myself"),
        ("3am", "3am"),
        ("24/7", "24 7"),
        ("100%", "100"),
    ],
)
def test_normalise_reads_look_alike_characters_only_inside_words(text: str, expected: str) -> None:
    assert normalise(text, SPELLINGS, leetspeak=LEET) == expected
    assert normalise("su1c1de", SPELLINGS) == "su1c1de"


def test_normalise_without_spellings_keeps_shorthand() -> None:
    assert normalise("I'm gonna", {}) == "im gonna"


def test_detector_normalise_uses_the_file(detector: CrisisDetector) -> None:
    assert detector.normalise("I’m gonna k1ll myself") == "i am going to kill myself"


_LISTED_WORDS = sorted(
    {
        word
        for phrase in SHIPPED.danger + SHIPPED.distress + SHIPPED.harmless
        for word in phrase.split()
    }
    | set(SPELLINGS)
    | {"5", "10", "a0", "$", "@", "iii", "mmm"}
)
_SEPARATORS = [" ", ". ", "'", "", "-", "!!! ", "\n", " | ", "’", "…", " 😢 "]
_LISTED_TEXT = st.lists(
    st.tuples(st.sampled_from(_LISTED_WORDS), st.sampled_from(_SEPARATORS)), max_size=8
).map(lambda parts: "".join(word + sep for word, sep in parts))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), _LISTED_TEXT))
def test_normalise_is_idempotent_and_detect_never_fails(text: str) -> None:
    detector = CrisisDetector.from_phrases(SHIPPED)
    once = normalise(text, SPELLINGS, leetspeak=LEET)
    assert normalise(once, SPELLINGS, leetspeak=LEET) == once
    assert detector.detect(text).level in set(CrisisLevel)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DANGER_CASES), st.sampled_from(["", " ", "\n", "...", " 😢"]))
def test_danger_survives_surrounding_noise(prefix_case: str, noise: str) -> None:
    detector = CrisisDetector.from_phrases(SHIPPED)
    assert detector.detect(f"ok so{noise} {prefix_case}{noise}").level is DANGER


# -- the model -----------------------------------------------------------------------------


def test_the_shipped_file_validates_and_has_enough_phrases() -> None:
    assert len(SHIPPED.danger) >= 60
    assert len(SHIPPED.distress) >= 60
    assert SHIPPED.harmless
    assert "not" in SHIPPED.negations
    assert "no" in SHIPPED.negations  # a bare YAML no would have become False


def test_minimal_file_validates() -> None:
    phrases = CrisisPhrases.model_validate(_minimal())
    detector = CrisisDetector.from_phrases(phrases)
    assert detector.detect("im going to kms") == CrisisMatch(DANGER, "kill myself")
    assert detector.detect("i am not going to kill myself").level is NONE
    assert detector.detect("killing myself laughing").level is NONE


@pytest.mark.parametrize(
    ("change", "loc", "fragment"),
    [
        ({"danger": ["kill myself", ""]}, ("danger", 1), "empty"),
        ({"danger": ["kill myself", "   "]}, ("danger", 1), "empty"),
        ({"distress": ["!!!"]}, ("distress", 0), "no letters or digits"),
        ({"danger": ["kill myself", "kill (my)self"]}, ("danger", 1), "plain words"),
        ({"danger": ["* die"]}, ("danger", 0), "start or end"),
        ({"danger": ["want to *"]}, ("danger", 0), "start or end"),
        ({"danger": ["suicid*"]}, ("danger", 0), "stand alone"),
        ({"negations": ["not", "n*t"]}, ("negations", 1), "not allowed"),
        ({"danger": []}, ("danger",), "at least 1"),
        ({"negation_window": 99}, ("negation_window",), "less than or equal"),
        ({"leetspeak": {"a": "b"}}, ("leetspeak", "a", "[key]"), "digit or symbol"),
        ({"leetspeak": {"1": "I"}}, ("leetspeak", "1"), "lower-case letter"),
        ({"negations": ["not", False]}, ("negations", 1), "valid string"),
        ({"colour": "red"}, ("colour",), "Extra inputs"),
    ],
)
def test_the_model_rejects_a_bad_entry_precisely(
    change: dict[str, Any], loc: tuple[str | int, ...], fragment: str
) -> None:
    errors = _errors(_minimal(**change))
    assert any(found_loc == loc and fragment in msg for found_loc, msg in errors), errors


@pytest.mark.parametrize(
    ("change", "loc", "fragment"),
    [
        ({"danger": ["kill myself", "Kill myself!"]}, ("danger", 1), "same as 'kill myself'"),
        ({"danger": ["kill myself", "kil myself"]}, ("danger", 1), "same as 'kill myself'"),
        ({"danger": ["kill myself", "kms"]}, ("danger", 1), "same as 'kill myself'"),
        ({"distress": ["hopeless", "kill myself"]}, ("distress", 1), "in danger"),
        ({"distress": ["want to die"]}, ("distress", 0), "already matched by 'want to * die'"),
        (
            {"harmless": ["kill myself laughing", "killl myself laughing"]},
            ("harmless", 1),
            "same as",
        ),
        ({"harmless": ["dead tired"]}, ("harmless", 0), "nothing to cancel"),
        ({"harmless": ["kill myself"]}, ("danger", 0), "harmless 'kill myself' cancels it"),
        ({"negations": ["not", "never", "Not"]}, ("negations", 2), "same as 'not'"),
        ({"negation_bridges": ["going", "dont"]}, ("negation_bridges", 1), "one word"),
        ({"negation_bridges": ["going", "Going"]}, ("negation_bridges", 1), "twice"),
        ({"spellings": {"dont": "do not", "don't": "do not"}}, ("spellings", "don't"), "same"),
        ({"spellings": {"dont": "Dont"}}, ("spellings", "dont"), "replaced by itself"),
    ],
)
def test_the_model_rejects_duplicates_and_dead_entries(
    change: dict[str, Any], loc: tuple[str | int, ...], fragment: str
) -> None:
    errors = _errors(_minimal(**change))
    assert any(found_loc == loc and fragment in msg for found_loc, msg in errors), errors


def test_the_model_reports_every_problem_at_once() -> None:
    errors = _errors(
        _minimal(danger=["kill myself", "kill myself", "want to * die", "want to * die"])
    )
    assert {loc for loc, _ in errors} == {("danger", 1), ("danger", 3)}


def test_a_bare_yaml_no_is_caught() -> None:
    data = yaml.safe_load("danger: [kill myself]\ndistress: [hopeless]\nnegations:\n  - no\n")
    errors = _errors(data)
    assert errors[0][0] == ("negations", 0)


def test_the_shipped_file_breaks_when_a_phrase_is_duplicated() -> None:
    data = copy.deepcopy(SHIPPED_DATA)
    data["distress"].append("Spiraling")  # "spiralling" is listed; double letters count once
    errors = _errors(data)
    assert errors == [(("distress", len(data["distress"]) - 1), errors[0][1])]
    assert "same as 'spiralling'" in errors[0][1]


def test_from_phrases_reuses_the_compiled_detector() -> None:
    assert CrisisDetector.from_phrases(SHIPPED) is CrisisDetector.from_phrases(SHIPPED)


def test_from_phrases_compiles_an_unvalidated_model() -> None:
    phrases = CrisisPhrases.model_construct(**_minimal())
    assert CrisisDetector.from_phrases(phrases).detect("kms").level is DANGER


def test_the_json_schema_can_be_generated() -> None:
    schema = CrisisPhrases.model_json_schema()
    assert set(schema["required"]) == {"danger", "distress"}
