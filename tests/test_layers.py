"""The line in DESIGN.md: nothing under bot/domain or bot/storage imports discord.

Checked on the source (every import statement, at any depth) and at run time (importing
every such module in a fresh interpreter leaves `discord` out of sys.modules).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
PURE = [p for layer in ("domain", "storage") for p in sorted((BOT / layer).rglob("*.py"))]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_pure_layers_exist() -> None:
    assert len(PURE) >= 5


def test_no_pure_module_imports_discord_in_its_source() -> None:
    offenders = {
        str(path.relative_to(BOT.parent)): sorted(
            n for n in _imports(path) if n.split(".")[0] == "discord"
        )
        for path in PURE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_pure_layers_does_not_load_discord() -> None:
    modules = [
        ".".join(path.relative_to(BOT.parent).with_suffix("").parts)
        for path in PURE
        if path.name != "__init__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
