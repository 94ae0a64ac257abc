"""The benchmark scenarios, by name; each module has `run(quick: bool) -> list[Row]`."""

from __future__ import annotations

SCENARIOS = (
    "content_load",
    "autocomplete",
    "roundtrip",
    "burst",
    "summary",
    "startup",
    "memory",
    "crisis",
    "privacy",
    "engines",
    "shards",
    "limits",
)
