"""The sandbox's REST API v10: one handler per route Peerlight's discord.py client calls,
each answering as Discord does, with Discord's error codes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.sandbox.common import (
    _ApiError,
    _Call,
    _normalised_embeds,
)
from bot.sandbox.interaction import SandboxInteraction
from bot.sandbox.payloads import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    JSON,
    LOADING,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    FormError,
    Permission,
    SandboxChannel,
    SandboxGuild,
    SandboxMessage,
    channel_payload,
    guild_payload,
    guild_permissions,
    member_payload,
    member_user_payload,
    role_payload,
    stable_snowflake,
    user_payload,
    validate_choices,
    validate_commands,
    validate_message,
    validate_modal,
)

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

_log = logging.getLogger(__name__)


_MESSAGE_FLAGS_A_BOT_MAY_SET = (
    EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
)


def _unknown(what: str, code: int) -> _ApiError:
    return _ApiError(404, code, f"Unknown {what}")


_MISSING_ACCESS = (403, 50001, "Missing Access")


_MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")


_Reply = tuple[int, Any]


_Handler = Callable[[_Call], Awaitable[_Reply]]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: _Handler
    auth: bool


def _command_shape(command: Mapping[str, Any]) -> JSON:
    return {
        k: v for k, v in command.items() if k not in ("id", "application_id", "version", "guild_id")
    }


class RestRoutes:
    """The sandbox's REST API v10: one handler per route Peerlight's discord.py client calls,"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.routes = self.build()
        # (channel, nonce) -> message id, for `enforce_nonce`: Discord answers a repeat
        # with the message it already made, for a few minutes (the sandbox: while it runs).
        self._nonces: dict[tuple[int, str], int] = {}

    def build(self) -> list[_Route]:
        app = r"/applications/(?P<app_id>\d+)"
        guild_commands = app + r"/guilds/(?P<guild_id>\d+)/commands"
        hook = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
        channel = r"/channels/(?P<channel_id>\d+)"
        message = channel + r"/messages/(?P<message_id>\d+)"
        guild = r"/guilds/(?P<guild_id>\d+)"
        table: list[tuple[str, str, _Handler, bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user, True),
            ("POST", r"/users/@me/channels", self._create_dm, True),
            ("GET", r"/users/@me/guilds", self._get_my_guilds, True),
            ("DELETE", r"/users/@me/guilds/(?P<guild_id>\d+)", self._leave_guild, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/applications/@me", self._get_application, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("GET", app + r"/commands", self._get_commands, True),
            ("PUT", app + r"/commands", self._put_commands, True),
            ("POST", app + r"/commands", self._post_command, True),
            ("GET", app + r"/commands/(?P<command_id>\d+)", self._get_command, True),
            ("PATCH", app + r"/commands/(?P<command_id>\d+)", self._patch_command, True),
            ("DELETE", app + r"/commands/(?P<command_id>\d+)", self._delete_command, True),
            ("GET", guild_commands, self._get_commands, True),
            ("PUT", guild_commands, self._put_commands, True),
            ("POST", guild_commands, self._post_command, True),
            ("GET", guild_commands + r"/(?P<command_id>\d+)", self._get_command, True),
            ("PATCH", guild_commands + r"/(?P<command_id>\d+)", self._patch_command, True),
            ("DELETE", guild_commands + r"/(?P<command_id>\d+)", self._delete_command, True),
            (
                "POST",
                r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback",
                self._interaction_callback,
                False,
            ),
            ("POST", hook, self._execute_webhook, False),
            (
                "GET",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._get_webhook_message,
                False,
            ),
            (
                "PATCH",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._edit_webhook_message,
                False,
            ),
            (
                "DELETE",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._delete_webhook_message,
                False,
            ),
            ("GET", channel, self._get_channel, True),
            ("GET", channel + r"/messages", self._get_channel_messages, True),
            ("POST", channel + r"/messages", self._post_channel_message, True),
            ("POST", channel + r"/typing", self._typing, True),
            ("GET", message, self._get_channel_message, True),
            ("PATCH", message, self._edit_channel_message, True),
            ("DELETE", message, self._delete_channel_message, True),
            ("PUT", message + r"/reactions/(?P<emoji>[^/]+)/@me", self._add_reaction, True),
            ("DELETE", message + r"/reactions/(?P<emoji>[^/]+)/@me", self._remove_reaction, True),
            ("GET", guild, self._get_guild, True),
            ("GET", guild + r"/channels", self._get_guild_channels, True),
            ("GET", guild + r"/roles", self._get_guild_roles, True),
            ("GET", guild + r"/members", self._get_guild_members, True),
            ("GET", guild + r"/members/(?P<user_id>\d+)", self._get_guild_member, True),
        ]
        return [_Route(m, re.compile(p), h, a) for m, p, h, a in table]

    async def _get_me(self, call: _Call) -> _Reply:
        return 200, {
            **self.world.bot_user(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
            "bio": "",
        }

    async def _get_user(self, call: _Call) -> _Reply:
        user_id = call.snowflake("user_id")
        if user_id == self.sandbox.bot_user_id:
            return 200, self.world.bot_user()
        member = self.world.known_members.get(user_id)
        if member is None:
            raise _unknown("User", 10013)
        return 200, member_user_payload(member)

    async def _create_dm(self, call: _Call) -> _Reply:
        recipient = int(call.body.get("recipient_id") or 0)
        member = self.world.known_members.get(recipient)
        if member is None:
            raise _unknown("User", 10013)
        channel_id = stable_snowflake("dm", self.sandbox.bot_user_id, member.id)
        channel = self.world.dm_channels.get(channel_id)
        if channel is None:
            channel = SandboxChannel(
                id=channel_id, guild_id=None, name="", type=1, recipient=member
            )
            self.world.dm_channels[channel_id] = channel
        return 200, channel_payload(channel, last_message_id=self.world.last_message_id(channel_id))

    async def _get_my_guilds(self, call: _Call) -> _Reply:
        """The servers the bot is in, as Discord lists them: each with the bot's server-wide
        permissions (its roles, without channel overwrites)."""
        listed: list[JSON] = []
        for guild in self.world.guilds.values():
            if not guild.bot_present:
                continue
            permissions = guild_permissions(guild, self.sandbox.bot_user_id, [guild.bot_role_id], 0)
            listed.append(
                {
                    "id": str(guild.id),
                    "name": guild.name,
                    "icon": None,
                    "owner": False,
                    "permissions": str(permissions),
                    "features": [],
                }
            )
        return 200, listed

    async def _leave_guild(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        guild.bot_present = False
        await self.sandbox.gateway.dispatch_if_connected("GUILD_DELETE", {"id": str(guild.id)})
        return 204, None

    async def _get_application(self, call: _Call) -> _Reply:
        owner = user_payload(self.sandbox.owner.id, self.sandbox.owner.name)
        return 200, {
            "id": str(self.sandbox.application_id),
            "name": self.sandbox.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": owner,
            "team": None,
            "flags": 0,
            "bot": self.world.bot_user(),
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": sum(1 for g in self.world.guilds.values() if g.bot_present),
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
        }

    async def _get_gateway(self, call: _Call) -> _Reply:
        return 200, {"url": self.sandbox.gateway_url}

    async def _get_gateway_bot(self, call: _Call) -> _Reply:
        return 200, {
            "url": self.sandbox.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    def _command_scope(self, call: _Call) -> int | None:
        if call.snowflake("app_id") != self.sandbox.application_id:
            raise _unknown("Application", 10002)
        if "guild_id" not in call.params or call.params["guild_id"] is None:
            return None
        guild_id = call.snowflake("guild_id")
        if guild_id not in self.world.guilds:
            raise _unknown("Guild", 10004)
        if not self.world.guilds[guild_id].bot_present:
            raise _ApiError(*_MISSING_ACCESS)
        return guild_id

    def _stored_command(self, scope: int | None, incoming: JSON, previous: JSON | None) -> JSON:
        command: JSON = {
            "type": 1,
            "description": "",
            "default_member_permissions": None,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **incoming,
        }
        if command.get("type") != 1:
            command["description"] = ""
        if command.get("default_member_permissions") is not None:
            # Discord stores any integer form it accepts and answers with a string.
            command["default_member_permissions"] = str(int(command["default_member_permissions"]))
        unchanged = previous is not None and _command_shape(previous) == _command_shape(command)
        command["id"] = previous["id"] if previous is not None else str(self.world.new_id())
        command["application_id"] = str(self.sandbox.application_id)
        command["version"] = (
            previous["version"] if unchanged and previous else str(self.world.new_id())
        )
        if scope is not None:
            command["guild_id"] = str(scope)
        return command

    async def _get_commands(self, call: _Call) -> _Reply:
        return 200, self.world.commands.get(self._command_scope(call), [])

    async def _put_commands(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        incoming = call.record.json
        if not isinstance(incoming, list):
            raise FormError([], message="Invalid Form Body")
        validate_commands(incoming)
        existing = {
            (c["name"], int(c.get("type", 1))): c for c in self.world.commands.get(scope, [])
        }
        stored = [
            self._stored_command(scope, c, existing.get((c.get("name"), int(c.get("type", 1)))))
            for c in incoming
        ]
        self.world.commands[scope] = stored
        self.world.changes.notify()
        return 200, stored

    async def _post_command(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        incoming = call.body
        validate_commands([incoming])
        commands = self.world.commands.setdefault(scope, [])
        key = (incoming.get("name"), int(incoming.get("type", 1)))
        for index, command in enumerate(commands):
            if (command["name"], int(command.get("type", 1))) == key:
                commands[index] = self._stored_command(scope, incoming, command)
                return 200, commands[index]
        stored = self._stored_command(scope, incoming, None)
        commands.append(stored)
        self.world.changes.notify()
        return 201, stored

    def _command_by_id(self, call: _Call) -> tuple[list[JSON], int]:
        commands = self.world.commands.get(self._command_scope(call), [])
        for index, command in enumerate(commands):
            if command["id"] == call.params["command_id"]:
                return commands, index
        raise _unknown("application command", 10063)

    async def _get_command(self, call: _Call) -> _Reply:
        commands, index = self._command_by_id(call)
        return 200, commands[index]

    async def _patch_command(self, call: _Call) -> _Reply:
        commands, index = self._command_by_id(call)
        merged = {**commands[index], **call.body}
        validate_commands([merged])
        commands[index] = self._stored_command(self._command_scope(call), merged, commands[index])
        return 200, commands[index]

    async def _delete_command(self, call: _Call) -> _Reply:
        commands, index = self._command_by_id(call)
        del commands[index]
        return 204, None

    async def _interaction_callback(self, call: _Call) -> _Reply:
        interaction = self.world.interactions_by_id.get(call.snowflake("interaction_id"))
        if interaction is None or interaction.token != call.params["token"]:
            raise _unknown("interaction", 10062)
        elapsed = time.monotonic() - interaction.created_at
        if self.sandbox.callback_deadline is not None and elapsed > self.sandbox.callback_deadline:
            raise _unknown("interaction", 10062)
        if interaction.callback_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = call.body
        kind = body.get("type")
        data: JSON = body.get("data") or {}
        allowed = {2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7)}[interaction.type]
        if kind not in allowed:
            raise FormError(
                [],
                message=f"Interaction callback type {kind} is not valid for interaction type "
                f"{interaction.type}",
            )
        source = interaction.source_message
        if kind in (6, 7) and (source is None or source.deleted):
            raise FormError([], message="There is no message to update for this interaction")
        files = call.record.files
        resource: SandboxMessage | None = None
        if kind == 4:
            validate_message(data, files=len(files))
            flags = int(data.get("flags") or 0) & _MESSAGE_FLAGS_A_BOT_MAY_SET
            resource = self.world.interaction_message(interaction, data, files, flags=flags)
            interaction.original = resource
        elif kind == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            resource = self.world.store_message(
                SandboxMessage(
                    id=self.world.new_id(),
                    channel_id=interaction.channel_id,
                    guild_id=interaction.guild_id,
                    author=self.world.bot_user(),
                    flags=flags,
                    interaction_id=interaction.id,
                    interaction_metadata=self.world.interaction_metadata(interaction),
                    webhook_id=self.sandbox.application_id,
                    application_id=self.sandbox.application_id,
                    type=20 if interaction.type == 2 else 0,
                )
            )
            interaction.original = resource
        elif kind == 7:
            assert source is not None
            validate_message(data, editing=True, files=len(files))
            self.world.apply_edit(source, data, files)
            interaction.original = resource = source
        elif kind == 6:
            interaction.original = source
        elif kind == 8:
            validate_choices(data.get("choices") or [])
        elif kind == 9:
            validate_modal(data)
        interaction.callback = body
        interaction.callback_type = int(kind)
        interaction.callback_files = list(files)
        interaction.responded_after = elapsed
        self.world.changes.notify()
        if resource is not None:
            event = "MESSAGE_UPDATE" if kind == 7 else "MESSAGE_CREATE"
            await self.sandbox.gateway.dispatch_message_event(event, resource)
        if call.record.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        info: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(resource is not None and resource.ephemeral),
        }
        reply: JSON = {"interaction": info}
        if resource is not None:
            info["response_message_id"] = str(resource.id)
            reply["resource"] = {"type": kind, "message": self.world.message_json(resource)}
        return 200, reply

    def _webhook_interaction(self, call: _Call) -> SandboxInteraction:
        interaction = self.world.interactions_by_token.get(call.params["token"])
        if interaction is None or call.snowflake("app_id") != self.sandbox.application_id:
            raise _unknown("Webhook", 10015)
        if interaction.callback_type is None:
            raise _unknown("Webhook", 10015)
        return interaction

    def _webhook_message(self, call: _Call) -> tuple[SandboxInteraction, SandboxMessage]:
        interaction = self._webhook_interaction(call)
        wanted = call.params["message_id"]
        message: SandboxMessage | None = None
        if wanted == "@original":
            message = interaction.original
        else:
            for candidate in [interaction.original, *interaction.followups]:
                if candidate is not None and candidate.id == int(wanted):
                    message = candidate
        if message is None or message.deleted:
            raise _unknown("Message", 10008)
        return interaction, message

    async def _execute_webhook(self, call: _Call) -> _Reply:
        interaction = self._webhook_interaction(call)
        payload = call.body
        files = call.record.files
        validate_message(payload, files=len(files))
        original = interaction.original
        if interaction.callback_type == 5 and original is not None and original.loading:
            # Discord turns the first follow-up after a deferral into the deferred message.
            self.world.apply_edit(original, payload, files)
            message = original
            await self.sandbox.gateway.dispatch_message_event("MESSAGE_UPDATE", message)
        else:
            flags = int(payload.get("flags") or 0) & _MESSAGE_FLAGS_A_BOT_MAY_SET
            message = self.world.interaction_message(
                interaction, payload, files, flags=flags, followup_of=original
            )
            interaction.followups.append(message)
            self.world.changes.notify()
            await self.sandbox.gateway.dispatch_message_event("MESSAGE_CREATE", message)
        if call.record.query.get("wait") in ("1", "true", "True"):
            return 200, self.world.message_json(message)
        return 204, None

    async def _get_webhook_message(self, call: _Call) -> _Reply:
        _, message = self._webhook_message(call)
        return 200, self.world.message_json(message)

    async def _edit_webhook_message(self, call: _Call) -> _Reply:
        interaction, message = self._webhook_message(call)
        validate_message(call.body, editing=True, files=len(call.record.files))
        self.world.apply_edit(message, call.body, call.record.files)
        if message is interaction.original:
            interaction.original_edited = True
        self.world.changes.notify()
        await self.sandbox.gateway.dispatch_message_event("MESSAGE_UPDATE", message)
        return 200, self.world.message_json(message)

    async def _delete_webhook_message(self, call: _Call) -> _Reply:
        _, message = self._webhook_message(call)
        self.world.delete_message(message)
        await self.sandbox.gateway.dispatch_message_event("MESSAGE_DELETE", message)
        return 204, None

    def _present_guild(self, guild_id: int) -> SandboxGuild:
        guild = self.world.guilds.get(guild_id)
        if guild is None:
            raise _unknown("Guild", 10004)
        if not guild.bot_present:
            raise _ApiError(*_MISSING_ACCESS)
        return guild

    def _visible_channel(self, channel_id: int) -> tuple[SandboxChannel, int]:
        """The channel and the bot's permissions in it; 403/404 as Discord answers."""
        dm = self.world.dm_channels.get(channel_id)
        if dm is not None:
            return dm, int(
                Permission.VIEW_CHANNEL
                | Permission.SEND_MESSAGES
                | Permission.EMBED_LINKS
                | Permission.ATTACH_FILES
                | Permission.READ_MESSAGE_HISTORY
            )
        for guild in self.world.guilds.values():
            channel = guild.channels.get(channel_id)
            if channel is None:
                continue
            if not guild.bot_present:
                raise _ApiError(*_MISSING_ACCESS)
            permissions = self.world.bot_channel_permissions(guild, channel)
            if not permissions & Permission.VIEW_CHANNEL:
                raise _ApiError(*_MISSING_ACCESS)
            return channel, permissions
        raise _unknown("Channel", 10003)

    def _channel_message(self, call: _Call) -> tuple[SandboxChannel, int, SandboxMessage]:
        channel, permissions = self._visible_channel(call.snowflake("channel_id"))
        message = self.world.messages.get(call.snowflake("message_id"))
        if (
            message is None
            or message.deleted
            or message.channel_id != channel.id
            or message.ephemeral
        ):
            raise _unknown("Message", 10008)
        return channel, permissions, message

    async def _get_channel(self, call: _Call) -> _Reply:
        channel, _ = self._visible_channel(call.snowflake("channel_id"))
        return 200, channel_payload(channel, last_message_id=self.world.last_message_id(channel.id))

    async def _get_channel_messages(self, call: _Call) -> _Reply:
        channel, permissions = self._visible_channel(call.snowflake("channel_id"))
        if not permissions & Permission.READ_MESSAGE_HISTORY:
            return 200, []
        messages = list(reversed(self.world.channel_messages(channel.id)))
        before, after = call.record.query.get("before"), call.record.query.get("after")
        if before:
            messages = [m for m in messages if m.id < int(before)]
        if after:
            messages = [m for m in messages if m.id > int(after)]
        limit = max(1, min(100, int(call.record.query.get("limit") or 50)))
        return 200, [self.world.message_json(m) for m in messages[:limit]]

    async def _post_channel_message(self, call: _Call) -> _Reply:
        channel, permissions = self._visible_channel(call.snowflake("channel_id"))
        payload = call.body
        files = call.record.files
        if channel.recipient is not None and not channel.recipient.accepts_dms:
            raise _ApiError(403, 50007, "Cannot send messages to this user")
        if not permissions & Permission.SEND_MESSAGES:
            raise _ApiError(*_MISSING_PERMISSIONS)
        if files and not permissions & Permission.ATTACH_FILES:
            raise _ApiError(*_MISSING_PERMISSIONS)
        validate_message(payload, files=len(files))
        reference = payload.get("message_reference")
        if reference is not None:
            referenced = self.world.messages.get(int(reference.get("message_id") or 0))
            if (referenced is None or referenced.channel_id != channel.id) and reference.get(
                "fail_if_not_exists", True
            ):
                raise FormError([], message="Unknown message reference")
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            earlier = self.world.messages.get(self._nonces.get((channel.id, str(nonce)), 0))
            if earlier is not None:
                return 200, self.world.message_json(earlier)
        embeds = _normalised_embeds(payload.get("embeds"))
        if not permissions & Permission.EMBED_LINKS:
            # Discord accepts the message but shows no embeds from a bot without Embed Links.
            embeds = []
        message = self.world.store_message(
            SandboxMessage(
                id=self.world.new_id(),
                channel_id=channel.id,
                guild_id=channel.guild_id,
                author=self.world.bot_user(),
                content=payload.get("content") or "",
                embeds=embeds,
                components=list(payload.get("components") or []),
                flags=int(payload.get("flags") or 0)
                & (SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2),
                attachments=self.world.attachments_from(payload, files, []) or [],
                allowed_mentions=payload.get("allowed_mentions"),
                type=19 if reference is not None else 0,
                tts=bool(payload.get("tts")),
                message_reference=reference,
            )
        )
        if nonce is not None and payload.get("enforce_nonce"):
            self._nonces[(channel.id, str(nonce))] = message.id
        await self.sandbox.gateway.dispatch_message_event("MESSAGE_CREATE", message)
        return 200, self.world.message_json(message)

    async def _typing(self, call: _Call) -> _Reply:
        self._visible_channel(call.snowflake("channel_id"))
        return 204, None

    async def _get_channel_message(self, call: _Call) -> _Reply:
        _, _, message = self._channel_message(call)
        return 200, self.world.message_json(message)

    async def _edit_channel_message(self, call: _Call) -> _Reply:
        _, permissions, message = self._channel_message(call)
        if message.author_id != self.sandbox.bot_user_id:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        payload = call.body
        validate_message(payload, editing=True, files=len(call.record.files))
        if "embeds" in payload and not permissions & Permission.EMBED_LINKS:
            payload = {**payload, "embeds": []}
        self.world.apply_edit(message, payload, call.record.files)
        await self.sandbox.gateway.dispatch_message_event("MESSAGE_UPDATE", message)
        return 200, self.world.message_json(message)

    async def _delete_channel_message(self, call: _Call) -> _Reply:
        _, permissions, message = self._channel_message(call)
        if (
            message.author_id != self.sandbox.bot_user_id
            and not permissions & Permission.MANAGE_MESSAGES
        ):
            raise _ApiError(*_MISSING_PERMISSIONS)
        self.world.delete_message(message)
        await self.sandbox.gateway.dispatch_message_event("MESSAGE_DELETE", message)
        return 204, None

    async def _add_reaction(self, call: _Call) -> _Reply:
        _, permissions, message = self._channel_message(call)
        if not permissions & Permission.ADD_REACTIONS:
            raise _ApiError(*_MISSING_PERMISSIONS)
        if call.params["emoji"] not in message.reactions:
            message.reactions.append(call.params["emoji"])
        self.world.changes.notify()
        return 204, None

    async def _remove_reaction(self, call: _Call) -> _Reply:
        _, _, message = self._channel_message(call)
        if call.params["emoji"] in message.reactions:
            message.reactions.remove(call.params["emoji"])
        return 204, None

    async def _get_guild(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        payload = guild_payload(guild)
        if call.record.query.get("with_counts") in ("1", "true", "True"):
            payload["approximate_member_count"] = len(guild.members) + 1
            payload["approximate_presence_count"] = 0
        return 200, payload

    async def _get_guild_channels(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        return 200, [channel_payload(c) for c in guild.channels.values()]

    async def _get_guild_roles(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        return 200, [role_payload(r) for r in guild.roles.values()]

    async def _get_guild_members(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        members = [self.sandbox.gateway.guild_create_bot(guild), *guild.members.values()]
        after = int(call.record.query.get("after") or 0)
        limit = max(1, min(1000, int(call.record.query.get("limit") or 1)))
        chosen = sorted((m for m in members if m.id > after), key=lambda m: m.id)[:limit]
        return 200, [member_payload(m) for m in chosen]

    async def _get_guild_member(self, call: _Call) -> _Reply:
        guild = self._present_guild(call.snowflake("guild_id"))
        user_id = call.snowflake("user_id")
        if user_id == self.sandbox.bot_user_id:
            return 200, member_payload(self.sandbox.gateway.guild_create_bot(guild))
        member = guild.members.get(user_id)
        if member is None:
            raise _unknown("Member", 10007)
        return 200, member_payload(member)
