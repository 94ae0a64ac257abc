"""Typed settings from a YAML file plus a few environment variables.

Every problem in a config file is reported at once, one line each, naming the key's path
(`privacy.min_group_size: must be at least 5, got 2`), so an operator fixes the file in
one go. The Discord token is never part of the settings: only the *name* of the
environment variable that holds it is, so it cannot end up in a log line or an error.
"""

from __future__ import annotations

import importlib.resources
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.domain.shards import ShardSlice, parse_shard_range

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped_content_dir() -> Path:
    """The content that comes with Peerlight: the package data `bot.content` when
    installed (a wheel, `pip install .`), the repository's content/ in a checkout."""
    checkout = PACKAGE_DIR.parent / "content"
    if (checkout / "vocabulary.yaml").is_file():
        return checkout
    return Path(str(importlib.resources.files("bot").joinpath("content")))


SHIPPED_CONTENT_DIR = _shipped_content_dir()
DEFAULT_CONFIG_NAME = "config.yaml"
API_BASE_ENV = "PEERLIGHT_DISCORD_API_BASE"
GATEWAY_URL_ENV = "PEERLIGHT_DISCORD_GATEWAY_URL"
# Far above what any bot needs (Discord asks for a shard per 1,000 to 2,500 servers); a
# bound keeps a typo from asking discord.py for a million connections.
MAX_SHARDS = 4096
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ConfigError(Exception):
    """A configuration the bot cannot run with. `problems` holds one line per key."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{problem}" for problem in self.problems]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class DiscordSettings(_Section):
    token_env: str = Field(default="DISCORD_TOKEN", min_length=1)
    guild_ids: tuple[int, ...] = ()
    api_base: str | None = None
    gateway_url: str | None = None
    give_up_after_seconds: float | None = Field(default=None, gt=0)
    # Sharding (README, "Running on several processes"). shard_count alone: this
    # process runs every shard; with shards, only that slice of them.
    shard_count: int | None = Field(default=None, ge=1, le=MAX_SHARDS)
    shards: str | None = None

    @field_validator("shards", mode="before")
    @classmethod
    def _shard_range(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(f"must be a shard number or a range such as 0-3, got {_shown(value)}")
        if "shard_count" not in info.data:
            return value  # shard_count itself is wrong, and reported
        count = info.data["shard_count"]
        if count is None:
            raise ValueError(
                "needs a shard count too (discord.shard_count, or --shard-count): the "
                "number of shards across all processes"
            )
        parse_shard_range(value, count)
        return value.strip()

    @property
    def shard_slice(self) -> ShardSlice | None:
        """The shards this process runs, or None when it is not sharded."""
        if self.shard_count is None:
            return None
        if self.shards is None:
            return ShardSlice(self.shard_count, 0, self.shard_count - 1)
        return parse_shard_range(self.shards, self.shard_count)

    @field_validator("guild_ids")
    @classmethod
    def _positive_ids(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for guild_id in value:
            if guild_id <= 0:
                raise ValueError(f"server ids are positive numbers, got {guild_id}")
        return value

    @field_validator("api_base")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return None if value is None else transport_problem_free(value, "https", "http")

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, value: str | None) -> str | None:
        return None if value is None else transport_problem_free(value, "wss", "ws")


def is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def transport_problem_free(value: str, secure: str, plain: str) -> str:
    """`value` if the token may travel to it: encrypted, or unencrypted to this machine only.

    The bot token goes with every request and with the gateway's IDENTIFY, so a plain
    connection to another host would hand it to anyone on the way.
    """
    shown = value if len(value) <= 80 else value[:77] + "..."
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in (secure, plain) or not host:
        raise ValueError(
            f"must be a URL starting with {secure}:// (or {plain}:// to this machine), "
            f"got {shown!r}"
        )
    if parts.scheme == plain and not is_loopback(host):
        raise ValueError(
            f"must use {secure}:// (the bot token is sent there); {plain}:// is allowed only "
            f"to a loopback address such as 127.0.0.1, got {shown!r}"
        )
    return value


def _positive_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class ModerationSettings(_Section):
    role: int | None = Field(
        default=None,
        description="Id of the role allowed moderator commands, besides Manage Server.",
    )
    host_ids: tuple[int, ...] = Field(
        default=(),
        description=(
            "User ids allowed to run /content reload, besides the application's owner or "
            "team members."
        ),
    )

    @field_validator("role", mode="before")
    @classmethod
    def _role_id(cls, value: Any) -> Any:
        if value is None or _positive_id(value):
            return value
        text = str(value).strip()
        if text.startswith("<@&") and text.endswith(">"):
            text = text[3:-1]
        if text.isascii() and text.isdigit() and int(text) > 0:
            return int(text)
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ValueError(
            f"must be the role's id (a number), not its name, got {shown!r}. Role names are "
            "not unique: anyone who can create a role with that name would become a "
            "moderator. To find the id: in Discord turn on User Settings → Advanced → "
            "Developer Mode, then Server Settings → Roles, right-click the role → Copy Role ID"
        )

    @field_validator("host_ids")
    @classmethod
    def _host_ids(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for user_id in value:
            if user_id <= 0:
                raise ValueError(f"user ids are positive numbers, got {user_id}")
        return value

    reach_out_channels: dict[int, int] = Field(
        default_factory=dict,
        description=(
            "Opt-in, per server: server id → that server's private moderators' channel id. "
            "Only in a server listed here does the crisis reply offer an 'Ask a moderator "
            "to reach out' button, and a press posts only to that server's channel."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "reach_out_channel_id" in data:
            raise ValueError(
                "reach_out_channel_id was replaced by reach_out_channels, a mapping of "
                "server id to channel id (see config.example.yaml)"
            )
        return data

    @field_validator("reach_out_channels", mode="before")
    @classmethod
    def _channel_map(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError(
                "must be a mapping of server id to channel id (`123456789012345678: "
                f"234567890123456789`), got {value!r}"
            )
        bad = [
            f"{key!r}: {channel!r}"
            for key, channel in value.items()
            if not (_positive_id(key) and _positive_id(channel))
        ]
        if bad:
            raise ValueError(
                "server and channel ids are positive whole numbers, got " + ", ".join(bad)
            )
        return {int(key): int(channel) for key, channel in value.items()}


class PrivacySettings(_Section):
    min_group_size: int = Field(default=10, ge=5)
    # The smallest a server's moderators may set with /settings; None: min_group_size,
    # so servers may only raise it.
    min_group_size_floor: int | None = Field(default=None, ge=5)
    retention_days: int = Field(default=90, ge=1, le=3650)
    checkin_window_hours: int = Field(default=6, ge=1, le=168)
    # The weekly privacy budget of a summary; it can only be lowered (SAFETY.md §4).
    epsilon: float = Field(default=3.0, gt=0, le=3)

    @model_validator(mode="after")
    def _floor_below_default(self) -> PrivacySettings:
        floor = self.min_group_size_floor
        if floor is not None and floor > self.min_group_size:
            raise ValueError(
                f"min_group_size_floor ({floor}) must be at most min_group_size "
                f"({self.min_group_size}), the default every server starts with"
            )
        return self

    @property
    def group_size_floor(self) -> int:
        floor = self.min_group_size_floor
        return self.min_group_size if floor is None else floor


class CrisisSettings(_Section):
    default_region: str = Field(default="INTL", pattern=r"^([A-Z]{2}|INTL)$")

    @field_validator("default_region", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        # `/resources region:gb` works, so `default_region: gb` does too.
        return value.strip().upper() if isinstance(value, str) else value


class SchedulingSettings(_Section):
    default_timezone: str = "UTC"
    catch_up_grace_minutes: int = Field(default=60, ge=0, le=1440)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from bot.domain.recurrence import ScheduleInputError, parse_timezone

        try:
            return parse_timezone(value).key
        except ScheduleInputError as exc:
            raise ValueError(str(exc)) from None


POSTGRES_SCHEMES = ("postgresql", "postgres")


def database_url_problem(value: str) -> str | None:
    """What is wrong with a `postgresql://` URL given as `database`, or None."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"is not a PostgreSQL URL ({exc})"
    if parts.password is not None:
        return (
            "must not hold the password: write postgresql://user@host/name and put the "
            "password in the environment variable named by database_password_env"
        )
    if not parts.hostname or not parts.path.strip("/"):
        return "needs a host and a database name, e.g. postgresql://peerlight@db:5432/peerlight"
    if port is not None and not 0 < port < 65536:
        return f"has a port out of range ({port})"
    return None


def is_database_url(value: object) -> bool:
    return isinstance(value, str) and value.split("://", 1)[0].lower() in POSTGRES_SCHEMES


HEALTH_HOST = "127.0.0.1"


class HealthSettings(_Section):
    # The port of the health endpoint on 127.0.0.1 (`peerlight status` reads it); null:
    # none. 0: any free port (tests).
    port: int | None = Field(default=None, ge=0, le=65535)


class Settings(_Section):
    discord: DiscordSettings = DiscordSettings()
    content_dir: Path | None = None
    # A SQLite file's path, or a postgresql:// URL (without its password).
    database: Path | str | None = None
    # The environment variable holding the PostgreSQL password; never the password itself.
    database_password_env: str = Field(default="PEERLIGHT_DATABASE_PASSWORD", min_length=1)
    moderation: ModerationSettings = ModerationSettings()
    privacy: PrivacySettings = PrivacySettings()
    crisis: CrisisSettings = CrisisSettings()
    scheduling: SchedulingSettings = SchedulingSettings()
    health: HealthSettings = HealthSettings()
    log_level: LogLevel = "INFO"

    @property
    def content_path(self) -> Path:
        return self.content_dir if self.content_dir is not None else SHIPPED_CONTENT_DIR

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        if is_database_url(value):
            assert isinstance(value, str)
            problem = database_url_problem(value)
            if problem is not None:
                raise ValueError(problem)
            return value
        return Path(value) if isinstance(value, str) else value

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL URL, or None when the database is a SQLite file."""
        return self.database if isinstance(self.database, str) else None

    @property
    def database_path(self) -> Path:
        if isinstance(self.database, Path):
            return self.database
        return default_database_path()


def default_database_path() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "peerlight" / "peerlight.sqlite3"


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    source: Path | None


def _shown(value: Any) -> str:
    """A setting's value as a person wrote it: no Python quotes, brackets or braces."""
    if isinstance(value, Mapping):
        return "a section of settings"
    if isinstance(value, list | tuple):
        return "a list of " + (", ".join(_shown(v) for v in value) or "nothing")
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = _shown(error.get("input"))
    if kind == "extra_forbidden":
        return "is not a setting Peerlight knows (check the spelling against config.example.yaml)"
    if kind == "greater_than_equal":
        return f"must be at least {_shown(ctx.get('ge'))}, got {got}"
    if kind == "greater_than":
        return f"must be more than {_shown(ctx.get('gt'))}, got {got}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {_shown(ctx.get('le', ctx.get('lt')))}, got {got}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"must be one of {expected}, got {got}"
    if kind == "string_pattern_mismatch":
        return f"must be a two-letter region code such as GB, or INTL, got {got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {got}"
    if kind in ("string_type", "path_type"):
        return f"must be text, got {got}"
    if kind in ("tuple_type", "list_type", "set_type"):
        return f"must be a list (one “- item” line each), got {got}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a section of settings (key: value lines), got {got}"
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    return f"has a value Peerlight cannot use here: {got}"


def _key_path(location: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int) and parts:
            parts[-1] = f"{parts[-1]}[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def parse_settings(
    data: Any, *, base_dir: Path | None = None, source: str | None = None
) -> Settings:
    """Validate raw config data; relative paths are taken from the config file's folder."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["the file must be a set of `key: value` settings"], source)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{_key_path(tuple(err['loc']))}: {_describe(err)}"
            for err in exc.errors(include_url=False)
        ]
        raise ConfigError(problems, source) from None
    updates: dict[str, Any] = {}
    if base_dir is not None:
        for key in ("content_dir", "database"):
            value = getattr(settings, key)
            if isinstance(value, Path):
                updates[key] = (base_dir / value.expanduser()).resolve()
    env_discord: dict[str, Any] = {}
    env_problems: list[str] = []
    for name, key, secure, plain in (
        (API_BASE_ENV, "api_base", "https", "http"),
        (GATEWAY_URL_ENV, "gateway_url", "wss", "ws"),
    ):
        value = os.environ.get(name)
        if not value:
            continue
        try:
            env_discord[key] = transport_problem_free(value, secure, plain)
        except ValueError as exc:
            env_problems.append(f"{name} (environment): {exc}")
    if env_problems:
        raise ConfigError(env_problems, source)
    if env_discord:
        updates["discord"] = settings.discord.model_copy(update=env_discord)
    return settings.model_copy(update=updates) if updates else settings


def load_settings(path: Path | None = None, *, cwd: Path | None = None) -> LoadedSettings:
    """Read settings from `path`, else ./config.yaml when present, else use defaults."""
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_NAME
        if not candidate.is_file():
            return LoadedSettings(parse_settings({}), None)
        path = candidate
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(["no such file; copy config.example.yaml to start one"], source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot be read ({exc.__class__.__name__})"], source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError([f"{where}{problem}"], source) from None
    settings = parse_settings(data, base_dir=path.resolve().parent, source=source)
    return LoadedSettings(settings, path)


def read_token(settings: Settings) -> str | None:
    token = os.environ.get(settings.discord.token_env, "").strip()
    return token or None


def with_shards(settings: Settings, shards: str | None, shard_count: int | None) -> Settings:
    """`settings` with `peerlight run --shards/--shard-count` in place of the config's;
    ConfigError naming the option when they do not fit together."""
    if shards is None and shard_count is None:
        return settings
    discord = settings.discord.model_dump()
    if shard_count is not None:
        discord["shard_count"] = shard_count
    if shards is not None:
        discord["shards"] = shards
    try:
        checked = DiscordSettings.model_validate(discord)
    except ValidationError as exc:
        options = {"shards": "--shards", "shard_count": "--shard-count"}
        problems = [
            f"{options.get(str(err['loc'][0]), _key_path(tuple(err['loc'])))}: {_describe(err)}"
            for err in exc.errors(include_url=False)
        ]
        raise ConfigError(problems) from None
    return settings.model_copy(update={"discord": checked})
