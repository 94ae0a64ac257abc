"""A large, valid content library generated from the shipped files, for the load benchmark.

Every generated technique and story is a shipped one under a new id and title, with its
cross-references pointing at other generated items, so field lengths and wording match
what content writers really produce and the full check passes with no errors.
"""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

SHIPPED = Path(__file__).resolve().parents[1] / "content"
COPIED = ("vocabulary.yaml", "safety", "resources", "prompts")
# The fields of a feeling in the vocabulary that name techniques.
TECHNIQUE_FIELDS = ("first", "cues")

WORDS = (
    "gentle",
    "quiet",
    "steady",
    "morning",
    "evening",
    "kitchen",
    "porch",
    "window",
    "river",
    "harbour",
    "lantern",
    "maple",
    "cedar",
    "meadow",
    "pocket",
    "weekend",
    "rainy",
    "sunday",
    "garden",
    "corner",
    "hallway",
    "bus-stop",
    "night-shift",
    "library",
    "hillside",
    "lakeside",
)

_ID = re.compile(r"^id: .*$", re.M)
_TITLE = re.compile(r"^title: (.*)$", re.M)
_MODELED = re.compile(r"^modeled_in: .*\n", re.M)
_TECHNIQUES = re.compile(r"^techniques: .*$", re.M)
_REVIEWED = re.compile(r"^reviewed:", re.M)


@dataclass(frozen=True)
class Library:
    root: Path
    techniques: int
    stories: int

    def files(self) -> list[Path]:
        """Every YAML file a full load reads."""
        return sorted(self.root.rglob("*.yaml"))


def _slug(words: list[str], number: int) -> str:
    return "-".join([*words, str(number)])


def _titled(template: str, title_words: list[str]) -> tuple[str, str]:
    match = _TITLE.search(template)
    assert match is not None
    extra = " ".join(w.replace("-", " ") for w in title_words)
    title = f"{match.group(1)}, {extra}"[:110].rstrip(" ,")
    return title, _TITLE.sub(lambda _: f"title: {title}", template, count=1)


def _insert_before_reviewed(text: str, line: str) -> str:
    match = _REVIEWED.search(text)
    if match is None:
        return text
    return text[: match.start()] + line + text[match.start() :]


def generate(root: Path, *, techniques: int, stories: int, seed: int = 20261129) -> Library:
    """Write the library into `root` (which must be empty or missing) and describe it."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = SHIPPED / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy2(source, root / name)
    # The feelings' first choices and cues name shipped techniques, which this library
    # renames: both are left out.
    vocabulary = root / "vocabulary.yaml"
    data = yaml.safe_load(vocabulary.read_text("utf-8"))
    for feeling in data["feelings"]:
        for key in TECHNIQUE_FIELDS:
            feeling.pop(key, None)
    vocabulary.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    technique_templates = [
        p.read_text("utf-8") for p in sorted((SHIPPED / "techniques").glob("*.yaml"))
    ]
    story_templates = [p.read_text("utf-8") for p in sorted((SHIPPED / "stories").glob("*.yaml"))]

    technique_ids = [_slug(rng.sample(WORDS, 2), n) for n in range(techniques)]
    story_ids = [_slug(["story", *rng.sample(WORDS, 2)], n) for n in range(stories)]

    folder = root / "techniques"
    folder.mkdir()
    for technique_id in technique_ids:
        text = rng.choice(technique_templates)
        text = _ID.sub(f"id: {technique_id}", text, count=1)
        _, text = _titled(text, rng.sample(WORDS, 2))
        text = _MODELED.sub("", text)
        modeled = rng.sample(story_ids, min(len(story_ids), rng.randint(0, 2)))
        if modeled:
            line = f"modeled_in: [{', '.join(modeled)}]\n"
            text = _insert_before_reviewed(text, line)
        (folder / f"{technique_id}.yaml").write_text(text, "utf-8")

    folder = root / "stories"
    folder.mkdir()
    for story_id in story_ids:
        text = rng.choice(story_templates)
        text = _ID.sub(f"id: {story_id}", text, count=1)
        _, text = _titled(text, rng.sample(WORDS, 1))
        used = rng.sample(technique_ids, min(len(technique_ids), rng.randint(1, 3)))
        text = _TECHNIQUES.sub(f"techniques: [{', '.join(used)}]", text, count=1)
        (folder / f"{story_id}.yaml").write_text(text, "utf-8")
    return Library(root, techniques, stories)
