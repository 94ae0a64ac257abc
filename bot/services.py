"""Services: everything a cog needs, built once by the entry point and passed in."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from bot.config import Settings
from bot.domain.flood import KEY_BYTES as FLOOD_KEY_BYTES
from bot.domain.flood import FloodControl
from bot.domain.memory import KEY_BYTES, MemberMemory
from bot.domain.noise import MAX_EPSILON, Sampler, WeeklyBudget
from bot.domain.server_settings import HostDefaults, ServerSettings, resolve
from bot.domain.shares import ShareLimit
from bot.domain.votes import vote_scale
from bot.storage.checkins import CheckinStore
from bot.storage.content_files import ContentLibrary
from bot.storage.engine import Engine
from bot.storage.published import PeriodPublisher
from bot.storage.schedule_store import ScheduleStore
from bot.storage.server_settings import ServerSettingsStore
from bot.storage.servers import ServerRecords
from bot.storage.votes import VoteStore

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fresh_member_memory() -> MemberMemory:
    # A new key at every start-up: nothing that outlives the process can link a member's
    # id to what the memory holds about them.
    return MemberMemory(secrets.token_bytes(KEY_BYTES))


@dataclass(frozen=True)
class SchedulerTiming:
    """How the scheduler waits: tests pass a sleep that follows their clock, and short
    back-offs between attempts to post."""

    sleep: Sleep = asyncio.sleep
    retry_delays: tuple[float, ...] = (5.0, 30.0, 120.0)
    send_timeout: float = 30.0


@dataclass
class Services:
    settings: Settings
    database: Engine
    content: ContentLibrary
    clock: Clock = utc_now
    rng: random.Random = field(default_factory=random.Random)
    memory: MemberMemory = field(default_factory=fresh_member_memory)
    scheduler_timing: SchedulerTiming = field(default_factory=SchedulerTiming)
    # Noise for published summaries: the operating system's secure generator; tests pass
    # a seeded random.Random.
    noise: Sampler = field(default_factory=secrets.SystemRandom)

    @property
    def budget(self) -> WeeklyBudget:
        # The setting is a decimal such as 2.5; as a fraction the noise stays exact.
        epsilon = Fraction(str(self.settings.privacy.epsilon)).limit_denominator(1000)
        return WeeklyBudget(min(epsilon, MAX_EPSILON))

    @cached_property
    def publisher(self) -> PeriodPublisher:
        return PeriodPublisher(self.database, self.noise)

    @cached_property
    def checkins(self) -> CheckinStore:
        return CheckinStore(self.database)

    @cached_property
    def flood(self) -> FloodControl:
        # Like the member memory: a key made at start-up and kept only in this process.
        window = dt.timedelta(hours=self.settings.privacy.checkin_window_hours)
        return FloodControl(secrets.token_bytes(FLOOD_KEY_BYTES), window)

    @cached_property
    def shares(self) -> ShareLimit:
        # Like the member memory: a key made at start-up and kept only in this process.
        return ShareLimit(secrets.token_bytes(FLOOD_KEY_BYTES))

    @cached_property
    def schedules(self) -> ScheduleStore:
        return ScheduleStore(self.database)

    @cached_property
    def votes(self) -> VoteStore:
        return VoteStore(self.database)

    @property
    def vote_scale(self) -> Fraction:
        return vote_scale(self.budget.epsilon)

    @cached_property
    def servers(self) -> ServerRecords:
        return ServerRecords(self.database)

    @cached_property
    def server_settings(self) -> ServerSettingsStore:
        return ServerSettingsStore(self.database)

    @cached_property
    def host_defaults(self) -> HostDefaults:
        return host_defaults(self.settings)

    def server(self, guild_id: int) -> ServerSettings:
        """The settings in force in this server: its own where chosen, else the host's."""
        return resolve(guild_id, self.server_settings.chosen(guild_id), self.host_defaults)

    async def aclose(self) -> None:
        """Finish writes still in flight; called before the database closes."""
        if "checkins" in self.__dict__:
            await self.checkins.aclose()


def host_defaults(settings: Settings) -> HostDefaults:
    moderation = settings.moderation
    return HostDefaults(
        moderator_roles=frozenset({moderation.role}) if moderation.role else frozenset(),
        reach_out_channels=dict(moderation.reach_out_channels),
        region=settings.crisis.default_region,
        timezone=settings.scheduling.default_timezone,
        min_group_size=settings.privacy.min_group_size,
        min_group_size_floor=settings.privacy.group_size_floor,
    )
