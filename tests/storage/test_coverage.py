"""The content check reports coverage (feeling × area) and fails on a thin feeling."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import content_check
from bot.domain.content import Area
from bot.domain.coverage import MIN_TECHNIQUES, FeelingCoverage, coverage
from bot.storage.content_files import LoadReport

SHIPPED = Path(__file__).resolve().parents[2] / "content"


def _check(directory: Path) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = content_check(directory, "text", out)
    return code, out.getvalue().splitlines()


def _without_feeling(technique_file: Path, feeling: str) -> None:
    data = yaml.safe_load(technique_file.read_text(encoding="utf-8"))
    helps = data["helps_with"]
    if isinstance(helps, dict):
        data["helps_with"] = {k: [f for f in v if f != feeling] for k, v in helps.items()}
    else:
        data["helps_with"] = [f for f in helps if f != feeling]
    technique_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_the_shipped_library_covers_every_feeling(shipped_report: LoadReport) -> None:
    assert shipped_report.catalog is not None
    rows = coverage(shipped_report.catalog)
    assert [r.feeling for r in rows] == list(shipped_report.catalog.feelings)
    for row in rows:
        assert len(row.techniques) >= MIN_TECHNIQUES, row
        assert row.areas >= 2, row
        assert row.gap is None
    code, lines = _check(SHIPPED)
    assert code == 0, "\n".join(lines)
    table = {line.split()[0]: line.split()[1:] for line in lines[2:] if line.split()}
    for row in rows:
        cells = table[row.feeling]
        assert [int(c) for c in cells[:5]] == [*(row.by_area[a] for a in Area), len(row.techniques)]


def test_a_feeling_with_too_few_techniques_fails_the_check(
    shipped_report: LoadReport, tmp_path: Path
) -> None:
    assert shipped_report.catalog is not None
    library = tmp_path / "content"
    shutil.copytree(SHIPPED, library)
    calm = next(r for r in coverage(shipped_report.catalog) if r.feeling == "calm")
    for technique_id in calm.techniques[MIN_TECHNIQUES - 1 :]:
        _without_feeling(library / "techniques" / f"{technique_id}.yaml", "calm")
    # ...and calm's first choices with them, so that the coverage is the one problem left.
    words = library / "vocabulary.yaml"
    text = words.read_text(encoding="utf-8")
    start = text.index("  - id: calm\n")
    first = text.index("    first: ", start)
    words.write_text(text[:first] + text[text.index("\n", first) + 1 :], encoding="utf-8")

    code, lines = _check(library)

    assert code == 1, "\n".join(lines)
    vocabulary = (library / "vocabulary.yaml").read_text(encoding="utf-8").splitlines()
    line = vocabulary.index("  - id: calm") + 1
    index = list(shipped_report.catalog.feelings).index("calm")
    errors = [x for x in lines if ": error: " in x]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{library / 'vocabulary.yaml'}:{line}:")
    assert f"error: feelings[{index}].id: only 2 techniques" in errors[0]
    assert "'calm'" in errors[0]
    assert any(x.startswith("calm ") and x.endswith("too few") for x in lines), lines
    assert lines[-1].endswith("1 error, 0 warnings")


@pytest.mark.parametrize(
    ("areas", "gap"),
    [
        ({Area.PHYSICAL: 3}, "every technique for 'tired' is in the physical area"),
        ({Area.PHYSICAL: 2, Area.SOCIAL: 1}, None),
    ],
)
def test_a_feeling_needs_two_areas(areas: dict[Area, int], gap: str | None) -> None:
    by_area = dict.fromkeys(Area, 0) | areas
    row = FeelingCoverage("tired", "Tired", ("a", "b", "c"), by_area)
    if gap is None:
        assert row.gap is None
    else:
        assert row.gap is not None and gap in row.gap


def test_stories_model_techniques_in_every_area(shipped_report: LoadReport) -> None:
    catalog = shipped_report.catalog
    assert catalog is not None
    modelled = {
        area
        for story in catalog.stories.values()
        for technique_id in story.techniques
        for area in catalog.areas_of(technique_id)
    }
    assert modelled == set(Area)
    assert len(catalog.stories) >= 20 and len(catalog.techniques) >= 36
