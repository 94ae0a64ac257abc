"""The content check: a valid library loads, and every broken file is reported where it is.

`tests/fixtures/content_base` is a small valid library. Each file in `tests/fixtures/broken`
is one mistake: its first comment lines say where it goes in that library (`# target:`) and
what the check must print (`# expect:`, one per problem), as `path:line:column: severity:
field: message`. Path, line, column, severity and field must match exactly; the message
may be any part of the printed one. `# expect-warning-only: true` marks a file that must
still leave the library loadable, `# marker:` names a file that must never appear, and
`# stale-dates: fail` loads the library as the scheduled check does.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from bot.domain.content import (
    SELECT_OPTIONS_LIMIT,
    PromptFile,
    ResourceRegion,
    Story,
    Technique,
    Vocabulary,
)
from bot.domain.crisis import CrisisRules
from bot.domain.relevance import RelevanceSet
from bot.domain.style import Severity
from bot.storage.content_files import (
    RESOURCE_FAIL_DAYS,
    RESOURCE_WARN_DAYS,
    ContentLibrary,
    LoadReport,
    Problem,
    StaleDates,
    load_library,
    stale_date_problem,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "content"
FIXTURES = REPO / "tests" / "fixtures"
BASE = FIXTURES / "content_base"
BROKEN = FIXTURES / "broken"
TODAY = dt.date(2026, 11, 29)
CLI_TIMEOUT = 120

EXPECT_FORM = re.compile(r"^[^\s:]+:\d+:\d+: (?:error|warning): \S")
SUMMARY = re.compile(
    r"^(\d+) techniques, (\d+) stories, (\d+) prompts, (\d+) regions: "
    r"(\d+) errors?, (\d+) warnings?$"
)
GITHUB_LINE = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+),col=(\d+)::(.+)$")


# -- the broken corpus -------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenCase:
    name: str
    raw: bytes
    target: str
    expects: tuple[str, ...]
    warning_only: bool
    marker: str | None
    stale_dates: StaleDates


def _read_case(path: Path) -> BrokenCase:
    raw = path.read_bytes()
    target, marker, warning_only = None, None, False
    stale_dates = StaleDates.WARN
    expects: list[str] = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].strip().partition(":")
        value = value.strip()
        if key == "target":
            target = value
        elif key == "expect":
            expects.append(value)
        elif key == "expect-warning-only":
            warning_only = value == "true"
        elif key == "marker":
            marker = value
        elif key == "stale-dates":
            stale_dates = StaleDates(value)
    assert target, f"{path.name}: needs a `# target:` line"
    assert expects, f"{path.name}: needs at least one `# expect:` line"
    for expect in expects:
        assert EXPECT_FORM.match(expect), f"{path.name}: malformed expect {expect!r}"
        if warning_only:
            assert ": warning: " in expect, f"{path.name}: a warning-only case expects warnings"
    return BrokenCase(path.stem, raw, target, tuple(expects), warning_only, marker, stale_dates)


BROKEN_CASES = [_read_case(path) for path in sorted(BROKEN.glob("*.yaml"))]
CASES_BY_NAME = {case.name: case for case in BROKEN_CASES}

REQUIRED_CASES = {
    "unknown-key",
    "missing-field",
    "duplicate-key",
    "id-not-file-name",
    "empty",
    "non-utf8",
    "tab",
    "unsafe-tag",
    "yaml-syntax",
    "id-used-twice",
    "story-unknown-technique",
    "modeled-in-unknown-story",
    "helps-with-unknown-feeling",
    "tag-unknown-theme",
    "self-harm-without-what-helped",
    "breathing-without-cautions",
    "evidence-without-sources",
    "consent-not-given",
    "title-not-text",
    "yml-extension",
    "resource-400-days-old",
    "resource-400-days-old-scheduled",
    "resource-320-days-old",
    "resource-without-emergency",
    "resource-emergency-not-a-number",
    "committed-suicide",
    "addict-in-technique",
    "contact-details-in-story",
    "dose",
    "overflow-whole-card",
    "overflow-steps",
    "overflow-evidence",
    "too-many-feelings",
}


def _header(problem: Problem) -> str:
    field = f" {problem.field}:" if problem.field else ""
    return f"{problem.path}:{problem.line}:{problem.column}: {problem.severity.value}:{field} "


def _matches(expect: str, problem: Problem) -> bool:
    header = _header(problem)
    return expect.startswith(header) and expect[len(header) :] in problem.message


def _listing(problems: list[Problem]) -> str:
    return "\n".join(problem.format() for problem in problems) or "(no problems)"


def _make_library(root: Path) -> Path:
    library = root / "content"
    shutil.copytree(BASE, library)
    shutil.copytree(SHIPPED / "safety", library / "safety")
    return library


def _load(library: Path, stale_dates: StaleDates = StaleDates.WARN) -> LoadReport:
    return load_library(
        library, today=TODAY, shown_root=library, revision=None, stale_dates=stale_dates
    )


def _place(library: Path, case: BrokenCase) -> None:
    target = library / case.target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(case.raw)


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return _make_library(tmp_path)


def test_the_base_library_is_valid_and_clean(library: Path) -> None:
    report = _load(library)

    assert report.problems == [], _listing(report.problems)
    catalog = report.catalog
    assert catalog is not None
    assert catalog.counts() == {
        "techniques": 2,
        "stories": 1,
        "prompts": 2,
        "regions": 2,
        "feelings": 4,
    }
    assert report.summary() == "2 techniques, 1 story, 2 prompts, 2 regions: 0 errors, 0 warnings"
    assert catalog.stories_for_technique("box-breath") == ("first-day-back",)
    assert catalog.techniques["box-breath"].cautions
    assert {theme.id for theme in catalog.vocabulary.themes} >= {"breathing", "body"}


def test_the_spec_writes_on_without_quotes(library: Path) -> None:
    report = _load(library)

    assert report.catalog is not None, _listing(report.problems)
    story = report.catalog.stories["first-day-back"]
    technique = report.catalog.techniques["box-breath"]
    assert story.reviewed is not None and story.reviewed.on == dt.date(2026, 11, 1)
    assert technique.reviewed is not None and technique.reviewed.on == dt.date(2026, 11, 1)


def test_the_broken_corpus_has_every_case() -> None:
    missing = REQUIRED_CASES - set(CASES_BY_NAME)

    assert missing == set(), sorted(missing)


@pytest.mark.parametrize("case", BROKEN_CASES, ids=[case.name for case in BROKEN_CASES])
def test_a_broken_file_is_reported_where_it_is(
    case: BrokenCase, library: Path, tmp_path: Path
) -> None:
    _place(library, case)

    report = _load(library, case.stale_dates)

    listing = _listing(report.problems)
    for expect in case.expects:
        assert any(_matches(expect, problem) for problem in report.problems), (
            f"expected a problem like\n  {expect}\nbut the check reported\n{listing}"
        )
    if case.warning_only:
        assert report.errors == [], listing
        assert report.catalog is not None
    else:
        assert report.errors, listing
        assert report.catalog is None
    if case.marker:
        assert not (tmp_path / case.marker).exists()
        assert not (library / case.marker).exists()


def test_the_corpus_files_keep_their_bytes() -> None:
    raw = CASES_BY_NAME["non-utf8"].raw
    assert b"caf\xe9 " in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\n\t- " in CASES_BY_NAME["tab"].raw


@pytest.mark.skipif(sys.platform == "win32", reason="the marker is made with a POSIX shell")
def test_the_unsafe_tag_fixture_would_run_if_a_loader_constructed_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES_BY_NAME["unsafe-tag"]
    assert case.marker
    monkeypatch.chdir(tmp_path)

    yaml.load(case.raw.decode("utf-8"), Loader=yaml.UnsafeLoader)

    assert (tmp_path / case.marker).exists()


def test_fixing_the_file_makes_the_next_load_succeed(library: Path) -> None:
    _place(library, CASES_BY_NAME["unknown-key"])
    assert _load(library).catalog is None

    shutil.copy2(BASE / "techniques" / "call-a-friend.yaml", library / "techniques")
    report = _load(library)

    assert report.catalog is not None, _listing(report.problems)


def test_as_many_feelings_as_a_select_menu_holds_are_fine(library: Path) -> None:
    lines = CASES_BY_NAME["too-many-feelings"].raw.decode("utf-8").splitlines(keepends=True)
    del lines[lines.index("themes:\n") - 1]  # the 26th feeling
    (library / "vocabulary.yaml").write_text("".join(lines), "utf-8")

    report = _load(library)

    assert report.catalog is not None, _listing(report.problems)
    assert len(report.catalog.vocabulary.feelings) == SELECT_OPTIONS_LIMIT == 25


def test_a_date_that_does_not_exist_is_reported_where_it_is(library: Path) -> None:
    path = library / "techniques" / "box-breath.yaml"
    path.write_text(path.read_text("utf-8").replace('"on": 2026-11-01', '"on": 2026-02-30'))

    report = _load(library)

    assert report.catalog is None
    assert [p.format() for p in report.errors] == [
        "techniques/box-breath.yaml:30:9: error: YAML syntax: 2026-02-30 is not a date that "
        "exists (day is out of range for month)"
    ]


def test_problems_in_many_files_each_point_into_their_own_file(library: Path) -> None:
    # Where a problem is is found by reading its file again, once the file is checked.
    techniques = library / "techniques"
    text = (techniques / "call-a-friend.yaml").read_text("utf-8")
    for n in range(30):
        padding = "\n" * n  # a different line for the problem in each file
        (techniques / f"copy-{n}.yaml").write_text(
            padding
            + text.replace("id: call-a-friend", f"id: copy-{n}").replace(
                "helps_with: [", "helps_with: [bored, "
            ),
            "utf-8",
        )

    report = _load(library)

    lines = {p.path: (p.line, p.field) for p in report.errors}
    expected_line = _line_of(text, "helps_with:")
    assert lines == {
        f"techniques/copy-{n}.yaml": (expected_line + n, "helps_with[0]") for n in range(30)
    }, _listing(report.problems)


def _line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_items_read_back_from_the_catalog_as_they_were_validated() -> None:
    report = load_library(SHIPPED, today=TODAY, shown_root=REPO, revision=None)
    catalog = report.catalog
    assert catalog is not None

    for folder, model, items in (
        ("techniques", Technique, catalog.techniques),
        ("stories", Story, catalog.stories),
    ):
        for path in sorted((SHIPPED / folder).glob("*.yaml")):
            data = yaml.load(path.read_text("utf-8"), Loader=_Yaml12Loader)
            assert items[path.stem] == model.model_validate(data), path.name


# -- the shipped library -----------------------------------------------------------------


def test_the_shipped_library_loads_without_errors() -> None:
    report = load_library(SHIPPED, today=TODAY, shown_root=REPO, revision=None)

    assert report.errors == [], "the shipped content has errors:\n" + _listing(report.errors)
    catalog = report.catalog
    assert catalog is not None
    assert len(catalog.techniques) >= 16
    assert len(catalog.stories) >= 8
    assert len(catalog.prompts) >= 48
    assert len(catalog.regions) >= 6
    assert "INTL" in catalog.regions


# -- JSON Schemas ------------------------------------------------------------------------


class _Yaml12Loader(yaml.SafeLoader):
    """Reads booleans as YAML 1.2 and editors do: only true and false."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "technique": Technique,
    "story": Story,
    "prompts": PromptFile,
    "resources": ResourceRegion,
    "vocabulary": Vocabulary,
    "crisis_rules": CrisisRules,
    "relevance": RelevanceSet,
}


def _kind_of(relative: Path) -> str:
    parts = relative.parts
    if parts == ("vocabulary.yaml",):
        return "vocabulary"
    if len(parts) == 3 and parts[:2] == ("safety", "rules"):
        return "crisis_rules"
    folders = {"techniques": "technique", "stories": "story", "relevance": "relevance"}
    folders |= {"prompts": "prompts", "resources": "resources"}
    if len(parts) == 2 and parts[0] in folders:
        return folders[parts[0]]
    raise AssertionError(f"content/{relative} is not a kind of content file the bot reads")


def _as_json(path: Path) -> Any:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)
    return json.loads(json.dumps(data, default=str))


def _validator(kind: str) -> Draft202012Validator:
    schema = SCHEMA_MODELS[kind].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# safety/corpus/ holds labelled messages for evaluating crisis detection, not content the
# bot loads, so it has no content schema.
SHIPPED_FILES = sorted(
    path.relative_to(SHIPPED)
    for path in SHIPPED.rglob("*")
    if path.is_file()
    and path.suffix in (".yaml", ".yml")
    and path.relative_to(SHIPPED).parts[:2] != ("safety", "corpus")
)


def test_every_shipped_file_is_a_known_kind() -> None:
    kinds = {_kind_of(relative) for relative in SHIPPED_FILES}

    assert kinds == set(SCHEMA_MODELS)


@pytest.mark.parametrize("relative", SHIPPED_FILES, ids=[str(p) for p in SHIPPED_FILES])
def test_the_json_schema_accepts_the_shipped_file(relative: Path) -> None:
    validator = _validator(_kind_of(relative))

    errors = sorted(validator.iter_errors(_as_json(SHIPPED / relative)), key=str)

    assert errors == [], "\n".join(
        f"content/{relative}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_the_json_schema_rejects_an_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "call-a-friend.yaml"
    path.write_bytes(CASES_BY_NAME["unknown-key"].raw)

    messages = [error.message for error in _validator("technique").iter_errors(_as_json(path))]

    assert any("why_it_work" in message for message in messages), messages
    assert any("why_it_works" in message for message in messages), messages


def test_schema_comments_name_the_files_the_schema_command_writes(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    result = _cli("content", "schema", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = {path.name for path in out.glob("*.schema.json")}
    assert written == {f"{kind}.schema.json" for kind in SCHEMA_MODELS}
    for name in written:
        schema = json.loads((out / name).read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)

    wrong = []
    for relative in SHIPPED_FILES:
        text = (SHIPPED / relative).read_text(encoding="utf-8")
        found = re.search(r"^# yaml-language-server: \$schema=(\S+)$", text, re.MULTILINE)
        if found is None:
            continue
        pointed = ((SHIPPED / relative).parent / found.group(1)).resolve()
        expected = (REPO / "schemas" / f"{_kind_of(relative)}.schema.json").resolve()
        if pointed != expected:
            wrong.append(f"content/{relative}: $schema={found.group(1)}")
    assert wrong == [], "\n".join(wrong)


# -- the command line --------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=CLI_TIMEOUT,
        check=False,
    )


CLI_CASES = ("tab", "empty", "id-used-twice", "non-utf8", "overflow-evidence", "yml-extension")


@pytest.fixture
def broken_library(library: Path) -> Path:
    targets = [CASES_BY_NAME[name].target for name in CLI_CASES]
    assert len(set(targets)) == len(targets)
    for name in CLI_CASES:
        _place(library, CASES_BY_NAME[name])
    return library


def test_content_check_prints_each_problem_and_exits_1(broken_library: Path) -> None:
    report = _load(broken_library)

    result = _cli("content", "check", str(broken_library), cwd=broken_library)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for problem in report.problems:
        assert problem.format() in lines, result.stdout
    for name in CLI_CASES:
        for expect in CASES_BY_NAME[name].expects:
            assert any(_matches(expect, p) and p.format() in lines for p in report.problems), (
                f"{expect}\nnot in\n{result.stdout}"
            )
    assert all(re.match(r"^\S+:\d+:\d+: (error|warning): ", line) for line in lines[:-1]), lines
    summary = SUMMARY.match(lines[-1])
    assert summary is not None, lines[-1]
    errors = int(summary.group(5))
    assert errors >= len(report.errors) > 0


def test_content_check_speaks_github_annotations(broken_library: Path) -> None:
    report = _load(broken_library)

    result = _cli("content", "check", str(broken_library), "--format", "github", cwd=broken_library)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    annotations = [GITHUB_LINE.match(line) for line in lines[:-1]]
    assert all(annotations), lines
    for problem in report.problems:
        assert problem.format_github() in lines, result.stdout
    errors = {
        (m.group(2), int(m.group(3)), int(m.group(4)))
        for m in annotations
        if m is not None and m.group(1) == "error"
    }
    assert ("techniques/call-a-friend.yaml", 10, 1) in errors
    assert ("stories/first-day-back.yaml", 17, 38) in errors
    assert ("techniques/walk-it-off.yml", 1, 1) in errors
    assert SUMMARY.match(lines[-1]), lines[-1]


def test_content_check_passes_the_shipped_library(tmp_path: Path) -> None:
    result = _cli("content", "check", str(SHIPPED), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    summary = SUMMARY.match(lines[-1])
    assert summary is not None, result.stdout
    techniques, stories, prompts, regions, errors, warnings = map(int, summary.groups())
    assert errors == 0
    assert techniques >= 36 and stories >= 20 and prompts >= 48 and regions >= 6
    # The coverage table (a title, a header and a row per feeling), then any warnings.
    assert lines[0].startswith("coverage: "), result.stdout
    table = 2 + len(yaml.safe_load((SHIPPED / "vocabulary.yaml").read_text())["feelings"])
    assert len(lines) == table + warnings + 1, result.stdout


# -- old support-line dates: a warning for changes, an error in the scheduled check ----------


@pytest.mark.parametrize(
    ("age", "warn", "fail"),
    [
        (RESOURCE_WARN_DAYS - 1, None, None),
        (RESOURCE_WARN_DAYS, Severity.WARNING, Severity.WARNING),
        (RESOURCE_FAIL_DAYS - 1, Severity.WARNING, Severity.WARNING),
        (RESOURCE_FAIL_DAYS, Severity.WARNING, Severity.ERROR),
        (RESOURCE_FAIL_DAYS + 400, Severity.WARNING, Severity.ERROR),
    ],
)
def test_an_old_date_warns_for_60_days_then_fails_only_when_scheduled(
    age: int, warn: Severity | None, fail: Severity | None
) -> None:
    assert RESOURCE_FAIL_DAYS - RESOURCE_WARN_DAYS == 60
    checked = TODAY - dt.timedelta(days=age)
    found = {mode: stale_date_problem("Shout", checked, TODAY, mode) for mode in StaleDates}
    assert (found[StaleDates.WARN] or (None, None))[1] is warn
    assert (found[StaleDates.FAIL] or (None, None))[1] is fail
    for problem in found.values():
        if problem is not None:
            assert problem[0].startswith(f"Shout was last checked {age} days ago")


def _shipped_with_shout_checked(tmp_path: Path, days_ago: int) -> Path:
    """A copy of the shipped library whose last GB line (Shout) was checked `days_ago`."""
    library = tmp_path / "shipped"
    shutil.copytree(SHIPPED, library)
    gb = library / "resources" / "gb.yaml"
    old = (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()
    text = gb.read_text(encoding="utf-8")
    last = re.findall(r"last_verified: (\S+)", text)[-1]
    gb.write_text(text[::-1].replace(last[::-1], old[::-1], 1)[::-1], encoding="utf-8")
    return library


def _dates(output: str) -> list[str]:
    return [line for line in output.splitlines() if "last_verified" in line]


def test_content_check_warns_on_a_year_old_date_and_fails_only_with_stale_dates_fail(
    tmp_path: Path,
) -> None:
    library = _shipped_with_shout_checked(tmp_path, 400)

    warned = _cli("content", "check", str(library), cwd=library)
    failed = _cli("content", "check", str(library), "--stale-dates", "fail", cwd=library)

    assert warned.returncode == 0, warned.stdout + warned.stderr
    (warning,) = _dates(warned.stdout)
    assert re.match(r"^resources/gb\.yaml:\d+:5: warning: entries\[1\]\.last_verified: ", warning)
    assert "the scheduled check fails on this" in warning
    assert failed.returncode == 1, failed.stdout + failed.stderr
    (error,) = _dates(failed.stdout)
    assert re.match(r"^resources/gb\.yaml:\d+:5: error: entries\[1\]\.last_verified: ", error)
    assert "Shout was last checked 400 days ago" in error


def test_a_date_inside_the_warning_window_passes_both_ways(tmp_path: Path) -> None:
    library = _shipped_with_shout_checked(tmp_path, RESOURCE_WARN_DAYS + 1)

    for extra in ((), ("--stale-dates", "fail")):
        result = _cli("content", "check", str(library), *extra, cwd=library)
        assert result.returncode == 0, result.stdout + result.stderr
        assert ": warning: entries[1].last_verified: Shout was last checked" in result.stdout


def test_only_the_scheduled_workflow_fails_on_old_dates() -> None:
    workflows = REPO / ".github" / "workflows"
    scheduled = yaml.safe_load((workflows / "support-lines.yml").read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as True (YAML 1.1).
    triggers = scheduled.get("on", scheduled.get(True))
    assert triggers["schedule"] and "pull_request" not in triggers
    (job,) = scheduled["jobs"].values()
    commands = [step.get("run", "") for step in job["steps"]]
    assert any("peerlight content check --stale-dates fail" in c for c in commands), commands
    for path in [*workflows.glob("*.yml"), REPO / ".ci" / "run"]:
        if path.name != "support-lines.yml":
            text = path.read_text(encoding="utf-8")
            assert "stale-dates fail" not in text, path
            assert "content check" not in text or "--stale-dates" not in text, path


class _Knot:
    """An object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.me = self


async def test_a_held_library_is_frozen_and_a_reload_frees_what_died_meanwhile() -> None:
    """The bot keeps its library out of the collector's full passes (`hold_long_lived`);
    what was frozen with it and died since is freed at the next load, never held for
    good."""
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    report = load_library(SHIPPED, today=TODAY, revision=None)
    knot = _Knot()
    gone = weakref.ref(knot)
    try:
        library = ContentLibrary(SHIPPED, report, now, hold=True)
        assert gc.get_freeze_count() > 0
        del knot
        gc.collect()
        assert gone() is not None, "frozen: the collector's passes leave it alone"
        reloaded = await library.reload(now)
        assert reloaded.catalog is not None
        gc.collect()
        assert gone() is None, "the reload gave it back to the collector, which freed it"
    finally:
        gc.unfreeze()
