"""Shared fixtures: the shipped content loaded once, a sandbox, and the real bot on it."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NoReturn

import asyncpg
import pytest

from bot.config import Settings, parse_settings
from bot.sandbox.harness import load_content, running_bot, sandbox_settings
from bot.sandbox.pgcluster import ClusterUnavailable, ThrowawayCluster
from bot.sandbox.server import Sandbox
from bot.storage.content_files import LoadReport
from bot.storage.database import Database
from bot.storage.engine import Engine
from bot.storage.postgres import PostgresEngine

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


NO_MENTIONS = {"parse": []}
_CALLBACK = re.compile(r"/interactions/\d+/[^/]+/callback$")
_CREATES = re.compile(r"^/channels/\d+/messages$|^/webhooks/\d+/[^/]+$")


def assert_nothing_could_ping(server: Sandbox) -> None:
    """Every message the bot created allowed no mentions, and no edit allowed any."""
    for request in server.requests:
        body = request.json
        if not isinstance(body, dict):
            continue
        callback = _CALLBACK.search(request.path)
        if callback and body.get("type") in (4, 7):
            assert body["data"].get("allowed_mentions") == NO_MENTIONS, request.path
        elif request.method == "POST" and _CREATES.search(request.path):
            assert body.get("allowed_mentions") == NO_MENTIONS, request.path
        data = body.get("data") if callback else body
        if isinstance(data, dict) and "allowed_mentions" in data:
            assert data["allowed_mentions"] == NO_MENTIONS, request.path


@pytest.fixture
async def sandbox(error_records: ErrorRecords) -> AsyncIterator[Sandbox]:
    """A sandbox; afterwards, every test through it is held to the rules every e2e test
    shares: no unhandled route, no ERROR log record, and no message that could ping."""
    async with Sandbox(refuse_pings=True) as server:
        yield server
        assert not server.unhandled, f"requests the sandbox did not handle: {server.unhandled}"
        assert_nothing_could_ping(server)
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


# -- databases: the contract suite runs on both engines ----------------------------------


def without_postgresql(reason: str, ci: str | None) -> NoReturn:
    """Skip a PostgreSQL test with the reason, or fail it in CI, where it must run."""
    if (ci or "").lower() == "true":
        pytest.fail(f"CI=true, and PostgreSQL could not be started: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: no server can be started here ({reason})")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    """One PostgreSQL cluster for the whole session (each test gets its own database).
    Skipped where no server can be started, except in CI, where it must."""
    try:
        cluster = ThrowawayCluster.start()
    except ClusterUnavailable as exc:
        without_postgresql(str(exc), os.environ.get("CI"))
    try:
        yield cluster
    finally:
        cluster.stop()


@asynccontextmanager
async def fresh_pg_database(cluster: ThrowawayCluster) -> AsyncIterator[str]:
    """The URL of a new, empty database on the session's cluster; dropped afterwards."""
    name = f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    try:
        yield cluster.url(name)
    finally:
        admin = await asyncpg.connect(cluster.url())
        try:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        finally:
            await admin.close()


@pytest.fixture
async def pg_url(pg_cluster: ThrowawayCluster) -> AsyncIterator[str]:
    async with fresh_pg_database(pg_cluster) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    """An empty, migrated database on each engine in turn."""
    if request.param == "sqlite":
        async with Database.open(tmp_path / "contract.sqlite3") as database:
            yield database
        return
    cluster = request.getfixturevalue("pg_cluster")
    async with fresh_pg_database(cluster) as url, PostgresEngine.open(url) as database:
        yield database
