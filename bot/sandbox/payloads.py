"""The sandbox's model of a Discord server and the JSON Discord would send for it.

Everything here is plain data and pure functions; `server.py` owns the sockets and the
clock. Field names and limits follow Discord's API v10 as discord.py 2.7 reads them.

Long (about 1,000 lines) because it is Discord's data model in one place: the world's
types, their JSON, and the validation Discord applies to what a bot sends are read side
by side against Discord's documentation, and every part of the sandbox uses all three.
It holds no state and no I/O, so its length costs a reader only scrolling.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntFlag
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000
_STABLE_EPOCH_MS = 1704067200000  # 2024-01-01: stable ids look like ids of that year
_YEAR_MS = 365 * 86400000

DEFAULT_GUILD_ID = 1191204167300786664
APPLICATION_ID = 1191177678686176253
DEFAULT_MEMBER_ID = 1191199223139090086
DEFAULT_MODERATOR_ID = 1191178944775728282
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
DEFAULT_TEXT_CHANNELS = ("general", "check-ins", "announcements")
_JOINED_AT = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15


def snowflake_at(ms: int, low_bits: int) -> int:
    """A snowflake for a Unix time in milliseconds; `low_bits` fills worker/process/increment."""
    return ((ms - DISCORD_EPOCH_MS) << 22) | (low_bits & 0x3FFFFF)


def stable_snowflake(*parts: object) -> int:
    """The same realistic id for the same parts in every run, so configs can name channels."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    h = int.from_bytes(digest[:8], "big")
    return snowflake_at(_STABLE_EPOCH_MS + (h >> 40) % _YEAR_MS, h)


class SnowflakeFactory:
    """Fresh ids from the wall clock, strictly increasing even within one millisecond."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, now_ms: int) -> int:
        candidate = snowflake_at(now_ms, 0)
        self._last = max(candidate, self._last + 1)
        return self._last


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class Permission(IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50


ALL_PERMISSIONS = int(sum(Permission))

MEMBER_PERMISSIONS = int(
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.STREAM
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CONNECT
    | Permission.SPEAK
    | Permission.USE_VAD
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.USE_EXTERNAL_STICKERS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.SEND_POLLS
    | Permission.USE_EXTERNAL_APPS
)
"""What @everyone can do in a freshly created server."""

MODERATOR_PERMISSIONS = int(
    Permission.MANAGE_GUILD
    | Permission.MANAGE_MESSAGES
    | Permission.MANAGE_THREADS
    | Permission.KICK_MEMBERS
    | Permission.BAN_MEMBERS
    | Permission.MODERATE_MEMBERS
    | Permission.VIEW_AUDIT_LOG
    | Permission.MENTION_EVERYONE
)

BOT_PERMISSIONS = int(
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.USE_APPLICATION_COMMANDS
)
"""What the bot's managed role grants: the permissions of a typical invite link."""

_NEEDS_SEND_MESSAGES = int(
    Permission.SEND_TTS_MESSAGES
    | Permission.MENTION_EVERYONE
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
)


# ---------------------------------------------------------------------------------------
# The model


@dataclass
class SandboxMember:
    """A person in a sandbox server: who types a command or presses a button."""

    id: int
    name: str
    roles: list[int] = field(default_factory=list)
    permissions: int = MEMBER_PERMISSIONS
    locale: str = "en-US"
    global_name: str | None = None
    nick: str | None = None
    bot: bool = False
    joined_at: datetime = _JOINED_AT
    accepts_dms: bool = True

    @classmethod
    def moderator(
        cls,
        id: int = DEFAULT_MODERATOR_ID,
        name: str = "sage",
        *,
        roles: Sequence[int] = (),
        locale: str = "en-US",
    ) -> SandboxMember:
        """A member whose own permissions include Manage Server (without holding a role)."""
        return cls(
            id=id,
            name=name,
            roles=list(roles),
            permissions=MEMBER_PERMISSIONS | MODERATOR_PERMISSIONS,
            locale=locale,
        )


@dataclass
class SandboxRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None
    mentionable: bool = False


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0


@dataclass
class SandboxChannel:
    id: int
    guild_id: int | None
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    recipient: SandboxMember | None = None  # DM channels only


@dataclass
class SandboxGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, SandboxRole] = field(default_factory=dict)
    channels: dict[int, SandboxChannel] = field(default_factory=dict)
    members: dict[int, SandboxMember] = field(default_factory=dict)
    bot_role_id: int = 0
    moderator_role_id: int = 0
    preferred_locale: str = "en-US"
    bot_present: bool = True
    # An outage on Discord's side: listed in READY as unavailable, no GUILD_CREATE.
    unavailable: bool = False

    @classmethod
    def create(
        cls,
        guild_id: int,
        *,
        name: str = "Peer Support Sandbox",
        bot_user_id: int = APPLICATION_ID,
        channel_names: Sequence[str] = DEFAULT_TEXT_CHANNELS,
        members: Iterable[SandboxMember] = (),
    ) -> SandboxGuild:
        guild = cls(id=guild_id, name=name, owner_id=stable_snowflake(guild_id, "owner"))
        guild.roles[guild_id] = SandboxRole(
            id=guild_id, name="@everyone", permissions=MEMBER_PERMISSIONS
        )
        guild.moderator_role_id = stable_snowflake(guild_id, "role", "Moderator")
        guild.roles[guild.moderator_role_id] = SandboxRole(
            id=guild.moderator_role_id,
            name="Moderator",
            permissions=MEMBER_PERMISSIONS | MODERATOR_PERMISSIONS,
            position=2,
            mentionable=True,
        )
        guild.bot_role_id = stable_snowflake(guild_id, "role", "bot")
        guild.roles[guild.bot_role_id] = SandboxRole(
            id=guild.bot_role_id,
            name="Peerlight",
            permissions=BOT_PERMISSIONS,
            position=1,
            managed=True,
            bot_id=bot_user_id,
        )
        for position, channel_name in enumerate(channel_names):
            channel_id = stable_snowflake(guild_id, "channel", channel_name)
            guild.channels[channel_id] = SandboxChannel(
                id=channel_id, guild_id=guild_id, name=channel_name, position=position
            )
        for member in members:
            guild.members[member.id] = member
        return guild

    @property
    def everyone_role(self) -> SandboxRole:
        return self.roles[self.id]

    @property
    def text_channels(self) -> list[SandboxChannel]:
        return sorted((c for c in self.channels.values() if c.type == 0), key=lambda c: c.position)

    def channel(self, name_or_id: str | int) -> SandboxChannel:
        """A channel by id or by name (a leading '#' is ignored)."""
        if isinstance(name_or_id, int):
            try:
                return self.channels[name_or_id]
            except KeyError:
                raise KeyError(f"no channel {name_or_id} in guild {self.id}") from None
        wanted = name_or_id.removeprefix("#")
        for channel in self.channels.values():
            if channel.name == wanted:
                return channel
        raise KeyError(f"no channel named {wanted!r} in guild {self.id}")

    def role(self, name_or_id: str | int) -> SandboxRole:
        if isinstance(name_or_id, int):
            try:
                return self.roles[name_or_id]
            except KeyError:
                raise KeyError(f"no role {name_or_id} in guild {self.id}") from None
        wanted = name_or_id.removeprefix("@")
        for role in self.roles.values():
            if role.name == wanted or role.name == name_or_id:
                return role
        raise KeyError(f"no role named {wanted!r} in guild {self.id}")


@dataclass
class SandboxAttachment:
    id: int
    filename: str
    data: bytes
    description: str | None = None
    content_type: str | None = None

    @property
    def name(self) -> str:
        return self.filename


@dataclass
class MessagePings:
    """Who a message actually notifies, after Discord applies `allowed_mentions`."""

    users: set[int]
    roles: set[int]
    everyone: bool

    def __bool__(self) -> bool:
        return bool(self.users or self.roles or self.everyone)


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(eq=False)
class SandboxMessage:
    """A message as the sandbox stores it. Edits change this object in place."""

    id: int
    channel_id: int
    guild_id: int | None
    author: JSON
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    flags: int = 0
    attachments: list[SandboxAttachment] = field(default_factory=list)
    allowed_mentions: JSON | None = None
    interaction_id: int | None = None
    interaction_metadata: JSON | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    type: int = 0
    tts: bool = False
    message_reference: JSON | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    edited_at: datetime | None = None
    edit_count: int = 0
    deleted: bool = False
    reactions: list[str] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Still the "is thinking…" placeholder of a deferred response."""
        return bool(self.flags & LOADING)

    @property
    def author_id(self) -> int:
        return int(self.author["id"])

    def walk_components(self) -> Iterator[JSON]:
        return walk_components(self.components)

    def buttons(self) -> list[JSON]:
        return [c for c in self.walk_components() if c.get("type") == 2]

    def selects(self) -> list[JSON]:
        return [c for c in self.walk_components() if c.get("type") in SELECT_TYPES]

    def find_component(self, label_or_custom_id: str) -> JSON:
        """An interactive component by custom_id, else by label (or a select's placeholder)."""
        interactive = [c for c in self.walk_components() if c.get("type") in INTERACTIVE_TYPES]
        for component in interactive:
            if component.get("custom_id") == label_or_custom_id:
                return component
        for component in interactive:
            if label_or_custom_id in (component.get("label"), component.get("placeholder")):
                return component
        known = [c.get("label") or c.get("placeholder") or c.get("custom_id") for c in interactive]
        raise LookupError(
            f"message {self.id} has no component {label_or_custom_id!r}; it has {known}"
        )

    def text(self) -> str:
        """Content plus every embed's and text display's words, for assertions on wording."""
        parts = [self.content] if self.content else []
        for embed in self.embeds:
            parts.extend(_embed_texts(embed))
        for component in self.walk_components():
            if component.get("type") == 10 and component.get("content"):
                parts.append(str(component["content"]))
        return "\n".join(parts)

    def pinged(self) -> MessagePings:
        return resolve_pings(self.content, self.allowed_mentions)


def _embed_texts(embed: Mapping[str, Any]) -> Iterator[str]:
    author = embed.get("author") or {}
    if author.get("name"):
        yield str(author["name"])
    for key in ("title", "description"):
        if embed.get(key):
            yield str(embed[key])
    for embed_field in embed.get("fields") or []:
        yield f"{embed_field.get('name', '')}\n{embed_field.get('value', '')}"
    footer = embed.get("footer") or {}
    if footer.get("text"):
        yield str(footer["text"])


def resolve_pings(content: str, allowed_mentions: Mapping[str, Any] | None) -> MessagePings:
    users = {int(m) for m in _USER_MENTION.findall(content)}
    roles = {int(m) for m in _ROLE_MENTION.findall(content)}
    everyone = "@everyone" in content or "@here" in content
    if allowed_mentions is None:
        return MessagePings(users, roles, everyone)
    parse = set(allowed_mentions.get("parse") or [])
    allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
    allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
    return MessagePings(
        users={u for u in users if "users" in parse or u in allowed_users},
        roles={r for r in roles if "roles" in parse or r in allowed_roles},
        everyone=everyone and "everyone" in parse,
    )


SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
INTERACTIVE_TYPES = frozenset({2, *SELECT_TYPES, 4})


def walk_components(components: Iterable[Mapping[str, Any]]) -> Iterator[JSON]:
    """Every component, depth first: rows, containers, sections' accessories, labels."""
    for component in components:
        yield dict(component) if not isinstance(component, dict) else component
        yield from walk_components(component.get("components") or [])
        for key in ("component", "accessory"):
            child = component.get(key)
            if isinstance(child, Mapping):
                yield from walk_components([child])


# ---------------------------------------------------------------------------------------
# Permissions, resolved the way Discord (and discord.py's permissions_for) resolve them


def guild_permissions(
    guild: SandboxGuild, member_id: int, role_ids: Iterable[int], own: int
) -> int:
    if member_id == guild.owner_id:
        return ALL_PERMISSIONS
    value = guild.everyone_role.permissions | own
    for role_id in role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            value |= role.permissions
    if value & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return value


def channel_permissions(
    guild: SandboxGuild,
    channel: SandboxChannel,
    member_id: int,
    role_ids: Iterable[int],
    own: int = 0,
) -> int:
    roles = list(role_ids)
    base = guild_permissions(guild, member_id, roles, own)
    if base == ALL_PERMISSIONS and (member_id == guild.owner_id or base & Permission.ADMINISTRATOR):
        return ALL_PERMISSIONS
    value = base
    everyone = channel.overwrites.get(guild.id)
    if everyone is not None:
        value = (value & ~everyone.deny) | everyone.allow
    deny = allow = 0
    for role_id in roles:
        overwrite = channel.overwrites.get(role_id)
        if overwrite is not None and overwrite.type == 0:
            deny |= overwrite.deny
            allow |= overwrite.allow
    value = (value & ~deny) | allow
    mine = channel.overwrites.get(member_id)
    if mine is not None and mine.type == 1:
        value = (value & ~mine.deny) | mine.allow
    if not value & Permission.VIEW_CHANNEL:
        return 0
    if channel.type == 0 and not value & Permission.SEND_MESSAGES:
        value &= ~_NEEDS_SEND_MESSAGES
    return value


# ---------------------------------------------------------------------------------------
# Payloads


def user_payload(
    user_id: int, name: str, *, global_name: str | None = None, bot: bool = False
) -> JSON:
    payload: JSON = {
        "id": str(user_id),
        "username": name,
        "global_name": global_name,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
    }
    if bot:
        payload["bot"] = True
    return payload


def member_user_payload(member: SandboxMember) -> JSON:
    return user_payload(member.id, member.name, global_name=member.global_name, bot=member.bot)


def member_payload(member: SandboxMember, *, permissions: int | None = None) -> JSON:
    payload: JSON = {
        "user": member_user_payload(member),
        "roles": [str(r) for r in member.roles],
        "nick": member.nick,
        "avatar": None,
        "banner": None,
        "joined_at": iso(member.joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def role_payload(role: SandboxRole) -> JSON:
    payload: JSON = {
        "id": str(role.id),
        "name": role.name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }
    if role.bot_id is not None:
        payload["tags"] = {"bot_id": str(role.bot_id)}
    return payload


def overwrite_payload(overwrite: Overwrite) -> JSON:
    return {
        "id": str(overwrite.id),
        "type": overwrite.type,
        "allow": str(overwrite.allow),
        "deny": str(overwrite.deny),
    }


def channel_payload(
    channel: SandboxChannel,
    *,
    bot_user: JSON | None = None,
    permissions: int | None = None,
    last_message_id: int | None = None,
) -> JSON:
    if channel.type == 1:
        recipients = []
        if channel.recipient is not None:
            recipients.append(member_user_payload(channel.recipient))
        return {
            "id": str(channel.id),
            "type": 1,
            "last_message_id": str(last_message_id) if last_message_id else None,
            "recipients": recipients,
            "flags": 0,
        }
    payload: JSON = {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": [overwrite_payload(o) for o in channel.overwrites.values()],
        "parent_id": None,
        "topic": channel.topic,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": str(last_message_id) if last_message_id else None,
        "flags": 0,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def guild_payload(guild: SandboxGuild) -> JSON:
    """The guild object of `GET /guilds/{id}`."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [role_payload(r) for r in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": guild.preferred_locale,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
    }


def guild_create_payload(guild: SandboxGuild, bot: SandboxMember, joined_at: datetime) -> JSON:
    """GUILD_CREATE: roles, channels with overwrites and members including the bot's own,
    so discord.py's `channel.permissions_for(guild.me)` is right from the cache."""
    members = [member_payload(bot), *(member_payload(m) for m in guild.members.values())]
    payload = guild_payload(guild)
    payload.update(
        {
            "unavailable": False,
            "joined_at": iso(joined_at),
            "large": False,
            "member_count": len(members),
            "members": members,
            "channels": [channel_payload(c) for c in guild.channels.values()],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
    )
    return payload


def attachment_payload(attachment: SandboxAttachment, base_url: str, channel_id: int) -> JSON:
    url = f"{base_url}/attachments/{channel_id}/{attachment.id}/{attachment.filename}"
    payload: JSON = {
        "id": str(attachment.id),
        "filename": attachment.filename,
        "size": len(attachment.data),
        "url": url,
        "proxy_url": url,
        "content_type": attachment.content_type,
    }
    if attachment.description is not None:
        payload["description"] = attachment.description
    return payload


def message_payload(message: SandboxMessage, *, attachments_base_url: str) -> JSON:
    payload: JSON = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "type": message.type,
        "author": message.author,
        "content": message.content,
        "timestamp": iso(message.created_at),
        "edited_timestamp": iso(message.edited_at) if message.edited_at else None,
        "tts": message.tts,
        "mention_everyone": message.pinged().everyone,
        "mentions": [],
        "mention_roles": [],
        "attachments": [
            attachment_payload(a, attachments_base_url, message.channel_id)
            for a in message.attachments
        ],
        "embeds": message.embeds,
        "components": message.components,
        "pinned": False,
        "flags": message.flags,
    }
    if message.guild_id is not None:
        payload["guild_id"] = str(message.guild_id)
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
    if message.application_id is not None:
        payload["application_id"] = str(message.application_id)
    if message.interaction_metadata is not None:
        payload["interaction_metadata"] = message.interaction_metadata
    if message.message_reference is not None:
        payload["message_reference"] = message.message_reference
    return payload


# ---------------------------------------------------------------------------------------
# Validation with Discord's limits, so a payload production would reject fails here too


@dataclass(frozen=True)
class FieldError:
    path: tuple[str | int, ...]
    code: str
    message: str


class FormError(Exception):
    """A 400 Discord would answer: Invalid Form Body (50035) or another JSON error code."""

    def __init__(
        self, errors: Sequence[FieldError], *, code: int = 50035, message: str = ""
    ) -> None:
        self.errors = list(errors)
        self.code = code
        self.message = message or "Invalid Form Body"
        details = "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in self.errors)
        super().__init__(f"{self.message} ({code}){': ' + details if details else ''}")

    def body(self) -> JSON:
        nested: JSON = {}
        for error in self.errors:
            node = nested
            for key in error.path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": error.code, "message": error.message})
        body: JSON = {"message": self.message, "code": self.code}
        if nested:
            body["errors"] = nested
        return body


class _Checker:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def max_len(self, path: tuple[str | int, ...], value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.errors.append(
                FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            )

    def required(self, path: tuple[str | int, ...], value: Any) -> bool:
        if value is None or value == "":
            self.errors.append(FieldError(path, "BASE_TYPE_REQUIRED", "This field is required"))
            return False
        return True

    def count(self, path: tuple[str | int, ...], items: Sequence[Any], limit: int) -> None:
        if len(items) > limit:
            self.errors.append(
                FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            )

    def fail(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        self.errors.append(FieldError(path, code, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise FormError(self.errors)


def _check_embeds(check: _Checker, embeds: Sequence[Mapping[str, Any]]) -> None:
    check.count(("embeds",), embeds, 10)
    total = 0
    for i, embed in enumerate(embeds):
        path: tuple[str | int, ...] = ("embeds", i)
        for key, limit in (("title", 256), ("description", 4096)):
            check.max_len((*path, key), embed.get(key), limit)
            total += len(embed.get(key) or "")
        fields = embed.get("fields") or []
        check.count((*path, "fields"), fields, 25)
        for j, embed_field in enumerate(fields):
            name, value = embed_field.get("name"), embed_field.get("value")
            if check.required((*path, "fields", j, "name"), name):
                check.max_len((*path, "fields", j, "name"), name, 256)
            if check.required((*path, "fields", j, "value"), value):
                check.max_len((*path, "fields", j, "value"), value, 1024)
            total += len(name or "") + len(value or "")
        footer = embed.get("footer") or {}
        check.max_len((*path, "footer", "text"), footer.get("text"), 2048)
        author = embed.get("author") or {}
        check.max_len((*path, "author", "name"), author.get("name"), 256)
        total += len(footer.get("text") or "") + len(author.get("name") or "")
    if total > 6000:
        check.fail(
            ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


def _check_select(check: _Checker, path: tuple[str | int, ...], select: Mapping[str, Any]) -> None:
    check.max_len((*path, "placeholder"), select.get("placeholder"), 150)
    min_values = int(select.get("min_values", 1))
    max_values = int(select.get("max_values", 1))
    if not 0 <= min_values <= 25 or not 1 <= max_values <= 25 or min_values > max_values:
        check.fail((*path, "max_values"), "BASE_TYPE_BAD_INT", "min_values/max_values out of range")
    if select.get("type") == 3:
        options = select.get("options") or []
        if not options:
            check.fail((*path, "options"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
        check.count((*path, "options"), options, 25)
        if max_values > len(options) and options:
            check.fail(
                (*path, "max_values"),
                "BASE_TYPE_MAX",
                "max_values must be less than or equal to the number of options",
            )
        for k, option in enumerate(options):
            for key in ("label", "value"):
                if check.required((*path, "options", k, key), option.get(key)):
                    check.max_len((*path, "options", k, key), option.get(key), 100)
            check.max_len((*path, "options", k, "description"), option.get("description"), 100)


def _check_components(check: _Checker, components: Sequence[Mapping[str, Any]], v2: bool) -> None:
    if not v2:
        check.count(("components",), components, 5)
    custom_ids: set[str] = set()
    for i, row in enumerate(components):
        path: tuple[str | int, ...] = ("components", i)
        if not v2 and row.get("type") != 1:
            check.fail((*path, "type"), "UNION_TYPE_CHOICES", "Top-level components must be rows")
            continue
        children = row.get("components") or []
        if row.get("type") == 1:
            kinds = {c.get("type") for c in children}
            if kinds & SELECT_TYPES and len(children) > 1:
                check.fail(
                    (*path, "components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "A select menu must be alone in its row",
                )
            check.count((*path, "components"), children, 5)
    for component in walk_components(components):
        kind = component.get("type")
        if kind not in INTERACTIVE_TYPES:
            continue
        custom_id = component.get("custom_id")
        if kind == 2 and component.get("style") in (5, 6):
            if component.get("style") == 5 and not component.get("url"):
                check.fail(("components",), "BASE_TYPE_REQUIRED", "A link button needs a url")
        else:
            if not custom_id:
                check.fail(("components",), "BASE_TYPE_REQUIRED", "custom_id is required")
            elif custom_id in custom_ids:
                check.fail(
                    ("components",),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    f"Component custom id cannot be duplicated: {custom_id}",
                )
            else:
                custom_ids.add(custom_id)
            check.max_len(("components", "custom_id"), custom_id, 100)
        if kind == 2:
            check.max_len(("components", "label"), component.get("label"), 80)
            if not component.get("label") and not component.get("emoji"):
                check.fail(("components",), "BASE_TYPE_REQUIRED", "A button needs a label or emoji")
        elif kind in SELECT_TYPES:
            _check_select(check, ("components",), component)


def validate_message(payload: Mapping[str, Any], *, editing: bool = False, files: int = 0) -> None:
    """Raise FormError when Discord would reject this message body (create or edit)."""
    check = _Checker()
    flags = int(payload.get("flags") or 0)
    v2 = bool(flags & IS_COMPONENTS_V2)
    content = payload.get("content")
    check.max_len(("content",), content, 2000)
    embeds = payload.get("embeds") or []
    components = payload.get("components") or []
    if v2 and (content or embeds):
        check.fail(
            ("content",),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used with components v2",
        )
    _check_embeds(check, embeds)
    _check_components(check, components, v2)
    check.raise_if_any()
    if not editing and not (
        content
        or embeds
        or components
        or files
        or payload.get("sticker_ids")
        or payload.get("poll")
    ):
        raise FormError([], code=50006, message="Cannot send an empty message")


def validate_modal(data: Mapping[str, Any]) -> None:
    check = _Checker()
    if check.required(("data", "title"), data.get("title")):
        check.max_len(("data", "title"), data.get("title"), 45)
    if check.required(("data", "custom_id"), data.get("custom_id")):
        check.max_len(("data", "custom_id"), data.get("custom_id"), 100)
    rows = data.get("components") or []
    if not rows:
        check.fail(("data", "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
    check.count(("data", "components"), rows, 5)
    for component in walk_components(rows):
        check.max_len(("data", "components", "label"), component.get("label"), 45)
        if component.get("type") == 4:
            check.max_len(("data", "components", "placeholder"), component.get("placeholder"), 100)
            check.max_len(("data", "components", "value"), component.get("value"), 4000)
            if not component.get("custom_id"):
                check.fail(("data", "components"), "BASE_TYPE_REQUIRED", "custom_id is required")
    check.raise_if_any()


def validate_choices(choices: Sequence[Mapping[str, Any]]) -> None:
    check = _Checker()
    check.count(("data", "choices"), choices, 25)
    for i, choice in enumerate(choices):
        if check.required(("data", "choices", i, "name"), choice.get("name")):
            check.max_len(("data", "choices", i, "name"), choice.get("name"), 100)
        check.max_len(("data", "choices", i, "value"), choice.get("value"), 100)
    check.raise_if_any()


_COMMAND_NAME = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")


def _check_options(check: _Checker, path: tuple[str | int, ...], options: Sequence[Any]) -> None:
    check.count(path, options, 25)
    seen: set[str] = set()
    optional_seen = False
    for i, option in enumerate(options):
        name = str(option.get("name", ""))
        if not _COMMAND_NAME.match(name) or name != name.lower():
            check.fail((*path, i, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
        if name in seen:
            check.fail((*path, i, "name"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", name)
        seen.add(name)
        description = option.get("description")
        if check.required((*path, i, "description"), description):
            check.max_len((*path, i, "description"), description, 100)
        if option.get("type") in (1, 2):
            _check_options(check, (*path, i, "options"), option.get("options") or [])
            continue
        if option.get("required"):
            if optional_seen:
                check.fail(
                    (*path, i, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        check.count((*path, i, "choices"), choices, 25)
        if choices and option.get("autocomplete"):
            check.fail((*path, i), "AUTOCOMPLETE_AND_CHOICES", "Cannot have both")


def validate_commands(commands: Sequence[Any]) -> None:
    check = _Checker()
    seen: set[tuple[str, int]] = set()
    for i, command in enumerate(commands):
        if not isinstance(command, Mapping):
            check.fail((i,), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        kind = int(command.get("type", 1))
        name = str(command.get("name", ""))
        if kind == 1 and (not _COMMAND_NAME.match(name) or name != name.lower()):
            check.fail((i, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Invalid name {name!r}")
        if (name, kind) in seen:
            check.fail(
                (i, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Duplicate name {name!r}"
            )
        seen.add((name, kind))
        if kind == 1:
            description = command.get("description")
            if check.required((i, "description"), description):
                check.max_len((i, "description"), description, 100)
            _check_options(check, (i, "options"), command.get("options") or [])
    if sum(1 for c in commands if isinstance(c, Mapping) and c.get("type", 1) == 1) > 100:
        check.fail((), "APPLICATION_COMMANDS_TOO_MANY", "At most 100 slash commands")
    check.raise_if_any()
