"""The sandbox speaks sharding, with two real discord.py sharded clients: each IDENTIFYs
with its shard pair, hears of the servers on its shard only, and gets the interactions
of those servers; while a shard has no connection its servers' interactions go nowhere.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import discord
import pytest

from bot.app import PeerlightBot
from bot.config import parse_settings
from bot.domain.shards import shard_of
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.server import Sandbox, SandboxError
from bot.storage.content_files import LoadReport

from ..e2e.test_checkin import eventually

COUNT = 2


def sandbox_channel(sandbox: Sandbox, guild_id: int, name: str) -> int:
    return sandbox.guilds[guild_id].channel(name).id


def process_of(
    sandbox: Sandbox, shard: int, report: LoadReport, path: Path, guild_ids: tuple[int, ...]
) -> contextlib.AbstractAsyncContextManager[PeerlightBot]:
    base = parse_settings({"discord": {"shard_count": COUNT, "shards": str(shard)}})
    settings = sandbox_settings(base, sandbox, database=path)
    settings = settings.model_copy(
        update={"discord": settings.discord.model_copy(update={"guild_ids": guild_ids})}
    )
    return running_bot(sandbox, settings, report=report)


def heard(bot: PeerlightBot) -> list[int]:
    """The servers of the interactions this client received."""
    seen: list[int] = []

    async def on_interaction(interaction: discord.Interaction) -> None:
        seen.append(interaction.guild_id or 0)

    bot.add_listener(on_interaction)
    return seen


async def about(sandbox: Sandbox, guild_id: int) -> bool:
    reply = await (await sandbox.command("about", guild_id=guild_id)).response_message()
    return reply.ephemeral


async def test_two_processes_each_get_their_own_shards_servers_and_interactions(
    sandbox: Sandbox, shipped_report: LoadReport, tmp_path: Path
) -> None:
    first = sandbox.guild.id
    second = first + (1 << 22)  # on the other shard
    await sandbox.add_guild(second, name="Second Server")
    on = {shard_of(g, COUNT): g for g in (first, second)}
    assert sorted(on) == [0, 1]
    guilds = (first, second)
    async with (
        process_of(sandbox, 0, shipped_report, tmp_path / "zero.sqlite3", guilds) as zero,
        process_of(sandbox, 1, shipped_report, tmp_path / "one.sqlite3", guilds) as one,
    ):
        assert sorted(sandbox.session_shards()) == [[0, COUNT], [1, COUNT]]
        # READY and GUILD_CREATE: each process hears of its own shard's server only.
        assert [g.id for g in zero.guilds] == [on[0]]
        assert [g.id for g in one.guilds] == [on[1]]
        heard_zero, heard_one = heard(zero), heard(one)
        assert await about(sandbox, on[0]) and await about(sandbox, on[1])
        assert await about(sandbox, on[1])
        assert (heard_zero, heard_one) == ([on[0]], [on[1], on[1]])
        # A server's events go to its shard's connection: a channel made in each.
        for shard, bot in ((0, zero), (1, one)):
            channel = await sandbox.add_channel(f"new-{shard}", guild_id=on[shard])

            async def arrived(b: PeerlightBot = bot, c: int = channel.id) -> bool:
                return b.get_channel(c) is not None

            await eventually(arrived)
        assert zero.get_channel(sandbox_channel(sandbox, on[1], "new-1")) is None
        assert one.get_channel(sandbox_channel(sandbox, on[0], "new-0")) is None

    # Shard 1's process alone: shard 0's servers have no connection to go to.
    async with process_of(sandbox, 1, shipped_report, tmp_path / "one.sqlite3", guilds) as one:
        heard_one = heard(one)
        with pytest.raises(SandboxError, match=r"no bot is connected .* on shard 0 of 2"):
            await sandbox.command("about", guild_id=on[0])
        assert await about(sandbox, on[1])
        assert heard_one == [on[1]]


async def test_an_identify_with_a_malformed_shard_pair_is_refused(sandbox: Sandbox) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(sandbox.gateway_url) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10
        identify = {"token": sandbox.token, "intents": 1, "properties": {}, "shard": [2, 2]}
        await ws.send_json({"op": 2, "d": identify})
        closed = await ws.receive(timeout=5)
        assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4010
