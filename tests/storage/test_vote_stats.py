"""`peerlight content stats`: per-technique votes for specialists, as published only."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from fractions import Fraction
from pathlib import Path

import pytest

from bot.cli import EXIT_OK, EXIT_USAGE, content_stats
from bot.config import parse_settings
from bot.domain.periods import week_start
from bot.domain.votes import Verdict, vote_scale
from bot.services import utc_now
from bot.storage.content_files import LoadReport
from bot.storage.database import Database
from bot.storage.published import PeriodPublisher
from bot.storage.votes import VoteStore

SERVER, OTHER_SERVER = 1191204167300910001, 1191204167300910002
MEMBER = 1191300000000088800


async def test_stats_add_up_what_each_server_shows_and_nothing_hidden(
    tmp_path: Path, shipped_report: LoadReport
) -> None:
    path = tmp_path / "stats.sqlite3"
    settings = parse_settings({"database": str(path)})
    today = utc_now().date()
    last_week = week_start(today) - dt.timedelta(days=4)
    ids = sorted(shipped_report.catalog.techniques)  # type: ignore[union-attr]
    async with Database.open(path) as database:
        store = VoteStore(database)
        for server, voters in ((SERVER, 50), (OTHER_SERVER, 40)):
            for n in range(voters):
                await store.record(server, MEMBER + n, "box-breathing", Verdict.HELPED, last_week)
        for n in range(3):
            await store.record(SERVER, MEMBER + n, "urge-surfing", Verdict.NOT_FOR_ME, last_week)
        publisher = PeriodPublisher(database, random.Random(2))
        scale = vote_scale(Fraction(3))
        for server in (SERVER, OTHER_SERVER):
            await store.published_totals(publisher, scale, server, today, ids, 10, 90)

    out = io.StringIO()
    assert await content_stats(settings, out) == EXIT_OK
    text = out.getvalue()
    assert "the last 4 completed weeks" in text and "all servers" in text
    box = re.search(r"^Box breathing\s+(\d+)\s+(\d+)\s+(\d+)$", text, re.M)
    assert box is not None, text
    assert int(box[1]) >= 40 and int(box[3]) == 2
    for helped, not_for_me in re.findall(r"\s(\d+)\s+(\d+)\s+\d+$", text, re.M):
        for number in (int(helped), int(not_for_me)):
            assert number == 0 or number >= 10, text


async def test_stats_without_a_database_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = parse_settings({"database": str(tmp_path / "none.sqlite3")})
    assert await content_stats(settings) == EXIT_USAGE
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite3").exists()
