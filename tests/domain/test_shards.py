"""Discord's sharding rule and the shard ranges a process is given."""

from __future__ import annotations

import pytest

from bot.domain.shards import ShardSlice, parse_shard_range, shard_of


def test_a_server_is_on_the_shard_discord_computes() -> None:
    # The id's top bits are its creation time; the shard is that, modulo the count.
    guild_id = 41771983423143937
    assert guild_id >> 22 == 9959216934
    assert shard_of(guild_id, 1) == 0
    assert shard_of(guild_id, 2) == 0
    assert shard_of(guild_id, 8) == 6


def test_every_server_is_held_by_exactly_one_slice_of_a_partition() -> None:
    slices = [ShardSlice(8, 0, 3), ShardSlice(8, 4, 5), ShardSlice(8, 6, 7)]
    for guild_id in range(1191204167300786664, 1191204167300786664 + (500 << 22), 1 << 22):
        assert sum(s.holds(guild_id) for s in slices) == 1


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [
        ("0-3", 8, ShardSlice(8, 0, 3)),
        ("5", 8, ShardSlice(8, 5, 5)),
        (" 2 - 3 ", 4, ShardSlice(4, 2, 3)),
    ],
)
def test_ranges_are_read(text: str, count: int, expected: ShardSlice) -> None:
    parsed = parse_shard_range(text, count)
    assert parsed == expected
    assert parsed.ids == list(range(expected.first, expected.last + 1))


@pytest.mark.parametrize(
    ("text", "count", "says"),
    [
        ("0-8", 8, "numbered 0 to 7"),
        ("3-1", 8, "from the lower shard to the higher"),
        ("a-b", 8, "range such as 0-3"),
        ("-1", 8, "range such as 0-3"),
        ("", 8, "range such as 0-3"),
    ],
)
def test_bad_ranges_say_what_to_write(text: str, count: int, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_shard_range(text, count)


def test_only_the_slice_with_shard_0_does_the_global_work() -> None:
    assert ShardSlice(4, 0, 1).global_duties
    assert not ShardSlice(4, 2, 3).global_duties
    assert str(ShardSlice(4, 2, 3)) == "2-3 of 4"
    assert str(ShardSlice(4, 2, 2)) == "2 of 4"
