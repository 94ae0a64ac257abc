"""Hostile and forged input, property-based and bounded: every option of every command
with any value, custom ids Peerlight does not know (or knows with values out of range),
select values outside the options, from a server, a server the bot has no record of, and
a direct message. Each gets a normal answer or a clear private error: never an unhandled
exception, never a request Discord would reject (the sandbox answers 400 to over-size
bodies and to bodies that would let a message ping)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import PeerlightBot
from bot.sandbox.server import Sandbox, SandboxInteraction
from bot.ui.unknown import UNKNOWN_CONTROL
from tests.conftest import ErrorRecords

BOUNDED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
PLACES = st.sampled_from(["server", "unknown", "dm"])
TEXT = st.text(max_size=400) | st.sampled_from(
    ["", " ", "@everyone", "<@&1>", "i want to kill myself", "x" * 6000, "\u0000", "../../etc"]
)
NUMBER = st.integers(min_value=-(2**53), max_value=2**53)

# Every option of every command, with the type Discord sends its value as.
COMMANDS: list[tuple[str, dict[str, st.SearchStrategy[Any]]]] = [
    ("cope", {"feeling": TEXT, "area": TEXT, "share": st.booleans()}),
    ("technique", {"name": TEXT}),
    ("story", {"theme": TEXT, "skip": TEXT, "share": st.booleans()}),
    ("resources", {"region": TEXT}),
    ("about", {}),
    ("checkin", {}),
    ("summary", {"days": NUMBER}),
    (
        "schedule add",
        {"channel": NUMBER, "time": TEXT, "days": TEXT, "kind": TEXT, "timezone": TEXT},
    ),
    ("schedule list", {}),
    ("schedule remove", {"id": TEXT}),
    ("schedule pause", {"id": TEXT}),
    ("schedule resume", {"id": TEXT}),
    ("schedule preview", {"id": TEXT}),
    ("content status", {}),
    ("content reload", {}),
    ("settings view", {}),
    ("settings moderator-roles", {"role": NUMBER, "second_role": NUMBER}),
    ("settings reach-out", {"channel": NUMBER}),
    ("settings region", {"region": TEXT}),
    ("settings timezone", {"timezone": TEXT}),
    ("settings group-size", {"size": NUMBER}),
    ("settings reset", {"setting": TEXT}),
]
TYPES = {bool: 5, int: 4, str: 3}


def command_data(sandbox: Sandbox, name: str, values: dict[str, Any]) -> dict[str, Any]:
    words = name.split()
    (registered,) = [
        c for c in sandbox.registered_commands(sandbox.guild.id) if c["name"] == words[0]
    ]
    options = [
        {
            "name": key,
            "type": 7 if key == "channel" else TYPES[type(value)],
            "value": str(value) if key == "channel" else value,
        }
        for key, value in values.items()
    ]
    data: dict[str, Any] = {"id": registered["id"], "name": words[0], "type": 1, "options": options}
    if len(words) == 2:
        data["options"] = [{"name": words[1], "type": 1, "options": options}]
    return data


async def answered_kindly(
    sandbox: Sandbox, interaction: SandboxInteraction, error_records: ErrorRecords
) -> None:
    await interaction.response(timeout=10)
    assert interaction.callback_type in (4, 5, 6, 7, 8, 9), interaction
    rejected = [r for r in sandbox.requests if r.status >= 400 and not r.injected]
    assert rejected == [], [(r.method, r.path, r.status) for r in rejected]
    assert not sandbox.unhandled
    messages = [r.getMessage() for r in error_records.records]
    assert messages == [], messages


@BOUNDED
@given(data=st.data(), place=PLACES)
async def test_any_option_value_of_any_command_gets_an_answer(
    sandbox: Sandbox,
    bot: PeerlightBot,
    error_records: ErrorRecords,
    data: st.DataObject,
    place: str,
) -> None:
    error_records.records.clear()  # each example answers for itself
    name, strategies = data.draw(st.sampled_from(COMMANDS))
    chosen = data.draw(st.sets(st.sampled_from(sorted(strategies)))) if strategies else set()
    values = {key: data.draw(strategies[key]) for key in sorted(chosen)}
    interaction = await sandbox.forge(2, command_data(sandbox, name, values), place=place)
    await answered_kindly(sandbox, interaction, error_records)
    if isinstance(interaction.callback, dict) and interaction.callback_type == 4:
        data_sent = interaction.callback.get("data") or {}
        # Always private: a shared card is posted as a message of its own, never as
        # the command's reply (which would show who asked).
        assert int(data_sent.get("flags") or 0) & 64, (name, values)


KNOWN_PREFIXES = [
    "peerlight:checkin:mood:",
    "peerlight:checkin:feel:",
    "peerlight:checkin:skip:",
    "peerlight:checkin:open:",
    "peerlight:cope:pick:",
    "peerlight:cope:story:",
    "peerlight:technique:",
    "peerlight:vote:helped:",
    "peerlight:vote:not:",
    "peerlight:crisis:",
    "peerlight:",
    "",
]
CUSTOM_ID = st.builds(
    lambda prefix, tail: (prefix + tail)[:100] or "x",
    st.sampled_from(KNOWN_PREFIXES),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
    | st.sampled_from(
        ["0", "9", "-1", "removed-technique", "box-breathing", "anxious:", ":emotional"]
    ),
)


@BOUNDED
@given(custom_id=CUSTOM_ID, values=st.lists(TEXT, max_size=4), select=st.booleans())
async def test_any_custom_id_on_an_old_message_gets_an_answer(
    sandbox: Sandbox,
    bot: PeerlightBot,
    error_records: ErrorRecords,
    custom_id: str,
    values: list[str],
    select: bool,
) -> None:
    error_records.records.clear()
    if select:
        component: dict[str, Any] = {
            "type": 3,
            "custom_id": custom_id,
            "options": [{"label": "Anxious", "value": "anxious"}],
            "max_values": 1,
        }
    else:
        component = {"type": 2, "style": 2, "label": "Old", "custom_id": custom_id}
    message = sandbox.add_bot_message([{"type": 1, "components": [component]}], content="old")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": 3 if select else 2}
    if select:
        data["values"] = [v[:100] for v in values] or ["not-an-option"]
    interaction = await sandbox.forge(3, data, message=message)
    await answered_kindly(sandbox, interaction, error_records)


async def test_an_unknown_button_says_so_privately(
    sandbox: Sandbox, bot: PeerlightBot, error_records: ErrorRecords
) -> None:
    component = {"type": 2, "style": 2, "label": "Old", "custom_id": "peerlight:retired:thing"}
    message = sandbox.add_bot_message([{"type": 1, "components": [component]}])
    reply = await (await sandbox.press(message, "Old")).response_message()
    assert reply.ephemeral and reply.content == UNKNOWN_CONTROL


async def test_a_message_that_could_ping_is_refused_like_discord_would(sandbox: Sandbox) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        channel = sandbox.guild.text_channels[0]
        url = f"{sandbox.api_base}/channels/{channel.id}/messages"
        headers = {"Authorization": f"Bot {sandbox.token}"}
        async with session.post(url, json={"content": "hi @everyone"}, headers=headers) as bare:
            assert bare.status == 400
        body = {"content": "hi", "allowed_mentions": {"parse": ["users"]}}
        async with session.post(url, json=body, headers=headers) as allows:
            assert allows.status == 400
        body = {"content": "x" * 2001, "allowed_mentions": {"parse": []}}
        async with session.post(url, json=body, headers=headers) as too_long:
            assert too_long.status == 400
        body = {"content": "hi", "allowed_mentions": {"parse": []}}
        async with session.post(url, json=body, headers=headers) as fine:
            assert fine.status == 200
    sandbox.requests.clear()
