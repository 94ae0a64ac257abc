"""/content status (moderators) and /content reload (the host only); a broken reload changes
nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import PeerlightBot
from bot.config import SHIPPED_CONTENT_DIR, ConfigError, Settings, parse_settings
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.payloads import MEMBER_PERMISSIONS, SandboxMember, SandboxRole, stable_snowflake
from bot.sandbox.server import Sandbox
from bot.ui.errors import NOT_ALLOWED, NOT_HOST


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(SHIPPED_CONTENT_DIR, target)
    return target


@contextlib.asynccontextmanager
async def bot_on(
    sandbox: Sandbox, settings: Settings, tmp_path: Path, **changes: Any
) -> AsyncIterator[PeerlightBot]:
    content_dir = changes.pop("content_dir", None)
    if changes:
        settings = settings.model_copy(
            update={"moderation": settings.moderation.model_copy(update=changes)}
        )
    configured = sandbox_settings(
        settings, sandbox, database=tmp_path / "admin.sqlite3", content_dir=content_dir
    )
    async with running_bot(sandbox, configured) as running:
        yield running


async def test_status_shows_counts_load_time_and_warnings(
    sandbox: Sandbox, bot: PeerlightBot
) -> None:
    interaction = await sandbox.command("content status", member=sandbox.moderator)
    message = await interaction.response_message()
    assert message.ephemeral
    (embed,) = message.embeds
    assert embed["title"] == "Content library"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    counts = bot.services.content.catalog.counts()
    assert fields["Techniques"] == str(counts["techniques"])
    assert fields["Stories"] == str(counts["stories"])
    assert fields["Regions"] == str(counts["regions"])
    loaded = int(bot.services.content.loaded_at.timestamp())
    assert fields["Loaded"] == f"<t:{loaded}:R>"
    assert bot.services.content.warnings == []  # the shipped library has none
    assert fields["Warnings"] == "None"


async def test_status_counts_the_warnings_of_the_loaded_library(
    sandbox: Sandbox, settings: Settings, tmp_path: Path, content_copy: Path
) -> None:
    # Two support lines last checked 320 and 400 days ago: both warn, and neither stops the
    # bot from loading its library (only the scheduled check fails on a year-old date).
    stale_dates = [(dt.date.today() - dt.timedelta(days=days)).isoformat() for days in (320, 400)]
    australia = content_copy / "resources" / "au.yaml"
    text = australia.read_text(encoding="utf-8")
    dates = re.findall(r"last_verified: (\S+)", text)
    assert len(dates) >= 2
    for old, stale in zip(dates[:2], stale_dates, strict=True):
        text = text.replace(f"last_verified: {old}", f"last_verified: {stale}", 1)
    australia.write_text(text, encoding="utf-8")
    async with bot_on(sandbox, settings, tmp_path, content_dir=content_copy) as bot:
        warnings = bot.services.content.warnings
        assert len(warnings) == 2
        assert all("au.yaml" in problem.format() for problem in warnings)
        message = await (
            await sandbox.command("content status", member=sandbox.moderator)
        ).response_message()
        (embed,) = message.embeds
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Warnings"] == "2 (run `peerlight content check` to see them)"


@pytest.mark.parametrize(
    ("command", "refusal"), [("content status", NOT_ALLOWED), ("content reload", NOT_HOST)]
)
async def test_a_member_is_refused_and_nothing_changes(
    sandbox: Sandbox, bot: PeerlightBot, command: str, refusal: str
) -> None:
    content = bot.services.content
    catalog, loaded_at = content.catalog, content.loaded_at
    message = await (await sandbox.command(command)).response_message()
    assert message.ephemeral
    assert message.content == refusal
    assert message.embeds == []
    assert content.catalog is catalog and content.loaded_at == loaded_at


async def test_reload_is_for_the_host_not_a_servers_moderators(
    sandbox: Sandbox, settings: Settings, tmp_path: Path
) -> None:
    """A reload changes the library of every server: Manage Server in one is not enough."""
    host = sandbox.add_member(SandboxMember(id=1191199223139090111, name="sam"))
    async with bot_on(sandbox, settings, tmp_path, host_ids=(host.id,)) as bot:
        content = bot.services.content
        before = content.loaded_at
        refused = await (
            await sandbox.command("content reload", member=sandbox.moderator)
        ).response_message()
        assert refused.ephemeral and refused.content == NOT_HOST
        assert content.loaded_at == before
        owner = sandbox.add_member(sandbox.owner)
        for who in (owner, host):
            done = await (await sandbox.command("content reload", member=who)).response_message()
            assert done.ephemeral and done.embeds[0]["title"] == "Content reloaded"
            assert content.loaded_at > before
            before = content.loaded_at


async def test_the_configured_role_counts_as_moderator(
    sandbox: Sandbox, settings: Settings, tmp_path: Path
) -> None:
    guild = sandbox.guild
    role = SandboxRole(
        id=stable_snowflake(guild.id, "role", "Peer Mentor"),
        name="Peer Mentor",
        permissions=MEMBER_PERMISSIONS,
    )
    guild.roles[role.id] = role
    mentor = sandbox.add_member(
        SandboxMember(id=1191199223139090999, name="robin", roles=[role.id])
    )
    async with bot_on(sandbox, settings, tmp_path, role=role.id):
        message = await (await sandbox.command("content status", member=mentor)).response_message()
        assert message.embeds and message.embeds[0]["title"] == "Content library"
    # Another id, on a database the first run never wrote to (the first run copied its
    # role into the server's own settings, where it stays until the server changes it).
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    async with bot_on(sandbox, settings, fresh, role=role.id + 1):
        message = await (await sandbox.command("content status", member=mentor)).response_message()
        assert message.content == NOT_ALLOWED


def test_a_role_name_is_refused_with_how_to_find_the_id() -> None:
    for given in ("Peer Mentor", "@Peer Mentor", "12ab"):
        with pytest.raises(ConfigError) as caught:
            parse_settings({"moderation": {"role": given}})
        (problem,) = caught.value.problems
        assert problem.startswith("moderation.role: must be the role's id")
        assert "Copy Role ID" in problem
    for given in (1191199223139090999, "1191199223139090999", "<@&1191199223139090999>"):
        assert parse_settings({"moderation": {"role": given}}).moderation.role == (
            1191199223139090999
        )


async def test_reload_keeps_the_library_when_files_are_broken(
    sandbox: Sandbox, settings: Settings, tmp_path: Path, content_copy: Path
) -> None:
    moderator = sandbox.add_member(sandbox.owner)
    box = content_copy / "techniques" / "box-breathing.yaml"
    async with bot_on(sandbox, settings, tmp_path, content_dir=content_copy) as bot:
        content = bot.services.content
        before = content.catalog

        box.write_text("id: box-breathing\ntitle: [never closed\n", encoding="utf-8")
        interaction = await sandbox.command("content reload", member=moderator)
        message = await interaction.response_message()
        assert interaction.callback_type == 5  # deferred while the files load
        assert message.ephemeral
        (embed,) = message.embeds
        assert embed["title"] == "Reload stopped: nothing changed"
        assert "content/techniques/box-breathing.yaml:" in embed["description"]
        assert "```" in embed["description"]
        assert "1 error" in embed["description"]
        assert content.catalog is before

        still = await (
            await sandbox.command("technique", {"name": "box-breathing"})
        ).response_message()
        assert still.embeds[0]["title"] == "Box breathing"

        shutil.copy(SHIPPED_CONTENT_DIR / "techniques" / "box-breathing.yaml", box)
        text = box.read_text(encoding="utf-8")
        box.write_text(text.replace("title: Box breathing", "title: Square breathing"), "utf-8")
        done = await (await sandbox.command("content reload", member=moderator)).response_message()
        (embed,) = done.embeds
        assert embed["title"] == "Content reloaded"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Techniques"] == str(len(before.techniques))
        assert content.catalog is not before
        renamed = await (
            await sandbox.command("technique", {"name": "box-breathing"})
        ).response_message()
        assert renamed.embeds[0]["title"] == "Square breathing"


async def test_reload_shows_only_the_first_ten_errors(
    sandbox: Sandbox, settings: Settings, tmp_path: Path, content_copy: Path
) -> None:
    async with bot_on(sandbox, settings, tmp_path, content_dir=content_copy):
        broken = sorted((content_copy / "techniques").glob("*.yaml"))[:12]
        for path in broken:
            path.write_text("title: [never closed\n", encoding="utf-8")
        message = await (
            await sandbox.command("content reload", member=sandbox.add_member(sandbox.owner))
        ).response_message()
        description = message.embeds[0]["description"]
        block = description.split("```")[1]
        assert len([line for line in block.splitlines() if ": error:" in line]) == 10
        assert "more" in block
        assert len(description) <= 4096
