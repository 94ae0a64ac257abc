"""The members the sandbox plays: slash commands, autocomplete, button presses, menu
choices, modal submits and messages, each sent to the bot as Discord would send it, after
the checks Discord makes (the command exists, the member may use it, the values fit).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.sandbox.common import (
    SandboxError,
)
from bot.sandbox.interaction import SandboxInteraction
from bot.sandbox.options import CommandOptions, is_role_name
from bot.sandbox.payloads import (
    JSON,
    SELECT_TYPES,
    Permission,
    SandboxChannel,
    SandboxGuild,
    SandboxMember,
    SandboxMessage,
    SandboxRole,
    channel_payload,
    member_payload,
    member_user_payload,
    role_payload,
    stable_snowflake,
)

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

_log = logging.getLogger(__name__)


_INTERACTION_TOKEN_PREFIX = "aW50ZXJhY3Rpb246"  # base64 of "interaction:", like Discord's


class MemberDriver:
    """The members the sandbox plays: slash commands, autocomplete, button presses, menu"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.options = CommandOptions(sandbox)

    def _remember(self, member: SandboxMember, guild: SandboxGuild) -> SandboxMember:
        self.world.known_members.setdefault(member.id, member)
        guild.members.setdefault(member.id, member)
        return member

    def _text_channel(self, guild: SandboxGuild, channel_id: int | None) -> SandboxChannel:
        if channel_id is None:
            channels = guild.text_channels
            if not channels:
                raise SandboxError(f"guild {guild.id} has no text channel")
            return channels[0]
        try:
            return guild.channels[channel_id]
        except KeyError:
            raise SandboxError(f"guild {guild.id} has no channel {channel_id}") from None

    def _find_command(
        self, name: str, guild: SandboxGuild, kind: int = 1
    ) -> tuple[JSON, int | None]:
        for scope in (guild.id, None):
            for command in self.world.commands.get(scope, []):
                if command.get("name") == name and int(command.get("type", 1)) == kind:
                    return command, scope
        known = sorted(
            {str(c.get("name")) for s in (guild.id, None) for c in self.world.commands.get(s, [])}
        )
        raise SandboxError(
            f"no slash command /{name} is registered for guild {guild.id} or globally; "
            f"registered: {known or 'none (did the bot sync its command tree?)'}"
        )

    def _check_can_use(
        self,
        command: JSON,
        guild: SandboxGuild,
        channel: SandboxChannel,
        member: SandboxMember,
        *,
        overridden: bool,
    ) -> int:
        permissions = self.options.member_permissions(guild, channel, member)
        if not permissions & Permission.VIEW_CHANNEL:
            raise SandboxError(f"{member.name} cannot see #{channel.name}")
        if not permissions & Permission.USE_APPLICATION_COMMANDS:
            raise SandboxError(f"{member.name} may not use application commands in #{channel.name}")
        required = command.get("default_member_permissions")
        if required is not None and not overridden and not permissions & Permission.ADMINISTRATOR:
            needed = int(required)
            if needed == 0 or permissions & needed != needed:
                raise SandboxError(
                    f"Discord hides /{command.get('name')} from {member.name}: it needs "
                    f"permissions {needed} (default_member_permissions); pass "
                    "override_default_permissions=True to act as if an admin granted it"
                )
        return permissions

    async def command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        member: SandboxMember | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str | None = None,
        override_default_permissions: bool = False,
    ) -> SandboxInteraction:
        """A member runs a slash command. `name` may be "group sub" or "group subgroup sub";
        option values are converted with the types of the command the bot registered.

        Like Discord, a member lacking a command's `default_member_permissions` cannot run
        it, unless `override_default_permissions` (a server admin granted it to them in
        Server Settings → Integrations)."""
        return await self._slash(
            name,
            dict(options or {}),
            None,
            member=member,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            overridden=override_default_permissions,
        )

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        member: SandboxMember | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str | None = None,
        timeout: float = 5,
        override_default_permissions: bool = False,
    ) -> list[JSON]:
        """A member types into option `focused`; returns the choices the bot offered."""
        values = dict(options)
        values.setdefault(focused, "")
        interaction = await self._slash(
            name,
            values,
            focused,
            member=member,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            overridden=override_default_permissions,
        )
        result = await interaction.response(timeout)
        if interaction.callback_type != 8 or not isinstance(result, dict):
            raise SandboxError(
                f"autocomplete for /{name} was answered with callback type "
                f"{interaction.callback_type}, not 8"
            )
        choices: list[JSON] = (result.get("data") or {}).get("choices") or []
        return choices

    async def _slash(
        self,
        name: str,
        values: dict[str, Any],
        focused: str | None,
        *,
        member: SandboxMember | None,
        guild_id: int | None,
        channel_id: int | None,
        locale: str | None,
        overridden: bool,
    ) -> SandboxInteraction:
        guild = self.world.find_guild(guild_id)
        if not guild.bot_present:
            raise SandboxError(f"the bot is not in guild {guild.id}")
        channel = self._text_channel(guild, channel_id)
        member = self._remember(member or self.sandbox.member, guild)
        tokens = name.removeprefix("/").split()
        if not tokens:
            raise SandboxError("name a command")
        definition, scope = self._find_command(tokens[0], guild)
        self._check_can_use(definition, guild, channel, member, overridden=overridden)
        definitions: list[JSON] = list(definition.get("options") or [])
        path: list[JSON] = []
        for token in tokens[1:]:
            sub = next(
                (o for o in definitions if o.get("name") == token and o.get("type") in (1, 2)), None
            )
            if sub is None:
                subs = [o.get("name") for o in definitions if o.get("type") in (1, 2)]
                raise SandboxError(
                    f"/{' '.join(tokens[:1])} has no subcommand {token!r}; it has {subs}"
                )
            path.append(sub)
            definitions = list(sub.get("options") or [])
        if any(o.get("type") in (1, 2) for o in definitions):
            subs = [o.get("name") for o in definitions if o.get("type") in (1, 2)]
            raise SandboxError(
                f"/{' '.join(tokens)} is a group; name one of its subcommands: {subs}"
            )
        resolved: dict[str, dict[str, JSON]] = {}
        built = self.options.build(definitions, values, focused, guild, member, resolved, tokens)
        for sub in reversed(path):
            built = [{"type": sub["type"], "name": sub["name"], "options": built}]
        data: JSON = {
            "id": definition["id"],
            "name": definition["name"],
            "type": 1,
            "options": built,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        kind = 2 if focused is None else 4
        label = f"/{' '.join(tokens)}" + (" (autocomplete)" if focused is not None else "")
        return await self._interact(kind, data, member, guild, channel, locale=locale, label=label)

    def _current(self, message: SandboxMessage | int) -> SandboxMessage:
        message_id = message if isinstance(message, int) else message.id
        current = self.world.messages.get(message_id)
        if current is None:
            raise SandboxError(f"the sandbox has no message {message_id}")
        if current.deleted:
            raise SandboxError(f"message {message_id} was deleted")
        return current

    def _member_for_message(
        self, message: SandboxMessage, member: SandboxMember | None
    ) -> SandboxMember:
        owner_id: int | None = None
        if message.interaction_metadata is not None:
            owner_id = int(message.interaction_metadata["user"]["id"])
        if member is None:
            member = self.world.known_members.get(owner_id or 0, self.sandbox.member)
        if message.ephemeral and owner_id is not None and member.id != owner_id:
            raise SandboxError(
                f"message {message.id} is ephemeral: only its member ({owner_id}) can see it"
            )
        return member

    def _message_place(self, message: SandboxMessage) -> tuple[SandboxGuild, SandboxChannel]:
        if message.guild_id is None:
            raise SandboxError("the sandbox only sends interactions from guild channels")
        guild = self.world.find_guild(message.guild_id)
        return guild, self._text_channel(guild, message.channel_id)

    async def press(
        self,
        message: SandboxMessage | int,
        label_or_custom_id: str,
        *,
        member: SandboxMember | None = None,
    ) -> SandboxInteraction:
        """A member presses a button (found by custom_id or label) on the latest version
        of a message. Ephemeral messages default to the member they were shown to."""
        current = self._current(message)
        component = current.find_component(label_or_custom_id)
        if component.get("type") != 2:
            raise SandboxError(f"{label_or_custom_id!r} is not a button; use choose() for selects")
        if component.get("disabled"):
            raise SandboxError(f"button {label_or_custom_id!r} is disabled")
        if component.get("style") in (5, 6) or not component.get("custom_id"):
            raise SandboxError(f"button {label_or_custom_id!r} is a link; it sends no interaction")
        acting = self._member_for_message(current, member)
        guild, channel = self._message_place(current)
        data: JSON = {"custom_id": component["custom_id"], "component_type": 2}
        if "id" in component:
            data["id"] = component["id"]
        return await self._interact(
            3,
            data,
            self._remember(acting, guild),
            guild,
            channel,
            message=current,
            label=f"press {label_or_custom_id!r}",
        )

    async def choose(
        self,
        message: SandboxMessage | int,
        values: Sequence[Any],
        *,
        custom_id: str | None = None,
        member: SandboxMember | None = None,
    ) -> SandboxInteraction:
        """A member picks `values` in a select menu (the message's only one, or the one with
        this custom_id/placeholder). Values are option values, or ids/objects for entity
        selects."""
        current = self._current(message)
        if custom_id is None:
            selects = current.selects()
            if len(selects) != 1:
                raise SandboxError(
                    f"message {current.id} has {len(selects)} selects; pass custom_id to choose one"
                )
            select = selects[0]
        else:
            select = current.find_component(custom_id)
            if select.get("type") not in SELECT_TYPES:
                raise SandboxError(f"{custom_id!r} is not a select menu")
        if select.get("disabled"):
            raise SandboxError(f"select {select.get('custom_id')!r} is disabled")
        guild, channel = self._message_place(current)
        acting = self._remember(self._member_for_message(current, member), guild)
        chosen, resolved = self._select_values(select, values, guild, acting)
        data: JSON = {
            "custom_id": select["custom_id"],
            "component_type": select["type"],
            "values": chosen,
        }
        if "id" in select:
            data["id"] = select["id"]
        if resolved:
            data["resolved"] = resolved
        return await self._interact(
            3,
            data,
            acting,
            guild,
            channel,
            message=current,
            label=f"choose {chosen} in {select['custom_id']!r}",
        )

    def _select_values(
        self, select: JSON, values: Sequence[Any], guild: SandboxGuild, member: SandboxMember
    ) -> tuple[list[str], dict[str, dict[str, JSON]]]:
        name = repr(select.get("custom_id"))
        low = int(select.get("min_values", 1))
        high = int(select.get("max_values", 1))
        if not low <= len(values) <= high:
            raise SandboxError(f"select {name} takes {low}..{high} values, not {len(values)}")
        resolved: dict[str, dict[str, JSON]] = {}
        kind = int(select["type"])
        chosen: list[str] = []
        if kind == 3:
            offered = [str(o.get("value")) for o in select.get("options") or []]
            for value in values:
                if str(value) not in offered:
                    raise SandboxError(
                        f"select {name} has no option {value!r}; it offers {offered}"
                    )
                chosen.append(str(value))
            return chosen, resolved
        for value in values:
            if kind == 8 or (kind == 7 and isinstance(value, SandboxChannel)):
                channel = self.options.resolve_channel(value, guild, f"select {name}")
                resolved.setdefault("channels", {})[str(channel.id)] = channel_payload(
                    channel, permissions=self.options.member_permissions(guild, channel, member)
                )
                chosen.append(str(channel.id))
            elif kind == 6 or (
                kind == 7 and (isinstance(value, SandboxRole) or is_role_name(guild, value))
            ):
                role = self.options.resolve_role(value, guild, f"select {name}")
                resolved.setdefault("roles", {})[str(role.id)] = role_payload(role)
                chosen.append(str(role.id))
            else:
                user = self.options.resolve_member(value, f"select {name}")
                self.options.add_resolved_user(resolved, user, guild)
                chosen.append(str(user.id))
        return chosen, resolved

    async def submit_modal(
        self,
        interaction_or_modal: SandboxInteraction | Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        member: SandboxMember | None = None,
    ) -> SandboxInteraction:
        """A member fills in and submits the modal the bot opened. `values` are keyed by a
        field's custom_id or its label; required fields must be given."""
        if isinstance(interaction_or_modal, SandboxInteraction):
            parent = interaction_or_modal
            modal = parent.modal
            if modal is None:
                raise SandboxError(
                    f"{parent.label} got callback type {parent.callback_type}, not a modal"
                )
        else:
            raw = dict(interaction_or_modal)
            modal = raw["data"] if raw.get("type") == 9 and "data" in raw else raw
            parent = self._modal_opener(str(modal.get("custom_id")))
        guild = self.world.find_guild(parent.guild_id)
        channel = self._text_channel(guild, parent.channel_id)
        acting = self._remember(member or parent.member, guild)
        remaining = dict(values)
        components = self._modal_submission(modal.get("components") or [], remaining)
        if remaining:
            raise SandboxError(
                f"the modal {modal.get('title')!r} has no field(s) {list(remaining)}"
            )
        data: JSON = {"custom_id": modal["custom_id"], "components": components}
        source = parent.source_message
        return await self._interact(
            5,
            data,
            acting,
            guild,
            channel,
            message=source if source is not None and not source.deleted else None,
            parent=parent,
            label=f"submit modal {modal.get('title')!r}",
        )

    def _modal_opener(self, custom_id: str) -> SandboxInteraction:
        for interaction in reversed(self.world.interactions):
            modal = interaction.modal
            if modal is not None and modal.get("custom_id") == custom_id:
                return interaction
        raise SandboxError(f"no interaction opened a modal with custom_id {custom_id!r}")

    def _modal_submission(self, components: Sequence[JSON], values: dict[str, Any]) -> list[JSON]:
        submitted: list[JSON] = []
        for component in components:
            kind = component.get("type")
            if kind == 1:
                row = [
                    self._modal_field(c, c.get("label"), values)
                    for c in component.get("components") or []
                ]
                submitted.append({"type": 1, "components": row})
            elif kind == 18:
                child = component.get("component") or {}
                entry: JSON = {
                    "type": 18,
                    "component": self._modal_field(child, component.get("label"), values),
                }
                if "id" in component:
                    entry["id"] = component["id"]
                submitted.append(entry)
            elif kind == 10 and "id" in component:
                submitted.append({"type": 10, "id": component["id"]})
        return submitted

    def _modal_field(self, component: JSON, label: Any, values: dict[str, Any]) -> JSON:
        custom_id = str(component.get("custom_id"))
        kind = int(component.get("type", 4))
        given: Any = None
        for key in (custom_id, label):
            if isinstance(key, str) and key in values:
                given = values.pop(key)
                break
        entry: JSON = {"type": kind, "custom_id": custom_id}
        if "id" in component:
            entry["id"] = component["id"]
        if kind == 4:
            text = "" if given is None else str(given)
            required = component.get("required", True)
            if required and not text:
                raise SandboxError(f"the modal field {label or custom_id!r} is required")
            low, high = component.get("min_length"), component.get("max_length")
            if text and low is not None and len(text) < int(low):
                raise SandboxError(
                    f"the modal field {label or custom_id!r} needs {low}+ characters"
                )
            if high is not None and len(text) > int(high):
                raise SandboxError(
                    f"the modal field {label or custom_id!r} allows {high} characters"
                )
            entry["value"] = text
        else:
            chosen = [] if given is None else [given] if isinstance(given, str) else list(given)
            entry["values"] = [str(v) for v in chosen]
        return entry

    async def post_as_member(
        self,
        content: str,
        *,
        channel_id: int | None = None,
        member: SandboxMember | None = None,
        guild_id: int | None = None,
    ) -> SandboxMessage:
        """A member writes an ordinary message in a channel (MESSAGE_CREATE to the bot)."""
        guild = self.world.find_guild(guild_id)
        channel = self._text_channel(guild, channel_id)
        author = self._remember(member or self.sandbox.member, guild)
        message = self.world.store_message(
            SandboxMessage(
                id=self.world.new_id(),
                channel_id=channel.id,
                guild_id=guild.id,
                author=member_user_payload(author),
                content=content,
            )
        )
        await self.sandbox.gateway.dispatch_message_event("MESSAGE_CREATE", message)
        return message

    async def _interact(
        self,
        kind: int,
        data: JSON,
        member: SandboxMember,
        guild: SandboxGuild,
        channel: SandboxChannel,
        *,
        locale: str | None = None,
        message: SandboxMessage | None = None,
        parent: SandboxInteraction | None = None,
        label: str,
        patch: Callable[[JSON], None] | None = None,
    ) -> SandboxInteraction:
        live = self.sandbox.gateway.live_connection("INTERACTION_CREATE", guild.id)
        interaction_id = self.world.new_id()
        token = _INTERACTION_TOKEN_PREFIX + secrets.token_urlsafe(48)
        member_permissions = self.options.member_permissions(guild, channel, member)
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.sandbox.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel_payload(
                channel,
                permissions=member_permissions,
                last_message_id=self.world.last_message_id(channel.id),
            ),
            "member": member_payload(member, permissions=member_permissions),
            "token": token,
            "version": 1,
            "locale": locale or member.locale,
            "guild_locale": guild.preferred_locale,
            "app_permissions": str(self.world.bot_channel_permissions(guild, channel)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": self.sandbox.attachment_size_limit,
        }
        if message is not None:
            payload["message"] = self.world.message_json(message)
        if patch is not None:
            patch(payload)
        interaction = SandboxInteraction(
            self.sandbox,
            id=interaction_id,
            token=token,
            type=kind,
            member=member,
            guild_id=guild.id,
            channel_id=channel.id,
            data=data,
            payload=payload,
            source_message=message,
            parent=parent,
            created_at=time.monotonic(),
            label=f"{label} by {member.name}",
        )
        self.world.interactions_by_id[interaction_id] = interaction
        self.world.interactions_by_token[token] = interaction
        self.world.interactions.append(interaction)
        try:
            await live.dispatch("INTERACTION_CREATE", payload)
        except ConnectionError as exc:
            raise SandboxError(
                "the bot's gateway connection closed during INTERACTION_CREATE"
            ) from exc
        return interaction

    async def forge(
        self,
        kind: int,
        data: JSON,
        *,
        member: SandboxMember | None = None,
        place: str = "server",
        message: SandboxMessage | None = None,
    ) -> SandboxInteraction:
        """An interaction as a modified client could send it: any custom id, any select
        values, any option values, from `place` "server" (the first one), "unknown" (a
        server the bot was never told about) or "dm" (a direct message). Discord passes
        such interactions on, so the bot must answer them kindly."""
        acting = member or self.sandbox.member
        if place == "unknown":
            guild = SandboxGuild.create(
                stable_snowflake("forged-guild", len(self.world.interactions)),
                name="Unknown Server",
                bot_user_id=self.sandbox.bot_user_id,
                members=[acting],
            )
        else:
            guild = self.world.guild
            self._remember(acting, guild)
        channel = guild.text_channels[0]

        def as_dm(payload: JSON) -> None:
            for key in ("guild_id", "guild", "member", "guild_locale"):
                payload.pop(key, None)
            payload["user"] = member_user_payload(acting)
            payload["channel_id"] = str(stable_snowflake("forged-dm", acting.id))
            payload["channel"] = {"id": payload["channel_id"], "type": 1, "flags": 0}
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"1": str(acting.id)}

        return await self._interact(
            kind,
            data,
            acting,
            guild,
            channel,
            message=message,
            label=f"forged {kind} in {place}",
            patch=as_dm if place == "dm" else None,
        )

    def add_bot_message(self, components: list[JSON], *, content: str = "") -> SandboxMessage:
        """A message the bot posted in the first channel before this run (by an earlier
        version, say), carrying `components` as they were then."""
        channel = self.world.guild.text_channels[0]
        return self.world.store_message(
            SandboxMessage(
                id=self.world.new_id(),
                channel_id=channel.id,
                guild_id=channel.guild_id,
                author=self.world.bot_user(),
                content=content,
                components=components,
            )
        )
