"""The sandbox's world: servers, channels, members, messages, commands and interactions,
and the message store every part writes through (ids, attachments, edits, listeners).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.sandbox.common import (
    SandboxError,
    _ApiError,
    _Changes,
    _normalised_embeds,
)
from bot.sandbox.interaction import SandboxInteraction
from bot.sandbox.payloads import (
    IS_COMPONENTS_V2,
    JSON,
    LOADING,
    SUPPRESS_EMBEDS,
    FormError,
    SandboxAttachment,
    SandboxChannel,
    SandboxGuild,
    SandboxMember,
    SandboxMessage,
    SnowflakeFactory,
    channel_permissions,
    member_user_payload,
    message_payload,
    stable_snowflake,
    user_payload,
)
from bot.sandbox.recorder import (
    RecordedFile,
)

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

_log = logging.getLogger(__name__)


class World:
    """The sandbox's world: servers, channels, members, messages, commands and interactions,"""

    def __init__(
        self, sandbox: Sandbox, guild_ids: Sequence[int], members: Sequence[SandboxMember]
    ) -> None:
        self.sandbox = sandbox
        self.known_members: dict[int, SandboxMember] = {}
        for member in (sandbox.member, sandbox.moderator, *members):
            self.known_members[member.id] = member
        self.interactions: list[SandboxInteraction] = []
        self.ids = SnowflakeFactory()
        self.changes = _Changes()
        self.commands: dict[int | None, list[JSON]] = {None: []}
        self.messages: dict[int, SandboxMessage] = {}
        self.messages_by_channel: dict[int, list[SandboxMessage]] = {}
        self.attachments: dict[int, SandboxAttachment] = {}
        self.listeners: list[Callable[[str, SandboxMessage], None]] = []
        self.dm_channels: dict[int, SandboxChannel] = {}
        self.interactions_by_id: dict[int, SandboxInteraction] = {}
        self.interactions_by_token: dict[str, SandboxInteraction] = {}
        self.joined_at = datetime.now(UTC)
        self.guilds: dict[int, SandboxGuild] = {}
        for index, guild_id in enumerate(guild_ids):
            name = "Peer Support Sandbox" if index == 0 else f"Sandbox Guild {index + 1}"
            self.guilds[guild_id] = self.new_guild(guild_id, name)

    def new_guild(self, guild_id: int, name: str) -> SandboxGuild:
        guild = SandboxGuild.create(
            guild_id,
            name=name,
            bot_user_id=self.sandbox.bot_user_id,
            members=self.known_members.values(),
        )
        return guild

    @property
    def guild(self) -> SandboxGuild:
        """The first guild: where members act when no guild is named."""
        for guild in self.guilds.values():
            return guild
        raise SandboxError("the sandbox was created without guilds")

    def channel(self, name_or_id: str | int, *, guild_id: int | None = None) -> SandboxChannel:
        if isinstance(name_or_id, int) and name_or_id in self.dm_channels:
            return self.dm_channels[name_or_id]
        if guild_id is None and isinstance(name_or_id, int):
            for guild in self.guilds.values():
                if name_or_id in guild.channels:
                    return guild.channels[name_or_id]
        return self.find_guild(guild_id).channel(name_or_id)

    def dm_channel_for(self, member: SandboxMember | int) -> SandboxChannel | None:
        member_id = member if isinstance(member, int) else member.id
        return self.dm_channels.get(stable_snowflake("dm", self.sandbox.bot_user_id, member_id))

    def bot_channel_permissions(self, guild: SandboxGuild, channel: SandboxChannel) -> int:
        return channel_permissions(guild, channel, self.sandbox.bot_user_id, [guild.bot_role_id], 0)

    def find_guild(self, guild_id: int | None) -> SandboxGuild:
        if guild_id is None:
            return self.guild
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise SandboxError(f"the sandbox has no guild {guild_id}") from None

    def bot_user(self) -> JSON:
        return user_payload(self.sandbox.bot_user_id, self.sandbox.bot_name, bot=True)

    def channel_messages(self, channel_id: int) -> list[SandboxMessage]:
        """Messages everyone in the channel can see, oldest first, in their latest version."""
        return [m for m in self.messages_by_channel.get(channel_id, []) if not m.deleted]

    def message(self, message_id: int) -> SandboxMessage:
        try:
            return self.messages[message_id]
        except KeyError:
            raise SandboxError(f"the sandbox has no message {message_id}") from None

    def new_id(self) -> int:
        return self.ids.next(int(time.time() * 1000))

    def last_message_id(self, channel_id: int) -> int | None:
        messages = self.channel_messages(channel_id)
        return messages[-1].id if messages else None

    def message_json(self, message: SandboxMessage) -> JSON:
        return message_payload(message, attachments_base_url=self.sandbox.base_url)

    def store_message(self, message: SandboxMessage) -> SandboxMessage:
        self.messages[message.id] = message
        if not message.ephemeral:
            self.messages_by_channel.setdefault(message.channel_id, []).append(message)
        for attachment in message.attachments:
            self.attachments[attachment.id] = attachment
        self.changes.notify()
        self.emit("create", message)
        return message

    def delete_message(self, message: SandboxMessage) -> None:
        message.deleted = True
        self.changes.notify()
        self.emit("delete", message)

    def emit(self, kind: str, message: SandboxMessage) -> None:
        for listener in list(self.listeners):
            try:
                listener(kind, message)
            except Exception:
                # A broken observer must not turn into an HTTP 500 the bot would retry.
                _log.exception("sandbox message listener failed on %s of %s", kind, message.id)

    def attachments_from(
        self, payload: JSON, files: Sequence[RecordedFile], existing: Sequence[SandboxAttachment]
    ) -> list[SandboxAttachment] | None:
        by_index: dict[int, RecordedFile] = {}
        for position, upload in enumerate(files):
            match = re.fullmatch(r"files\[(\d+)\]", upload.field)
            by_index[int(match.group(1)) if match else 1000 + position] = upload
        for upload in by_index.values():
            if len(upload.data) > self.sandbox.attachment_size_limit:
                raise _ApiError(413, 40005, "Request entity too large")
        if "attachments" not in payload and not by_index:
            return None
        result: list[SandboxAttachment] = []
        if "attachments" in payload:
            kept = {a.id: a for a in existing}
            for entry in payload.get("attachments") or []:
                reference = int(entry.get("id"))
                if reference in by_index:
                    upload = by_index.pop(reference)
                    result.append(self.new_attachment(upload, entry))
                elif reference in kept:
                    result.append(kept[reference])
                else:
                    raise FormError([], message=f"Unknown attachment reference {reference}")
        else:
            result.extend(existing)
        result.extend(self.new_attachment(u, {}) for u in by_index.values())
        return result

    def new_attachment(self, upload: RecordedFile, entry: Mapping[str, Any]) -> SandboxAttachment:
        return SandboxAttachment(
            id=self.new_id(),
            filename=str(entry.get("filename") or upload.filename or "file"),
            data=upload.data,
            description=entry.get("description"),
            content_type=upload.content_type,
        )

    def apply_edit(
        self, message: SandboxMessage, payload: JSON, files: Sequence[RecordedFile]
    ) -> None:
        attachments = self.attachments_from(payload, files, message.attachments)
        content = (payload.get("content") or "") if "content" in payload else message.content
        embeds = (
            _normalised_embeds(payload.get("embeds")) if "embeds" in payload else message.embeds
        )
        components = (
            list(payload.get("components") or []) if "components" in payload else message.components
        )
        kept_attachments = message.attachments if attachments is None else attachments
        if not (content or embeds or components or kept_attachments):
            raise FormError([], code=50006, message="Cannot send an empty message")
        was_loading = message.loading
        message.content, message.embeds, message.components = content, embeds, components
        message.attachments = kept_attachments
        for attachment in kept_attachments:
            self.attachments[attachment.id] = attachment
        if payload.get("flags") is not None:
            settable = SUPPRESS_EMBEDS | IS_COMPONENTS_V2
            message.flags = (message.flags & ~settable) | (int(payload["flags"]) & settable)
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload.get("allowed_mentions")
        message.flags &= ~LOADING
        if not was_loading:
            message.edited_at = datetime.now(UTC)
            message.edit_count += 1
        self.changes.notify()
        self.emit("update", message)

    def interaction_metadata(
        self, interaction: SandboxInteraction, *, followup_of: SandboxMessage | None = None
    ) -> JSON:
        metadata: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": member_user_payload(interaction.member),
            "authorizing_integration_owners": {"0": str(interaction.guild_id)},
        }
        if interaction.type == 2:
            metadata["name"] = interaction.data.get("name")
            metadata["command_type"] = 1
        if interaction.source_message is not None and interaction.type == 3:
            metadata["interacted_message_id"] = str(interaction.source_message.id)
        if interaction.parent is not None and interaction.type == 5:
            metadata["triggering_interaction_metadata"] = self.interaction_metadata(
                interaction.parent
            )
        if followup_of is not None:
            metadata["original_response_message_id"] = str(followup_of.id)
        return metadata

    def interaction_message(
        self,
        interaction: SandboxInteraction,
        payload: JSON,
        files: Sequence[RecordedFile],
        *,
        flags: int,
        followup_of: SandboxMessage | None = None,
    ) -> SandboxMessage:
        message = SandboxMessage(
            id=self.new_id(),
            channel_id=interaction.channel_id,
            guild_id=interaction.guild_id,
            author=self.bot_user(),
            content=payload.get("content") or "",
            embeds=_normalised_embeds(payload.get("embeds")),
            components=list(payload.get("components") or []),
            flags=flags,
            attachments=self.attachments_from(payload, files, []) or [],
            allowed_mentions=payload.get("allowed_mentions"),
            interaction_id=interaction.id,
            interaction_metadata=self.interaction_metadata(interaction, followup_of=followup_of),
            webhook_id=self.sandbox.application_id,
            application_id=self.sandbox.application_id,
            type=20 if interaction.type == 2 else 0,
            tts=bool(payload.get("tts")),
        )
        return self.store_message(message)
