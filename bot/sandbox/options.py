"""The values of a slash command's options, as Discord sends them: each checked against
the command's definition, and members, channels, roles and attachments resolved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.sandbox.common import (
    SandboxError,
)
from bot.sandbox.payloads import (
    JSON,
    SandboxAttachment,
    SandboxChannel,
    SandboxGuild,
    SandboxMember,
    SandboxRole,
    channel_payload,
    channel_permissions,
    guild_permissions,
    member_payload,
    member_user_payload,
    role_payload,
)

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox


def is_role_name(guild: SandboxGuild, value: Any) -> bool:
    """Whether `value` names one of the server's roles."""
    if not isinstance(value, str):
        return False
    try:
        guild.role(value)
    except KeyError:
        return False
    return True


class CommandOptions:
    """Builds the `options` and `resolved` of an interaction from the values a test gives."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world

    def member_permissions(
        self, guild: SandboxGuild, channel: SandboxChannel, member: SandboxMember
    ) -> int:
        return channel_permissions(guild, channel, member.id, member.roles, member.permissions)

    def build(
        self,
        definitions: Sequence[JSON],
        values: Mapping[str, Any],
        focused: str | None,
        guild: SandboxGuild,
        member: SandboxMember,
        resolved: dict[str, dict[str, JSON]],
        tokens: Sequence[str],
    ) -> list[JSON]:
        command = "/" + " ".join(tokens)
        by_name = {str(d.get("name")): d for d in definitions}
        unknown = [key for key in values if key not in by_name]
        if unknown:
            raise SandboxError(f"{command} has no option {unknown[0]!r}; it has {list(by_name)}")
        for definition in definitions:
            option_name = str(definition.get("name"))
            if definition.get("required") and option_name not in values and focused is None:
                raise SandboxError(f"{command} needs option {option_name!r}; Discord requires it")
        built: list[JSON] = []
        for definition in definitions:
            option_name = str(definition.get("name"))
            if option_name not in values:
                continue
            kind = int(definition["type"])
            if option_name == focused:
                built.append(
                    {
                        "type": kind,
                        "name": option_name,
                        "value": str(values[option_name]),
                        "focused": True,
                    }
                )
                continue
            value = self._option_value(
                definition, values[option_name], guild, member, resolved, command
            )
            built.append({"type": kind, "name": option_name, "value": value})
        return built

    def _option_value(
        self,
        definition: JSON,
        value: Any,
        guild: SandboxGuild,
        member: SandboxMember,
        resolved: dict[str, dict[str, JSON]],
        command: str,
    ) -> Any:
        kind = int(definition["type"])
        option = f"{command} {definition.get('name')}"
        converted: Any
        if kind == 3:
            converted = str(value)
            min_length, max_length = definition.get("min_length"), definition.get("max_length")
            if min_length is not None and len(converted) < int(min_length):
                raise SandboxError(f"{option}: Discord requires at least {min_length} characters")
            if max_length is not None and len(converted) > int(max_length):
                raise SandboxError(f"{option}: Discord allows at most {max_length} characters")
        elif kind in (4, 10):
            if isinstance(value, bool):
                raise SandboxError(f"{option} takes a number, not {value!r}")
            number = float(value)
            if kind == 4:
                if number != int(number):
                    raise SandboxError(f"{option} takes a whole number, not {value!r}")
                converted = int(number)
            else:
                converted = number
            low, high = definition.get("min_value"), definition.get("max_value")
            if (low is not None and converted < low) or (high is not None and converted > high):
                raise SandboxError(f"{option}: Discord only accepts {low}..{high}, not {value!r}")
        elif kind == 5:
            if not isinstance(value, bool):
                raise SandboxError(f"{option} takes True or False, not {value!r}")
            converted = value
        elif kind == 6:
            user = self.resolve_member(value, option)
            converted = str(user.id)
            self.add_resolved_user(resolved, user, guild)
        elif kind == 7:
            channel = self.resolve_channel(value, guild, option)
            types = definition.get("channel_types")
            if types and channel.type not in types:
                raise SandboxError(f"{option} only accepts channel types {types}")
            resolved.setdefault("channels", {})[str(channel.id)] = channel_payload(
                channel, permissions=self.member_permissions(guild, channel, member)
            )
            converted = str(channel.id)
        elif kind == 8:
            role = self.resolve_role(value, guild, option)
            resolved.setdefault("roles", {})[str(role.id)] = role_payload(role)
            converted = str(role.id)
        elif kind == 9:
            if isinstance(value, SandboxRole) or (
                isinstance(value, str) and is_role_name(guild, value)
            ):
                role = self.resolve_role(value, guild, option)
                resolved.setdefault("roles", {})[str(role.id)] = role_payload(role)
                converted = str(role.id)
            else:
                user = self.resolve_member(value, option)
                self.add_resolved_user(resolved, user, guild)
                converted = str(user.id)
        elif kind == 11:
            attachment = self.resolve_attachment(value, option)
            url = f"{self.sandbox.base_url}/attachments/0/{attachment.id}/{attachment.filename}"
            resolved.setdefault("attachments", {})[str(attachment.id)] = {
                "id": str(attachment.id),
                "filename": attachment.filename,
                "size": len(attachment.data),
                "url": url,
                "proxy_url": url,
                "content_type": attachment.content_type,
                "ephemeral": True,
            }
            converted = str(attachment.id)
        else:
            raise SandboxError(f"{option}: option type {kind} is not supported by the sandbox")
        choices = definition.get("choices")
        if choices and converted not in [c.get("value") for c in choices]:
            allowed = [c.get("value") for c in choices]
            raise SandboxError(f"{option} only accepts its choices {allowed}, not {value!r}")
        return converted

    def resolve_member(self, value: Any, option: str) -> SandboxMember:
        if isinstance(value, SandboxMember):
            return value
        if isinstance(value, int) and value in self.world.known_members:
            return self.world.known_members[value]
        if isinstance(value, int) and value == self.sandbox.bot_user_id:
            return self.sandbox.bot_member
        if isinstance(value, str):
            for member in self.world.known_members.values():
                if member.name == value.removeprefix("@"):
                    return member
        raise SandboxError(f"{option}: no known member {value!r} (use add_member first)")

    def add_resolved_user(
        self, resolved: dict[str, dict[str, JSON]], user: SandboxMember, guild: SandboxGuild
    ) -> None:
        resolved.setdefault("users", {})[str(user.id)] = member_user_payload(user)
        if user.id in guild.members or user.id == self.sandbox.bot_user_id:
            member_data = member_payload(user)
            del member_data["user"]
            member_data["permissions"] = str(
                guild_permissions(guild, user.id, user.roles, user.permissions)
            )
            resolved.setdefault("members", {})[str(user.id)] = member_data

    def resolve_channel(self, value: Any, guild: SandboxGuild, option: str) -> SandboxChannel:
        target = value.id if isinstance(value, SandboxChannel) else value
        try:
            return guild.channel(target)
        except KeyError as exc:
            raise SandboxError(f"{option}: {exc.args[0]}") from None

    def resolve_role(self, value: Any, guild: SandboxGuild, option: str) -> SandboxRole:
        target = value.id if isinstance(value, SandboxRole) else value
        try:
            return guild.role(target)
        except KeyError as exc:
            raise SandboxError(f"{option}: {exc.args[0]}") from None

    def resolve_attachment(self, value: Any, option: str) -> SandboxAttachment:
        if isinstance(value, SandboxAttachment):
            attachment = value
        elif isinstance(value, tuple) and len(value) == 2:
            filename, data = value
            attachment = SandboxAttachment(
                id=self.world.new_id(), filename=str(filename), data=bytes(data)
            )
        else:
            raise SandboxError(f"{option} takes a SandboxAttachment or (filename, bytes)")
        self.world.attachments[attachment.id] = attachment
        return attachment
