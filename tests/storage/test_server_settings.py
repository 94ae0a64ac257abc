"""ServerSettingsStore on real SQLite files: kept across restarts, per server, and the
smallest group size kept with each published period."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.server_settings import Chosen
from bot.storage.database import Database
from bot.storage.published import PeriodPublisher
from bot.storage.server_settings import ServerSettingsStore

SERVER = 1180000000000000001
OTHER = 1180000000000000002


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "settings.sqlite3") as db:
        yield db


async def loaded(database: Database) -> ServerSettingsStore:
    store = ServerSettingsStore(database)
    await store.load()
    return store


async def test_choices_are_kept_across_a_restart_and_per_server(tmp_path: Path) -> None:
    path = tmp_path / "kept.sqlite3"
    async with Database.open(path) as db:
        store = await loaded(db)
        await store.set_value(SERVER, "region", "IE")
        await store.set_value(SERVER, "timezone", "Europe/Dublin")
        await store.set_value(SERVER, "reach_out_channel", 444)
        await store.set_value(SERVER, "min_group_size", 12)
        await store.set_roles(SERVER, [3, 2])
        await store.set_value(OTHER, "region", "US")
    async with Database.open(path) as db:
        store = await loaded(db)
        assert store.chosen(SERVER) == Chosen(
            moderator_roles=frozenset({2, 3}),
            reach_out_channel=444,
            region="IE",
            timezone="Europe/Dublin",
            min_group_size=12,
        )
        assert store.chosen(OTHER) == Chosen(region="US")
        assert store.chosen(1180000000000000003) == Chosen()


async def test_back_to_the_host_default_and_no_roles_chosen(database: Database) -> None:
    store = await loaded(database)
    await store.set_roles(SERVER, [])
    assert store.chosen(SERVER).moderator_roles == frozenset()
    await store.set_value(SERVER, "region", "GB")
    await store.set_value(SERVER, "region", None)
    await store.set_roles(SERVER, None)
    again = await loaded(database)
    assert again.chosen(SERVER) == Chosen()


async def test_reading_before_loading_fails_loudly(database: Database) -> None:
    with pytest.raises(RuntimeError, match="load"):
        ServerSettingsStore(database).chosen(SERVER)


async def test_the_database_refuses_values_no_server_may_hold(database: Database) -> None:
    store = await loaded(database)
    for name, value in (("min_group_size", 4), ("region", "gb"), ("reach_out_channel", -1)):
        with pytest.raises(sqlite3.IntegrityError):
            await store.set_value(SERVER, name, value)
    assert store.chosen(SERVER) == Chosen()


async def test_the_first_run_note_is_marked_once(database: Database) -> None:
    store = await loaded(database)
    assert await store.note_first_run(SERVER) is True
    assert await store.note_first_run(SERVER) is False
    assert (await loaded(database)).chosen(SERVER).first_run_noted


async def test_leaving_a_server_deletes_its_settings_and_roles_only(database: Database) -> None:
    store = await loaded(database)
    await store.set_roles(SERVER, [5])
    await store.set_roles(OTHER, [6])
    assert await store.delete_guild(SERVER) == 1
    assert store.chosen(SERVER) == Chosen()
    rows = await database.fetchall("SELECT guild_id, role_id FROM server_moderator_roles")
    assert [tuple(r) for r in rows] == [(OTHER, 6)]


async def test_a_period_keeps_the_group_size_it_was_published_under(database: Database) -> None:
    import random

    publisher = PeriodPublisher(database, random.Random(1))
    monday = dt.date(2025, 6, 2)

    async def raw(*_: object) -> dict[str, int]:
        return {"a": 3}

    assert await publisher.publish(SERVER, "checkin.mood", monday, ("a",), 1, raw, 12)
    # Published already: a later call with another size changes nothing stored.
    assert not await publisher.publish(SERVER, "checkin.mood", monday, ("a",), 1, raw, 5)
    later = monday + dt.timedelta(days=7)
    assert await publisher.publish(SERVER, "checkin.mood", later, ("a",), 1, raw)
    sizes = await publisher.group_sizes(SERVER, "checkin.mood", [monday, later])
    assert sizes == {monday: 12, later: None}
