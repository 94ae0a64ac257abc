"""Sharing a card without attribution, through the whole stack (SAFETY.md §3).

A shared card is posted as Peerlight's own channel message after a private
acknowledgement, never as the command's reply (Discord would show "<member> used /cope"
above it); only where the member may send messages themselves; at most a few an hour.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.app import PeerlightBot
from bot.domain.shares import SHARE_WINDOW, SHARES_PER_HOUR
from bot.sandbox.payloads import Permission, SandboxMember
from bot.sandbox.server import Sandbox, SandboxMessage
from bot.ui import sharing

NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(bot: PeerlightBot) -> Clock:
    clock = Clock()
    bot.services.clock = clock
    return clock


def general(sandbox: Sandbox) -> int:
    return sandbox.guild.channel("general").id


async def share(sandbox: Sandbox, command: str = "cope") -> SandboxMessage:
    options = {"feeling": "anxious"} if command == "cope" else {"theme": "sleep"}
    interaction = await sandbox.command(command, {**options, "share": True})
    return await interaction.response_message()


async def posted(sandbox: Sandbox, count: int) -> None:
    """Wait until the channel holds `count` posts (each follows its acknowledgement)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 5
    while len(sandbox.channel_messages(general(sandbox))) < count:
        assert loop.time() < end, "the shared cards were not posted in time"
        await asyncio.sleep(0.02)
    assert len(sandbox.channel_messages(general(sandbox))) == count


async def test_the_card_is_posted_as_the_bots_own_message_after_a_private_word(
    sandbox: Sandbox, bot: PeerlightBot, clock: Clock
) -> None:
    before = len(sandbox.requests)
    acknowledged = await share(sandbox)
    assert acknowledged.ephemeral
    assert acknowledged.content == sharing.SHARED
    posted = await sandbox.wait_for_channel_message(general(sandbox))
    assert not posted.ephemeral
    assert int(posted.author["id"]) == sandbox.bot_user_id
    # Its own message: not an interaction's reply, so Discord shows no "used /cope".
    assert posted.interaction_id is None and posted.interaction_metadata is None
    assert posted.webhook_id is None and posted.message_reference is None
    assert len(posted.embeds) == 1 and posted.components == []
    # The private word comes first, then the post; nothing sent names the member.
    callback = sandbox.requests_matching("POST", r"/interactions/\d+/[^/]+/callback", after=before)
    post = sandbox.requests_matching(
        "POST", rf"^/channels/{general(sandbox)}/messages$", after=before
    )
    assert len(callback) == 1 and len(post) == 1
    assert callback[0].index < post[0].index
    member = sandbox.member
    assert str(member.id) not in str(post[0].json)
    assert member.name not in str(post[0].json)


async def test_a_story_is_shared_the_same_way(
    sandbox: Sandbox, bot: PeerlightBot, clock: Clock
) -> None:
    acknowledged = await share(sandbox, "story")
    assert acknowledged.ephemeral and acknowledged.content == sharing.SHARED
    posted = await sandbox.wait_for_channel_message(general(sandbox))
    assert posted.interaction_id is None and len(posted.embeds) == 1


async def test_only_where_the_member_may_send_messages_themselves(
    sandbox: Sandbox, bot: PeerlightBot, clock: Clock
) -> None:
    await sandbox.set_channel_overwrite(
        general(sandbox), sandbox.member.id, target_type=1, deny=Permission.SEND_MESSAGES
    )
    reply = await share(sandbox)
    assert reply.ephemeral
    assert reply.content.startswith(sharing.MEMBER_CANNOT_POST)
    # Nothing lost: the member gets the whole card, with its buttons, privately.
    assert len(reply.embeds) == 1 and reply.components
    assert sandbox.channel_messages(general(sandbox)) == []
    # And a refused share does not count against the hour.
    await sandbox.set_channel_overwrite(general(sandbox), sandbox.member.id, target_type=1)
    for _ in range(SHARES_PER_HOUR):
        assert (await share(sandbox)).content == sharing.SHARED


async def test_where_the_bot_may_not_post_the_member_is_told_what_a_moderator_can_do(
    sandbox: Sandbox, bot: PeerlightBot, clock: Clock
) -> None:
    await sandbox.set_bot_permissions(general(sandbox), deny=Permission.EMBED_LINKS)
    reply = await share(sandbox)
    assert reply.ephemeral and reply.content.startswith(sharing.BOT_CANNOT_POST)
    assert len(reply.embeds) == 1
    assert sandbox.channel_messages(general(sandbox)) == []


async def test_at_most_a_few_shares_per_member_an_hour(
    sandbox: Sandbox, bot: PeerlightBot, clock: Clock
) -> None:
    for minute in range(SHARES_PER_HOUR):
        clock.now = NOW + dt.timedelta(minutes=minute)
        assert (await share(sandbox)).content == sharing.SHARED
    clock.now = NOW + dt.timedelta(minutes=15)
    refused = await share(sandbox, "story")
    assert refused.ephemeral
    assert refused.content.startswith(f"You've shared {SHARES_PER_HOUR} cards in the last hour")
    assert "share again in 45 minutes" in refused.content
    assert len(refused.embeds) == 1  # the story itself, privately

    await posted(sandbox, SHARES_PER_HOUR)

    # Another member is not held back by the first one's shares.
    other = sandbox.add_member(SandboxMember(id=1191300000000000909, name="hazel.north"))
    interaction = await sandbox.command("cope", {"feeling": "tired", "share": True}, member=other)
    assert (await interaction.response_message()).content == sharing.SHARED

    # An hour after the first share, one more.
    clock.now = NOW + SHARE_WINDOW
    assert (await share(sandbox)).content == sharing.SHARED
    assert (await share(sandbox)).content != sharing.SHARED
    await posted(sandbox, SHARES_PER_HOUR + 2)


async def test_a_post_discord_refuses_reaches_the_member_privately_and_does_not_count(
    sandbox: Sandbox, bot: PeerlightBot, clock: Clock
) -> None:
    sandbox.inject_failure("POST", rf"^/channels/{general(sandbox)}/messages$", status=403)
    acknowledged = await share(sandbox)
    assert acknowledged.content == sharing.SHARED
    followup = await sandbox.wait_for_request("POST", r"^/webhooks/\d+/[^/]+$")
    assert followup.json is not None
    assert int(followup.json.get("flags") or 0) & 64
    assert str(followup.json.get("content", "")).startswith(sharing.NOT_POSTED)
    assert len(followup.json["embeds"]) == 1
    assert sandbox.channel_messages(general(sandbox)) == []
    for _ in range(SHARES_PER_HOUR):
        assert (await share(sandbox)).content == sharing.SHARED


@pytest.mark.parametrize("place", ["unknown", "dm"])
async def test_from_a_server_the_bot_is_not_in_nothing_is_posted(
    sandbox: Sandbox, bot: PeerlightBot, place: str
) -> None:
    """A forged share from a server the bot has no record of (its guild and channel exist
    only in the payload) is answered privately; nothing is sent anywhere."""
    (cope,) = [c for c in sandbox.registered_commands(sandbox.guild.id) if c["name"] == "cope"]
    data = {
        "id": cope["id"],
        "name": "cope",
        "type": 1,
        "options": [
            {"name": "feeling", "type": 3, "value": "anxious"},
            {"name": "share", "type": 5, "value": True},
        ],
    }
    before = len(sandbox.requests)
    reply = await (await sandbox.forge(2, data, place=place)).response_message()
    assert reply.ephemeral
    assert sharing.NOT_IN_A_SERVER in reply.content
    await asyncio.sleep(0.2)  # a post, if one were made, would follow the reply
    posts = [r for r in sandbox.requests[before:] if r.method == "POST" and "/channels/" in r.path]
    assert posts == []
