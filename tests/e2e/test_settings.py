"""/settings end to end: two servers set themselves up differently and each behaves by its
own settings; only a server's own moderators, roles and channels count."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import PeerlightBot
from bot.cogs.settings import own_channel
from bot.config import Settings, parse_settings
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.payloads import (
    MEMBER_PERMISSIONS,
    SandboxGuild,
    SandboxMember,
    SandboxRole,
    stable_snowflake,
)
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.storage.content_files import LoadReport
from bot.ui.errors import NOT_A_CHOICE, NOT_ALLOWED

DANGER = "i want to kill myself"
REACH_OUT = "Ask a moderator to reach out"


def add_role(guild: SandboxGuild, name: str) -> SandboxRole:
    role = SandboxRole(
        id=stable_snowflake(guild.id, "role", name), name=name, permissions=MEMBER_PERMISSIONS
    )
    guild.roles[role.id] = role
    return role


@contextlib.asynccontextmanager
async def two_server_bot(
    sandbox: Sandbox,
    settings: Settings,
    report: LoadReport,
    tmp_path: Path,
    other: SandboxGuild,
) -> AsyncIterator[PeerlightBot]:
    configured = sandbox_settings(settings, sandbox, database=tmp_path / "settings.sqlite3")
    discord = configured.discord.model_copy(update={"guild_ids": (sandbox.guild.id, other.id)})
    async with running_bot(
        sandbox, configured.model_copy(update={"discord": discord}), report=report
    ) as bot:
        yield bot


async def said(
    sandbox: Sandbox,
    name: str,
    options: dict[str, Any],
    who: SandboxMember,
    guild: SandboxGuild,
) -> str:
    interaction = await sandbox.command(name, options, member=who, guild_id=guild.id)
    message = await interaction.response_message()
    assert message.ephemeral, (name, message.content)
    return message.content


def support_lines_of(message: SandboxMessage) -> list[str]:
    return [
        str(field["name"])
        for embed in message.embeds
        for field in embed.get("fields") or []
        if str(field.get("name", "")).startswith("Support lines · ")
    ]


def labels(message: SandboxMessage) -> list[str]:
    return [str(b.get("label")) for b in message.buttons()]


async def test_two_servers_each_behave_by_their_own_settings(
    sandbox: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cogs.settings")
    home = sandbox.guild
    other = await sandbox.add_guild(name="Another Server")
    home_mods = await sandbox.add_channel("moderators")
    other_mods = await sandbox.add_channel("mods-only", guild_id=other.id)
    await sandbox.add_channel("general", guild_id=other.id)
    mentor = add_role(home, "Peer Mentor")
    helper = add_role(other, "Helper")
    home_admin = sandbox.moderator
    other_admin = sandbox.add_member(
        SandboxMember.moderator(id=1191199223139092001, name="ash"), guild_id=other.id
    )
    # Robin holds the moderator role of the home server and is a plain member elsewhere.
    robin = SandboxMember(id=1191199223139092002, name="robin", roles=[mentor.id])
    sandbox.add_member(robin)
    sandbox.add_member(SandboxMember(id=robin.id, name="robin"), guild_id=other.id)
    member = sandbox.member
    sandbox.add_member(member, guild_id=other.id)

    async with two_server_bot(sandbox, settings, shipped_report, tmp_path, other) as bot:
        # Before anything is set, Robin's role means nothing anywhere.
        assert await said(sandbox, "settings view", {}, robin, home) == NOT_ALLOWED

        for guild, admin, role, channel, region, zone in (
            (home, home_admin, mentor, home_mods, "IE", "Europe/Dublin"),
            (other, other_admin, helper, other_mods, "CA", "America/Toronto"),
        ):
            answer = await said(sandbox, "settings moderator-roles", {"role": role}, admin, guild)
            assert answer.startswith(f"Moderator roles: now <@&{role.id}> (set in this server)")
            answer = await said(sandbox, "settings reach-out", {"channel": channel}, admin, guild)
            assert f"now <#{channel.id}>" in answer and "I can post there" in answer
            answer = await said(sandbox, "settings region", {"region": region}, admin, guild)
            assert answer.startswith("Crisis region: now ")
            await said(sandbox, "settings timezone", {"timezone": zone}, admin, guild)

        # The moderator role of one server has no power in the other.
        view = await said(sandbox, "settings view", {}, robin, home)
        assert f"Moderator roles: <@&{mentor.id}> — set in this server" in view
        assert "Crisis region: Ireland (IE) — set in this server" in view
        assert "Time zone for schedules: Europe/Dublin — set in this server" in view
        assert "Smallest group size for summaries: 10 (never below 10) — the host's default" in (
            view
        )
        assert await said(sandbox, "settings view", {}, robin, other) == NOT_ALLOWED
        assert await said(sandbox, "summary", {}, robin, other) == NOT_ALLOWED
        assert await said(sandbox, "settings region", {"region": "GB"}, robin, other) == NOT_ALLOWED
        assert bot.services.server(other.id).region.value == "CA"
        other_view = await said(sandbox, "settings view", {}, other_admin, other)
        assert "Canada (CA)" in other_view and "Ireland" not in other_view

        # A member's crisis reply: that server's region (over their en-US language) and
        # that server's reach-out channel.
        for guild, channel, lines in (
            (home, home_mods, "Support lines · Ireland"),
            (other, other_mods, "Support lines · Canada"),
        ):
            block = await (
                await sandbox.command("cope", {"feeling": DANGER}, member=member, guild_id=guild.id)
            ).response_message()
            assert support_lines_of(block)[0] == lines
            assert REACH_OUT in labels(block)
            await (await sandbox.press(block, REACH_OUT, member=member)).response_message()
            (request,) = sandbox.channel_messages(channel.id)
            assert request.content.startswith(f"<@{member.id}> asked for a moderator")

        # A member who names a region still gets that one.
        named = await (
            await sandbox.command("resources", {"region": "US"}, member=member)
        ).response_message()
        assert "Support lines · United States" in str(named.embeds)

        # Schedules made without a time zone use the server's.
        for guild, admin, channel_name, zone in (
            (home, home_admin, "general", "Europe/Dublin"),
            (other, other_admin, "general", "America/Toronto"),
        ):
            channel = next(c for c in guild.text_channels if c.name == channel_name)
            options = {"channel": channel, "time": "9:00", "days": "daily", "kind": "check-in"}
            await said(sandbox, "schedule add", options, admin, guild)
            (schedule,) = await bot.services.schedules.for_guild(guild.id)
            assert schedule.timezone == zone

    changes = [r.getMessage() for r in caplog.records if r.name == "bot.cogs.settings"]
    assert f"server {home.id} changed setting region" in changes
    assert f"server {other.id} changed setting moderator_roles" in changes
    ids = {str(p.id) for p in (home_admin, other_admin, robin, member)}
    ids |= {str(x) for x in (mentor.id, helper.id, home_mods.id, other_mods.id)}
    assert not [line for line in changes if any(i in line for i in ids)]


async def test_refusals_change_nothing_and_say_what_to_do(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    admin = sandbox.moderator
    home = sandbox.guild
    everyone = next(r for r in home.roles.values() if r.id == home.id)
    answer = await said(sandbox, "settings moderator-roles", {"role": everyone}, admin, home)
    assert answer.startswith("@everyone can't be a moderator role")

    closed = await sandbox.add_channel("closed")
    await sandbox.set_bot_permissions(closed.id, deny=1 << 11)  # Send Messages
    await asyncio.sleep(0.05)  # CHANNEL_UPDATE reaches the bot's cache
    answer = await said(sandbox, "settings reach-out", {"channel": closed}, admin, home)
    assert "the bot may not post there" in answer and "Nothing was changed" in answer

    answer = await said(sandbox, "settings region", {"region": "Atlantis"}, admin, home)
    assert answer.startswith("I don't have support lines for “Atlantis”")
    answer = await said(sandbox, "settings timezone", {"timezone": "Mars/Olympus"}, admin, home)
    assert "Mars/Olympus" in answer
    answer = await said(sandbox, "settings group-size", {"size": 9}, admin, home)
    assert answer.startswith("The smallest group size can't go below 10")
    assert bot.services.server_settings.guild_ids() == []
    assert bot.services.server_settings.chosen(home.id).region is None


async def test_ids_from_another_server_are_refused(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    home = sandbox.guild
    other = await sandbox.add_guild(name="Another Server")
    foreign_role = add_role(other, "Admins")
    foreign_channel = await sandbox.add_channel("their-mods", guild_id=other.id)
    async with two_server_bot(sandbox, settings, shipped_report, tmp_path, other) as bot:
        (registered,) = [c for c in sandbox.registered_commands(home.id) if c["name"] == "settings"]

        async def forged(sub: str, option: str, kind: int, target: int, resolved: Any) -> str:
            data = {
                "id": registered["id"],
                "name": "settings",
                "type": 1,
                "options": [
                    {
                        "name": sub,
                        "type": 1,
                        "options": [{"name": option, "type": kind, "value": str(target)}],
                    }
                ],
                "resolved": resolved,
            }
            interaction = await sandbox.forge(2, data, member=sandbox.moderator)
            return (await interaction.response_message()).content

        role_data = {
            "id": str(foreign_role.id),
            "name": foreign_role.name,
            "permissions": str(foreign_role.permissions),
            "position": 1,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
        }
        answer = await forged(
            "moderator-roles",
            "role",
            8,
            foreign_role.id,
            {"roles": {str(foreign_role.id): role_data}},
        )
        assert answer.startswith("That role isn't one of this server's roles")
        channel_data = {
            "id": str(foreign_channel.id),
            "name": foreign_channel.name,
            "type": 0,
            "permissions": "0",
        }
        answer = await forged(
            "reach-out",
            "channel",
            7,
            foreign_channel.id,
            {"channels": {str(foreign_channel.id): channel_data}},
        )
        # discord.py finds no such channel in this server: refused before the command runs.
        assert answer == NOT_A_CHOICE
        # And were it found, the command refuses it itself.
        here = bot.get_guild(home.id)
        assert here is not None
        problem = own_channel(bot, here, foreign_channel.id)
        assert problem == "that channel isn't one of this server's channels"
        assert bot.services.server_settings.guild_ids() == []


async def test_reset_returns_to_the_host_default_at_once(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    host = parse_settings(
        {"crisis": {"default_region": "GB"}, "privacy": {"min_group_size_floor": 5}}
    )
    configured = sandbox_settings(host, sandbox, database=tmp_path / "reset.sqlite3")
    admin, home = sandbox.moderator, sandbox.guild
    async with running_bot(sandbox, configured, report=shipped_report) as bot:
        answer = await said(sandbox, "settings group-size", {"size": 6}, admin, home)
        assert re.match(r"Smallest group size for summaries: now 6 .*it was 10", answer)
        assert "weeks already published keep the size" in answer
        assert bot.services.server(home.id).min_group_size.value == 6
        await said(sandbox, "settings region", {"region": "ie"}, admin, home)
        answer = await said(sandbox, "settings reset", {"setting": "region"}, admin, home)
        assert "now not set" in answer and "United Kingdom (GB)" in answer
        assert bot.services.server(home.id).region.value is None
        choices = await sandbox.autocomplete(
            "settings timezone", {"timezone": "london"}, "timezone", member=admin
        )
        assert [c["value"] for c in choices] == ["Europe/London"]
        regions = await sandbox.autocomplete("settings region", {}, "region", member=admin)
        assert {c["value"] for c in regions} >= {"GB", "US", "IE"}


NOTE_START = "**Peerlight isn't set up for this server yet.**"


async def visible_after(interaction: Any, count: int) -> list[SandboxMessage]:
    """The interaction's messages once `count` arrived, and a moment for any more."""
    await interaction.messages(count)
    await asyncio.sleep(0.2)
    return list(interaction.visible_messages())


def notes(messages: list[SandboxMessage]) -> list[SandboxMessage]:
    return [m for m in messages if m.content.startswith(NOTE_START)]


async def test_joining_posts_nothing_and_the_first_moderator_gets_one_private_note(
    sandbox: Sandbox, settings: Settings, shipped_report: LoadReport, tmp_path: Path
) -> None:
    home = sandbox.guild
    async with running_bot(
        sandbox,
        sandbox_settings(settings, sandbox, database=tmp_path / "first.sqlite3"),
        report=shipped_report,
    ) as bot:
        joined = await sandbox.add_guild(name="Just Invited")
        await sandbox.add_channel("general", guild_id=joined.id)
        await asyncio.sleep(0.2)
        assert bot.get_guild(joined.id) is not None
        for guild in (home, joined):
            for channel in guild.text_channels:
                assert sandbox.channel_messages(channel.id) == [], channel.name

        # A member's command: no note.
        member_sees = await visible_after(await sandbox.command("about"), 1)
        assert notes(member_sees) == []

        # The first moderator command: the answer, then the note, privately.
        first = await visible_after(
            await sandbox.command("schedule list", member=sandbox.moderator), 2
        )
        (note,) = notes(first)
        assert note is first[-1]  # after the answer
        (answer,) = [m for m in first if m is not note]
        assert "No scheduled prompts in this server yet" in answer.embeds[0]["description"]
        assert note.ephemeral
        assert "- Moderator roles: none (only members with Manage Server)" in note.content
        assert "button “Ask a moderator to reach out” is not offered" in note.content
        assert "`/settings`" in note.content
        # Once per server, whoever comes next, also after a restart.
        again = await visible_after(
            await sandbox.command("schedule list", member=sandbox.moderator), 1
        )
        assert notes(again) == []
    async with running_bot(
        sandbox,
        sandbox_settings(settings, sandbox, database=tmp_path / "first.sqlite3"),
        report=shipped_report,
    ):
        later = await visible_after(
            await sandbox.command("schedule list", member=sandbox.moderator), 1
        )
        assert notes(later) == []
        for channel in home.text_channels:
            assert sandbox.channel_messages(channel.id) == [], channel.name


async def test_a_moderator_who_starts_with_settings_gets_no_note_and_a_set_up_server_none(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    first = await visible_after(await sandbox.command("settings view", member=sandbox.moderator), 1)
    assert notes(first) == []
    assert any(m.content.startswith("**Peerlight's settings") for m in first)
    assert bot.services.server(sandbox.guild.id).first_run_noted
    later = await visible_after(await sandbox.command("summary", member=sandbox.moderator), 1)
    assert notes(later) == []


async def test_about_tells_members_what_this_server_switched_on(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    def here(message: SandboxMessage) -> str:
        (embed,) = message.embeds
        (field,) = [f for f in embed["fields"] if f["name"] == "In this server"]
        return str(field["value"])

    before = here(await (await sandbox.command("about")).response_message())
    assert "**Asking a moderator to reach out: off** in this server." in before
    assert "for the region your Discord language names, else International" in before
    assert "hide any number below 10" in before

    admin, home = sandbox.moderator, sandbox.guild
    moderators = await sandbox.add_channel("moderators")
    await said(sandbox, "settings reach-out", {"channel": moderators}, admin, home)
    await said(sandbox, "settings region", {"region": "IE"}, admin, home)
    await said(sandbox, "settings group-size", {"size": 12}, admin, home)

    after = here(await (await sandbox.command("about")).response_message())
    assert "**Asking a moderator to reach out: on.**" in after
    assert "**Support lines shown first:** Ireland, unless you ask `/resources`" in after
    assert "hide any number below 12" in after


async def test_the_config_settings_are_copied_once_then_reported_as_deprecated(
    sandbox: Sandbox,
    settings: Settings,
    shipped_report: LoadReport,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cogs.settings")
    home = sandbox.guild
    mentor = add_role(home, "Peer Mentor")
    other_role = add_role(home, "Listener")
    moderators = await sandbox.add_channel("moderators")
    old = settings.model_copy(
        update={
            "moderation": settings.moderation.model_copy(
                update={"role": mentor.id, "reach_out_channels": {home.id: moderators.id}}
            )
        }
    )
    configured = sandbox_settings(old, sandbox, database=tmp_path / "copied.sqlite3")

    def lines(level: int) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == "bot.cogs.settings" and r.levelno == level
        ]

    async with running_bot(sandbox, configured, report=shipped_report) as bot:
        await asyncio.sleep(0.3)  # on_ready has run
        chosen = bot.services.server_settings.chosen(home.id)
        assert chosen.moderator_roles == frozenset({mentor.id})
        assert chosen.reach_out_channel == moderators.id
        copied = lines(logging.INFO)
        expected = (
            f"moderation.role: role {mentor.id} copied into the settings of server {home.id} "
            "(/settings moderator-roles there changes it)"
        )
        assert expected in copied
        assert any(line.startswith("moderation.reach_out_channels: channel") for line in copied)
        warned = lines(logging.WARNING)
        assert any(w.startswith("moderation.role is deprecated") for w in warned)
        assert any(w.startswith("moderation.reach_out_channels is deprecated") for w in warned)
        view = await said(sandbox, "settings view", {}, sandbox.moderator, home)
        assert f"Moderator roles: <@&{mentor.id}> — set in this server" in view
        # The server's moderators change it; the config never overwrites their choice.
        await said(
            sandbox, "settings reset", {"setting": "reach_out_channel"}, sandbox.moderator, home
        )
        await said(
            sandbox, "settings moderator-roles", {"role": other_role}, sandbox.moderator, home
        )

    caplog.clear()
    async with running_bot(sandbox, configured, report=shipped_report) as bot:
        await asyncio.sleep(0.3)
        chosen = bot.services.server_settings.chosen(home.id)
        assert chosen.moderator_roles == frozenset({other_role.id})
        assert chosen.reach_out_channel is None
        assert lines(logging.INFO) == []
        assert any(w.startswith("moderation.role is deprecated") for w in lines(logging.WARNING))
