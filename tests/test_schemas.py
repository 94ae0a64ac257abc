"""The JSON Schemas in schemas/ (used by editors while a specialist types) are current."""

from __future__ import annotations

from pathlib import Path

from bot.cli import content_schema

REPO = Path(__file__).resolve().parents[1]


def test_committed_schemas_match_the_models(tmp_path: Path) -> None:
    assert content_schema(tmp_path) == 0
    generated = {p.name: p.read_text("utf-8") for p in tmp_path.glob("*.json")}
    committed = {p.name: p.read_text("utf-8") for p in (REPO / "schemas").glob("*.json")}
    assert sorted(generated) == sorted(committed)
    stale = [name for name in generated if generated[name] != committed[name]]
    assert not stale, f"run `peerlight content schema --out schemas` and commit: {stale}"
