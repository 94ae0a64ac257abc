"""The layer rules of docs/ARCHITECTURE.md §1.

Nothing under bot/domain or bot/storage imports discord; nothing under bot/ui imports
bot/storage; running the bot never imports the sandbox. Checked on the source (every
import statement, at any depth) and at run time (importing the modules in a fresh
interpreter leaves the forbidden ones out of sys.modules). `tests/e2e/test_process.py`
checks the last rule on `peerlight run` itself.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
PURE = [p for layer in ("domain", "storage") for p in sorted((BOT / layer).rglob("*.py"))]
UI = sorted((BOT / "ui").rglob("*.py"))
# Everything `peerlight run` may load: all of bot/ but the sandbox.
RUN_PATH = [p for p in sorted(BOT.rglob("*.py")) if "sandbox" not in p.relative_to(BOT).parts]


def _module(path: Path) -> str:
    return ".".join(path.relative_to(BOT.parent).with_suffix("").parts).removesuffix(".__init__")


def _loaded_by_importing(modules: list[str], prefix: str) -> str:
    """What of `prefix` a fresh interpreter has loaded after importing `modules`."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"prefix = {prefix!r}\n"
        "loaded = sorted(m for m in sys.modules if m == prefix or m.startswith(prefix + '.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def _lazy_imports(path: Path) -> set[str]:
    """Modules imported inside a function of `path`."""
    names: set[str] = set()
    for function in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.add(node.module)
                elif isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
    return names


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
    assert _loaded_by_importing([_module(p) for p in PURE], "discord") == ""


def test_no_ui_module_imports_storage() -> None:
    assert len(UI) >= 5
    offenders = {
        str(path.relative_to(BOT.parent)): sorted(
            n for n in _imports(path) if n == "bot.storage" or n.startswith("bot.storage.")
        )
        for path in UI
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_everything_the_bot_runs_does_not_load_the_sandbox() -> None:
    modules = [_module(p) for p in RUN_PATH if p.name != "__main__.py"]
    assert {"bot.app", "bot.cli", "bot.discord_host", "bot.cogs.library"} <= set(modules)
    assert _loaded_by_importing(modules, "bot.sandbox") == ""


def test_only_the_demo_imports_the_sandbox_and_only_when_it_runs() -> None:
    """A module outside the sandbox names it only inside a function: the demo's."""
    at_top = {
        str(p.relative_to(BOT.parent))
        for p in RUN_PATH
        if any(n.startswith("bot.sandbox") for n in _imports(p) - _lazy_imports(p))
    }
    lazily = {
        str(p.relative_to(BOT.parent)): sorted(
            n for n in _lazy_imports(p) if n.startswith("bot.sandbox")
        )
        for p in RUN_PATH
    }
    assert at_top == set()
    assert {k: v for k, v in lazily.items() if v} == {"bot/cli.py": ["bot.sandbox.console"]}
