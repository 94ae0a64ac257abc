"""Settings: defaults, every error path, and the exit codes the CLI gives for them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import (
    SHIPPED_CONTENT_DIR,
    ConfigError,
    load_settings,
    parse_settings,
    read_token,
    with_shards,
)
from bot.domain.shards import ShardSlice

REPO = Path(__file__).resolve().parents[1]


def problems(data: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data)
    return caught.value.problems


def test_defaults_match_the_documented_example() -> None:
    example = yaml.safe_load((REPO / "config.example.yaml").read_text("utf-8"))
    assert parse_settings(example) == parse_settings({})
    settings = parse_settings({})
    assert settings.privacy.min_group_size == 10
    assert settings.privacy.retention_days == 90
    assert settings.privacy.checkin_window_hours == 6
    assert settings.scheduling.catch_up_grace_minutes == 60
    assert settings.discord.token_env == "DISCORD_TOKEN"
    assert settings.discord.api_base is None and settings.discord.gateway_url is None
    assert settings.content_path == SHIPPED_CONTENT_DIR


def test_min_group_size_below_five_names_the_key() -> None:
    assert problems({"privacy": {"min_group_size": 2}}) == [
        "privacy.min_group_size: must be at least 5, got 2"
    ]


def test_unknown_key_is_an_error_naming_it() -> None:
    (problem,) = problems({"privacy": {"retention_dayz": 30}})
    assert problem.startswith("privacy.retention_dayz: is not a setting Peerlight knows")


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "log_level": "LOUD",
            "scheduling": {"default_timezone": "Mars/Base", "catch_up_grace_minutes": -1},
            "crisis": {"default_region": "Britain"},
            "discord": {"guild_ids": [-4], "api_base": "localhost"},
        }
    )
    keys = sorted(p.split(":")[0] for p in found)
    assert keys == [
        "crisis.default_region",
        "discord.api_base",
        "discord.guild_ids",
        "log_level",
        "scheduling.catch_up_grace_minutes",
        "scheduling.default_timezone",
    ]


def test_reach_out_channels_map_each_server_to_its_own_channel(tmp_path: Path) -> None:
    assert parse_settings({}).moderation.reach_out_channels == {}
    config = tmp_path / "c.yaml"
    config.write_text(
        "moderation:\n"
        "  reach_out_channels:\n"
        "    123456789012345678: 234567890123456789\n"
        "    345678901234567890: 456789012345678901\n",
        "utf-8",
    )
    channels = load_settings(config).settings.moderation.reach_out_channels
    assert channels == {
        123456789012345678: 234567890123456789,
        345678901234567890: 456789012345678901,
    }
    assert parse_settings({"moderation": {"reach_out_channels": None}}) == parse_settings({})


@pytest.mark.parametrize(
    "value",
    [{-1: 5}, {5: 0}, {"general": 5}, {5: "mods"}, {5: True}, {5: 1.5}, [5, 6], 42],
)
def test_reach_out_channels_must_be_positive_ids(value: object) -> None:
    (problem,) = problems({"moderation": {"reach_out_channels": value}})
    assert problem.startswith("moderation.reach_out_channels: ")
    assert "server" in problem and "channel id" in problem


def test_the_old_single_reach_out_channel_names_its_replacement() -> None:
    (problem,) = problems({"moderation": {"reach_out_channel_id": 5}})
    assert problem.startswith("moderation: reach_out_channel_id was replaced by reach_out_channels")


def test_a_section_that_is_not_a_mapping() -> None:
    (problem,) = problems({"privacy": 10})
    assert problem.startswith("privacy: must be a section of settings")


def test_top_level_must_be_a_mapping() -> None:
    assert problems(["a"]) == ["the file must be a set of `key: value` settings"]


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "peerlight.yaml"
    config.parent.mkdir()
    config.write_text("database: data/bot.sqlite3\ncontent_dir: ../content\n", "utf-8")
    settings = load_settings(config).settings
    assert settings.database_path == (tmp_path / "conf" / "data" / "bot.sqlite3").resolve()
    assert settings.content_path == (tmp_path / "content").resolve()


def test_config_yaml_in_the_working_folder_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("log_level: DEBUG\n", "utf-8")
    loaded = load_settings(None, cwd=tmp_path)
    assert loaded.source == tmp_path / "config.yaml"
    assert loaded.settings.log_level == "DEBUG"
    assert load_settings(None, cwd=tmp_path / "nowhere").source is None


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("privacy:\n  min_group_size: [10\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.lines()[0].startswith(f"{config}: line ")


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "absent.yaml")
    assert "no such file" in caught.value.lines()[0]


def test_sandbox_urls_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLIGHT_DISCORD_API_BASE", "http://127.0.0.1:9/api/v10")
    monkeypatch.setenv("PEERLIGHT_DISCORD_GATEWAY_URL", "ws://127.0.0.1:9/gateway")
    settings = parse_settings({})
    assert settings.discord.api_base == "http://127.0.0.1:9/api/v10"
    assert settings.discord.gateway_url == "ws://127.0.0.1:9/gateway"


def test_token_is_read_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = parse_settings({"discord": {"token_env": "MY_BOT_TOKEN"}})
    monkeypatch.delenv("MY_BOT_TOKEN", raising=False)
    assert read_token(settings) is None
    monkeypatch.setenv("MY_BOT_TOKEN", "  secret-value  ")
    assert read_token(settings) == "secret-value"
    assert "secret-value" not in repr(settings)


def _cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=cwd,
        check=False,
    )


def test_run_without_a_token_exits_2_and_points_to_the_demo(tmp_path: Path) -> None:
    result = _cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr
    assert "peerlight demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("privacy:\n  min_group_size: 2\nsurprise: 1\n", "utf-8")
    result = _cli("--config", str(config), "run", env={"DISCORD_TOKEN": "x"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert f"peerlight: {config}: privacy.min_group_size: must be at least 5, got 2" in lines
    assert any(
        line.startswith(f"peerlight: {config}: surprise: is not a setting") for line in lines
    )
    assert "Traceback" not in result.stderr


def test_config_flag_after_the_command_word(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("privacy:\n  min_group_size: 2\n", "utf-8")
    result = _cli("run", "--config", str(config))
    assert result.returncode == 2
    assert "privacy.min_group_size" in result.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api_base", "http://discord.example.com/api/v10"),
        ("api_base", "http://10.0.0.5:8080/api/v10"),
        ("api_base", "ftp://127.0.0.1/api"),
        ("api_base", "https://"),
        ("gateway_url", "ws://gateway.example.com/"),
        ("gateway_url", "http://127.0.0.1:9/gateway"),
    ],
)
def test_the_token_never_travels_in_clear_to_another_host(key: str, value: str) -> None:
    (problem,) = problems({"discord": {key: value}})
    assert problem.startswith(f"discord.{key}: must ")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api_base", "https://discord.com/api/v10"),
        ("api_base", "http://127.0.0.1:8765/api/v10"),
        ("api_base", "http://localhost:8765/api/v10"),
        ("api_base", "http://[::1]:8765/api/v10"),
        ("api_base", "http://127.3.4.5/api/v10"),
        ("gateway_url", "wss://gateway.discord.gg/"),
        ("gateway_url", "ws://127.0.0.1:8765/gateway"),
    ],
)
def test_encrypted_or_loopback_transport_is_accepted(key: str, value: str) -> None:
    assert getattr(parse_settings({"discord": {key: value}}).discord, key) == value


def test_the_environment_urls_follow_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLIGHT_DISCORD_API_BASE", "http://203.0.113.9/api/v10")
    with pytest.raises(ConfigError) as caught:
        parse_settings({})
    (problem,) = caught.value.problems
    assert problem.startswith("PEERLIGHT_DISCORD_API_BASE (environment): must use https://")


def test_plain_http_api_base_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("discord:\n  api_base: http://api.example.net/api/v10\n", "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DISCORD_TOKEN": "x"},
        check=False,
    )
    assert result.returncode == 2
    assert "discord.api_base: must use https://" in result.stderr


# -- sharding ------------------------------------------------------------------------------


def test_shards_in_the_config_become_the_process_slice() -> None:
    settings = parse_settings({"discord": {"shard_count": 8, "shards": "4-7"}})
    assert settings.discord.shard_slice == ShardSlice(8, 4, 7)
    everything = parse_settings({"discord": {"shard_count": 2}})
    assert everything.discord.shard_slice == ShardSlice(2, 0, 1)
    single = parse_settings({"discord": {"shard_count": 4, "shards": 3}})
    assert single.discord.shard_slice == ShardSlice(4, 3, 3)
    assert parse_settings({}).discord.shard_slice is None


@pytest.mark.parametrize(
    ("discord", "expected"),
    [
        (
            {"shard_count": 8, "shards": "6-9"},
            "discord.shards: shards are numbered 0 to 7 when the shard count is 8, got 6-9",
        ),
        ({"shards": "0-1"}, "discord.shards: needs a shard count too"),
        ({"shard_count": 0}, "discord.shard_count: must be at least 1, got 0"),
        ({"shard_count": 4, "shards": "2-1"}, "discord.shards: must run from the lower"),
        ({"shard_count": 4, "shards": ["0", "1"]}, "discord.shards: must be a shard number"),
    ],
)
def test_bad_shard_settings_name_the_key(discord: dict[str, object], expected: str) -> None:
    (problem,) = problems({"discord": discord})
    assert problem.startswith(expected), problem


def test_the_command_line_overrides_the_config_and_is_checked_the_same_way() -> None:
    settings = parse_settings({"discord": {"shard_count": 8, "shards": "0-3"}})
    assert with_shards(settings, "4-7", None).discord.shard_slice == ShardSlice(8, 4, 7)
    assert with_shards(settings, None, None) is settings
    plain = parse_settings({})
    assert with_shards(plain, "1", 2).discord.shard_slice == ShardSlice(2, 1, 1)
    with pytest.raises(ConfigError) as raised:
        with_shards(plain, "0-3", None)
    assert raised.value.problems[0].startswith("--shards: needs a shard count too")
    with pytest.raises(ConfigError) as raised:
        with_shards(settings, None, 2)  # the config's 0-3 does not fit in 2
    assert raised.value.problems == [
        "--shards: shards are numbered 0 to 1 when the shard count is 2, got 0-3"
    ]


def test_run_with_shards_out_of_range_exits_2_naming_the_option(tmp_path: Path) -> None:
    result = _cli(
        "run", "--shards", "0-8", "--shard-count", "8", env={"DISCORD_TOKEN": "x"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "peerlight: --shards: shards are numbered 0 to 7 when the shard count is 8, got 0-8"
    )
    bad_count = _cli("run", "--shard-count", "0", env={"DISCORD_TOKEN": "x"}, cwd=tmp_path)
    assert bad_count.returncode == 2
    assert "--shard-count: must be at least 1, got 0" in bad_count.stderr


def test_shards_in_a_config_file_exit_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("discord:\n  shards: 0-3\n", "utf-8")
    result = _cli("--config", str(config), "run", env={"DISCORD_TOKEN": "x"})
    assert result.returncode == 2
    assert f"peerlight: {config}: discord.shards: needs a shard count too" in result.stderr
