"""The database files keep no arrival order and no deleted rows (SAFETY.md §5).

After a burst of check-ins, a retention run and a settle, the database, its -wal and its
-journal are read as bytes: an expired check-in's day is nowhere in them, and the same
check-ins arriving in two different orders leave byte-for-byte the same database file.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from bot.storage import checkins as checkins_module
from bot.storage.checkins import CheckinStore
from bot.storage.database import Database

from ..helpers import record_many

SERVER = 1180000000000000001
TODAY = dt.date(2025, 6, 18)
OLD = dt.date(2025, 1, 7)  # expired; its text must vanish from the files
MEMBERS = [1191300000000000000 + n for n in range(60)]
# SQLite's header counts changes (bytes 24-27 and 92-99); everything else must match.
HEADER_COUNTERS = (range(24, 28), range(92, 100))


def checkins() -> list[tuple[int, int, list[str]]]:
    return [(member, 1 + n % 5, ["anxious", "tired"][: n % 3]) for n, member in enumerate(MEMBERS)]


async def fill(path: Path, order: list[tuple[int, int, list[str]]]) -> None:
    async with Database.open(path) as database:
        store = CheckinStore(database)
        await record_many(store, [(SERVER, OLD, 3, ["lonely"])] * 25)
        for member, mood, feelings in order:
            assert await store.record(SERVER, TODAY, mood, feelings, member_id=member)
        assert await store.delete_older_than(TODAY - dt.timedelta(days=90)) == 25
        await database.settle()


def files(path: Path) -> dict[str, bytes]:
    found = {}
    for suffix in ("", "-wal", "-journal", "-shm"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            found[suffix or "db"] = candidate.read_bytes()
    return found


def without_counters(data: bytes) -> bytes:
    scrubbed = bytearray(data)
    for span in HEADER_COUNTERS:
        for index in span:
            scrubbed[index] = 0
    return bytes(scrubbed)


async def test_files_keep_no_deleted_rows_and_no_arrival_order(tmp_path: Path) -> None:
    order = checkins()
    shuffled = order[:]
    random.Random(5).shuffle(shuffled)
    # Each check-in is its own transaction in one file, arrival order reversed in the other.
    await fill(tmp_path / "a.sqlite3", order)
    await fill(tmp_path / "b.sqlite3", list(reversed(order)))
    first, second = files(tmp_path / "a.sqlite3"), files(tmp_path / "b.sqlite3")
    for name, data in (*first.items(), *second.items()):
        assert OLD.isoformat().encode() not in data, name
        assert b"lonely" not in data, name
    assert len(first.get("-wal", b"")) == 0 and "-journal" not in first


async def test_the_same_rows_in_any_arrival_order_make_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each check-in keeps the same random id in both files; only the order in which
    they arrive differs (one transaction each, as members' check-ins are written)."""
    order = checkins()
    assigned = {member: index for index, (member, _, _) in enumerate(order)}
    images = []
    for name, sequence in (("a", order), ("b", list(reversed(order)))):
        ids = iter([assigned[member] for member, _, _ in sequence])
        monkeypatch.setattr(
            checkins_module.secrets, "token_bytes", lambda n, ids=ids: next(ids).to_bytes(n, "big")
        )
        path = tmp_path / f"{name}.sqlite3"
        async with Database.open(path) as database:
            store = CheckinStore(database)
            for _, mood, feelings in sequence:
                await store.record(SERVER, TODAY, mood, feelings)
            await database.settle()
        images.append(without_counters(path.read_bytes()))
    assert images[0] == images[1]
