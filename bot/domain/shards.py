"""Discord's sharding: which of a bot's connections (shards) carries which server.

A server is on shard `(server_id >> 22) % shard_count`, Discord's rule, so a server is
always on exactly one shard. A process runs a contiguous slice of the shards (`0-3` of
8); whatever is keyed by server (check-ins, schedules, settings) is then handled by the
one process whose slice holds the server's shard.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ShardSlice", "parse_shard_range", "shard_of"]


def shard_of(guild_id: int, count: int) -> int:
    """The shard that carries server `guild_id` when the bot runs `count` shards."""
    return (guild_id >> 22) % count


@dataclass(frozen=True)
class ShardSlice:
    """Discord's shards `first` to `last` of `count`: the servers one process serves. A
    server is on shard (server_id >> 22) % count, Discord's rule, so a server's schedules
    are always handled by the one process whose slice holds its shard."""

    count: int
    first: int
    last: int

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last < self.count:
            raise ValueError(f"shards {self.first}-{self.last} are not within 0-{self.count - 1}")

    def holds(self, guild_id: int) -> bool:
        return self.first <= shard_of(guild_id, self.count) <= self.last

    @property
    def ids(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def global_duties(self) -> bool:
        """Whether this process does what is done once for the whole bot (syncing the
        commands): the one holding shard 0."""
        return self.first == 0

    def __str__(self) -> str:
        span = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"{span} of {self.count}"


def parse_shard_range(text: str, count: int) -> ShardSlice:
    """`"0-3"` or `"2"` as a slice of `count` shards; ValueError saying what to write."""
    first_text, dash, last_text = text.strip().partition("-")
    if not dash:
        last_text = first_text
    first_text, last_text = first_text.strip(), last_text.strip()
    if not (first_text.isdigit() and last_text.isdigit()):
        raise ValueError(f"must be a shard number or a range such as 0-3, got “{text}”")
    first, last = int(first_text), int(last_text)
    if first > last:
        raise ValueError(f"must run from the lower shard to the higher, e.g. {last}-{first}")
    if last >= count:
        raise ValueError(
            f"shards are numbered 0 to {count - 1} when the shard count is {count}, got {text}"
        )
    return ShardSlice(count, first, last)
