"""Members' words read as feelings, and `peerlight content eval` on the relevance set."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import content_eval
from bot.domain.catalog import Catalog
from bot.domain.evaluation import SEEDS, evaluate_case
from bot.domain.relevance import RelevanceCase
from bot.storage.content_files import LoadReport

SHIPPED = Path(__file__).resolve().parents[2] / "content"
# What CI holds the shipped library to (.ci/run passes the same floors).
FLOORS = {
    ("tuned", "first"): 0.90,
    ("tuned", "understood"): 0.95,
    ("holdout", "first"): 0.78,
    ("holdout", "understood"): 0.90,
}


@pytest.fixture
def catalog(shipped_report: LoadReport) -> Catalog:
    assert shipped_report.catalog is not None
    return shipped_report.catalog


@pytest.mark.parametrize(
    ("text", "feelings"),
    [
        ("really anxious", ("anxious",)),
        ("stressed out", ("stressed",)),
        ("I'm feeling down", ("low",)),
        ("feeling down", ("low",)),
        ("scared and alone", ("scared", "lonely")),
        ("want to use", ("craving",)),
        ("I want to use", ("craving",)),
        ("not anxious, just tired", ("tired",)),
        ("I'm not lonely, I'm exhausted", ("tired",)),
        ("anxious and can't sleep", ("anxious", "cant-sleep")),
        ("can't stop worrying", ("anxious",)),
        ("Really ANXIOUS!!", ("anxious",)),
        ("overwh", ("overwhelmed",)),
        ("I'm not okay", ()),
        ("hopeless", ()),
    ],
)
def test_members_words_are_read_as_feelings(catalog: Catalog, text: str, feelings: tuple) -> None:
    assert catalog.read_feelings(text) == feelings


def test_a_case_scores_its_draws_and_a_random_pick(catalog: Catalog) -> None:
    case = RelevanceCase(text="craving", feelings=("craving",), accept=("urge-surfing",))
    result = evaluate_case(catalog, case)
    assert result.understood and result.read == ("craving",)
    assert len(result.first) == SEEDS
    assert result.acceptable == result.first.count("urge-surfing") / SEEDS
    matching = {*catalog.techniques_for_feeling("craving"), *catalog.techniques_also_for("craving")}
    assert result.random_pick == pytest.approx(1 / len(matching))


def _holdout_texts() -> list[str]:
    data = yaml.safe_load((SHIPPED / "relevance" / "holdout.yaml").read_text(encoding="utf-8"))
    return [case["text"] for case in data["cases"]]


def test_eval_meets_its_floors_lists_tuned_failures_and_only_counts_the_holdout() -> None:
    out = io.StringIO()
    code = content_eval(SHIPPED, out, floors=FLOORS)
    text = out.getvalue()
    assert code == 0, text
    lines = text.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:4]}
    assert set(rows) == {"tuned", "holdout"}
    for split, (cases, first, random_pick, understood) in rows.items():
        assert int(cases) >= (200 if split == "tuned" else 60)
        first_share, random_share = float(first[:-1]) / 100, float(random_pick[:-1]) / 100
        assert first_share >= FLOORS[split, "first"] > random_share
        assert float(understood[:-1]) / 100 >= FLOORS[split, "understood"]
    assert any(line.startswith("holdout: ") and "never listed" in line for line in lines)
    for holdout_text in _holdout_texts():
        assert repr(holdout_text) not in text
    failures = [line for line in lines if line.startswith("  ")]
    tuned_line = next(line for line in lines if line.startswith("tuned: "))
    assert int(tuned_line.split()[1]) == len(failures)


def test_eval_below_a_floor_exits_1() -> None:
    out = io.StringIO()
    code = content_eval(SHIPPED, out, floors={("tuned", "first"): 1.0})
    assert code == 1
    assert "below the floor: tuned.first" in out.getvalue()


def test_a_relevance_case_naming_an_unknown_technique_is_reported_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "content"
    shutil.copytree(SHIPPED, library)
    tuned = library / "relevance" / "tuned.yaml"
    lines = tuned.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("    accept: ["))
    lines[index] = "    accept: [box-breething]"
    tuned.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code = content_eval(library, io.StringIO())

    assert code == 1
    err = capsys.readouterr().err
    assert f"{tuned}:{index + 1}:" in err
    assert "cases[0].accept[0]: 'box-breething' is not a technique" in err
