"""Crisis detection: the shipped rules, how text is read, and the rule file's model.

The regression lists are messages that must keep behaving whenever a specialist changes
content/safety/rules/en.yaml: real signals found (with shorthand, misspellings, held-down
letters, caps and curly quotes), negations respected, and everyday look-alikes left alone.
The labelled corpus in content/safety/corpus/ is scored by `peerlight crisis eval` (CI runs
it); these lists are the quick, readable part.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.domain.crisis import CrisisLevel, CrisisRules, CrisisSet, Lexicon, compile_rules
from bot.storage.content_files import load_library
from bot.storage.lexicon import load_lexicon

CONTENT = Path(__file__).parents[2] / "content"
RULES_FILE = CONTENT / "safety" / "rules" / "en.yaml"

NONE = CrisisLevel.NONE
DISTRESS = CrisisLevel.DISTRESS
HELPER = CrisisLevel.HELPER
DANGER = CrisisLevel.DANGER


@pytest.fixture(scope="module")
def detector() -> CrisisSet:
    report = load_library(CONTENT, today=dt.date.today(), revision=None)
    assert report.catalog is not None, [p.format() for p in report.errors]
    return report.catalog.crisis


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


def _shipped() -> dict[str, Any]:
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


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

HELPER_CASES = [
    "my friend says she wants to kill herself",
    "my brother keeps talking about ending his life",
    "my sponsee told me he took too many pills",
    "i think my mum is going to hurt herself",
    "my son said he wants to die",
]


@pytest.mark.parametrize("text", DANGER_CASES)
def test_danger(detector: CrisisSet, text: str) -> None:
    assert detector.detect(text).level is DANGER


@pytest.mark.parametrize("text", DISTRESS_CASES)
def test_distress(detector: CrisisSet, text: str) -> None:
    assert detector.detect(text).level is DISTRESS


@pytest.mark.parametrize("text", NONE_CASES)
def test_harmless_negated_and_ordinary_text_is_none(detector: CrisisSet, text: str) -> None:
    assert detector.detect(text).level is NONE


@pytest.mark.parametrize("text", HELPER_CASES)
def test_someone_else_in_danger_gets_the_helper_reply(detector: CrisisSet, text: str) -> None:
    assert detector.detect(text).level is HELPER


def test_the_writers_danger_wins_over_someone_elses(detector: CrisisSet) -> None:
    assert detector.detect("my friend wants to die and so do i, i want to die").level is DANGER
    assert detector.detect("me and my girlfriend are going to kill ourselves").level is DANGER


# -- reading text: each kind of disguise ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "i want to ki\u200bll myself",  # zero-width space
        "i want to d\u00adie",  # soft hyphen
        "i want to kill mys\u0435lf",  # Cyrillic e
        "thinking about \u0455uicide",  # Cyrillic dze
        "k i l l  m y s e l f",  # spaced out
        "k.m.s.",  # dotted
        "want 2 die",  # a digit for a word
        "s*icide is all i think about",  # masked
        "sui cide keeps coming back",  # split in two
        "i want to kil my self",  # dropped letter, split word
        "thinking about suicdie",  # swapped letters
        "i wanna d13",  # leetspeak
        "i want to kiII myself",  # capital I for l
    ],
)
def test_disguised_danger_is_read_through(detector: CrisisSet, text: str) -> None:
    assert detector.detect(text).level is DANGER, text


@pytest.mark.parametrize(
    ("text", "not_read_as"),
    [
        ("i keep putting it off", "cutting"),
        ("the fridge is empty", "bridge"),
        ("i blame myself", "blade"),
    ],
)
def test_ordinary_english_words_are_never_read_as_a_rule_word(
    detector: CrisisSet, text: str, not_read_as: str
) -> None:
    (english,) = detector.detectors
    readings = {r for clause in english._reader.read(text) for t in clause for r in t.readings}
    assert not_read_as not in readings
    assert detector.detect(text).level < HELPER


def test_a_misspelling_that_is_no_english_word_is_read_as_the_rule_word(
    detector: CrisisSet,
) -> None:
    (english,) = detector.detectors
    (clause,) = english._reader.read("suicdie")
    assert "suicide" in clause[0].readings


# -- around a match ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("i'm not going to hurt myself", NONE),
        ("no, i want to die", DANGER),
        ("i can't stop thinking about killing myself", DANGER),
        ("suicide is not an option for me", NONE),
        ("i used to cut, now i go for a run instead", DISTRESS),
        ("i overdosed in 2018 and now i'm three years clean", DISTRESS),
        ("i cut myself last night", DANGER),
        ("how do i talk to my kids about suicide?", DISTRESS),
        ("what does kms mean?", DISTRESS),
        ("how do i kill myself?", DANGER),
        ("the film handled the self harm storyline with care", NONE),
        ("this traffic is killing me", NONE),
        ("kill the engine", NONE),
        ("end the call", NONE),
        ("cut the cake", NONE),
    ],
)
def test_context_decides(detector: CrisisSet, text: str, level: CrisisLevel) -> None:
    assert detector.detect(text).level is level


# Each pair: a message the mechanism must leave as danger, and one it must quiet. Written
# apart from the corpus; the mechanisms are named in content/safety/rules/en.yaml.
@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a story of recovery: the past told, then a clause that says the writer is well now
        (
            "i wanted to die for most of my life. my kids got me into therapy. i am happy now",
            DISTRESS,
        ),
        (
            "i tried to end my life at christmas, my brother found me. it's june now and i am okay",
            DISTRESS,
        ),
        # ...but told the other way round, or with something recent, it is danger
        ("i am okay now. i wanted to end my life and i still do", DANGER),
        ("i wanted to end my life in march. now i feel fine about doing it tonight", DANGER),
        ("two years clean and tonight i'm going to take all of it and not wake up", DANGER),
        ("5 years sober and the pills are lined up on my desk", DANGER),
        # a relapse is present, not past: "my old dealer" tells no story of recovery
        ("called my old dealer, buying enough that i don't wake up", DANGER),
        # a laughed-off complaint about something small
        ("if i have to sit through one more budget meeting i'll kill myself lol", NONE),
        ("if i have to sit through one more budget meeting i'll kill myself", DANGER),
        ("i'm going to kill myself lol. not joking", DANGER),
        # the noun "overdose" is a topic; the verb and a wish for it are not
        ("caffeine overdose before the exam, my hands are shaking", NONE),
        ("the overdose awareness walk is on saturday", NONE),
        ("i want to overdose", DANGER),
        ("i think i'm overdosing", DANGER),
        # a place of a method on a day out ({leisure} in the clause, nothing happening now)
        ("took sunset photos from the ledge of the old quarry", NONE),
        ("i'm on the ledge of the old quarry right now taking my last photos", DANGER),
        # a quotation from a work, unless something in the message is said in earnest
        ("the song goes 'i want to die young' and it's stuck in my head", NONE),
        ("the song goes 'i want to die young' and honestly same, tonight", DANGER),
        ("if i have to sit through one more meeting i'll kill myself lol. not joking", DANGER),
        # a past marker right before the act, in a clause that is about now
        ("tonight's the night i kms. bye", DANGER),
        ("the night i tried to kill myself was ten years ago", DISTRESS),
        # a past marker whose next clause says when: now
        ("ff'ing life at 20 like a bad league game. tonight", DANGER),
        ("i wanted to end my life at 20. that was a long time ago", DISTRESS),
        # a time inside a longer past marker is the past's, an anniversary
        ("two years ago tonight i tried to end my life. now i'm ok", DISTRESS),
        ("a year ago today i overdosed, and tonight i'm going to finish it", DANGER),
        # a use that is no method: {means_use} in the clause
        ("bought a rope toy for the puppy and some rope for the tent", NONE),
        ("bought a rope today", DANGER),
        # emoji read as words
        ("💊💊💊 tonight. goodbye", DANGER),
        ("that meme 😂 i'm crying", NONE),
        # nominal compounds of the topic words
        ("reality tv is career suicide for a serious actor", NONE),
        ("the self harm scenes in that show were hard to watch", NONE),
        ("i'm self harming again", DANGER),
        # the writer disavows the dark reading ({disavowal}), unless said in earnest or now
        ("wrote a note to my future self. not that kind of note lol", NONE),
        ("giving away my stuff because i'm moving, not for any bad reason", NONE),
        ("gave my dog to my sister, not in a bad way. tonight is the night", DANGER),
        # recovery told, then something recent after it: a relapse, not a story of recovery
        ("i was 2 years free from sh and now i'm at 0. burned my arm", DANGER),
        ("my share tonight: i overdosed once, 8 years ago. today i have 8 years sober", DISTRESS),
        # a part of the body harmed: an accident ({accident}) is none, unless {deliberate}
        ("burnt my hand on the oven", NONE),
        ("hit my head on the cupboard door", NONE),
        ("hit my head on the desk until i saw stars", DANGER),
        ("i cut my arm again last night", DANGER),
        ("i was off my head last night", NONE),
        ("such a weight off my shoulders", NONE),
        # an idiom after the act ({self_idiom}): blame, not harm
        ("i always beat myself up about it", NONE),
        ("i want to beat myself until it hurts", DANGER),
        # a stretch of life named as the past ("all through my twenties"), unless it goes on
        ("i was suicidal all through my twenties. my 40s are so much kinder", DISTRESS),
        ("last winter i wanted to die and i still do", DANGER),
    ],
)
def test_context_around_the_words(detector: CrisisSet, text: str, level: CrisisLevel) -> None:
    assert detector.detect(text).level is level, detector.explain(text)[0][1].lines()


def test_explain_names_the_rule_and_the_reason(detector: CrisisSet) -> None:
    ((language, explanation),) = detector.explain("my friend wants to kill herself")
    assert language == "en"
    lines = "\n".join(explanation.lines())
    assert "rule kill-other-self" in lines
    assert "someone else" in lines
    assert explanation.result.level is HELPER


def test_detect_all_takes_the_strongest(detector: CrisisSet) -> None:
    assert detector.detect_all(None, "", "i feel hopeless", "i want to die").level is DANGER
    assert detector.detect_all(None, "").level is NONE


def test_levels_are_ordered() -> None:
    assert NONE < DISTRESS < HELPER < DANGER


# -- templates: frames x acts x tense x negation, with their own vocabulary ------------------

_FRAMES = ["i really want to", "tonight i am going to", "i keep planning to", "i have decided to"]
_ACTS = ["die", "kill myself", "end my own life", "take my own life"]
_NEGATED = ["i would never", "i am definitely not going to", "i do not want to"]
_PAST = ["years ago i wanted to", "back in 2015 i tried to"]
_OTHERS = ["my cousin says she wants to kill herself", "my dad said he plans to end his life"]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(_FRAMES),
    st.sampled_from(_ACTS),
    st.sampled_from(["", "lol", "tbh", "so badly"]),
)
def test_template_danger(frame: str, act: str, tail: str) -> None:
    assert _DETECTOR.detect(f"{frame} {act} {tail}").level is DANGER


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_NEGATED), st.sampled_from(_ACTS))
def test_template_negated(frame: str, act: str) -> None:
    assert _DETECTOR.detect(f"{frame} {act}").level is NONE


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(_PAST), st.sampled_from(["kill myself", "end my own life"]))
def test_template_past(frame: str, act: str) -> None:
    assert _DETECTOR.detect(f"{frame} {act}").level is DISTRESS


@pytest.mark.parametrize("text", _OTHERS)
def test_template_other(text: str) -> None:
    assert _DETECTOR.detect(text).level is HELPER


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_detect_never_fails(text: str) -> None:
    assert _DETECTOR.detect(text).level in CrisisLevel


_DETECTOR_REPORT = load_library(CONTENT, today=dt.date.today(), revision=None)
assert _DETECTOR_REPORT.catalog is not None
_DETECTOR = _DETECTOR_REPORT.catalog.crisis


# -- the rule file's model and its checks ------------------------------------------------------


def _errors(data: dict[str, Any], lexicon: Lexicon) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        compile_rules(CrisisRules.model_validate(data), lexicon)
    return [(tuple(e["loc"]), str(e["msg"])) for e in caught.value.errors()]


def test_the_shipped_rules_compile(lexicon: Lexicon) -> None:
    detector = compile_rules(CrisisRules.model_validate(_shipped()), lexicon)
    assert len(detector.rule_ids) >= 50


def test_an_unknown_slot_is_reported_at_its_rule() -> None:
    data = _shipped()
    data["rules"][0]["pattern"] = "{no_such_slot} .. {die}"
    with pytest.raises(ValidationError) as caught:
        CrisisRules.model_validate(data)
    (error,) = caught.value.errors()
    assert error["loc"] == ("rules", 0, "pattern")
    assert "no_such_slot" in error["msg"]


@pytest.mark.parametrize("pattern", [".. {die}", "{die} ..", "{die} ^", "$ {die}", "{Die}", "die!"])
def test_a_bad_pattern_is_refused(pattern: str) -> None:
    data = _shipped()
    data["rules"][0]["pattern"] = pattern
    with pytest.raises(ValidationError):
        CrisisRules.model_validate(data)


def test_a_rule_that_misses_its_own_example_is_reported(lexicon: Lexicon) -> None:
    data = _shipped()
    data["rules"][0]["catches"] = ["what a lovely day"]
    errors = _errors(data, lexicon)
    assert (("rules", 0, "catches", 0)) in [loc for loc, _ in errors]
    assert any("can never match" in message for _, message in errors)


def test_a_rule_that_catches_its_look_alike_is_reported(lexicon: Lexicon) -> None:
    data = _shipped()
    data["rules"][0]["ignores"] = ["i want to die"]
    errors = _errors(data, lexicon)
    assert (("rules", 0, "ignores", 0)) in [loc for loc, _ in errors]


def test_a_shadowed_rule_is_reported(lexicon: Lexicon) -> None:
    data = _shipped()
    copy_of_first = copy.deepcopy(data["rules"][0])
    copy_of_first["id"] = "same-again"
    data["rules"].append(copy_of_first)
    errors = _errors(data, lexicon)
    assert any("shadowed" in message for _, message in errors)


def test_every_rule_has_a_catch_and_a_look_alike() -> None:
    for rule in CrisisRules.model_validate(_shipped()).rules:
        assert rule.catches and rule.ignores, rule.id


def test_every_format_character_is_removed_before_reading() -> None:
    import sys
    import unicodedata

    from bot.domain.crisis.text import INVISIBLE_RE

    missing = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Cf" and not INVISIBLE_RE.fullmatch(chr(code))
    ]
    assert not missing


def _rules_read(detector: CrisisSet, text: str, level: CrisisLevel | None) -> None:
    """The rules alone, without the model (so that the rules' reading is what is checked),
    give `text` exactly `level`; None means at most the gentle pointer."""
    rules = detector.detectors[0].with_model(None)
    found = rules.detect(text).level
    if level is None:
        assert found <= CrisisLevel.DISTRESS, rules.explain(text).lines()
    else:
        assert found is level, rules.explain(text).lines()


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("i would just like to die", DANGER),
        ("honestly i would really rather be dead", DANGER),
        ("i would just like to dye my hair blue", CrisisLevel.NONE),
        ("i would really like to sleep in on sunday", CrisisLevel.NONE),
    ],
)
def test_fillers_inside_a_phrase_are_stepped_over_by_the_rules(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """ "would like to" is listed; "would just like to" is the same frame (reading.fillers).
    The rules alone, without the model, so that the rules' reading is what is checked."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("i was gonna kms back then. that was 3 years ago, still here", None),
        ("years ago i was going to end it, now i'm doing ok", None),
        ("i am going to kill myself", DANGER),
        ("i'm gonna end it all tonight", DANGER),
    ],
)
def test_an_intention_told_as_the_past_is_not_present(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """ "i was | going to" is a past intention: with the past and a recovery told, it is a
    story (at most the gentle pointer), not a plan."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a time inside a whole later clause is that clause's, not the attempt's
        (
            "three years ago tonight i tried to kill myself. tonight i am cooking for my mum",
            None,
        ),
        ("i took an overdose two years ago today. today i am running a half marathon", None),
        ("last year i wanted to die. tonight i want to die again", DANGER),
        # 'did not want' told with a past time is no present wish
        ("a year ago i did not want to wake up. now i love my mornings", None),
        ("six months ago i did not want to live, these days i am busy with college", None),
        ("i do not want to wake up tomorrow", DANGER),
        # the past told as a season of the year, or as an urge long gone
        ("this time last year i was on the roof ready to jump. now i coach football", None),
        ("the urge to cut has been gone for months", None),
        ("i had a noose ready once but never acted on it. glad i did not", None),
    ],
)
def test_the_past_is_read_per_clause(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """Past markers and times belong to their own clause (`context.past`, `_spans_past`,
    `_present`); None means at most the gentle pointer. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("i did not take too many pills, just my usual dose", CrisisLevel.NONE),
        ("i did take too many pills", DANGER),
        ("did not eat all day, took 30 pills", DANGER),
        ("broke 45 days clean from sh", DANGER),
        ("broke 300 days clean from self harm last night", DANGER),
        ("i am 45 days clean from self harm", None),
    ],
)
def test_a_denied_act_and_a_broken_streak(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """'did not' then the act is a denial (`_did_not`); a streak of any length broken is a
    relapse now (`reading.any_number`, `context.recent`). The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a denial limited to today, with a later time told after it, is a plan put off
        (
            "i am not going to hurt myself today. tomorrow once the house is empty, thats the plan",
            DANGER,
        ),
        ("i am not going to hurt myself today, i called my sponsor instead", CrisisLevel.NONE),
        ("no urge to cut tonight, proud of that", CrisisLevel.NONE),
        # not caring for years is a state now, not the past
        (
            "drinking since lunch on top of my meds. stopped caring about the warning label "
            "years ago",
            DANGER,
        ),
        # "mine's written", after a note is asked about
        ("has anyone here written a note before? mine's written, just wondering", DANGER),
        # a bath made ready with a blade beside it; a chore is not
        ("ran a bath and the blade is on the edge", DANGER),
        ("filling the tub to scrub the grout, new blade for the scraper", CrisisLevel.NONE),
        # a policy's payout on suicide, looked up
        ("my life cover pays out for suicide after a year. i checked", DANGER),
    ],
)
def test_plans_put_off_and_means_made_ready(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`negation.for_now` with `negation.later`, 'stopped caring' as now, and the
    bath-and-blade and insurance rules. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        (
            "how do i support a mate who says he is a burden and we would be better off "
            "without him? he said it last night",
            CrisisLevel.HELPER,
        ),
        ("what should i say if a friend ever says they are a burden?", CrisisLevel.DISTRESS),
    ],
)
def test_a_question_about_what_just_happened_is_about_a_real_person(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """A question about what someone might say is general advice, unless something recent
    is told ("he said it last night"): then it is someone in danger now, and the helper
    reply. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("no sh for 3 weeks. nope, back to day 0, did it last night", DANGER),
        ("back to day 1 on duolingo lol", CrisisLevel.NONE),
        ("reset my counter on the sober app after two beers", CrisisLevel.NONE),
    ],
)
def test_a_streak_reset_is_a_relapse_only_where_self_harm_is_named(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """Rule `self-harm-streak-reset` (`only_with`), across clauses: a negation in an
    earlier clause ("nope") does not reach it. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("kms? i meant kilometres lol, 12 of them before work", CrisisLevel.NONE),
        ("i ran 5k this morning and i want to kms", DANGER),
        ("kms", DANGER),
    ],
)
def test_shorthand_is_left_alone_where_the_message_says_what_it_means(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`reading.not_shorthand_with`: "kms" in a message that speaks of kilometres is a
    distance; a run told without a unit does not make it one. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("the cat sits on the roof of the shed all afternoon", CrisisLevel.NONE),
        ("my plants had died while i was away", CrisisLevel.NONE),
        ("my dog died last week and now i want to die", DANGER),
        ("i am on the roof of my building", DANGER),
    ],
)
def test_an_animal_or_a_plant_as_the_subject_is_no_person(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`people.creature`: the cat on the roof is no one in danger; the writer named after
    it still is. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # "he'd rather" is "he would rather", not a garden shed
        (
            "my brother said he'd rather be dead than go back to prison and now he's not answering",
            CrisisLevel.HELPER,
        ),
        ("id rather die than sit through another work quiz lol", CrisisLevel.NONE),
        # a stretch of time that runs up to now is no past
        ("you lot were the best part of the last year. take care of each other", DANGER),
        ("last year i posted goodbye, take care of each other. so glad i stayed", None),
    ],
)
def test_contractions_and_stretches_of_time_up_to_now(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`reading.spellings` for "she'd"/"he'd", rule better-off-dead's "than go back", and
    `context.until_now`. None means at most the gentle pointer. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("logging off for exams, back after the 20th. goodbye everyone, take care", None),
        ("goodbye everyone. i will not be back, not ever", DANGER),
        ("taking a break from discord. goodbye everyone, for good", DANGER),
        ("i keep shooting myself in the foot at job interviews", CrisisLevel.NONE),
    ],
)
def test_a_goodbye_for_a_while_and_a_foot_shot_are_no_farewell(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`not_in_message` on the goodbye rules (a time the writer is back, unless something
    final is said) and `self_idiom` "in the foot". None means at most the gentle pointer.
    The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # the age a will is made at is the writer's age now, not the past told
        ("made a will at 21 this week. i feel ok about it", DANGER),
        ("at 21 i made a will and tried to die. that was years ago, i feel ok now", None),
        (
            "made a will at 20, sure i would not live long. tore it up after rehab. 4 yrs sober",
            None,
        ),
    ],
)
def test_an_age_with_a_will_made_at_it_is_now(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`context.until_now` ("will at anynumber this week") drops the past markers inside it and the
    past told ("at 21"), so a later "i feel ok" is no story of recovery. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # the question points back at what someone else was told doing, now
        (
            "my dad bangs his fists on the table until they bruise. did it again this morning."
            " is that self harm?",
            CrisisLevel.HELPER,
        ),
        # nothing recent told: a question about the subject
        ("my dad used to bang his fists on the table. is that self harm?", None),
        # the question names no act told before it
        ("my mum found out tonight. is self harm something you grow out of?", None),
    ],
)
def test_a_question_whether_someones_act_now_is_self_harm(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """A topic rule in a question that names nobody but points back ("is that ...?") at
    someone else told of before it, with something recent told, is the helper reply; the
    rest stay a question about the subject. None means at most the gentle pointer. The
    rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        (
            "what do you do when your brother says he wants to die and you can't get hold of him",
            CrisisLevel.HELPER,
        ),
        ("what do you say when a friend tells you she wants to die?", None),
    ],
)
def test_someone_out_of_reach_now_is_a_real_person(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """Someone the writer cannot reach now (`context.recent`) makes a question put as
    "what do you do when..." about a real person, the helper reply; without it, a question
    about what someone might say. None means at most the gentle pointer. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # "yrs ago", "yrs free", "first year sober", "year anniversary" are past markers
        ("my cousin overdosed 3 yrs ago. how do people talk about it at work?", None),
        ("i cut for years. 4 yrs free. today i went for a run instead", None),
        ("first year clean i thought about swerving into a lorry. year 3 now, life is ok", None),
        ("wrote a goodbye note once. ripped it up at my 2 year anniversary, deleted it", None),
        # a stretch told as over
        ("last spring i had a dark stretch thinking about jumping off the car park roof", None),
        ("i keep thinking about jumping off the car park roof tonight", DANGER),
        # a small complaint in a row, laughed at
        ("fourth meeting in a row, i'm going to die lol", CrisisLevel.NONE),
        # what someone's shorthand means, asked
        ("is 'kms' from my students a joke or serious? they say it constantly", None),
        # a place the wish is about
        ("i want to not exist at this party", CrisisLevel.NONE),
    ],
)
def test_past_markers_stretches_and_small_complaints(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`context.past`, `context.past_before`, `context.hyperbole`, `context.meaning` and
    `place_idiom`. None means at most the gentle pointer. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # the time of a later clause is that clause's, not the past wish's
        ("used to burn myself as punishment. 2 years into recovery and tonight i danced", None),
        # a past wish in a clause the match does not touch is not its past
        ("i used to cut. tonight. Cut. My. Arm.", DANGER),
    ],
)
def test_a_past_wish_across_clauses_is_read_where_the_match_is(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`context.past_before` for a rule across clauses (kill-self-across), read in the
    clauses the match touches, as for its twin inside one clause. None means at most the
    gentle pointer. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        (
            "at group i shared about when i swallowed my meds hoping not to wake up. that was 2015",
            None,
        ),
        ("i hope i do not wake up tomorrow", DANGER),
    ],
)
def test_a_wish_told_as_a_share_is_the_past(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`context.past_before` "shared about when i": a wish told to others as a story.
    None means at most the gentle pointer. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("interview tomorrow. doing everything right now and it still might not be enough", None),
        ("doing all my pills right now", DANGER),
    ],
)
def test_doing_everything_right_is_no_swallowing(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`reading.spellings` reads "doing everything right" as one word, so took-too-many's
    "doing | everything | ... it" does not find it. The rules alone."""
    _rules_read(detector, text, level)


# -- the reader's shortcuts read exactly as the long way ------------------------------------

_SHORTCUT_LETTERS = "aklIi.-_*# \u2019\u0430\U0001f48a1!"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_SHORTCUT_LETTERS + "\u00e9\u201c", max_size=40))
def test_a_char_map_translates_as_str_translate_does(text: str) -> None:
    from bot.domain.crisis.text import CharMap

    table = {"\u2019": "'", "\u0430": "a", "\U0001f48a": " pills ", "\u201c": '"'}
    assert CharMap(table)(text) == text.translate(str.maketrans(table))


def test_a_char_map_refuses_ascii_keys() -> None:
    from bot.domain.crisis.text import CharMap

    with pytest.raises(ValueError, match="beyond ASCII"):
        CharMap({"a": "b"})


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_SHORTCUT_LETTERS, max_size=40))
def test_the_reader_s_quick_scans_skip_nothing_the_full_patterns_find(text: str) -> None:
    """The masked-word pattern starts only at a word's start, and the capital-I and
    dotted-letters steps run only where a quicker scan finds what they need: each must
    change nothing the full pattern would have done."""
    import re

    from bot.domain.crisis import text as reading

    everywhere = re.compile(r"[a-z]*[a-z][*#]+[a-z][a-z*#]*")  # the pattern before
    assert reading._MASKED_RE.sub("<>", text) == everywhere.sub("<>", text)
    if reading._LOWER_THEN_I_RE.search(text) is None:
        assert reading._CAPITAL_I_RE.search(text) is None
    if reading._DOTTED_HINT_RE.search(text) is None:
        assert reading._DOTTED_RE.search(text) is None


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # someone else's words, reported: theirs, the helper reply
        ("my nephew wrote i wish i was never born in his school journal", HELPER),
        ("a guy in my group chat keeps saying kms and he stopped replying", HELPER),
        ("my flatmate texted me saying she is going to kill herself", HELPER),
        ("somebody in the server messaged me saying they want to kill themselves", HELPER),
        # the writer's own words, or words said to the writer: the writer's danger
        ("i told my sister i want to kill myself", DANGER),
        ("my dad said i should just kill myself and honestly i might", DANGER),
        ("she said goodnight and i want to die", DANGER),
    ],
)
def test_reported_words_are_the_speaker_s(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`people.reports`: after someone else and a word of reporting, the first-person
    words that follow at once are theirs. The rules alone."""
    _rules_read(detector, text, level)


@pytest.mark.parametrize(
    "text",
    [
        "my brother says he wants to die and i want to die too",
        "she keeps saying she wants to end it. i want to end it as well",
    ],
)
def test_a_rule_matches_again_for_the_writer_after_someone_else(
    detector: CrisisSet, text: str
) -> None:
    """A rule that matched someone else's words matches again after them: the writer's
    own danger wins (it was read once per rule, as his). The rules alone."""
    _rules_read(detector, text, DANGER)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("my cousin says she wants to die and honestly so do i", DANGER),
        ("my best mate wants to kill himself. same here tbh", DANGER),
        ("he keeps saying he wants to end it all. i feel the same way", DANGER),
        # someone else's danger, with "me too" not about the writer's own
        ("my friend wants to kill herself, what do i do? me too scared to ask her", HELPER),
        ("my brother wants to die. i am so scared for him", HELPER),
    ],
)
def test_the_writer_saying_the_same_is_the_writer_s_danger(
    detector: CrisisSet, text: str, level: CrisisLevel | None
) -> None:
    """`context.shared`: after someone else's danger, "so do i", "me too", "same here" at
    the end of a clause say it of the writer too. The rules alone."""
    _rules_read(detector, text, level)
