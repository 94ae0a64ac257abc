"""Run the real Peerlight bot against a Sandbox in this process.

Used by `peerlight demo`, the end-to-end tests and the benchmarks, so all three drive the
same stack a member's Discord client would: gateway, REST, discord.py, the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import PeerlightBot, make_bot
from bot.config import Settings
from bot.discord_host import client_pointed_at
from bot.domain.noise import Sampler
from bot.services import Clock, SchedulerTiming, Services, utc_now
from bot.storage.content_files import ContentLibrary, LoadReport, load_library
from bot.storage.engines import open_database

from .server import Sandbox

READY_TIMEOUT = 15.0


def sandbox_settings(
    settings: Settings, sandbox: Sandbox, *, database: Path, content_dir: Path | None = None
) -> Settings:
    """The given settings, pointed at the sandbox, its first server and a database file."""
    discord = settings.discord.model_copy(
        update={
            "api_base": sandbox.api_base,
            "gateway_url": sandbox.gateway_url,
            "guild_ids": (sandbox.guild.id,),
        }
    )
    update: dict[str, object] = {"discord": discord, "database": database}
    if content_dir is not None:
        update["content_dir"] = content_dir
    return settings.model_copy(update=update)


def load_content(settings: Settings, today: dt.date | None = None) -> LoadReport:
    return load_library(settings.content_path, today=today or utc_now().date(), revision=None)


@contextlib.asynccontextmanager
async def running_bot(
    sandbox: Sandbox,
    settings: Settings,
    *,
    report: LoadReport | None = None,
    clock: Clock = utc_now,
    guild_ready_timeout: float = 0.05,
    scheduler_timing: SchedulerTiming | None = None,
    noise: Sampler | None = None,
) -> AsyncIterator[PeerlightBot]:
    """Start the bot against `sandbox`, wait until it is ready, and close it on exit.

    The bot is closed before the caller stops the sandbox, so discord.py never sees the
    server vanish under a live connection (it would log reconnect errors).
    """
    if report is None:
        report = await asyncio.to_thread(load_content, settings)
    if report.catalog is None:
        problems = "\n".join(p.format() for p in report.errors[:20])
        raise RuntimeError(f"the content library has errors:\n{problems}")
    with client_pointed_at(sandbox.api_base, sandbox.gateway_url):
        async with open_database(settings) as database:
            content = ContentLibrary(settings.content_path, report, clock())
            services = Services(settings=settings, database=database, content=content, clock=clock)
            if scheduler_timing is not None:
                services.scheduler_timing = scheduler_timing
            if noise is not None:
                services.noise = noise
            bot = make_bot(services, guild_ready_timeout=guild_ready_timeout)
            task = asyncio.create_task(bot.start(sandbox.token), name="peerlight-bot")
            try:
                ready = asyncio.create_task(bot.wait_until_ready())
                done, _ = await asyncio.wait(
                    {ready, task}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
                )
                if task in done:
                    ready.cancel()
                    task.result()  # raises what stopped the bot
                    raise RuntimeError("the bot stopped before it was ready")
                if ready not in done:
                    ready.cancel()
                    raise TimeoutError(f"the bot was not ready within {READY_TIMEOUT:.0f} s")
                yield bot
            finally:
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)
                await services.aclose()
