"""Least privilege: who may do what, in which server.

Every moderator action × (member, member with the moderator role, Manage Server, the
moderator of another server, the host). A refusal is private and changes nothing; the
reload is for the host only; /schedule add needs the moderator to be able to post in the
channel too; and the schedule limit holds when adds arrive at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.app import PeerlightBot
from bot.cogs.schedule import MAX_SCHEDULES_PER_SERVER
from bot.config import Settings
from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.payloads import (
    MEMBER_PERMISSIONS,
    MODERATOR_PERMISSIONS,
    Permission,
    SandboxMember,
    SandboxRole,
    stable_snowflake,
)
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.storage.content_files import LoadReport
from bot.storage.schedule_store import NewSchedule, ScheduleLimitReached
from bot.ui.errors import NOT_ALLOWED, NOT_HOST

REFUSED_CHANNEL = "You can't send messages in #general yourself"


@contextlib.asynccontextmanager
async def bot_for(
    sandbox: Sandbox, settings: Settings, report: LoadReport, tmp_path: Path, **moderation: Any
) -> AsyncIterator[PeerlightBot]:
    settings = settings.model_copy(
        update={"moderation": settings.moderation.model_copy(update=moderation)}
    )
    configured = sandbox_settings(settings, sandbox, database=tmp_path / "matrix.sqlite3")
    async with running_bot(sandbox, configured, report=report) as bot:
        yield bot


def new_schedule(guild_id: int, channel_id: int) -> NewSchedule:
    return NewSchedule(
        guild_id=guild_id,
        channel_id=channel_id,
        at=LocalTime(9, 0),
        days=frozenset(range(7)),
        timezone="UTC",
        kind=PromptKind.CHECK_IN,
    )


async def answer(
    sandbox: Sandbox, name: str, options: dict[str, Any], who: SandboxMember
) -> SandboxMessage:
    message = await (await sandbox.command(name, options, member=who)).response_message()
    assert message.ephemeral
    return message


ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("summary", {}),
    ("schedule add", {"channel": "general", "time": "9:00", "days": "daily", "kind": "check-in"}),
    ("schedule list", {}),
    ("schedule preview", {}),
    ("schedule pause", {"id": "SEEDED"}),
    ("schedule resume", {"id": "SEEDED"}),
    ("content status", {}),
    ("content reload", {}),
    ("schedule remove", {"id": "SEEDED"}),
    ("settings view", {}),
    ("settings timezone", {"timezone": "Europe/London"}),
    ("settings reset", {"setting": "timezone"}),
]


async def test_every_moderator_action_for_every_kind_of_member(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    home = sandbox.guild
    other = await sandbox.add_guild(name="Another Server")
    mentor_role = SandboxRole(
        id=stable_snowflake(home.id, "role", "Peer Mentor"),
        name="Peer Mentor",
        permissions=MEMBER_PERMISSIONS,
    )
    home.roles[mentor_role.id] = mentor_role
    other_admin = SandboxRole(
        id=stable_snowflake(other.id, "role", "Admin"),
        name="Admin",
        permissions=MEMBER_PERMISSIONS | MODERATOR_PERMISSIONS,
    )
    other.roles[other_admin.id] = other_admin
    member = sandbox.member
    mentor = sandbox.add_member(
        SandboxMember(id=1191199223139091001, name="robin", roles=[mentor_role.id])
    )
    manager = sandbox.moderator
    elsewhere = SandboxMember(id=1191199223139091002, name="kit", roles=[other_admin.id])
    sandbox.add_member(elsewhere)
    sandbox.add_member(elsewhere, guild_id=other.id)
    host = sandbox.add_member(sandbox.owner)

    # Who may do what: the moderator role and Manage Server in this server, never in
    # another; the reload for the host alone.
    allowed = {
        "member": set(),
        "role": {a for a, _ in ACTIONS} - {"content reload"},
        "manage": {a for a, _ in ACTIONS} - {"content reload"},
        "elsewhere": set(),
        "host": {"content reload"},
    }
    people = {
        "member": member,
        "role": mentor,
        "manage": manager,
        "elsewhere": elsewhere,
        "host": host,
    }
    async with bot_for(sandbox, settings, shipped_report, tmp_path, role=mentor_role.id) as bot:
        store = bot.services.schedules
        general = sandbox.channel("general")
        for number, (who, person) in enumerate(people.items()):
            seeded = await store.add(
                new_schedule(home.id, general.id),
                now=bot.services.clock(),
                make_short_id=lambda n=number: f"{n + 10:06x}",
            )
            for action, options in ACTIONS:
                options = {k: (seeded.short_id if v == "SEEDED" else v) for k, v in options.items()}
                before = await store.count(home.id)
                reply = await answer(sandbox, action, options, person)
                refusal = NOT_HOST if action == "content reload" else NOT_ALLOWED
                if action in allowed[who]:
                    assert reply.content != refusal, (who, action)
                else:
                    assert reply.content == refusal, (who, action, reply.content)
                    assert await store.count(home.id) == before, (who, action)
                    assert await store.get(home.id, seeded.short_id) == seeded, (who, action)
            await store.remove(home.id, seeded.short_id)


async def test_schedule_add_needs_the_moderator_to_be_able_to_post_there(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    general = sandbox.channel("general")
    options = {"channel": "general", "time": "9:00", "days": "daily", "kind": "check-in"}
    async with bot_for(sandbox, settings, shipped_report, tmp_path) as bot:
        await sandbox.set_channel_overwrite(
            general.id, sandbox.moderator.id, target_type=1, deny=Permission.SEND_MESSAGES
        )
        await asyncio.sleep(0.05)  # CHANNEL_UPDATE reaches the bot's cache
        refused = await answer(sandbox, "schedule add", options, sandbox.moderator)
        assert refused.content.startswith(REFUSED_CHANNEL)
        assert "Nothing was saved" in refused.content
        assert await bot.services.schedules.count(sandbox.guild.id) == 0
        await sandbox.set_channel_overwrite(general.id, sandbox.moderator.id, target_type=1)
        await asyncio.sleep(0.05)
        saved = await answer(sandbox, "schedule add", options, sandbox.moderator)
        assert saved.embeds, saved.content
        assert await bot.services.schedules.count(sandbox.guild.id) == 1


async def test_adds_at_once_cannot_pass_the_limit_together(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    general = sandbox.channel("general")
    options = {"channel": "general", "time": "9:00", "days": "daily", "kind": "check-in"}
    async with bot_for(sandbox, settings, shipped_report, tmp_path) as bot:
        store = bot.services.schedules
        for index in range(MAX_SCHEDULES_PER_SERVER - 1):
            await store.add(
                new_schedule(sandbox.guild.id, general.id),
                now=bot.services.clock(),
                make_short_id=lambda i=index: f"{i + 100:06x}",
            )
        # Four different schedules (the same one twice is refused as a duplicate).
        interactions = await asyncio.gather(
            *(
                sandbox.command(
                    "schedule add", {**options, "time": f"10:0{n}"}, member=sandbox.moderator
                )
                for n in range(4)
            )
        )
        replies = [await i.response_message() for i in interactions]
        saved = [r for r in replies if r.embeds]
        refused = [r for r in replies if "already has 15 scheduled prompts" in r.content]
        assert (len(saved), len(refused)) == (1, 3)
        assert await store.count(sandbox.guild.id) == MAX_SCHEDULES_PER_SERVER


async def test_the_store_counts_and_inserts_in_one_transaction(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    async with bot_for(sandbox, settings, shipped_report, tmp_path) as bot:
        store = bot.services.schedules
        ids = iter(f"{n:06x}" for n in range(100))
        results = await asyncio.gather(
            *(
                store.add(
                    new_schedule(7, 8),
                    now=bot.services.clock(),
                    make_short_id=lambda: next(ids),
                    limit=3,
                )
                for _ in range(8)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(r, ScheduleLimitReached) for r in results) == 5
        assert await store.count(7) == 3
