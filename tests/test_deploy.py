"""deploy/: no container can run here, so the files are checked for what matters: the bot
processes' shard ranges cover 0 .. shard-count - 1 exactly once, with one shard count;
the shared config is valid and points at the compose database without a password; the
database runs with the settings SECURITY.md asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import _parser
from bot.config import parse_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def option(command: list[str], name: str) -> str:
    assert command.count(name) == 1, f"{name} once in {command}"
    return command[command.index(name) + 1]


def shard_ranges(services: dict[str, Any]) -> tuple[int, list[range]]:
    counts: set[int] = set()
    ranges: list[range] = []
    for service in services.values():
        command = service.get("command") or []
        if command[:2] != ["peerlight", "run"]:
            continue
        first, _, last = option(command, "--shards").partition("-")
        ranges.append(range(int(first), int(last or first) + 1))
        counts.add(int(option(command, "--shard-count")))
    assert len(counts) == 1, f"every process needs the same --shard-count, found {counts}"
    return counts.pop(), ranges


def covered_once(count: int, ranges: list[range]) -> bool:
    shards = sorted(shard for shard_range in ranges for shard in shard_range)
    return shards == list(range(count))


def test_the_bot_processes_cover_every_shard_exactly_once() -> None:
    count, ranges = shard_ranges(compose()["services"])
    assert len(ranges) >= 2
    assert covered_once(count, ranges)


def test_each_bot_command_is_one_peerlight_understands() -> None:
    for service in compose()["services"].values():
        command = service.get("command") or []
        if command[:2] == ["peerlight", "run"]:
            args = _parser().parse_args(command[1:])
            assert args.command == "run"


@pytest.mark.parametrize(
    ("ranges", "fine"),
    [
        ([range(0, 4), range(4, 8)], True),
        ([range(0, 4), range(3, 8)], False),  # shard 3 twice
        ([range(0, 4), range(5, 8)], False),  # shard 4 nowhere
        ([range(0, 4), range(4, 9)], False),  # shard 8 does not exist
    ],
)
def test_the_coverage_check_catches_overlaps_gaps_and_strays(
    ranges: list[range], fine: bool
) -> None:
    assert covered_once(8, ranges) is fine


def test_the_shared_config_is_valid_and_holds_no_password() -> None:
    data = yaml.safe_load((DEPLOY / "peerlight.yaml").read_text("utf-8"))
    settings = parse_settings(data)
    assert settings.database_url == "postgresql://peerlight@db:5432/peerlight"
    bots = [s for s in compose()["services"].values() if "build" in s]
    assert bots
    for service in bots:
        mounted = [volume.split(":")[0] for volume in service["volumes"]]
        assert mounted == ["./peerlight.yaml"]
        assert (DEPLOY / mounted[0]).is_file()
        assert settings.database_password_env in service["environment"]
        assert settings.discord.token_env in service["environment"]


def test_the_database_records_nothing_of_when_check_ins_came() -> None:
    command = compose()["services"]["db"]["command"]
    settings = {command[i + 1] for i, part in enumerate(command) if part == "-c"}
    assert {
        "log_statement=none",
        "log_min_duration_statement=-1",
        "track_commit_timestamp=off",
        "archive_mode=off",
    } <= settings
