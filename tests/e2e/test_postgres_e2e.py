"""The real bot on PostgreSQL through the sandbox: `database:` a postgresql:// URL, and
members' check-ins stored there as on SQLite, with nothing in any table that points to
who checked in."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.pgcluster import ThrowawayCluster
from bot.sandbox.server import Sandbox
from bot.storage.content_files import LoadReport
from bot.storage.postgres import PostgresEngine
from tests.conftest import fresh_pg_database

from .test_checkin import MEMBERS, check_in, needles


async def test_check_ins_on_postgresql_are_stored_once_and_anonymously(
    sandbox: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    pg_cluster: ThrowawayCluster,
) -> None:
    async with fresh_pg_database(pg_cluster) as url:
        configured = sandbox_settings(settings, sandbox, database=tmp_path / "unused.sqlite3")
        configured = configured.model_copy(update={"database": url})
        async with running_bot(sandbox, configured, report=shipped_report) as bot:
            assert bot.services.database.dialect == "postgresql"
            for n, member in enumerate(MEMBERS):
                done = await check_in(sandbox, 2 + n % 4, ["anxious"], member=member)
                assert done.embeds[0]["title"] == "Thank you for checking in"
            # A second check-in the same day is not counted again.
            await check_in(sandbox, 5, [], member=MEMBERS[0])
            assert await bot.services.checkins.count(sandbox.guild.id) == len(MEMBERS)
        assert not (tmp_path / "unused.sqlite3").exists()
        async with PostgresEngine.open(url) as engine:
            wanted = needles(MEMBERS, [])
            tables = await engine.fetchall(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            for (table,) in tables:
                for row in await engine.fetchall(f"SELECT * FROM {table}"):
                    text = repr(tuple(row)).encode()
                    raw = b"".join(v for v in tuple(row) if isinstance(v, bytes))
                    hits = [w for w, needle in wanted.items() if needle in text or needle in raw]
                    assert not hits, (table, hits)
