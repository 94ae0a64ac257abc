"""Shared fixtures: the shipped content loaded once, a sandbox, and the real bot on it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings, parse_settings
from bot.sandbox.harness import load_content, running_bot, sandbox_settings
from bot.sandbox.server import Sandbox
from bot.storage.content_files import LoadReport

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shipped_report() -> LoadReport:
    report = load_content(parse_settings({}), today=dt.date.today())
    assert report.catalog is not None, "\n".join(p.format() for p in report.errors)
    return report


class ErrorRecords(logging.Handler):
    """Collects ERROR records: discord.py logs and swallows exceptions in handlers."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_records() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
async def sandbox(error_records: ErrorRecords) -> AsyncIterator[Sandbox]:
    async with Sandbox() as server:
        yield server
        assert not server.unhandled, f"requests the sandbox did not handle: {server.unhandled}"
    messages = [f"{r.name}: {r.getMessage()}" for r in error_records.records]
    assert not messages, "ERROR log records during the test:\n" + "\n".join(messages)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return parse_settings({})


@pytest.fixture
async def bot(sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The real bot connected to the sandbox, with a fresh SQLite file."""
    configured = sandbox_settings(settings, sandbox, database=tmp_path / "bot.sqlite3")
    async with running_bot(sandbox, configured, report=shipped_report) as running:
        yield running
