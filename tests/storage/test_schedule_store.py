"""ScheduleStore on real SQLite: scoping by server, claims, runs, and prompt rotation."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.content import PromptKind
from bot.domain.recurrence import LocalTime
from bot.domain.shards import shard_of
from bot.storage.engine import Engine
from bot.storage.schedule_store import (
    NewSchedule,
    RunStatus,
    ScheduleStore,
    ShardSlice,
    ShortIdsExhausted,
    choose_prompt,
    rotation_order,
)

GUILD = 111
OTHER_GUILD = 222
CHANNEL = 333
NOW = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday, 10:00 in New York
NEW_YORK = "America/New_York"
PROMPTS = tuple(f"reflection-{n}" for n in range(7))


def ids(*values: str) -> Callable[[], str]:
    source: Iterator[str] = iter(values)
    return lambda: next(source)


def counter() -> Callable[[], str]:
    numbers = itertools.count()
    return lambda: f"{next(numbers):06x}"


def nine_am(guild_id: int = GUILD, kind: PromptKind = PromptKind.REFLECTION) -> NewSchedule:
    return NewSchedule(
        guild_id=guild_id,
        channel_id=CHANNEL,
        at=LocalTime(9, 0),
        days=frozenset(range(5)),
        timezone=NEW_YORK,
        kind=kind,
    )


@pytest.fixture
def store(engine: Engine) -> ScheduleStore:
    """On each engine in turn (tests/conftest.py): the same promises on both."""
    return ScheduleStore(engine)


# -- schedules ----------------------------------------------------------------------------


async def test_add_keeps_local_time_and_zone_and_plans_the_first_occurrence(
    store: ScheduleStore,
) -> None:
    added = await store.add(nine_am(), now=NOW, make_short_id=ids("3fa9c2"))
    assert added.short_id == "3fa9c2"
    assert (added.at, added.timezone, added.days) == (
        LocalTime(9, 0),
        NEW_YORK,
        frozenset(range(5)),
    )
    # Past Friday's 09:00; the clocks go forward on Sunday, so Monday's 09:00 is 13:00 UTC.
    assert added.next_due == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert added.next_due.astimezone(ZoneInfo(NEW_YORK)).hour == 9
    assert not added.paused
    assert await store.get(GUILD, "3FA9C2 ") == added


async def test_short_ids_are_unique_per_server_and_collisions_draw_again(
    store: ScheduleStore,
) -> None:
    first = await store.add(nine_am(), now=NOW, make_short_id=ids("aaaaaa"))
    second = await store.add(nine_am(), now=NOW, make_short_id=ids("aaaaaa", "aaaaaa", "bbbbbb"))
    elsewhere = await store.add(nine_am(OTHER_GUILD), now=NOW, make_short_id=ids("aaaaaa"))
    assert (first.short_id, second.short_id, elsewhere.short_id) == ("aaaaaa", "bbbbbb", "aaaaaa")
    with pytest.raises(ShortIdsExhausted):
        await store.add(nine_am(), now=NOW, make_short_id=lambda: "aaaaaa")
    assert await store.count(GUILD) == 2


async def test_an_id_from_another_server_is_not_found(store: ScheduleStore) -> None:
    theirs = await store.add(nine_am(OTHER_GUILD), now=NOW, make_short_id=ids("c0ffee"))
    assert await store.get(GUILD, "c0ffee") is None
    assert await store.remove(GUILD, "c0ffee") is None
    assert await store.pause(GUILD, "c0ffee", "no") is None
    assert await store.resume(GUILD, "c0ffee", now=NOW) is None
    assert await store.for_guild(GUILD) == []
    assert await store.get(OTHER_GUILD, "c0ffee") == theirs


async def test_pause_and_resume_from_the_next_occurrence_after_now(store: ScheduleStore) -> None:
    added = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    paused = await store.pause(GUILD, "abc123", "Paused by a moderator.")
    assert paused is not None and paused.paused_reason == "Paused by a moderator."
    assert await store.due(added.next_due + timedelta(days=3)) == []
    assert await store.earliest_due() is None
    later = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # Wednesday, after that day's 09:00
    resumed = await store.resume(GUILD, "abc123", now=later)
    assert resumed is not None and not resumed.paused
    assert resumed.next_due == datetime(2026, 3, 12, 13, 0, tzinfo=UTC)
    assert await store.earliest_due() == resumed.next_due


async def test_list_puts_active_schedules_first_soonest_first(store: ScheduleStore) -> None:
    late = await store.add(
        NewSchedule(GUILD, CHANNEL, LocalTime(20, 0), frozenset(range(7)), "UTC", PromptKind.SKILL),
        now=NOW,
        make_short_id=ids("000003"),
    )
    paused = await store.add(nine_am(), now=NOW, make_short_id=ids("000001"))
    early = await store.add(
        NewSchedule(GUILD, CHANNEL, LocalTime(16, 0), frozenset(range(7)), "UTC", PromptKind.SKILL),
        now=NOW,
        make_short_id=ids("000002"),
    )
    await store.pause(GUILD, paused.short_id, "x")
    assert [s.short_id for s in await store.for_guild(GUILD)] == [
        early.short_id,
        late.short_id,
        paused.short_id,
    ]


async def test_pause_channel_pauses_only_that_channels_active_schedules(
    store: ScheduleStore,
) -> None:
    await store.add(nine_am(), now=NOW, make_short_id=ids("000001"))
    other = nine_am()
    await store.add(
        NewSchedule(other.guild_id, 999, other.at, other.days, other.timezone, other.kind),
        now=NOW,
        make_short_id=ids("000002"),
    )
    assert await store.pause_channel(CHANNEL, "#general was deleted.") == 1
    schedules = {s.short_id: s for s in await store.for_guild(GUILD)}
    assert schedules["000001"].paused_reason == "#general was deleted."
    assert not schedules["000002"].paused


async def test_delete_guild_forgets_schedules_runs_and_rotation(store: ScheduleStore) -> None:
    mine = await store.add(nine_am(), now=NOW, make_short_id=ids("000001"))
    theirs = await store.add(nine_am(OTHER_GUILD), now=NOW, make_short_id=ids("000001"))
    for schedule in (mine, theirs):
        await store.claim(
            schedule,
            schedule.next_due,
            now=schedule.next_due,
            next_due=schedule.following(schedule.next_due),
            prompt_ids=PROMPTS,
        )
    assert await store.delete_guild(GUILD) == 1
    assert await store.for_guild(GUILD) == []
    assert await store.runs(mine.key) == []
    assert await store.unused_prompts(GUILD, PromptKind.REFLECTION, PROMPTS) == len(PROMPTS)
    assert len(await store.runs(theirs.key)) == 1
    assert await store.unused_prompts(OTHER_GUILD, PromptKind.REFLECTION, PROMPTS) == 6


# -- claims and runs --------------------------------------------------------------------------


async def test_an_occurrence_can_be_claimed_once(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    due = schedule.next_due
    following = schedule.following(due)
    run = await store.claim(schedule, due, now=due, next_due=following, prompt_ids=PROMPTS)
    assert run is not None and run.status is RunStatus.CLAIMED and run.prompt_id in PROMPTS
    assert (await store.get(GUILD, "abc123")).next_due == following  # type: ignore[union-attr]
    assert await store.due(due) == []

    # Someone sets next_due back (a test, a clock fix): the same occurrence is not posted again,
    # and the attempt does not use up a prompt.
    await store.set_next_due(schedule.key, due)
    before = await store.unused_prompts(GUILD, PromptKind.REFLECTION, PROMPTS)
    again = await store.claim(schedule, due, now=due, next_due=following, prompt_ids=PROMPTS)
    assert again is None
    assert await store.unused_prompts(GUILD, PromptKind.REFLECTION, PROMPTS) == before
    assert (await store.get(GUILD, "abc123")).next_due == following  # type: ignore[union-attr]
    assert [r.id for r in await store.runs(schedule.key)] == [run.id]


async def test_a_paused_or_removed_schedule_cannot_be_claimed(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    due = schedule.next_due
    await store.pause(GUILD, "abc123", "x")
    assert await store.claim(schedule, due, now=due, next_due=due, prompt_ids=PROMPTS) is None
    await store.remove(GUILD, "abc123")
    assert await store.claim(schedule, due, now=due, next_due=due, prompt_ids=PROMPTS) is None


async def test_a_kind_without_prompts_claims_nothing_but_moves_on(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    due, following = schedule.next_due, schedule.following(schedule.next_due)
    assert await store.claim(schedule, due, now=due, next_due=following, prompt_ids=()) is None
    assert (await store.get(GUILD, "abc123")).next_due == following  # type: ignore[union-attr]


async def test_run_outcomes_and_unfinished_runs(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    first = schedule.next_due
    second = schedule.following(first)
    third = schedule.following(second)
    sent = await store.claim(schedule, first, now=first, next_due=second, prompt_ids=PROMPTS)
    # Claimed by a process that has since stopped (its owner token is no longer live).
    gone = ScheduleStore(store.database, owner="0123456789abcdef")
    left = await gone.claim(schedule, second, now=second, next_due=third, prompt_ids=PROMPTS)
    mine = await store.claim(schedule, third, now=third, next_due=third, prompt_ids=PROMPTS)
    assert sent is not None and left is not None and mine is not None
    await store.mark_sent(sent, 42, attempts=2)
    # This process's own claim is on its way, not left behind.
    unfinished = await store.unfinished_runs()
    assert [(run.id, s.short_id) for run, s in unfinished] == [(left.id, "abc123")]
    await store.mark_sent(mine, 43)
    await store.finish(left, RunStatus.FAILED, "Discord answered 500", attempts=4)
    assert await store.unfinished_runs() == []
    runs = await store.runs(schedule.key)
    assert [(r.status, r.message_id, r.attempts) for r in runs] == [
        (RunStatus.SENT, 42, 2),
        (RunStatus.FAILED, None, 4),
        (RunStatus.SENT, 43, 0),
    ]
    assert runs[1].detail == "Discord answered 500"
    last = await store.last_runs(GUILD)
    assert last[schedule.key].id == mine.id
    with pytest.raises(ValueError):
        await store.finish(left, RunStatus.SENT, "no", attempts=1)


async def test_skip_records_the_occurrence_and_moves_on(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    due = schedule.next_due
    later = due + timedelta(days=1, hours=5)
    await store.skip(schedule, due, now=later, next_due=schedule.following(later), detail="late")
    (run,) = await store.runs(schedule.key)
    assert (run.status, run.due, run.detail) == (RunStatus.SKIPPED, due, "late")
    assert (await store.get(GUILD, "abc123")).next_due == schedule.following(later)  # type: ignore[union-attr]


async def test_old_finished_runs_are_pruned(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    old = schedule.next_due
    run = await store.claim(schedule, old, now=old, next_due=old, prompt_ids=PROMPTS)
    assert run is not None
    await store.mark_sent(run, 1)
    much_later = old + timedelta(days=90)
    await store.claim(schedule, much_later, now=much_later, next_due=much_later, prompt_ids=PROMPTS)
    assert [r.due for r in await store.runs(schedule.key)] == [much_later]


# -- prompt rotation ---------------------------------------------------------------------------


async def test_no_prompt_repeats_until_all_were_posted(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    posted: list[str] = []
    due = schedule.next_due
    for _ in range(3 * len(PROMPTS)):
        predicted = await store.next_prompt(GUILD, PromptKind.REFLECTION, PROMPTS)
        following = schedule.following(due)
        run = await store.claim(schedule, due, now=due, next_due=following, prompt_ids=PROMPTS)
        assert run is not None and run.prompt_id == predicted
        posted.append(run.prompt_id)
        due = following
    cycles = [posted[i : i + len(PROMPTS)] for i in range(0, len(posted), len(PROMPTS))]
    assert all(sorted(cycle) == sorted(PROMPTS) for cycle in cycles)
    assert cycles[0] != cycles[1]  # each cycle has its own order
    assert all(a != b for a, b in itertools.pairwise(posted))


async def test_unused_prompts_count_down_and_reset(store: ScheduleStore) -> None:
    schedule = await store.add(nine_am(), now=NOW, make_short_id=ids("abc123"))
    kind = PromptKind.REFLECTION
    assert await store.unused_prompts(GUILD, kind, PROMPTS) == 7
    due = schedule.next_due
    for left in range(6, -1, -1):
        following = schedule.following(due)
        await store.claim(schedule, due, now=due, next_due=following, prompt_ids=PROMPTS)
        assert await store.unused_prompts(GUILD, kind, PROMPTS) == left
        due = following
    await store.claim(schedule, due, now=due, next_due=schedule.following(due), prompt_ids=PROMPTS)
    assert await store.unused_prompts(GUILD, kind, PROMPTS) == 6
    # A prompt added by a content reload counts as unused straight away.
    assert await store.unused_prompts(GUILD, kind, (*PROMPTS, "reflection-new")) == 7
    assert await store.unused_prompts(OTHER_GUILD, kind, PROMPTS) == 7


async def test_two_schedules_of_one_kind_share_the_rotation(store: ScheduleStore) -> None:
    morning = await store.add(nine_am(), now=NOW, make_short_id=ids("000001"))
    evening = await store.add(nine_am(), now=NOW, make_short_id=ids("000002"))
    due = morning.next_due
    a = await store.claim(
        morning, due, now=due, next_due=morning.following(due), prompt_ids=PROMPTS
    )
    b = await store.claim(
        evening, due, now=due, next_due=evening.following(due), prompt_ids=PROMPTS
    )
    assert a is not None and b is not None and a.prompt_id != b.prompt_id


def test_rotation_order_is_stable_and_differs_by_server_and_cycle() -> None:
    kind = PromptKind.GRATITUDE
    order = rotation_order(GUILD, kind, 0, PROMPTS)
    assert order == rotation_order(GUILD, kind, 0, reversed(PROMPTS))
    assert sorted(order) == sorted(PROMPTS)
    assert order != rotation_order(GUILD, kind, 1, PROMPTS)
    assert order != rotation_order(OTHER_GUILD, kind, 0, PROMPTS)


def test_a_new_cycle_never_starts_with_the_prompt_shown_last() -> None:
    kind = PromptKind.SKILL
    for cycle in range(50):
        first_of_next = rotation_order(GUILD, kind, cycle + 1, PROMPTS)[0]
        chosen = choose_prompt(GUILD, kind, PROMPTS, set(PROMPTS), cycle, first_of_next)
        assert chosen is not None
        assert chosen[0] != first_of_next and chosen[1] == cycle + 1
    assert choose_prompt(GUILD, kind, ("only",), {"only"}, 0, "only") == ("only", 1)
    assert choose_prompt(GUILD, kind, (), set(), 0, None) is None


async def test_a_slice_of_shards_reads_only_its_servers_schedules(store: ScheduleStore) -> None:
    # Real-sized ids: one server on each of four shards; the slice 1-2 of 4 holds two.
    base = 1191204167300786664
    guilds = {shard_of(base + (n << 22), 4): base + (n << 22) for n in range(4)}
    assert sorted(guilds) == [0, 1, 2, 3]
    added = {}
    for shard, guild_id in guilds.items():
        schedule = await store.add(nine_am(guild_id), now=NOW, make_short_id=counter())
        added[shard] = schedule
    # Shard 3's is due first, so a slice without it must not wake for it.
    await store.set_next_due(added[3].key, added[3].next_due - timedelta(hours=1))
    middle = ShardSlice(4, 1, 2)
    late = NOW + timedelta(days=7)
    assert {s.guild_id for s in await store.due(late, middle)} == {guilds[1], guilds[2]}
    assert len(await store.due(late)) == 4
    assert await store.earliest_due(middle) == added[1].next_due
    assert await store.earliest_due() == added[3].next_due - timedelta(hours=1)
    # Claimed by a process that has since stopped, so its runs are left behind.
    gone = ScheduleStore(store.database, owner="0123456789abcdef")
    for schedule in added.values():
        due = schedule.next_due
        following = schedule.following(due)
        claimed = await gone.claim(schedule, due, now=due, next_due=following, prompt_ids=PROMPTS)
        assert claimed is not None
    left = await store.unfinished_runs(middle)
    assert sorted(s.guild_id for _, s in left) == sorted((guilds[1], guilds[2]))
    assert len(await store.unfinished_runs()) == 4
