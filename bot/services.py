"""Services: everything a cog needs, built once by the entry point and passed in."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import Settings
from bot.storage.content_files import ContentLibrary
from bot.storage.database import Database

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: Settings
    database: Database
    content: ContentLibrary
    clock: Clock = utc_now
    rng: random.Random = field(default_factory=random.Random)
