"""One interaction the sandbox sent the bot, and everything the bot answered to it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.sandbox.common import (
    SandboxError,
)
from bot.sandbox.payloads import (
    EPHEMERAL,
    JSON,
    SandboxMember,
    SandboxMessage,
)
from bot.sandbox.recorder import (
    RecordedFile,
)

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox


class SandboxInteraction:
    """One interaction the sandbox dispatched, and everything the bot answered to it."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        id: int,
        token: str,
        type: int,
        member: SandboxMember,
        guild_id: int,
        channel_id: int,
        data: JSON,
        payload: JSON,
        source_message: SandboxMessage | None,
        parent: SandboxInteraction | None,
        created_at: float,
        label: str,
    ) -> None:
        self._sandbox = sandbox
        self.id = id
        self.token = token
        self.type = type
        self.member = member
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.data = data
        self.payload = payload
        self.source_message = source_message
        self.parent = parent
        self.created_at = created_at
        self.label = label
        self.callback: JSON | None = None
        self.callback_type: int | None = None
        self.callback_files: list[RecordedFile] = []
        self.responded_after: float | None = None
        self.original: SandboxMessage | None = None
        self.followups: list[SandboxMessage] = []
        self.original_edited = False

    def __repr__(self) -> str:
        return f"<SandboxInteraction {self.label} id={self.id} callback_type={self.callback_type}>"

    @property
    def ephemeral(self) -> bool:
        """Whether the initial response is visible only to the member."""
        if self.callback_type in (4, 5) and self.callback is not None:
            return bool(int((self.callback.get("data") or {}).get("flags") or 0) & EPHEMERAL)
        if self.callback_type in (6, 7) and self.source_message is not None:
            return self.source_message.ephemeral
        return False

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (callback type 9), as sent."""
        if self.callback_type == 9 and self.callback is not None:
            data: JSON = self.callback.get("data") or {}
            return data
        return None

    def _visible_original(self) -> SandboxMessage | None:
        original = self.original
        if original is None:
            return None
        if self.callback_type in (4, 7):
            return original
        if self.callback_type == 5 and not original.loading:
            return original
        if self.callback_type == 6 and self.original_edited:
            return original
        return None

    def visible_messages(self) -> list[SandboxMessage]:
        """The response and follow-ups so far, each in its latest version."""
        original = self._visible_original()
        return ([original] if original is not None else []) + list(self.followups)

    async def response(self, timeout: float = 5) -> SandboxMessage | JSON:
        """The initial response: a message for types 4 and 7 (and, after a defer of type 5
        or 6, the message once the bot filled it in); the raw callback for types 8 and 9."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changes = self._sandbox.world.changes
        await changes.wait_for(
            lambda: True if self.callback_type is not None else None,
            timeout,
            f"the bot to respond to {self.label}",
            deadline=deadline,
        )
        if self.callback_type not in (4, 5, 6, 7):
            assert self.callback is not None
            return self.callback
        what = {
            5: f"the bot to fill in its deferred response to {self.label}",
            6: f"the bot to edit the message after deferring the update for {self.label}",
        }.get(self.callback_type or 0, f"the response message of {self.label}")
        return await changes.wait_for(self._visible_original, timeout, what, deadline=deadline)

    async def response_message(self, timeout: float = 5) -> SandboxMessage:
        """`response()` for when a message is expected; a modal or choices fail clearly."""
        result = await self.response(timeout)
        if not isinstance(result, SandboxMessage):
            raise SandboxError(
                f"{self.label} was answered with callback type {self.callback_type}, not a message"
            )
        return result

    async def messages(self, count: int = 1, timeout: float = 5) -> list[SandboxMessage]:
        """Wait until at least `count` messages answer this interaction; return them all."""

        def enough() -> list[SandboxMessage] | None:
            messages = self.visible_messages()
            return messages if len(messages) >= count else None

        return await self._sandbox.world.changes.wait_for(
            enough,
            timeout,
            f"{count} message(s) answering {self.label} (have {len(self.visible_messages())})",
        )
