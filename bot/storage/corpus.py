"""The crisis evaluation corpus on disk: `categories.yaml` and the labelled message files.

Files whose names start with `holdout` are the holdout split; every other message file
is the tuned split. Problems are reported with the file and the message's position, in
words a reviewer can act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.domain.crisis.evaluation import HOLDOUT, LEVELS, Case, Category, Floors

__all__ = ["CorpusError", "load_corpus"]

CATEGORIES_FILE = "categories.yaml"


class CorpusError(Exception):
    """The corpus can't be read; the message says where and what to do."""


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: can't be read as YAML ({type(exc).__name__})") from exc


def load_corpus(folder: Path) -> tuple[dict[str, Category], list[Case], Floors]:
    categories_path = folder / CATEGORIES_FILE
    if not categories_path.is_file():
        raise CorpusError(f"{folder}: there is no {CATEGORIES_FILE}; is this the corpus folder?")
    data = _read(categories_path)
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise CorpusError(f"{categories_path}: expected a `categories:` mapping")
    categories: dict[str, Category] = {}
    for name, spec in data["categories"].items():
        try:
            categories[str(name)] = Category(
                str(name), LEVELS[spec["expect"]], LEVELS[spec["at_most"]]
            )
        except (KeyError, TypeError) as exc:
            raise CorpusError(
                f"{categories_path}: category {name!r} needs `expect` and `at_most`, each one "
                "of none, distress, helper, danger"
            ) from exc
    floors = Floors(**{k: float(v) for k, v in (data.get("floors") or {}).items()})
    cases: list[Case] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == CATEGORIES_FILE:
            continue
        split = HOLDOUT if path.stem.startswith(HOLDOUT) else "tuned"
        content = _read(path)
        messages = content.get("messages") if isinstance(content, dict) else None
        if not isinstance(messages, list):
            raise CorpusError(f"{path}: expected a `messages:` list")
        for number, item in enumerate(messages, 1):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("text"), str)
                or item.get("category") not in categories
            ):
                raise CorpusError(
                    f"{path}: message {number} needs a `text` and a `category` from "
                    f"{CATEGORIES_FILE}"
                )
            cases.append(Case(item["text"], item["category"], split))
    return categories, cases, floors
