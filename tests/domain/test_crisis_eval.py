"""The labelled corpus, the trained second reader, and `peerlight crisis eval/train`.

The floors in content/safety/corpus/categories.yaml are the promise: these tests run the
shipped rules and model against them, and show that the promise breaks where it should
(without the model the holdout's recall falls below its floor; a model trained on other
rules is refused).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest

from bot.cli_crisis import crisis_eval, crisis_explain, crisis_train
from bot.domain.crisis import CrisisLevel
from bot.domain.crisis.model import (
    CrisisModel,
    TrainingOptions,
    choose_threshold,
    featurise,
    fit,
    weigh,
)
from bot.storage.content_files import CORPUS_DIR, CRISIS_MODEL_DIR, load_library

CONTENT = Path(__file__).resolve().parents[2] / "content"
MODEL = CONTENT / CRISIS_MODEL_DIR / "en.json"


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    return copy


def _eval(content_dir: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = crisis_eval(content_dir, out=out, err=err)
    return code, out.getvalue() + err.getvalue()


def test_the_shipped_rules_and_model_meet_every_floor() -> None:
    code, text = _eval(CONTENT)
    assert code == 0, text
    assert "Every floor is met." in text


def test_without_the_model_the_holdout_falls_below_its_floor(content: Path) -> None:
    (content / CRISIS_MODEL_DIR / "en.json").unlink()
    code, text = _eval(content)
    assert code == 1
    assert "holdout: danger recall" in text.split("Below the floors:")[1]


def test_a_model_trained_on_other_rules_is_refused(content: Path) -> None:
    rules = content / "safety" / "rules" / "en.yaml"
    rules.write_text(rules.read_text("utf-8") + "\n# a reviewer's note\n", "utf-8")
    code, text = _eval(content)
    assert code == 1
    assert "trained on other rules or another tuned corpus" in text
    assert "peerlight crisis train" in text


def test_a_damaged_model_leaves_the_rules_answering_and_fails_the_eval(content: Path) -> None:
    (content / CRISIS_MODEL_DIR / "en.json").write_text("{not json", "utf-8")
    report = load_library(content, today=dt.date.today(), revision=None)
    assert report.catalog is not None  # the bot still starts, on the rules alone
    warnings = [p.format() for p in report.problems]
    assert any("safety/model/en.json" in w and "crisis train" in w for w in warnings)
    assert report.catalog.crisis.detect("i want to kill myself").level is CrisisLevel.DANGER
    code, text = _eval(content)
    assert code == 1
    assert "cannot be used" in text


def test_the_model_only_adds_and_says_so() -> None:
    report = load_library(CONTENT, today=dt.date.today(), revision=None)
    assert report.catalog is not None
    crisis = report.catalog.crisis
    # The rules name their own match; the model never replaces a rule's answer.
    assert crisis.detect("i want to kill myself").rule == "kill-self"
    # Short texts are left to the rules.
    (english,) = crisis.detectors
    assert english.model is not None
    assert english.with_model(None).detect("i blame myself").level < CrisisLevel.HELPER
    assert crisis.detect("i blame myself").level < CrisisLevel.HELPER


def test_explain_shows_the_model_line() -> None:
    out = io.StringIO()
    assert crisis_explain("so tired of every single day of this, honestly", CONTENT, out=out) == 0
    assert "model: " in out.getvalue()


def _toy_corpus(content: Path) -> None:
    """A small tuned split, so that training in a test takes a moment."""
    corpus = content / CORPUS_DIR
    for path in corpus.glob("tuned*.yaml"):
        path.unlink()
    danger = [
        "i want to die tonight",
        "thinking about ending my life this weekend",
        "i have the pills ready and a note written",
        "going to jump off the bridge after work",
        "nobody would miss me if i was gone for good",
        "my friend says she wants to kill herself tonight",
        "my brother gave away his dog and said goodbye to everyone",
    ] * 3
    harmless = [
        "the meeting went well today, feeling calm",
        "made soup and called my sponsor",
        "this traffic is killing me lol",
        "finished the book, what an ending",
        "tired but ok, going to bed early",
        "cut the grass and took the dog out",
        "the bridge club meets on thursday",
    ] * 3
    lines = ["messages:"]
    lines += [f'  - {{text: "{t}", category: explicit}}' for t in danger[:15]]
    lines += [f'  - {{text: "{t}", category: about_someone_else}}' for t in danger[15:]]
    lines += [f'  - {{text: "{t}", category: idiom}}' for t in harmless]
    (corpus / "tuned.yaml").write_text("\n".join(lines) + "\n", "utf-8")


def test_training_writes_a_model_the_eval_accepts_and_is_repeatable(content: Path) -> None:
    _toy_corpus(content)
    options = TrainingOptions(epochs=5, folds=3, min_count=1)
    path = content / CRISIS_MODEL_DIR / "en.json"
    out = io.StringIO()
    assert crisis_train(content, "en", options, out=out, err=io.StringIO()) == 0
    assert "rules and model (cross-validated)" in out.getvalue()
    first = path.read_bytes()
    assert crisis_train(content, "en", options, out=io.StringIO(), err=io.StringIO()) == 0
    assert path.read_bytes() == first  # the same corpus gives the same model
    model = CrisisModel.from_json(json.loads(first))
    assert model.language == "en" and 0.5 <= model.threshold <= 0.99
    report = load_library(content, today=dt.date.today(), revision=None)
    assert report.catalog is not None
    assert report.catalog.crisis.detectors[0].model is not None


def test_train_for_a_language_without_rules_is_a_usage_error(content: Path) -> None:
    err = io.StringIO()
    assert crisis_train(content, "xx", out=io.StringIO(), err=err) == 2
    assert "no crisis rule file for 'xx'" in err.getvalue()


# -- the arithmetic ------------------------------------------------------------------------


def test_fit_learns_which_features_mean_danger() -> None:
    samples = [(["pills", "tonight", "@means"], True)] * 6 + [(["soup", "tonight"], False)] * 6
    idf, weights, bias = fit(samples, TrainingOptions(epochs=30, min_count=1))
    model = CrisisModel("en", weights, idf, bias, 0.5, "")
    assert weights["pills"] > 0 > weights["soup"]
    assert model.probability(["pills", "@means"]) > 0.5 > model.probability(["soup"])
    assert model.strongest(["pills", "@means", "soup"])[0][0] in ("pills", "@means")


def test_weigh_is_unit_length_and_drops_unknown_features() -> None:
    vector = weigh(["a", "a", "b", "zzz"], {"a": 1.0, "b": 2.0})
    assert set(vector) == {"a", "b"}
    assert abs(sum(v * v for v in vector.values()) - 1.0) < 1e-9


def test_featurise_keeps_words_pairs_and_slots() -> None:
    features = featurise([["want", "to", "die"]], ["die"])
    assert {"want", "want to", "to die", "@die"} <= set(features)
    assert "want die" not in features  # pairs are neighbours only


def test_the_threshold_keeps_false_alarms_under_the_cap() -> None:
    probabilities = [0.95, 0.9, 0.6, 0.85, 0.7, 0.55, 0.2]
    labels = [True, True, True, False, False, False, False]
    threshold = choose_threshold(probabilities, labels, max_false_alarms=0.25)
    assert threshold == 0.71  # 0.85 is the one false alarm allowed of four
    assert choose_threshold(probabilities, labels, max_false_alarms=0.0) == 0.86


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"format": 99},
        {"format": 2, "features": 3},
        {"format": 2, "features": {"names": ["a"], "idf": [], "weights": [], "other": []}},
    ],
)
def test_a_damaged_model_file_is_named(data: object) -> None:
    with pytest.raises(ValueError, match="crisis model"):
        CrisisModel.from_json(data)
