"""ServerRecords: every table with a server's id is found in the schema and emptied."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.checkins import CheckinStore
from bot.storage.database import Database
from bot.storage.servers import ServerRecords

from ..helpers import record_many

SERVER, OTHER = 1191204167300700001, 1191204167300700002
DAY = dt.date(2026, 3, 2)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "servers.sqlite3") as db:
        yield db


async def columns_named_guild_id(database: Database) -> set[str]:
    found: set[str] = set()
    for (table,) in await database.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"):
        info = await database.fetchall(f'PRAGMA table_info("{table}")')
        if any(column[1] == "guild_id" for column in info):
            found.add(str(table))
    return found


async def test_every_table_holding_a_server_id_is_covered(database: Database) -> None:
    tables = set(await ServerRecords(database).tables())
    assert tables == await columns_named_guild_id(database) - {"absent_guilds"}
    assert {"checkins", "schedules", "published_periods", "prompt_usage"} <= tables


async def test_a_table_added_later_is_covered_too(database: Database) -> None:
    async with database.transaction() as connection:
        await connection.execute("CREATE TABLE later (guild_id INTEGER, what TEXT)")
        await connection.execute("INSERT INTO later VALUES (?, 'x'), (?, 'y')", (SERVER, OTHER))
    records = ServerRecords(database)
    assert await records.stored() == {SERVER, OTHER}
    assert await records.forget(SERVER) == 1
    assert await records.stored() == {OTHER}


async def test_forget_leaves_no_row_of_the_server_anywhere(database: Database) -> None:
    await record_many(
        CheckinStore(database),
        [(SERVER, DAY, 3, ["tired"]), (SERVER, DAY, 4, []), (OTHER, DAY, 2, [])],
    )
    async with database.transaction() as connection:
        await connection.execute(
            "INSERT INTO prompt_cycles (guild_id, kind, cycle) VALUES (?, 'checkin', 1)",
            (SERVER,),
        )
    records = ServerRecords(database)
    await records.note_absent([SERVER], dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
    assert await records.stored() == {SERVER, OTHER}
    assert await records.forget(SERVER) == 3
    for table in await columns_named_guild_id(database):
        rows = await database.fetchall(
            f'SELECT count(*) FROM "{table}" WHERE guild_id = ?', (SERVER,)
        )
        assert rows[0][0] == 0, table
    assert await records.stored() == {OTHER}


async def test_notes_of_absence_keep_their_first_time(database: Database) -> None:
    records = ServerRecords(database)
    first = dt.datetime(2026, 3, 3, 8, 30, tzinfo=dt.UTC)
    await records.note_absent([SERVER, OTHER], first)
    await records.note_absent([SERVER], first + dt.timedelta(days=2))
    assert await records.absences() == {SERVER: first, OTHER: first}
    await records.drop_notes([OTHER])
    assert await records.absences() == {SERVER: first}
