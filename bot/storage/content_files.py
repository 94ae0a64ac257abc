"""Content files → a validated Catalog, or every problem with file, line and field.

The loader reads each kind's folder, parses YAML with the C loader when available, and
records where every key and list item sits in the file, so a validation error on
`evidence.sources[0].doi` is reported at that key's line and column. It reports, all at
once: bytes that are not UTF-8, tabs, empty files, YAML syntax errors, unsafe tags
(`!!python/...` is rejected, never constructed), duplicate keys (PyYAML would silently
keep the last), schema errors, file names that differ from the id, ids used twice, broken
cross-references, wording rules, stale resources, and texts that only overflow Discord's
limits once rendered as cards.

Long (about 1,200 lines) because every check writes to the one collector that gives each
problem its file, line and column, and runs in the one pass that reads each file once;
split, the YAML marks and the collector would have to travel between modules with every
call. The first part to move out when it grows is the marking YAML loader
(`_MarkingLoader` to `_compose`), which depends on nothing after it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.domain.cards.base import Rendered, card_limit_problems
from bot.domain.cards.crisis import crisis_cards, resources_card
from bot.domain.cards.library import story_card, technique_card
from bot.domain.cards.schedule import prompt_card
from bot.domain.catalog import Catalog, LibraryItems
from bot.domain.content import Prompt, PromptFile, ResourceRegion, Story, Technique, Vocabulary
from bot.domain.coverage import FeelingCoverage
from bot.domain.crisis import CrisisDetector, CrisisRules, CrisisSet, Lexicon, compile_rules
from bot.domain.crisis.model import CrisisModel
from bot.domain.feeling_reader import english_near, name_words
from bot.domain.relevance import RelevanceSet, Split
from bot.domain.style import Severity, StyleChecker
from bot.storage.lexicon import load_lexicon

try:  # the C parser is several times faster; fall back quietly where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# A support line whose `last_verified` is a year old fails the scheduled check
# (`StaleDates.FAIL`); for the 60 days before that, every check warns, so there is time to
# check it again before anything fails.
RESOURCE_FAIL_DAYS = 365
RESOURCE_WARN_DAYS = RESOURCE_FAIL_DAYS - 60


class StaleDates(StrEnum):
    """What an old `last_verified` date is: a warning wherever the check runs for a change
    (pull requests, CI, the bot loading its library), so that an old date never blocks an
    unrelated change or a start; an error in the scheduled check that exists to catch it."""

    WARN = "warn"
    FAIL = "fail"


VOCABULARY_FILE = "vocabulary.yaml"
CRISIS_RULES_DIR = Path("safety") / "rules"
CORPUS_DIR = Path("safety") / "corpus"
CRISIS_MODEL_DIR = Path("safety") / "model"
# Compiled rule files by their bytes: compiling reads the word lists and checks every
# rule against its examples, which takes a while; an unchanged file is not compiled twice.
_COMPILED_RULES: dict[bytes, CrisisDetector] = {}
_COMPILED_RULES_LIMIT = 4
_LOADED_MODELS: dict[bytes, CrisisModel] = {}
# The English words near the feelings' names, for the one set of names last loaded.
_ENGLISH_NEAR: dict[bytes, frozenset[str]] = {}

Mark = tuple[int, int]  # 1-based line and column

# Bounds that keep `content check` and `/content reload` within a few hundred MB and a few
# seconds on any input. The largest shipped file is about 15 KB, three levels deep.
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_NODES = 20_000
# A value quoted back in an error is cut to this many characters.
QUOTE_LIMIT = 60


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """`repr(value)`, cut to `limit` characters: an error line stays a line."""
    if isinstance(value, list | tuple | dict | set) and len(value) > limit:
        # A long collection is never rendered in full just to be cut.
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: int
    severity: Severity
    field: str
    message: str

    def format(self) -> str:
        where = f" {self.field}:" if self.field else ""
        return (
            f"{self.path}:{self.line}:{self.column}: {self.severity.value}:{where} {self.message}"
        )

    def format_github(self) -> str:
        kind = "error" if self.severity is Severity.ERROR else "warning"
        text = f"{self.field}: {self.message}" if self.field else self.message
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{kind} file={self.path},line={self.line},col={self.column}::{text}"


@dataclass
class LoadReport:
    catalog: Catalog | None
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def summary(self) -> str:
        c = self.counts
        return (
            f"{_plural(c.get('techniques', 0), 'technique')}, "
            f"{_plural(c.get('stories', 0), 'story', 'stories')}, "
            f"{_plural(c.get('prompts', 0), 'prompt')}, {_plural(c.get('regions', 0), 'region')}: "
            f"{_plural(len(self.errors), 'error')}, {_plural(len(self.warnings), 'warning')}"
        )


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


class _MarkingLoader(_BaseLoader):
    """A safe loader whose documents are built by `build`, which spots duplicate keys.

    Where things are in the file is not recorded while loading: the node tree keeps every
    position, and `ParsedFile.locate` composes it again and walks it only when there is a
    problem to report.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Mark, str, Mark]] = []
        self._built: dict[int, Any] = {}
        self._building: set[int] = set()

    def build(self, node: yaml.Node) -> Any:
        """The Python value of a node: text, numbers, dates, lists and mappings.

        Plain text, lists and mappings (nearly every node of a content file) are built
        here directly; anything else goes through PyYAML's safe constructor, which
        rejects tags such as `!!python/object` without constructing them. Duplicate keys
        are recorded instead of silently keeping the last, and an alias is built once.
        """
        tag = node.tag
        if type(node) is yaml.ScalarNode:
            return node.value if tag == _STR else self._build_scalar(node)
        if id(node) in self._built:
            return self._built[id(node)]
        if id(node) in self._building:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to itself", node.start_mark
            )
        if tag == _SEQ and type(node) is yaml.SequenceNode:
            self._building.add(id(node))
            value: Any = [
                child.value
                if type(child) is yaml.ScalarNode and child.tag == _STR
                else self.build(child)
                for child in node.value
            ]
        elif tag == _MAP and type(node) is yaml.MappingNode:
            self._building.add(id(node))
            value = self._build_mapping(node)
        else:
            return self.construct_object(node, deep=True)
        self._building.discard(id(node))
        self._built[id(node)] = value
        return value

    def _build_scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        try:
            # Whole numbers, dates and booleans as content files write them are read here;
            # PyYAML's constructor reads the rest (and refuses unsafe tags).
            if tag == _INT and value.isdigit() and value.isascii() and value[:1] != "0":
                return int(value)
            if tag == _TIMESTAMP and _PLAIN_DATE.match(value):
                return dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
            if tag == _BOOL and value in _BOOLEANS:
                return _BOOLEANS[value]
            return self.construct_object(node, deep=True)
        except ValueError as error:
            # A date that does not exist (2026-02-30) matches the pattern of a date, and
            # the constructor's ValueError would otherwise escape the check altogether.
            what = "a date that exists" if tag == _TIMESTAMP else f"a valid {_short_tag(tag)}"
            raise yaml.constructor.ConstructorError(
                None, None, f"{value} is not {what} ({error})", node.start_mark
            ) from error

    def _build_mapping(self, node: yaml.MappingNode) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        # Plain text is taken straight from its node: most keys and values are, and a
        # call to `build` for each costs a noticeable part of a large library's load.
        for key_node, value_node in node.value:
            if type(key_node) is yaml.ScalarNode and key_node.tag == _STR:
                key = key_node.value
            else:
                key = self.build(key_node)
            if not isinstance(key, _PLAIN_KEYS):
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    "a key must be a plain word",
                    key_node.start_mark,
                )
            if key in mapping:
                first = next(k for k, _ in node.value if k.value == key_node.value)
                self.duplicates.append(
                    (_mark(key_node.start_mark), str(key), _mark(first.start_mark))
                )
            if type(value_node) is yaml.ScalarNode and value_node.tag == _STR:
                mapping[key] = value_node.value
            else:
                mapping[key] = self.build(value_node)
        return mapping

    # The composer asks these for every node. This loader has no path resolvers, so the
    # tag of a node depends only on its kind and, for plain scalars, its text: looked up
    # directly, without PyYAML's general bookkeeping.

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in _IMPLICIT.get(value[:1], _IMPLICIT_ANY):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BOOL = "tag:yaml.org,2002:bool"
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_BOOLEANS = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_PLAIN_KEYS = (str, int, float, bool, type(None), dt.date)


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _mark(mark: Any) -> Mark:
    return (mark.line + 1, mark.column + 1)


# YAML 1.1 reads on/off/yes/no as booleans, which turns `reviewed: {on: 2026-11-29}` into
# a key `True` and `country: NO` into false. Content is written by people, not parsers:
# only true and false are booleans here (as in YAML 1.2); everything else stays text.
_MarkingLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_MarkingLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# For `_MarkingLoader.resolve`: the implicit resolvers to try for a plain scalar, by its
# first character ("" for an empty one), those for any character included.
_Resolvers = tuple[tuple[str, re.Pattern[str]], ...]
_IMPLICIT_ANY: _Resolvers = tuple(_MarkingLoader.yaml_implicit_resolvers.get(None, ()))
_IMPLICIT: dict[str, _Resolvers] = {
    first: (*resolvers, *_IMPLICIT_ANY)
    for first, resolvers in _MarkingLoader.yaml_implicit_resolvers.items()
    if first is not None
}


@dataclass(eq=False)
class ParsedFile:
    """A file that parsed. Its value is kept only until it is validated, and its node tree
    (every position in it) is composed again only if a problem is reported against it:
    for a large library, keeping every file's tree until all checks were done took
    hundreds of MB."""

    path: Path
    shown: str  # path as printed in problems
    data: Any = None
    _tree: yaml.Node | None = field(default=None, repr=False)

    def locate(self, loc: Sequence[Any]) -> tuple[Mark, str]:
        """The line and column for a field path, and the path written as `a.b[0].c`.

        Walks the YAML nodes; where the path leaves the file (a missing field), the
        nearest enclosing place is given.
        """
        if self._tree is None:
            self._tree = _compose(self.path)
        node = self._tree
        if node is None:  # changed or gone since it was read: the top of the file
            return (1, 1), dotted(loc)
        mark = node.start_mark
        written = list(loc)  # the path as the file writes it
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                pair = None
                for key_node, value_node in node.value:  # the last one wins, as in the data
                    if key_node.value == str(part):
                        pair = (key_node, value_node)
                if pair is None:
                    break
                mark, node = pair[0].start_mark, pair[1]
            elif isinstance(node, yaml.SequenceNode) and part == "main":
                # A plain list of `helps_with` is its main feelings.
                written.remove(part)
                continue
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    break
                node = node.value[part]
                mark = node.start_mark
            else:
                break
        return _mark(mark), dotted(written)


ANCHOR_MESSAGE = (
    "anchors (&name) and aliases (*name) are not allowed in content files; "
    "write each value out in full"
)


def _first_anchor(text: str) -> Mark | None:
    """Where the first anchor or alias is, if any. A text without one is not parsed twice:
    the caller asks only when the text holds an `&`."""
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return _mark(event.start_mark)
    except yaml.YAMLError:
        return None  # the full parse reports the syntax error where it is
    return None


def _shape_problem(root: yaml.Node) -> tuple[Mark, str] | None:
    """A tree nested deeper than MAX_DEPTH or with more than MAX_NODES nodes, walked
    without recursion. Aliases were refused before, so every node is met once."""
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            return _mark(node.start_mark), (
                f"the file has more than {MAX_NODES:,} values; split it into several files"
            )
        if depth > MAX_DEPTH:
            return _mark(node.start_mark), (
                f"values are nested more than {MAX_DEPTH} levels deep here; "
                "content files need only a few levels"
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
    return None


def _read_text(raw: bytes) -> str:
    """The text of a content file: UTF-8, without a leading byte-order mark."""
    text = raw.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def _compose(path: Path) -> yaml.Node | None:
    """The node tree of a file that parsed before, exactly as that parse left it."""
    try:
        loader = _MarkingLoader(_read_text(path.read_bytes()))
    except (OSError, UnicodeDecodeError):
        return None
    try:
        root = loader.get_single_node()
        if root is not None:
            # Building merges `<<:` keys into their mappings in place, as the first parse
            # did, so positions are found in the same tree.
            loader.build(root)
        return root
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def dotted(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class _Collector:
    def __init__(self, root: Path, shown_root: Path | None) -> None:
        self.root = root
        self.shown_root = shown_root
        self.problems: list[Problem] = []
        self._root_shown: Path | None = None
        self._root_prefix = ""
        self._shown_prefix = ""

    def shown(self, path: Path) -> str:
        # Paths come from walking `root`, so one resolve of the root serves every file.
        if self._root_shown is None:
            base = (self.shown_root if self.shown_root is not None else Path.cwd()).resolve()
            resolved = self.root.resolve()
            try:
                self._root_shown = resolved.relative_to(base)
            except ValueError:
                self._root_shown = resolved
            self._root_prefix = str(self.root) + os.sep
            shown_root = str(self._root_shown)
            self._shown_prefix = "" if shown_root == "." else shown_root + os.sep
        # The same as the pathlib form below, as text: thousands of files, several times
        # faster.
        text = str(path)
        if text.startswith(self._root_prefix):
            return self._shown_prefix + text[len(self._root_prefix) :]
        try:
            return str(self._root_shown / path.relative_to(self.root))
        except ValueError:
            return text

    def add(
        self,
        shown: str,
        mark: Mark,
        field_path: str,
        message: str,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.problems.append(Problem(shown, mark[0], mark[1], severity, field_path, message))

    def parse(self, path: Path) -> ParsedFile | None:
        shown = self.shown(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            self.add(shown, (1, 1), "", f"cannot be read ({exc.strerror or exc})")
            return None
        if size > MAX_FILE_BYTES:
            self.add(
                shown,
                (1, 1),
                "",
                f"the file is {size // 1024} KB; a content file may be at most "
                f"{MAX_FILE_BYTES // 1024} KB: split it into several files",
            )
            return None
        raw = path.read_bytes()
        try:
            text = _read_text(raw)
        except UnicodeDecodeError as exc:
            before = raw[: exc.start]
            line = before.count(b"\n") + 1
            line_start = before.rfind(b"\n") + 1
            column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
            self.add(
                shown,
                (line, column),
                "",
                f"byte 0x{raw[exc.start]:02x} is not UTF-8 text; save the file as UTF-8",
            )
            return None
        tabs = []
        if "\t" in text:
            lines = enumerate(text.splitlines(), 1)
            tabs = [(n, line.index("\t") + 1) for n, line in lines if "\t" in line]
        for line_no, column in tabs[:10]:
            self.add(shown, (line_no, column), "", "tab character: indent with spaces only")
        if tabs:
            return None
        if "&" in text:  # no anchor, so no alias, without this character
            anchor = _first_anchor(text)
            if anchor is not None:
                self.add(shown, anchor, "", ANCHOR_MESSAGE)
                return None
        loader = _MarkingLoader(text)
        try:
            root = loader.get_single_node()
            too_big = _shape_problem(root) if root is not None else None
            if too_big is not None:
                self.add(shown, too_big[0], "", too_big[1])
                return None
            data = loader.build(root) if root is not None else None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = getattr(exc, "problem", None) or str(exc)
            if "could not determine a constructor" in problem:
                tag = re.search(r"'([^']+)'", problem)
                name = _short_tag(tag.group(1)) if tag else "this tag"
                problem = (
                    f"the tag {name} is not allowed; "
                    "content files hold plain text, lists and key: value pairs only"
                )
            self.add(shown, where, "", f"YAML syntax: {problem}")
            return None
        finally:
            loader.dispose()
        for where, key, first in loader.duplicates:
            self.add(
                shown,
                where,
                key,
                f"this key appears twice in the same place (first on line {first[0]}); "
                "keep one, or the earlier one is silently lost",
            )
        if data is None or root is None:
            self.add(shown, (1, 1), "", "the file is empty")
            return None
        return ParsedFile(path, shown, data)


M = TypeVar("M", bound=BaseModel)


# What to write in a required field whose name alone may not say it.
_REQUIRED_HINTS = {
    "emergency": (
        ': the number to call in immediate danger in this region, like emergency: "911" '
        '(or "999 or 112"; for intl.yaml, "your local emergency number")'
    ),
}


def _explain(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = error.get("input")
    if kind == "missing":
        return "this field is required" + _REQUIRED_HINTS.get(str(error["loc"][-1]), "")
    if kind == "extra_forbidden":
        return "is not a field Peerlight knows; check the spelling (see CONTRIBUTING.md)"
    if kind == "string_too_long":
        return f"is {len(str(got))} characters; at most {ctx['max_length']} fit here"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("too_short",):
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind in ("too_long",):
        return f"can have at most {ctx.get('max_length')} items"
    if kind == "enum":
        return f"must be one of {ctx.get('expected')}, got {quoted(got)}"
    if kind == "string_pattern_mismatch":
        if "a-z0-9" in str(ctx.get("pattern", "")):
            return (
                f"ids are lower-case words joined by hyphens, like box-breathing; got {quoted(got)}"
            )
        return f"{quoted(got)} is not in the expected form"
    if kind == "string_type":
        return f"must be text; put it in quotes (got {quoted(got)})"
    if kind in ("int_type", "int_parsing"):
        return f"must be a whole number, got {quoted(got)}"
    if kind == "bool_type":
        return f"must be true or false, got {quoted(got)}"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return f"must be a date like 2026-11-29, got {quoted(got)}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list (write [a, b] or one `- item` per line), got {quoted(got)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a set of `key: value` fields"
    if kind in ("greater_than_equal",):
        return f"must be at least {ctx['ge']}, got {quoted(got)}"
    if kind in ("less_than_equal",):
        return f"must be at most {ctx['le']}, got {quoted(got)}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _validate(
    collector: _Collector,
    parsed: ParsedFile,
    model: type[M],
    prefix: tuple[Any, ...] = (),
    *,
    keep_data: bool = False,
) -> M | None:
    data = parsed.data
    for part in prefix:
        data = data[part]
    try:
        item = model.model_validate(data)
    except ValidationError as exc:
        _report_validation(collector, parsed, exc, prefix)
        return None
    if not keep_data:
        parsed.data = None  # everything later reads the validated item
    return item


def _report_validation(
    collector: _Collector, parsed: ParsedFile, exc: ValidationError, prefix: tuple[Any, ...] = ()
) -> None:
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if part != "[key]")
        mark, path = parsed.locate(prefix + loc)
        collector.add(parsed.shown, mark, path, _explain(error))


# The fields of a technique or story that name other things, and what those must be.
_REFERENCES: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "technique": (
        (("helps_with", "main"), "feeling"),
        (("helps_with", "also"), "feeling"),
        (("tags",), "theme"),
        (("modeled_in",), "story"),
    ),
    "story": ((("themes",), "theme"), (("techniques",), "technique")),
}


def _reference_values(item: BaseModel, key: tuple[str, ...]) -> tuple[str, ...]:
    value: Any = item
    for part in key:
        value = getattr(value, part)
    return tuple(map(sys.intern, value))


class _Checked(NamedTuple):
    """A technique or story whose own file passed its checks, as far as the checks across
    the library still need it. The item itself is stored in `_Loaded.items` by then, and
    of the file only its place is kept: it is read again if a problem is found in it."""

    id: str
    folder: Path
    name: str | None  # the file's name when it is not `<id>.yaml`
    references: tuple[tuple[str, ...], ...]  # the values of `_REFERENCES[kind]`, in order

    def file(self, collector: _Collector) -> ParsedFile:
        path = self.folder / (self.name or f"{self.id}.yaml")
        return ParsedFile(path, collector.shown(path))


@dataclass
class _Loaded:
    items: LibraryItems = field(default_factory=LibraryItems)
    techniques: list[_Checked] = field(default_factory=list)
    stories: list[_Checked] = field(default_factory=list)
    prompts: list[tuple[Prompt, ParsedFile, int]] = field(default_factory=list)
    regions: list[tuple[ResourceRegion, ParsedFile]] = field(default_factory=list)
    # Ids of items whose files exist but failed to load, so references to them are not
    # reported a second time as "unknown".
    failed_ids: set[str] = field(default_factory=set)


def _yaml_files(folder: Path, collector: _Collector) -> Iterator[Path]:
    if not folder.is_dir():
        return
    # Names and kinds from one listing: asking the file system whether each of thousands
    # of files is a folder costs a system call each.
    with os.scandir(folder) as listing:
        entries = sorted((entry.name, entry.is_dir()) for entry in listing)
    for name, is_dir in entries:
        if name.startswith("."):
            continue
        path = folder / name
        if is_dir:
            collector.add(
                collector.shown(path),
                (1, 1),
                "",
                f"folders inside {folder.name}/ are not read; "
                f"move the files up into {folder.name}/",
            )
        elif path.suffix == ".yaml":
            yield path
        elif path.suffix.lower() in (".yml", ".yaml"):
            collector.add(
                collector.shown(path),
                (1, 1),
                "",
                f"name content files .yaml (lower case), not {path.suffix}; this file was not read",
            )


def git_revision(directory: Path) -> str | None:
    """The short commit of the content folder when it is a git checkout, else None."""
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), "log", "-1", "--format=%h %cs", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    revision = result.stdout.strip()
    return revision or None


def load_library(
    content_dir: Path,
    *,
    today: dt.date,
    shown_root: Path | None = None,
    revision: Callable[[Path], str | None] | None = git_revision,
    stale_dates: StaleDates = StaleDates.WARN,
) -> LoadReport:
    """Load and check everything under `content_dir`. `catalog` is None if any error."""
    # A load allocates a few hundred thousand short-lived objects, and the cyclic
    # collector's passes over them find nothing: nothing here makes reference cycles
    # that need it. Pause it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_library(
            content_dir,
            today=today,
            shown_root=shown_root,
            revision=revision,
            stale_dates=stale_dates,
        )
    finally:
        if was_enabled:
            gc.enable()


def _load_library(
    content_dir: Path,
    *,
    today: dt.date,
    shown_root: Path | None = None,
    revision: Callable[[Path], str | None] | None = git_revision,
    stale_dates: StaleDates = StaleDates.WARN,
) -> LoadReport:
    """Load and check everything under `content_dir`. `catalog` is None if any error."""
    collector = _Collector(content_dir, shown_root)
    if not content_dir.is_dir():
        collector.add(str(content_dir), (1, 1), "", "the content folder does not exist")
        return LoadReport(None, collector.problems)
    style = StyleChecker()
    loaded = _Loaded()

    vocabulary = _load_single(collector, content_dir / VOCABULARY_FILE, Vocabulary)
    # The English word list, read at most once per load and only when needed (compiling
    # crisis rules, or the words near the feelings' names): both are kept between loads,
    # so a reload that changes neither reads nothing, and the list is let go after it.
    lexicon = functools.cache(load_lexicon)
    crisis = _load_crisis_rules(collector, content_dir / CRISIS_RULES_DIR, lexicon)

    _load_items(collector, content_dir / "techniques", Technique, loaded, style)
    _load_items(collector, content_dir / "stories", Story, loaded, style)
    for path in _yaml_files(content_dir / "prompts", collector):
        parsed = collector.parse(path)
        if parsed is not None and (item_p := _validate(collector, parsed, PromptFile)) is not None:
            loaded.prompts.extend((p, parsed, i) for i, p in enumerate(item_p.prompts))
    for path in _yaml_files(content_dir / "resources", collector):
        parsed = collector.parse(path)
        if (
            parsed is not None
            and (item_r := _validate(collector, parsed, ResourceRegion)) is not None
        ):
            if path.stem != item_r.region.lower():
                mark, _ = parsed.locate(("region",))
                collector.add(
                    parsed.shown,
                    mark,
                    "region",
                    f"the file for region {item_r.region} must be named "
                    f"{item_r.region.lower()}.yaml",
                )
            loaded.regions.append((item_r, parsed))

    _check_unique_ids(collector, loaded)
    if vocabulary is not None:
        _check_references(collector, loaded, vocabulary)
        _check_first_choices(collector, loaded, vocabulary, content_dir / VOCABULARY_FILE)
    _check_prompts_and_resources(collector, loaded, style, today, stale_dates)
    if not any(r.region == "INTL" for r, _ in loaded.regions):
        collector.add(
            collector.shown(content_dir / "resources"),
            (1, 1),
            "",
            "there must be an intl.yaml with international resources",
        )

    counts = {
        "techniques": len(loaded.techniques),
        "stories": len(loaded.stories),
        "prompts": len(loaded.prompts),
        "regions": len(loaded.regions),
    }
    problems = sorted(collector.problems)
    # The checks are done: only the items themselves are needed now.
    loaded.techniques.clear()
    loaded.stories.clear()
    if any(p.severity is Severity.ERROR for p in problems) or vocabulary is None or crisis is None:
        return LoadReport(None, problems, counts)
    catalog = Catalog.from_items(
        loaded.items,
        prompts=(p for p, _, _ in loaded.prompts),
        regions=(r for r, _ in loaded.regions),
        vocabulary=vocabulary,
        crisis=crisis,
        revision=revision(content_dir) if revision else None,
        english=_english_near(vocabulary, crisis, lexicon),
    )
    return LoadReport(catalog, problems, counts)


def _english_near(
    vocabulary: Vocabulary, crisis: CrisisSet, lexicon: Callable[[], Lexicon]
) -> frozenset[str]:
    """The English words a typo in a feeling's name could be mistaken for (see
    `bot.domain.feeling_reader`), kept per set of names so that a reload which changes no
    name does not read the word list again."""
    words = sorted(name_words(vocabulary.feelings, crisis.normalise))
    key = hashlib.sha256("\n".join(words).encode()).digest()
    near = _ENGLISH_NEAR.get(key)
    if near is None:
        near = english_near(words, lexicon().english)
        _ENGLISH_NEAR.clear()
        _ENGLISH_NEAR[key] = near
    return near


def _load_items(
    collector: _Collector,
    folder: Path,
    model: type[Technique] | type[Story],
    loaded: _Loaded,
    style: StyleChecker,
) -> None:
    """One item per file, named after its id; ids of files that fail are remembered.

    Each file is checked as far as it can be on its own (schema, file name, wording,
    card size) as soon as it is read, and its item stored compactly, so no more than one
    file's parse is held at a time; what the checks across the library need is kept.
    """
    for path in _yaml_files(folder, collector):
        parsed = collector.parse(path)
        item = _validate(collector, parsed, model) if parsed is not None else None
        if parsed is None or item is None:
            loaded.failed_ids.update(_claimed_ids(path, parsed))
            continue
        _check_file_name(collector, parsed, item.id)
        if isinstance(item, Technique):
            kind, checked = "technique", loaded.techniques
            _check_item(collector, style, kind, item, parsed, (), technique_card(item))
            loaded.items.add_technique(item)
        else:
            kind, checked = "story", loaded.stories
            _check_item(collector, style, kind, item, parsed, (), story_card(item))
            loaded.items.add_story(item)
        name = None if path.name == f"{item.id}.yaml" else path.name
        references = tuple(_reference_values(item, key) for key, _ in _REFERENCES[kind])
        checked.append(_Checked(item.id, folder, name, references))


def _claimed_ids(path: Path, parsed: ParsedFile | None) -> set[str]:
    ids = {path.stem}
    if (
        parsed is not None
        and isinstance(parsed.data, dict)
        and isinstance(parsed.data.get("id"), str)
    ):
        ids.add(parsed.data["id"])
    return ids


def _load_crisis_rules(
    collector: _Collector, folder: Path, lexicon: Callable[[], Lexicon] = load_lexicon
) -> CrisisSet | None:
    """Every language's rule file, each compiled and checked against its own examples."""
    detectors: list[CrisisDetector] = []
    failed = False
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        collector.add(
            collector.shown(folder), (1, 1), "", "there must be at least one crisis rule file"
        )
        return None
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).digest()
        cached = _COMPILED_RULES.get(digest)
        if cached is not None:
            model = _load_crisis_model(collector, folder.parent / "model", path.stem)
            detectors.append(cached.with_model(model))
            continue
        parsed = collector.parse(path)
        rules = _validate(collector, parsed, CrisisRules, keep_data=True) if parsed else None
        if rules is None or parsed is None:
            failed = True
            continue
        if rules.language != path.stem:
            mark, _ = parsed.locate(("language",))
            collector.add(
                parsed.shown,
                mark,
                "language",
                f"the file for {rules.language!r} must be named {rules.language}.yaml",
            )
            failed = True
            continue
        try:
            detector = compile_rules(rules, lexicon())
        except ValidationError as exc:
            _report_validation(collector, parsed, exc)
            failed = True
            continue
        if len(_COMPILED_RULES) >= _COMPILED_RULES_LIMIT:
            _COMPILED_RULES.clear()
        _COMPILED_RULES[digest] = detector
        model = _load_crisis_model(collector, folder.parent / "model", path.stem)
        detectors.append(detector.with_model(model))
    return None if failed else CrisisSet(detectors)


def _load_crisis_model(collector: _Collector, folder: Path, language: str) -> CrisisModel | None:
    """The trained second reader for a language, if one is shipped (see
    bot/domain/crisis/model.py). A file that cannot be used is a warning, not an error:
    the bot keeps the rules, `peerlight crisis train` can still run to replace it, and
    `peerlight crisis eval` (which CI runs) fails until it is replaced."""
    path = folder / f"{language}.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        collector.add(
            collector.shown(path), (1, 1), "", f"cannot be read ({exc.strerror})", Severity.WARNING
        )
        return None
    digest = hashlib.sha256(raw).digest()
    if (cached := _LOADED_MODELS.get(digest)) is not None:
        return cached
    try:
        model = CrisisModel.from_json(json.loads(raw))
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        collector.add(
            collector.shown(path),
            (1, 1),
            "",
            f"{exc}; the rules answer alone until `peerlight crisis train` replaces it",
            Severity.WARNING,
        )
        return None
    if model.language != language:
        collector.add(
            collector.shown(path),
            (1, 1),
            "language",
            f"is for {model.language!r}, not {language!r}",
            Severity.WARNING,
        )
        return None
    if len(_LOADED_MODELS) >= _COMPILED_RULES_LIMIT:
        _LOADED_MODELS.clear()
    _LOADED_MODELS[digest] = model
    return model


def crisis_fingerprint(content_dir: Path, language: str) -> str:
    """What a language's model was trained on: its rule file and the tuned corpus. A model
    whose fingerprint differs was trained on other rules or other messages."""
    digest = hashlib.sha256()
    paths = [content_dir / CRISIS_RULES_DIR / f"{language}.yaml"]
    paths += sorted((content_dir / CORPUS_DIR).glob("tuned*.yaml"))
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def coverage_problems(content_dir: Path, rows: Iterable[FeelingCoverage]) -> list[Problem]:
    """An error for each feeling the library covers too thinly, at the feeling's place in
    the vocabulary file (see `bot.domain.coverage`)."""
    collector = _Collector(content_dir, None)
    vocabulary = content_dir / VOCABULARY_FILE
    parsed: ParsedFile | None = None
    for index, row in enumerate(rows):
        if row.gap is None:
            continue
        parsed = parsed or ParsedFile(vocabulary, collector.shown(vocabulary))
        mark, path = parsed.locate(("feelings", index, "id"))
        collector.add(parsed.shown, mark, path, row.gap)
    return sorted(collector.problems)


RELEVANCE_FOLDER = "relevance"


def load_relevance(
    content_dir: Path, catalog: Catalog
) -> tuple[dict[Split, dict[str, RelevanceSet]], list[Problem]]:
    """The relevance set's files, by split and then file name: every `relevance/tuned*.yaml`
    is the tuned split and every `relevance/holdout*.yaml` the holdout (a new holdout is
    added as a new file, such as `holdout-2.yaml`, and never mixed into an old one).
    Checked: schema, a `split:` that agrees with the file name, at least one file per
    split, and every feeling and technique named known to `catalog`. Problems name file,
    line and field, as the content check's."""
    collector = _Collector(content_dir, None)
    sets: dict[Split, dict[str, RelevanceSet]] = {split: {} for split in Split}
    known = {"feelings": ("feeling", catalog.feelings), "accept": ("technique", catalog.techniques)}
    folder = content_dir / RELEVANCE_FOLDER
    paths = sorted(folder.glob("*.yaml"), key=lambda p: p.stem) if folder.is_dir() else []
    seen: dict[Split, bool] = {split: False for split in Split}
    for path in paths:
        split = next((s for s in Split if path.stem.startswith(s.value)), None)
        if split is None:
            collector.add(
                collector.shown(path),
                (1, 1),
                "",
                "a relevance file's name starts with tuned or holdout (tuned-2.yaml, "
                "holdout-3.yaml), which says the split it belongs to",
            )
            continue
        seen[split] = True
        parsed = collector.parse(path)
        if parsed is None:
            continue
        relevance = _validate(collector, parsed, RelevanceSet)
        if relevance is None:
            continue
        if relevance.split is not split:
            mark, field_path = parsed.locate(("split",))
            collector.add(
                parsed.shown,
                mark,
                field_path,
                f"this file holds the {split.value} split (its name starts with {split.value})",
            )
            continue
        bad = False
        for index, case in enumerate(relevance.cases):
            for key, (what, ids) in known.items():
                for position, value in enumerate(getattr(case, key)):
                    if value not in ids:
                        mark, field_path = parsed.locate(("cases", index, key, position))
                        collector.add(parsed.shown, mark, field_path, f"{value!r} is not a {what}")
                        bad = True
        if not bad:
            sets[split][path.name] = relevance
    for split, found in seen.items():
        if not found:
            path = folder / f"{split.value}.yaml"
            collector.add(
                collector.shown(path),
                (1, 1),
                "",
                f"this file is required but missing (the {split.value} split needs at least "
                f"one {split.value}*.yaml file)",
            )
    return sets, sorted(collector.problems)


def _load_single(collector: _Collector, path: Path, model: type[M]) -> M | None:
    if not path.is_file():
        collector.add(collector.shown(path), (1, 1), "", "this file is required but missing")
        return None
    parsed = collector.parse(path)
    return _validate(collector, parsed, model) if parsed is not None else None


def _check_file_name(collector: _Collector, parsed: ParsedFile, item_id: str) -> None:
    if parsed.path.stem != item_id:
        mark, _ = parsed.locate(("id",))
        collector.add(
            parsed.shown,
            mark,
            "id",
            f"the id {quoted(item_id)} must match the file name; rename the file to "
            f"{item_id}.yaml or change the id to {quoted(parsed.path.stem)}",
        )


def _check_unique_ids(collector: _Collector, loaded: _Loaded) -> None:
    # Where an id is written is looked up only for ids used twice: nearly every file has
    # none.
    first: dict[str, tuple[_Checked | ParsedFile, tuple[Any, ...]]] = {}
    places: Iterable[tuple[str, _Checked | ParsedFile, tuple[Any, ...]]] = chain(
        ((t.id, t, ("id",)) for t in loaded.techniques),
        ((s.id, s, ("id",)) for s in loaded.stories),
        ((q.id, p, ("prompts", i, "id")) for q, p, i in loaded.prompts),
    )
    for item_id, place, loc in places:
        if item_id not in first:
            first[item_id] = (place, loc)
            continue
        first_place, first_loc = first[item_id]
        first_file = _file(collector, first_place)
        first_mark, _ = first_file.locate(first_loc)
        parsed = _file(collector, place)
        mark, path = parsed.locate(loc)
        collector.add(
            parsed.shown,
            mark,
            path,
            f"the id {quoted(item_id)} is already used at {first_file.shown}:{first_mark[0]}; "
            "ids are unique across the whole library",
        )


def _file(collector: _Collector, place: _Checked | ParsedFile) -> ParsedFile:
    return place.file(collector) if isinstance(place, _Checked) else place


def _check_references(collector: _Collector, loaded: _Loaded, vocabulary: Vocabulary) -> None:
    failed = loaded.failed_ids
    known: dict[str, tuple[set[str], str]] = {
        "feeling": ({f.id for f in vocabulary.feelings}, "vocabulary.yaml"),
        "theme": ({t.id for t in vocabulary.themes}, "vocabulary.yaml"),
        "technique": ({t.id for t in loaded.techniques}, "content/techniques"),
        "story": ({s.id for s in loaded.stories}, "content/stories"),
    }

    def check(
        place: _Checked | ParsedFile,
        base: tuple[Any, ...],
        key: tuple[str, ...],
        values: Sequence[str],
        what: str,
    ) -> None:
        ids, where = known[what]
        parsed: ParsedFile | None = None
        for index, value in enumerate(values):
            if value not in ids:
                if value in failed:
                    continue  # that file has its own errors; one report is enough
                parsed = parsed or _file(collector, place)
                mark, path = parsed.locate((*base, *key, index))
                close = sorted(ids, key=lambda k: _distance(k, value))[:3]
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                collector.add(
                    parsed.shown, mark, path, f"{quoted(value)} is not a {what} in {where}{hint}"
                )

    for kind, items in (("technique", loaded.techniques), ("story", loaded.stories)):
        for checked in items:
            for (key, what), values in zip(_REFERENCES[kind], checked.references, strict=True):
                check(checked, (), key, values, what)
    for q, parsed, i in loaded.prompts:
        check(parsed, ("prompts", i), ("themes",), q.themes, "theme")


def _check_first_choices(
    collector: _Collector, loaded: _Loaded, vocabulary: Vocabulary, path: Path
) -> None:
    """A feeling's `first` names techniques mainly for that feeling, each once; so does
    each of its `cues`."""
    main = [key for key, _ in _REFERENCES["technique"]].index(("helps_with", "main"))
    mainly = {t.id: set(t.references[main]) for t in loaded.techniques}
    parsed: ParsedFile | None = None
    for index, feeling in enumerate(vocabulary.feelings):
        named: list[tuple[str, tuple[str | int, ...], bool]] = [
            (technique_id, ("first", position), technique_id in feeling.first[:position])
            for position, technique_id in enumerate(feeling.first)
        ]
        named += [
            (
                cue.technique,
                ("cues", position, "technique"),
                cue.technique in [c.technique for c in feeling.cues[:position]],
            )
            for position, cue in enumerate(feeling.cues)
        ]
        for technique_id, where, twice in named:
            if technique_id in loaded.failed_ids:
                continue  # that file has its own errors; one report is enough
            if technique_id not in mainly:
                close = sorted(mainly, key=lambda k: _distance(k, technique_id))[:3]
                problem = "is not a technique in content/techniques; did you mean " + (
                    ", ".join(close) + "?"
                )
            elif feeling.id not in mainly[technique_id]:
                problem = f"is not mainly for {feeling.id} (its helps_with.main does not say so)"
            elif twice:
                problem = "is named twice"
            else:
                continue
            parsed = parsed or collector.parse(path)
            if parsed is None:
                return
            mark, field = parsed.locate(("feelings", index, *where))
            collector.add(parsed.shown, mark, field, f"{quoted(technique_id)} {problem}")


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "technique": ("title", "summary", "steps", "why_it_works", "when_to_use", "cautions"),
    "story": ("title", "situation", "what_i_did", "what_changed", "what_helped"),
    "prompt": ("text",),
}


def _texts(item: BaseModel, names: Iterable[str]) -> Iterator[tuple[tuple[Any, ...], str]]:
    for name in names:
        value = getattr(item, name)
        if isinstance(value, str):
            yield (name,), value
        elif isinstance(value, tuple):
            for index, text in enumerate(value):
                yield (name, index), text


def _check_item(
    collector: _Collector,
    style: StyleChecker,
    kind: str,
    item: BaseModel,
    parsed: ParsedFile,
    base: tuple[Any, ...],
    rendered: Rendered,
) -> None:
    """Wording rules, and texts that only overflow Discord's limits once on a card."""
    for loc, finding in style.check_item(kind, list(_texts(item, _TEXT_FIELDS[kind]))):
        mark, path = parsed.locate((*base, *loc))  # type: ignore[misc]
        collector.add(parsed.shown, mark, path, finding.message, finding.severity)
    for limit in card_limit_problems(rendered):
        loc = tuple(_split_path(limit.source)) if limit.source else ()
        mark, path = parsed.locate((*base, *loc))
        collector.add(parsed.shown, mark, path, limit.message)


def _check_prompts_and_resources(
    collector: _Collector,
    loaded: _Loaded,
    style: StyleChecker,
    today: dt.date,
    stale_dates: StaleDates,
) -> None:
    for q, parsed, i in loaded.prompts:
        _check_item(collector, style, "prompt", q, parsed, ("prompts", i), prompt_card(q))
    intl = next((r for r, _ in loaded.regions if r.region == "INTL"), None)
    for region, parsed in loaded.regions:
        # Every card these lines appear on must fit Discord: a problem is reported once.
        reported: set[tuple[str, str]] = set()
        for rendered in (resources_card(region, intl), *crisis_cards(region, intl)):
            for limit in card_limit_problems(rendered):
                if (limit.source or "", limit.message) in reported:
                    continue
                reported.add((limit.source or "", limit.message))
                loc = tuple(_split_path(limit.source)) if limit.source else ()
                mark, path = parsed.locate(loc)
                collector.add(parsed.shown, mark, path, limit.message)
        for index, entry in enumerate(region.entries):
            found = stale_date_problem(entry.name, entry.last_verified, today, stale_dates)
            if found is not None:
                mark, path = parsed.locate(("entries", index, "last_verified"))
                collector.add(parsed.shown, mark, path, *found)


def stale_date_problem(
    name: str, last_verified: dt.date, today: dt.date, stale_dates: StaleDates
) -> tuple[str, Severity] | None:
    """What the check says about a support line last verified on `last_verified`."""
    age = (today - last_verified).days
    if age < RESOURCE_WARN_DAYS:
        return None
    if age < RESOURCE_FAIL_DAYS:
        due = last_verified + dt.timedelta(days=RESOURCE_FAIL_DAYS)
        return (
            f"{name} was last checked {age} days ago; please check it again and update "
            f"last_verified before {due.isoformat()}, when the scheduled check starts to fail",
            Severity.WARNING,
        )
    message = (
        f"{name} was last checked {age} days ago; check the number still works and update "
        "last_verified (over a year is not safe to show)"
    )
    if stale_dates is StaleDates.FAIL:
        return message, Severity.ERROR
    return f"{message}; the scheduled check fails on this", Severity.WARNING


def _split_path(source: str) -> Iterator[str | int]:
    for part in source.replace("]", "").split("."):
        name, _, index = part.partition("[")
        yield name
        if index:
            yield int(index)


def hold_long_lived() -> None:
    """Take what is alive now (a freshly loaded library above all) out of the cyclic
    collector's full passes: `gc.freeze()`.

    A loaded library is a few hundred thousand objects that live as long as the bot. Each
    full pass of the collector walks all of them, and a pass that lands inside a crisis
    check is the check's slowest moment: a 6,000-character message's p99 was 4x its median
    because of it (`python -m bench --only crisis` shows it). What the previous call froze
    is given back and collected first (`gc.unfreeze()`, then a full pass, about 40 ms), so
    a library that a reload replaced, and anything that died in a reference cycle since,
    is freed then: nothing stays frozen for longer than one load.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ContentLibrary:
    """The content the bot serves now, and a reload that never leaves it without any.

    `reload()` builds a whole new Catalog off the event loop and swaps the reference only
    if the new library has no errors; otherwise the current one stays and the errors are
    returned for the moderator who asked.
    """

    def __init__(
        self, directory: Path, report: LoadReport, loaded_at: dt.datetime, *, hold: bool = False
    ) -> None:
        """`hold`: keep each library it serves out of the collector's full passes
        (`hold_long_lived`), as the long-running bot does."""
        if report.catalog is None:
            raise ValueError("a ContentLibrary starts from a valid load")
        self.directory = directory
        self.catalog: Catalog = report.catalog
        self.loaded_at = loaded_at
        self.warnings = report.warnings
        self._hold = hold
        if hold:
            hold_long_lived()

    async def reload(self, now: dt.datetime) -> LoadReport:
        report = await asyncio.to_thread(
            load_library, self.directory, today=now.date(), shown_root=self.directory.parent
        )
        if report.catalog is not None:
            self.catalog = report.catalog
            self.loaded_at = now
            self.warnings = report.warnings
            if self._hold:
                hold_long_lived()
        return report
