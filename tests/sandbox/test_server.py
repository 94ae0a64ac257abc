"""The sandbox against a small stock discord.py client (not Peerlight), end to end."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
import discord
import pytest
from discord import app_commands

from bot.discord_host import client_pointed_at
from bot.sandbox.server import (
    Permission,
    Sandbox,
    SandboxError,
    SandboxMember,
    SandboxMessage,
)

TECHNIQUES = ["Box breathing", "Breathing with a count", "Grounding: 5-4-3-2-1", "Urge surfing"]


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class AgainView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.presses = 0

    @discord.ui.button(label="Again", custom_id="hello:again")
    async def again(
        self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]
    ) -> None:
        self.presses += 1
        await interaction.response.edit_message(content=f"pressed {self.presses}", view=self)

    @discord.ui.button(label="More", custom_id="hello:more")
    async def more(
        self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]
    ) -> None:
        await interaction.response.send_message("here is more", ephemeral=True)

    @discord.ui.button(label="Rename", custom_id="hello:rename")
    async def rename(
        self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]
    ) -> None:
        await interaction.response.send_modal(RenameModal())


class RenameModal(discord.ui.Modal, title="Rename"):
    new_name: discord.ui.TextInput[RenameModal] = discord.ui.TextInput(label="New name")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"renamed to {self.new_name.value}")


class MoodSelect(discord.ui.View):
    @discord.ui.select(
        custom_id="mood",
        placeholder="How are you?",
        options=[discord.SelectOption(label=m.title(), value=m) for m in ("calm", "tense", "low")],
    )
    async def mood(
        self, interaction: discord.Interaction, select: discord.ui.Select[MoodSelect]
    ) -> None:
        await interaction.response.send_message(f"You chose {select.values[0]}", ephemeral=True)


class FeedbackModal(discord.ui.Modal, title="Check in"):
    feeling: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="How are you feeling?", custom_id="feeling", max_length=200
    )
    note: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Anything else?", custom_id="note", required=False, style=discord.TextStyle.paragraph
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"Thanks: {self.feeling.value} / {self.note.value or '-'}", ephemeral=True
        )


class PostedView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(
        label="Check in", custom_id="prompt:checkin", style=discord.ButtonStyle.primary
    )
    async def check_in(
        self, interaction: discord.Interaction, button: discord.ui.Button[PostedView]
    ) -> None:
        await interaction.response.send_message("Checked in", ephemeral=True)


class ProbeClient(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.ready = asyncio.Event()
        self.removed: list[int] = []
        self.seen: list[discord.Message] = []
        self.guild_removed = asyncio.Event()
        _register_commands(self.tree, discord.Object(guild_id))

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.removed.append(guild.id)
        self.guild_removed.set()


def _register_commands(tree: app_commands.CommandTree[ProbeClient], guild: discord.Object) -> None:
    @tree.command(guild=guild)
    @app_commands.describe(name="who to greet", count="how many times")
    async def hello(interaction: discord.Interaction, name: str, count: int) -> None:
        """Say hello."""
        embed = discord.Embed(title=f"Hello {name}", description="hi " * count)
        await interaction.response.send_message(
            embed=embed,
            view=AgainView(),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @tree.command(guild=guild)
    async def pick(interaction: discord.Interaction) -> None:
        """Pick a mood."""
        await interaction.response.send_message("Pick one", view=MoodSelect(), ephemeral=True)

    @tree.command(guild=guild)
    async def feedback(interaction: discord.Interaction) -> None:
        """Open a modal."""
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(guild=guild)
    @app_commands.describe(name="a technique")
    async def technique(interaction: discord.Interaction, name: str) -> None:
        """Find a technique."""
        await interaction.response.send_message(name, ephemeral=True)

    @technique.autocomplete("name")
    async def technique_names(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=t, value=t) for t in TECHNIQUES if current.lower() in t.lower()
        ]

    schedule = app_commands.Group(
        name="schedule", description="Scheduled prompts", guild_ids=[guild.id]
    )

    @schedule.command(name="add")
    @app_commands.describe(channel="where", hour="when (0-23)")
    async def schedule_add(
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        hour: app_commands.Range[int, 0, 23],
    ) -> None:
        """Add a prompt."""
        await interaction.response.send_message(
            f"{type(channel).__name__} {channel.mention} at {hour}", ephemeral=True
        )

    tree.add_command(schedule)

    @tree.command(guild=guild)
    async def slow(interaction: discord.Interaction) -> None:
        """Defer, then follow up."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.sleep(0.01)
        await interaction.followup.send("done", ephemeral=True)
        await interaction.followup.send("and one more", ephemeral=True)

    @tree.command(guild=guild)
    @app_commands.default_permissions(manage_guild=True)
    async def summary(interaction: discord.Interaction) -> None:
        """Moderators only."""
        await interaction.response.send_message("summary", ephemeral=True)

    @tree.command(guild=guild)
    async def silent(interaction: discord.Interaction) -> None:
        """Never answers."""

    @tree.command(guild=guild)
    async def notes(interaction: discord.Interaction) -> None:
        """Reply with a file."""
        await interaction.response.send_message(
            "attached", file=discord.File(io.BytesIO(b"breathe in, breathe out"), "notes.txt")
        )


@pytest.fixture
def discord_errors() -> Iterator[list[logging.LogRecord]]:
    handler = _ErrorRecords()
    logger = logging.getLogger("discord")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]


@pytest.fixture
async def sandbox(discord_errors: list[logging.LogRecord]) -> AsyncIterator[Sandbox]:
    async with Sandbox() as server:
        with client_pointed_at(server.api_base, server.gateway_url):
            yield server


async def _start(sandbox: Sandbox, *, sync: bool = True) -> tuple[ProbeClient, asyncio.Task[None]]:
    client = ProbeClient(sandbox.guild.id)
    task = asyncio.create_task(client.start(sandbox.token))
    try:
        await asyncio.wait_for(client.ready.wait(), 10)
        if sync:
            await client.tree.sync(guild=discord.Object(sandbox.guild.id))
    except BaseException:
        await _stop(client, task)
        raise
    return client, task


async def _stop(client: ProbeClient, task: asyncio.Task[None]) -> None:
    await client.close()
    await asyncio.wait_for(task, 5)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[ProbeClient]:
    probe, task = await _start(sandbox)
    try:
        yield probe
    finally:
        await _stop(probe, task)


def _text_channel(client: ProbeClient, channel_id: int) -> discord.TextChannel:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def _message(interaction_response: object) -> SandboxMessage:
    assert isinstance(interaction_response, SandboxMessage), interaction_response
    return interaction_response


async def test_sync_registers_guild_commands_with_nested_options(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    commands = {c["name"]: c for c in sandbox.registered_commands(sandbox.guild.id)}

    assert set(commands) == {
        "hello",
        "pick",
        "feedback",
        "technique",
        "schedule",
        "slow",
        "notes",
        "summary",
        "silent",
    }
    assert commands["summary"]["default_member_permissions"] == str(Permission.MANAGE_GUILD.value)
    assert commands["hello"]["application_id"] == str(sandbox.application_id)
    assert [o["type"] for o in commands["hello"]["options"]] == [3, 4]
    add = commands["schedule"]["options"][0]
    assert add["name"] == "add" and add["type"] == 1
    assert [o["type"] for o in add["options"]] == [7, 4]
    assert sandbox.registered_commands() == []
    assert sandbox.unhandled == []
    assert sandbox.gateway_queries == [{"v": "10", "encoding": "json", "compress": "zlib-stream"}]
    paths = [r.path for r in sandbox.requests]
    assert "/users/@me" in paths and "/oauth2/applications/@me" in paths


async def test_a_second_sync_keeps_ids_and_versions(sandbox: Sandbox, client: ProbeClient) -> None:
    before = {
        c["name"]: (c["id"], c["version"]) for c in sandbox.registered_commands(sandbox.guild.id)
    }
    await client.tree.sync(guild=discord.Object(sandbox.guild.id))
    after = {
        c["name"]: (c["id"], c["version"]) for c in sandbox.registered_commands(sandbox.guild.id)
    }
    assert before == after


async def test_slash_command_reply_then_button_edits_it_in_place(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    interaction = await sandbox.command("hello", {"name": "Ada", "count": 2})
    message = await _message(await interaction.response())

    assert interaction.callback_type == 4 and interaction.ephemeral and message.ephemeral
    assert message.embeds[0]["title"] == "Hello Ada"
    assert message.embeds[0]["description"].strip() == "hi hi"
    assert [b["label"] for b in message.buttons()] == ["Again", "More", "Rename"]
    assert message.allowed_mentions == {"parse": []}
    assert message.interaction_metadata is not None
    assert message.interaction_metadata["user"]["id"] == str(sandbox.member.id)
    assert sandbox.channel_messages(interaction.channel_id) == []  # ephemeral

    callback = await sandbox.wait_for_request("POST", r"/interactions/\d+/.+/callback")
    assert callback.json["type"] == 4 and callback.json["data"]["flags"] == 64

    press = await sandbox.press(message, "Again")
    updated = await _message(await press.response())
    assert press.callback_type == 7
    assert updated is message and message.content == "pressed 1" and message.edit_count == 1

    more = await sandbox.press(message, "hello:more")
    [followup] = await more.messages(1)
    assert followup.content == "here is more" and followup.ephemeral


async def test_select_menu_choice(sandbox: Sandbox, client: ProbeClient) -> None:
    menu = await _message(await (await sandbox.command("pick")).response())
    assert menu.selects()[0]["custom_id"] == "mood"

    reply = await _message(await (await sandbox.choose(menu, ["tense"])).response())
    assert reply.content == "You chose tense"

    with pytest.raises(SandboxError, match="no option"):
        await sandbox.choose(menu, ["ecstatic"])


async def test_modal_opened_by_a_command_then_submitted(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    opened = await sandbox.command("feedback")
    callback = await opened.response()
    assert isinstance(callback, dict) and callback["type"] == 9
    assert opened.modal is not None and opened.modal["title"] == "Check in"

    with pytest.raises(SandboxError, match="required"):
        await sandbox.submit_modal(opened, {"note": "only the optional one"})

    submitted = await sandbox.submit_modal(opened, {"How are you feeling?": "steady"})
    reply = await _message(await submitted.response())
    assert reply.content == "Thanks: steady / -"


async def test_autocomplete_returns_the_bots_choices(sandbox: Sandbox, client: ProbeClient) -> None:
    choices = await sandbox.autocomplete("technique", {"name": "breath"}, "name")
    assert [c["name"] for c in choices] == ["Box breathing", "Breathing with a count"]


async def test_subcommand_in_a_group_with_a_channel_option(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    check_ins = sandbox.guild.channel("check-ins")
    interaction = await sandbox.command("schedule add", {"channel": "#check-ins", "hour": 9})
    reply = await _message(await interaction.response())
    assert reply.content == f"TextChannel <#{check_ins.id}> at 9"

    with pytest.raises(SandboxError, match=r"0\.\.23"):
        await sandbox.command("schedule add", {"channel": check_ins.id, "hour": 24})
    with pytest.raises(SandboxError, match="is a group"):
        await sandbox.command("schedule", {})
    with pytest.raises(SandboxError, match="no slash command /nope"):
        await sandbox.command("nope")


async def test_defer_then_followups(sandbox: Sandbox, client: ProbeClient) -> None:
    interaction = await sandbox.command("slow")
    first = await _message(await interaction.response())
    assert interaction.callback_type == 5
    assert first.content == "done" and first.ephemeral and not first.loading

    messages = await interaction.messages(2)
    assert [m.content for m in messages] == ["done", "and one more"]
    assert messages[1].interaction_metadata is not None
    assert messages[1].interaction_metadata["original_response_message_id"] == str(first.id)


async def test_channel_post_with_a_persistent_view_then_a_press(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    general = sandbox.guild.channel("general")
    client.add_view(PostedView())
    sent = await _text_channel(client, general.id).send("Time to check in", view=PostedView())

    [posted] = sandbox.channel_messages(general.id)
    assert posted.id == sent.id and posted.content == "Time to check in"
    assert posted.find_component("Check in")["custom_id"] == "prompt:checkin"

    member = SandboxMember(id=424242424242424242, name="ash")
    reply = await _message(
        await (await sandbox.press(posted, "Check in", member=member)).response()
    )
    assert reply.content == "Checked in" and reply.ephemeral


async def test_attachments_from_a_channel_post_and_an_interaction(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    general = sandbox.guild.channel("general")
    await _text_channel(client, general.id).send(
        "log", file=discord.File(io.BytesIO(b"\x00\x01binary"), "mood.png")
    )
    [posted] = sandbox.channel_messages(general.id)
    assert [(a.name, a.data) for a in posted.attachments] == [("mood.png", b"\x00\x01binary")]
    request = await sandbox.wait_for_request("POST", rf"^/channels/{general.id}/messages$")
    assert request.json["content"] == "log" and request.files[0].data == b"\x00\x01binary"

    reply = await _message(await (await sandbox.command("notes")).response())
    assert reply.attachments[0].data == b"breathe in, breathe out"
    assert reply in sandbox.channel_messages(general.id)


async def test_a_500_is_retried_by_discord_py(sandbox: Sandbox, client: ProbeClient) -> None:
    general = sandbox.guild.channel("general")
    sandbox.inject_failure("POST", rf"/channels/{general.id}/messages", status=500)
    start = len(sandbox.requests)

    await _text_channel(client, general.id).send("after a hiccup")

    posts = sandbox.requests_matching("POST", r"/messages$", after=start)
    assert [p.status for p in posts] == [500, 200] and posts[0].injected
    assert [m.content for m in sandbox.channel_messages(general.id)] == ["after a hiccup"]


async def test_a_released_stall_forgets_the_requests_it_is_told_to(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    """Held posts are let through on release, except those `forget` accepts: they fail
    with 503 and no message is made, as when Discord never took the request whole."""
    general = sandbox.guild.channel("general")
    other = await sandbox.add_channel("other")
    stall = sandbox.faults.stall("POST", r"/channels/\d+/messages$")
    kept = asyncio.create_task(_text_channel(client, general.id).send("kept"))
    dropped = asyncio.create_task(client.get_partial_messageable(other.id).send("dropped"))
    async with asyncio.timeout(10):
        while True:
            if stall.hits == 2:
                break
            await asyncio.sleep(0.01)
    assert not kept.done() and not dropped.done()

    stall.release(forget=lambda path: f"/channels/{other.id}/" in path)

    assert (await kept).content == "kept"
    with pytest.raises(discord.DiscordServerError):
        await dropped
    assert stall.forgotten == 1
    assert [m.content for m in sandbox.channel_messages(general.id)] == ["kept"]
    assert sandbox.channel_messages(other.id) == []


async def test_a_403_becomes_forbidden_in_the_bot(sandbox: Sandbox, client: ProbeClient) -> None:
    general = sandbox.guild.channel("general")
    sandbox.inject_failure("POST", rf"/channels/{general.id}/messages", status=403)
    with pytest.raises(discord.Forbidden):
        await _text_channel(client, general.id).send("nope")
    assert sandbox.channel_messages(general.id) == []


async def test_unknown_routes_are_404_and_recorded(sandbox: Sandbox, client: ProbeClient) -> None:
    with pytest.raises(discord.NotFound):
        await client.http.request(discord.http.Route("GET", "/no/such/route"))
    assert [r.path for r in sandbox.unhandled] == ["/no/such/route"]


async def test_bad_token_fails_login(sandbox: Sandbox) -> None:
    probe = ProbeClient(sandbox.guild.id)
    try:
        with pytest.raises(discord.LoginFailure):
            await probe.login("not-the-token")
    finally:
        await probe.close()


async def test_a_second_client_after_the_first_closed(sandbox: Sandbox) -> None:
    first, task = await _start(sandbox)
    await _stop(first, task)
    await sandbox.wait_until_disconnected(5)

    second, task = await _start(sandbox, sync=False)
    try:
        assert sandbox.sessions_started == 2
        reply = await _message(
            await (await sandbox.command("hello", {"name": "B", "count": 1})).response()
        )
        assert reply.embeds[0]["title"] == "Hello B"
    finally:
        await _stop(second, task)


async def test_a_dropped_connection_resumes(sandbox: Sandbox, client: ProbeClient) -> None:
    await sandbox.drop_connection()
    await sandbox.wait_until_connected(5)
    assert any(frame.get("op") == 6 for frame in sandbox.gateway_received)
    assert sandbox.sessions_started == 1
    reply = await _message(
        await (await sandbox.command("hello", {"name": "C", "count": 1})).response()
    )
    assert reply.embeds[0]["title"] == "Hello C"


async def test_guild_delete_fires_on_guild_remove(sandbox: Sandbox, client: ProbeClient) -> None:
    await sandbox.remove_guild(sandbox.guild.id)
    await asyncio.wait_for(client.guild_removed.wait(), 5)
    assert client.removed == [sandbox.guild.id]
    assert client.get_guild(sandbox.guild.id) is None


async def test_permission_overwrites_reach_the_cache_and_the_api(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    check_ins = sandbox.guild.channel("check-ins")
    general = sandbox.guild.channel("general")
    guild = client.get_guild(sandbox.guild.id)
    assert guild is not None and guild.me is not None
    assert _text_channel(client, check_ins.id).permissions_for(guild.me).send_messages

    await sandbox.set_bot_permissions(
        check_ins.id, deny=Permission.SEND_MESSAGES | Permission.EMBED_LINKS
    )
    for _ in range(200):
        if not _text_channel(client, check_ins.id).permissions_for(guild.me).send_messages:
            break
        await asyncio.sleep(0.01)
    denied = _text_channel(client, check_ins.id).permissions_for(guild.me)
    assert not denied.send_messages and not denied.embed_links and denied.view_channel
    assert _text_channel(client, general.id).permissions_for(guild.me).embed_links

    with pytest.raises(discord.Forbidden):
        await _text_channel(client, check_ins.id).send("not allowed here")
    interaction = await sandbox.command("hello", {"name": "D", "count": 1}, channel_id=check_ins.id)
    assert int(interaction.payload["app_permissions"]) & Permission.SEND_MESSAGES == 0
    await interaction.response()  # interaction responses do not need Send Messages


async def test_invalid_messages_are_rejected_like_discord(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    general = _text_channel(client, sandbox.guild.channel("general").id)
    with pytest.raises(discord.HTTPException) as too_long:
        await general.send("x" * 2001)
    assert too_long.value.status == 400 and too_long.value.code == 50035
    with pytest.raises(discord.HTTPException) as too_many_fields:
        embed = discord.Embed(title="t")
        for index in range(26):
            embed.add_field(name=str(index), value="v")
        await general.send(embed=embed)
    assert too_many_fields.value.code == 50035


async def test_a_modal_opened_from_a_button_updates_that_message(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    message = await _message(
        await (await sandbox.command("hello", {"name": "E", "count": 1})).response()
    )
    opened = await sandbox.press(message, "Rename")
    await opened.response()
    assert opened.modal is not None and opened.modal["title"] == "Rename"

    submitted = await sandbox.submit_modal(opened, {"New name": "Eve"})
    updated = await _message(await submitted.response())
    assert submitted.callback_type == 7
    assert updated is message and message.content == "renamed to Eve"


async def test_default_member_permissions_hide_a_command_from_members(
    sandbox: Sandbox, client: ProbeClient
) -> None:
    with pytest.raises(SandboxError, match="hides /summary"):
        await sandbox.command("summary")
    by_moderator = await sandbox.command("summary", member=sandbox.moderator)
    assert (await _message(await by_moderator.response())).content == "summary"
    by_role = SandboxMember(id=77, name="mod-by-role", roles=[sandbox.guild.moderator_role_id])
    assert await _message(await (await sandbox.command("summary", member=by_role)).response())
    granted = await sandbox.command("summary", override_default_permissions=True)
    assert int(granted.payload["member"]["permissions"]) & Permission.MANAGE_GUILD == 0
    assert (await _message(await granted.response())).content == "summary"


async def test_direct_messages(sandbox: Sandbox, client: ProbeClient) -> None:
    user = await client.fetch_user(sandbox.member.id)
    await user.send("a private note")
    assert [m.content for m in sandbox.dm_messages(sandbox.member)] == ["a private note"]

    closed = sandbox.add_member(SandboxMember(id=88, name="closed", accepts_dms=False))
    with pytest.raises(discord.Forbidden):
        await (await client.fetch_user(closed.id)).send("hello?")


async def test_rate_limits_and_delays_are_survivable(sandbox: Sandbox, client: ProbeClient) -> None:
    general = _text_channel(client, sandbox.guild.channel("general").id)
    sandbox.inject_failure("POST", r"/messages$", status=429)
    await general.send("after a 429")
    sandbox.inject_failure("*", r"/messages$", status=None, delay=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await general.send("after a delay")
    assert loop.time() - started >= 0.2
    statuses = [r.status for r in sandbox.requests_matching("POST", r"/messages$")]
    assert statuses == [429, 200, 200]


async def test_protocol_details_on_the_wire(sandbox: Sandbox, client: ProbeClient) -> None:
    interaction = await sandbox.command("silent")
    with pytest.raises(TimeoutError, match="respond to /silent"):
        await interaction.response(timeout=0.2)
    url = f"{sandbox.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.api_base}/users/@me") as anonymous:
            assert anonymous.status == 401
        headers = {"Authorization": f"Bot {sandbox.token}"}
        async with http.get(f"{sandbox.api_base}/users/@me", headers=headers) as me:
            assert me.headers["Content-Type"] == "application/json"
            assert (await me.json())["id"] == str(sandbox.bot_user_id)
        body = {"type": 4, "data": {"content": "late but here"}}
        async with http.post(url, params={"with_response": "1"}, json=body) as first:
            answer = await first.json()
        async with http.post(url, params={"with_response": "1"}, json=body) as second:
            assert second.status == 400 and (await second.json())["code"] == 40060
    assert answer["interaction"]["id"] == str(interaction.id)
    assert answer["resource"]["type"] == 4
    assert answer["resource"]["message"]["content"] == "late but here"
    assert (await interaction.messages(1))[0].content == "late but here"


async def test_member_chunking_with_the_members_intent(sandbox: Sandbox) -> None:
    probe = discord.Client(intents=discord.Intents.all(), guild_ready_timeout=0.05)
    task = asyncio.create_task(probe.start(sandbox.token))
    try:
        await sandbox.wait_until_connected(5)
        await asyncio.wait_for(probe.wait_until_ready(), 5)
        guild = probe.get_guild(sandbox.guild.id)
        assert guild is not None
        members = await asyncio.wait_for(guild.chunk(), 5)
        assert {m.id for m in members} >= {sandbox.member.id, sandbox.bot_user_id}
    finally:
        await probe.close()
        await asyncio.wait_for(task, 5)


async def test_disallowed_privileged_intents_close_with_4014(
    discord_errors: list[logging.LogRecord],
) -> None:
    async with Sandbox(allowed_intents=0) as strict:
        with client_pointed_at(strict.api_base, strict.gateway_url):
            probe = discord.Client(intents=discord.Intents.all(), guild_ready_timeout=0.05)
            try:
                with pytest.raises(discord.PrivilegedIntentsRequired):
                    await asyncio.wait_for(probe.start(strict.token), 5)
            finally:
                await probe.close()


async def test_members_posting_and_message_events(sandbox: Sandbox, client: ProbeClient) -> None:
    events: list[tuple[str, int]] = []
    sandbox.add_listener(lambda kind, message: events.append((kind, message.id)))
    general = sandbox.guild.channel("general")

    posted = await sandbox.post_as_member("I had a rough day", channel_id=general.id)
    for _ in range(200):
        if client.seen:
            break
        await asyncio.sleep(0.01)
    [seen] = client.seen
    assert seen.id == posted.id and seen.author.id == sandbox.member.id
    assert seen.content == ""  # no message_content intent, as on Discord

    waiter = asyncio.create_task(sandbox.wait_for_channel_message(general.id, after_id=posted.id))
    sent = await _text_channel(client, general.id).send("thanks for sharing")
    assert (await waiter).id == sent.id
    await sent.edit(content="thank you for sharing")
    await sent.delete()
    assert events == [
        ("create", posted.id),
        ("create", sent.id),
        ("update", sent.id),
        ("delete", sent.id),
    ]
    assert sandbox.channel_messages(general.id) == [posted]
