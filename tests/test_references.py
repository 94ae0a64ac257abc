"""Every reference names something that exists.

Scanned: bot/, tests/, bench/, docs/ and the repository's own documents. Three kinds:

- a document and section: `SAFETY.md §3`, `SAFETY.md §3 and §4`, `SAFETY.md, section 1`,
  `docs/ARCHITECTURE.md §1`, `SAFETY.md, "Logs and files"`. The document must be in the
  repository (a bare name at its root, `docs/...` under docs/), and the section a heading
  in it: `§3` a heading numbered "3.", a quoted name the start of a heading. A `§3`
  with no document in a document is a section of that document.
- a file path such as `bot/ui/replies.py`: the file must exist.
- a module in backticks such as `bot.ui.replies.send`: the module must exist, and the name after it,
  when there is one, must be defined or imported at its top level.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED_DIRS = ("bot", "tests", "bench", "docs")
SUFFIXES = {".py", ".md", ".yaml", ".sql", ".toml"}

_DOC = r"(?P<doc>(?:docs/)?[A-Z][A-Z_]+\.md)"
_SECTIONS = r"(?P<sections>§\s*\d+(?:\s*(?:and|,|or)\s*§\s*\d+)*)"
DOCUMENT_REF = re.compile(
    _DOC + r"(?:\s*" + _SECTIONS + r"|,\s*section\s+(?P<number>\d+)"
    r"|,\s*\"(?P<heading>[^\"]+)\")?"
)
# A name in capitals with a section sign but no ".md" is a document that cannot be found.
UNNAMED_DOC = re.compile(r"\b(?P<name>[A-Z][A-Z_]{2,})\s*§")
BARE_SECTION = re.compile(r"(?<![\w.])§\s*(?P<number>\d+)")
PATH_REF = re.compile(
    r"(?<![\w./-])(?P<path>(?:bot|tests|bench|docs|content|schemas|\.ci)/[\w./-]*\w"
    r"\.(?:py|md|yaml|sql|json))\b"
)
# Written in backticks, as docstrings and documents do: `bot.ui.replies.send`.
MODULE_REF = re.compile(r"`(?P<dotted>bot(?:\.[A-Za-z_]\w*)+)")
# Named before they exist: what a run writes, and what installing makes of content/.
MADE_LATER = {
    "bench/results.json": "python -m bench writes it",
    "bot.content": "the wheel's package data, built from content/ (pyproject.toml)",
}


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def scanned_files() -> list[Path]:
    files = sorted(ROOT.glob("*.md"))
    for directory in SCANNED_DIRS:
        files.extend(
            p
            for p in sorted((ROOT / directory).rglob("*"))
            if p.suffix in SUFFIXES and "__pycache__" not in p.parts and p.is_file()
        )
    return files


@functools.cache
def headings(document: Path) -> tuple[str, ...]:
    lines = document.read_text("utf-8").splitlines()
    return tuple(line.lstrip("#").strip() for line in lines if line.startswith("#"))


def has_numbered_section(document: Path, number: str) -> bool:
    return any(re.match(rf"{number}\.(\s|$)", heading) for heading in headings(document))


def has_named_section(document: Path, name: str) -> bool:
    wanted = name.lower()
    return any(
        heading.lower().startswith(wanted)
        or re.sub(r"^\d+\.\s*", "", heading).lower().startswith(wanted)
        for heading in headings(document)
    )


def _document_problems(path: Path, text: str, where: str) -> Iterator[Problem]:
    named_spans: list[tuple[int, int]] = []
    for match in DOCUMENT_REF.finditer(text):
        named_spans.append(match.span())
        document = ROOT / match["doc"]
        line = text.count("\n", 0, match.start()) + 1
        at = f"{where}:{line}"
        if not document.is_file():
            yield Problem(at, f"{match['doc']} is not in the repository")
            continue
        numbers = [*re.findall(r"\d+", match["sections"] or ""), match["number"] or ""]
        for number in filter(None, numbers):
            if not has_numbered_section(document, number):
                yield Problem(at, f"{match['doc']} has no section {number}")
        if match["heading"] and not has_named_section(document, match["heading"]):
            yield Problem(at, f'{match["doc"]} has no section "{match["heading"]}"')
    for match in UNNAMED_DOC.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        yield Problem(f"{where}:{line}", f"{match['name']} names no document (write NAME.md)")
    if path.suffix != ".md":
        return
    for match in BARE_SECTION.finditer(text):
        if any(start <= match.start() < end for start, end in named_spans):
            continue
        if not has_numbered_section(path, match["number"]):
            line = text.count("\n", 0, match.start()) + 1
            yield Problem(f"{where}:{line}", f"this document has no section {match['number']}")


@functools.cache
def top_level_names(module: Path) -> frozenset[str]:
    tree = ast.parse(module.read_text("utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def module_problem(dotted: str) -> str | None:
    """Why `dotted` (a module, or a module and one name in it) does not resolve."""
    parts = dotted.split(".")
    found = ROOT / parts[0]
    index = 1
    while index < len(parts):
        package = found / parts[index]
        if package.is_dir() or package.with_suffix(".py").is_file():
            found = package
            index += 1
            continue
        break
    rest = parts[index:]
    if not rest:
        return None
    if found.is_dir():
        init = found / "__init__.py"
        if len(rest) == 1 and init.is_file() and rest[0] in top_level_names(init):
            return None
        return f"no module {'.'.join(parts[: index + 1])}"
    module = found.with_suffix(".py")
    if rest[0] in top_level_names(module):
        return None
    return f"{'.'.join(parts[:index])} defines no {rest[0]}"


def _code_problems(text: str, where: str) -> Iterator[Problem]:
    for match in PATH_REF.finditer(text):
        if match["path"] not in MADE_LATER and not (ROOT / match["path"]).exists():
            line = text.count("\n", 0, match.start()) + 1
            yield Problem(f"{where}:{line}", f"{match['path']} does not exist")
    for match in MODULE_REF.finditer(text):
        if match["dotted"] in MADE_LATER:
            continue
        problem = module_problem(match["dotted"])
        if problem is not None:
            line = text.count("\n", 0, match.start()) + 1
            yield Problem(f"{where}:{line}", problem)


def problems_in(path: Path) -> list[Problem]:
    where = str(path.relative_to(ROOT))
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:  # test data that is deliberately not UTF-8
        return []
    return [*_document_problems(path, text, where), *_code_problems(text, where)]


def test_every_reference_names_something_that_exists() -> None:
    files = scanned_files()
    assert len(files) > 100
    found = [str(p) for path in files if path != Path(__file__) for p in problems_in(path)]
    assert found == []


# -- the checks themselves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("as SAFETY.md §3 says", []),
        ("(SAFETY.md §3 and §4)", []),
        ("(SAFETY.md, section 1)", []),
        ('(SAFETY.md, "Logs and files")', []),
        ("docs/ARCHITECTURE.md §1", []),
        ("SAFETY.md §9", ["SAFETY.md has no section 9"]),
        ("SAFETY.md §3 and §12", ["SAFETY.md has no section 12"]),
        ('SAFETY.md, "Backups"', ['SAFETY.md has no section "Backups"']),
        ("See DESIGN.md for why", ["DESIGN.md is not in the repository"]),
        ("SANDBOX.md §2", ["SANDBOX.md is not in the repository"]),
        ("the line in DESIGN §3", ["DESIGN names no document (write NAME.md)"]),
        ("see bot/scheduling.py", ["bot/scheduling.py does not exist"]),
        ("see bot/cogs/prompt_poster.py", []),
        ("`bot.ui.views.send`", ["no module bot.ui.views"]),
        ("`bot.ui.replies.send`", []),
        ("`bot.ui.replies.nothing_here`", ["bot.ui.replies defines no nothing_here"]),
        ("`bot.domain.cards.library`", []),
    ],
)
def test_a_reference_is_checked(text: str, expected: list[str], tmp_path: Path) -> None:
    path = ROOT / "tests" / "reference_example.py"
    got = [p.what for p in _document_problems(path, text, "x")]
    got += [p.what for p in _code_problems(text, "x")]
    assert got == expected


def test_a_bare_section_in_a_document_is_one_of_its_own() -> None:
    safety = ROOT / "SAFETY.md"
    assert [p.what for p in _document_problems(safety, "as §4 shows", "x")] == []
    assert [p.what for p in _document_problems(safety, "as §40 shows", "x")] == [
        "this document has no section 40"
    ]
