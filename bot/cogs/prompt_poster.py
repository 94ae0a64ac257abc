"""The scheduler: one task that posts scheduled prompts on time, each one exactly once.

It sleeps until the earliest `next_due` of any active schedule (woken early when a
moderator changes a schedule), posts what is due, and sleeps again. There is no
minute-by-minute polling; the longest sleep is capped only so that a suspended host or a
wall-clock jump is noticed within a quarter of an hour.

Exactly once
  1. Claim: one transaction inserts the (schedule, due) pair into `schedule_runs`, where it
     is UNIQUE, chooses the prompt and moves the schedule's `next_due` on. A second claim
     of the same occurrence (another task, a restart, a second process on the same
     database) fails inside SQLite and posts nothing.
  2. Send, with a nonce derived from (schedule, due). discord.py sends `enforce_nonce`
     with every nonce, so when a retry reaches Discord after an earlier attempt already
     did (a timeout that was really a slow success), Discord answers with the first
     message instead of posting a second one, for a few minutes after the first.
  3. Mark sent, with the message id.

  A crash between 1 and 3 leaves a claimed run without an outcome. The next start looks
  for the post among the channel's latest messages: from this bot, created after the
  claim, carrying the run's prompt (prompts do not repeat within a cycle, so the text
  identifies the post). Found: the run is marked sent and nothing is posted. Certainly
  absent (the bot can read the channel's history and looked back past the claim) and
  still within the catch-up window: it is posted once, with the same prompt and nonce.
  When the bot cannot tell (no Read Message History, Discord did not answer), it does not
  post: for that one occurrence delivery is at most once, logged as a WARNING. A
  duplicate post in a peer-support channel does more harm than one missed prompt, and the
  next occurrence comes as usual.

Catch-up after downtime
  Only the most recent missed occurrence of a schedule counts. Missed by less than
  `scheduling.catch_up_grace_minutes` (or by under a minute, which is being on time), it
  is posted once; older, it is skipped and logged. Either way `next_due` moves to the
  first occurrence after now, so a long outage never floods a channel.

When Discord says no
  429 is discord.py's to wait out. 5xx (after discord.py's own retries of 500/502/504)
  and timeouts are tried again after `SchedulerTiming.retry_delays` (three back-offs),
  then that occurrence is given up with a WARNING. 403 and 404, or a permission the bot
  can see it lacks before sending, pause the schedule with the reason, which
  `/schedule list` shows. Every schedule is handled on its own, so one bad schedule can
  never stop the others, and the loop itself outlives any error.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord

from bot.domain.cards.schedule import prompt_card
from bot.domain.content import Prompt
from bot.services import Services
from bot.storage.schedule_store import Run, RunStatus, Schedule, ScheduleStore, ShardSlice
from bot.ui.embeds import message_kwargs
from bot.ui.schedule import (
    checkin_view,
    missing_permission_reason,
    missing_post_permissions,
)

log = logging.getLogger(__name__)

ON_TIME = timedelta(minutes=1)
LONGEST_SLEEP = timedelta(minutes=15)
AFTER_AN_ERROR = timedelta(seconds=30)
# Looking for a post after a restart: how far before the claim a message may be dated
# (clock skew between this host and Discord), and how many recent messages are read.
CLAIM_MARGIN = timedelta(minutes=2)
HISTORY_LOOKBACK = 100
STOP_GRACE_SECONDS = 5.0
# Posts sent at once. Each holds one of the bot's connections to Discord (bot/app.py,
# HTTP_CONNECTIONS) until Discord answers; when Discord is slow to take posts and many
# are due together, the rest wait their turn, so members' interactions, whose answers
# cannot wait past Discord's 3 seconds, always find a connection.
POSTS_AT_ONCE = 16

UNWORKABLE = (
    "Peerlight could not work out when this schedule posts next. Remove it and add it again."
)

_TRANSIENT = (discord.DiscordServerError, TimeoutError, aiohttp.ClientError, ConnectionError)


class Refused(Exception):
    """Discord will not take posts for this schedule until someone fixes something."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Lookup:
    """What looking for a post found: `known` is False when the bot could not tell."""

    known: bool
    message_id: int | None = None


UNKNOWN = Lookup(known=False)
ABSENT = Lookup(known=True)


def nonce_for(schedule_key: int, due: datetime) -> str:
    """The same nonce for every attempt at one occurrence; Discord allows 25 characters."""
    moment = due.astimezone(UTC).isoformat(timespec="milliseconds")
    digest = hashlib.sha256(f"peerlight:{schedule_key}:{moment}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)


def latest_occurrence(schedule: Schedule, now: datetime) -> datetime:
    """The most recent occurrence at or before `now`, and not before `schedule.next_due`."""
    latest = schedule.next_due
    # Every schedule runs at least once a week, so eight days back always holds the answer.
    probe = max(latest, now - timedelta(days=8))
    while (candidate := schedule.following(probe)) <= now:
        latest = probe = candidate
    return latest


def _late_by(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


class PromptPoster:
    """Runs inside the bot: `start()` once the cog loads, `stop()` when it unloads."""

    def __init__(self, bot: discord.Client, services: Services) -> None:
        self.bot = bot
        self.services = services
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._sending = asyncio.Semaphore(POSTS_AT_ONCE)
        self._passes_started = 0
        self._passes_finished = 0
        self._progress = asyncio.Condition()
        # Seconds the loop sleeps after its latest pass (None: until woken), for tests.
        self.planned_sleep: float | None = None

    @property
    def store(self) -> ScheduleStore:
        return self.services.schedules

    @property
    def shards(self) -> ShardSlice | None:
        """Only the schedules of servers on this process's shards are its to post."""
        return self.services.settings.discord.shard_slice

    @property
    def grace(self) -> timedelta:
        minutes = self.services.settings.scheduling.catch_up_grace_minutes
        return max(timedelta(minutes=minutes), ON_TIME)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Started, and not stopped since."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="peerlight-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._deliveries:
            # A post in flight gets a moment to finish; one cut off stays claimed, and the
            # next start looks for it before posting anything.
            _, pending = await asyncio.wait(set(self._deliveries), timeout=STOP_GRACE_SECONDS)
            for delivery in pending:
                delivery.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def wake(self) -> None:
        """Look at the schedules again now: one was added, changed or removed."""
        self._wake.set()

    async def settle(self) -> None:
        """Wait until every post started so far has its outcome."""
        while self._deliveries:
            await asyncio.gather(*set(self._deliveries), return_exceptions=True)

    async def run_pending(self, timeout: float = 10) -> None:
        """Wake the scheduler, wait for a whole pass that began after this call, then for
        the posts it started. For tests, which change the clock or the database under
        the scheduler."""
        target = self._passes_started + 1
        self.wake()
        async with asyncio.timeout(timeout):
            async with self._progress:
                await self._progress.wait_for(lambda: self._passes_finished >= target)
            await self.settle()

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
        try:
            await self._recover()
        except Exception:
            log.exception("could not check posts left unfinished by the last run")
        while True:
            self._wake.clear()
            self._passes_started += 1
            delay: float | None
            try:
                await self._pass()
                delay = await self._delay()
            except Exception:
                log.exception("the scheduler's pass failed; trying again shortly")
                delay = AFTER_AN_ERROR.total_seconds()
            self.planned_sleep = delay
            async with self._progress:
                self._passes_finished += 1
                self._progress.notify_all()
            await self._sleep(delay)

    async def _delay(self) -> float | None:
        earliest = await self.store.earliest_due(self.shards)
        if earliest is None:
            return None
        wait = earliest - self.services.clock()
        return max(0.0, min(wait, LONGEST_SLEEP).total_seconds())

    async def _sleep(self, delay: float | None) -> None:
        if self._wake.is_set():
            return
        waiters: set[asyncio.Task[Any]] = {asyncio.create_task(self._wake.wait())}
        if delay is not None:
            waiters.add(asyncio.create_task(self._sleep_for(delay)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _sleep_for(self, delay: float) -> None:
        await self.services.scheduler_timing.sleep(delay)

    async def _pass(self) -> None:
        now = self.services.clock()
        for schedule in await self.store.due(now, self.shards):
            try:
                await self._take(schedule, now)
            except Exception:
                log.exception(
                    "scheduled prompt %s in server %s could not be handled",
                    schedule.short_id,
                    schedule.guild_id,
                )
                await self._set_aside(schedule, now)

    async def _set_aside(self, schedule: Schedule, now: datetime) -> None:
        """Move a schedule that could not be handled out of the way, so it cannot keep the
        loop busy: on to its next time, or paused when even that cannot be worked out."""
        try:
            await self.store.set_next_due(schedule.key, schedule.following(now))
        except Exception:
            with contextlib.suppress(Exception):
                await self.store.pause_key(schedule.key, UNWORKABLE)

    async def _take(self, schedule: Schedule, now: datetime) -> None:
        due = latest_occurrence(schedule, now)
        following = schedule.following(now)
        late = now - due
        if late >= self.grace:
            detail = f"missed by {_late_by(late)} while Peerlight was offline; too late to post"
            await self.store.skip(schedule, due, now=now, next_due=following, detail=detail)
            log.warning(
                "scheduled prompt %s in server %s: the post due %s was missed by %s, more "
                "than the catch-up window; skipped it, next one %s",
                schedule.short_id,
                schedule.guild_id,
                due.isoformat(),
                _late_by(late),
                following.isoformat(),
            )
            return
        prompt_ids = self.services.content.catalog.prompts_of_kind(schedule.kind)
        if not prompt_ids:
            detail = f"the content library has no {schedule.kind.value} prompts"
            await self.store.skip(schedule, due, now=now, next_due=following, detail=detail)
            log.warning(
                "scheduled prompt %s in server %s skipped: %s",
                schedule.short_id,
                schedule.guild_id,
                detail,
            )
            return
        run = await self.store.claim(
            schedule, due, now=now, next_due=following, prompt_ids=prompt_ids
        )
        if run is None:
            log.info(
                "scheduled prompt %s in server %s: the post due %s was already claimed",
                schedule.short_id,
                schedule.guild_id,
                due.isoformat(),
            )
            return
        if late >= ON_TIME:
            log.info(
                "scheduled prompt %s in server %s: catching up on the post due %s (%s late)",
                schedule.short_id,
                schedule.guild_id,
                due.isoformat(),
                _late_by(late),
            )
        self._spawn(self._deliver(schedule, run))

    def _spawn(self, delivery: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(delivery)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    # -- posting -------------------------------------------------------------------------

    async def _deliver(self, schedule: Schedule, run: Run) -> None:
        try:
            await self._attempt(schedule, run)
        except Exception:
            log.exception(
                "posting scheduled prompt %s in server %s failed unexpectedly",
                schedule.short_id,
                schedule.guild_id,
            )
            with contextlib.suppress(Exception):
                await self.store.finish(
                    run, RunStatus.FAILED, "something went wrong in Peerlight", attempts=1
                )

    async def _attempt(self, schedule: Schedule, run: Run) -> None:
        prompt = self.services.content.catalog.prompts.get(run.prompt_id or "")
        if prompt is None:
            detail = "its prompt was removed from the library before it went out"
            await self.store.finish(run, RunStatus.FAILED, detail, attempts=run.attempts)
            log.warning("scheduled prompt %s: %s", schedule.short_id, detail)
            return
        delays = self.services.scheduler_timing.retry_delays
        attempts = run.attempts
        while True:
            attempts += 1
            try:
                message = await self._post(schedule, prompt, run)
            except Refused as refusal:
                await self.store.pause_key(schedule.key, refusal.reason)
                await self.store.finish(run, RunStatus.FAILED, refusal.reason, attempts=attempts)
                log.warning(
                    "scheduled prompt %s in server %s paused: %s",
                    schedule.short_id,
                    schedule.guild_id,
                    refusal.reason,
                )
                return
            except _TRANSIENT as exc:
                problem = _describe_transient(exc)
                if attempts > len(delays):
                    detail = f"Discord could not take the post after {attempts} tries ({problem})"
                    await self.store.finish(run, RunStatus.FAILED, detail, attempts=attempts)
                    log.warning(
                        "scheduled prompt %s in server %s: gave up the post due %s: %s",
                        schedule.short_id,
                        schedule.guild_id,
                        run.due.isoformat(),
                        detail,
                    )
                    return
                delay = delays[attempts - 1]
                log.info(
                    "scheduled prompt %s: %s on try %d; trying again in %g s",
                    schedule.short_id,
                    problem,
                    attempts,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            except discord.HTTPException as exc:
                # Any other refusal would be the same on every try.
                detail = f"Discord refused the post ({exc.status}: {exc.text or 'no reason'})"
                await self.store.finish(run, RunStatus.FAILED, detail, attempts=attempts)
                log.warning("scheduled prompt %s: %s", schedule.short_id, detail)
                return
            await self.store.mark_sent(run, message.id, attempts=attempts)
            log.info(
                "posted scheduled prompt %s in server %s (due %s)",
                schedule.short_id,
                schedule.guild_id,
                run.due.isoformat(),
            )
            return

    async def _post(self, schedule: Schedule, prompt: Prompt, run: Run) -> discord.Message:
        target = self._target(schedule)
        name = getattr(target, "name", None) or "its channel"
        try:
            async with (
                self._sending,
                asyncio.timeout(self.services.scheduler_timing.send_timeout),
            ):
                return await target.send(
                    **message_kwargs(prompt_card(prompt)),
                    view=checkin_view(),
                    nonce=nonce_for(schedule.key, run.due),
                )
        except discord.NotFound as exc:
            raise Refused(f"The channel it posts to no longer exists ({exc.text}).") from exc
        except discord.Forbidden as exc:
            if exc.code == 50001:
                reason = f"Peerlight can no longer see #{name}."
            else:
                reason = f"Discord refused the post in #{name} ({exc.text or exc.status})."
            raise Refused(reason) from exc

    def _target(self, schedule: Schedule) -> discord.abc.Messageable:
        channel = self.bot.get_channel(schedule.channel_id)
        if isinstance(channel, discord.TextChannel):
            missing = missing_post_permissions(channel)
            if missing:
                raise Refused(missing_permission_reason(channel.name, missing))
            return channel
        guild = self.bot.get_guild(schedule.guild_id)
        if guild is not None and not guild.unavailable and channel is None:
            raise Refused("The channel it posts to no longer exists.")
        # Not in the cache (the server is unavailable right now): let Discord decide.
        return self.bot.get_partial_messageable(schedule.channel_id, guild_id=schedule.guild_id)

    # -- after a restart -----------------------------------------------------------------

    async def _recover(self) -> None:
        now = self.services.clock()
        for run, schedule in await self.store.unfinished_runs(self.shards):
            try:
                await self._resolve(run, schedule, now)
            except Exception:
                log.exception("could not settle the unfinished post of %s", schedule.short_id)

    async def _resolve(self, run: Run, schedule: Schedule, now: datetime) -> None:
        prompt = self.services.content.catalog.prompts.get(run.prompt_id or "")
        found = await self._look_for_post(schedule, run, prompt)
        where = f"scheduled prompt {schedule.short_id} in server {schedule.guild_id}"
        if found.message_id is not None:
            await self.store.mark_sent(run, found.message_id)
            log.info(
                "%s: the post due %s went out before the restart; not posting it again",
                where,
                run.due.isoformat(),
            )
            return
        if not found.known:
            detail = "a restart interrupted it and Peerlight could not check whether it went out"
            await self.store.finish(run, RunStatus.UNKNOWN, detail, attempts=run.attempts)
            log.warning(
                "%s: a restart interrupted the post due %s and Peerlight cannot tell whether "
                "it went out; not posting it again, so a duplicate cannot appear",
                where,
                run.due.isoformat(),
            )
            return
        if schedule.paused or now - run.due >= self.grace:
            detail = "a restart interrupted it, and it was too late to post afterwards"
            await self.store.finish(run, RunStatus.SKIPPED, detail, attempts=run.attempts)
            log.warning("%s: the post due %s was not delivered: %s", where, run.due, detail)
            return
        log.info(
            "%s: the post due %s did not go out before the restart; posting it", where, run.due
        )
        self._spawn(self._deliver(schedule, run))

    async def _look_for_post(self, schedule: Schedule, run: Run, prompt: Prompt | None) -> Lookup:
        channel = self.bot.get_channel(schedule.channel_id)
        me = self.bot.user
        if prompt is None or me is None or not isinstance(channel, discord.TextChannel):
            return UNKNOWN
        permissions = channel.permissions_for(channel.guild.me)
        if not (permissions.view_channel and permissions.read_message_history):
            return UNKNOWN
        since = run.claimed_at - CLAIM_MARGIN
        seen = 0
        try:
            async with asyncio.timeout(self.services.scheduler_timing.send_timeout):
                async for message in channel.history(limit=HISTORY_LOOKBACK):
                    seen += 1
                    if message.created_at < since:
                        return ABSENT
                    if message.author.id == me.id and any(
                        embed.description == prompt.text for embed in message.embeds
                    ):
                        return Lookup(known=True, message_id=message.id)
        except (discord.HTTPException, *_TRANSIENT):
            return UNKNOWN
        # Every message read was newer than the claim: the post could be further back.
        return ABSENT if seen < HISTORY_LOOKBACK else UNKNOWN


def _describe_transient(exc: BaseException) -> str:
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord answered {exc.status}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"connection problem ({exc.__class__.__name__})"
