"""Open the database the settings name: a SQLite file, or PostgreSQL at a URL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.storage.database import Database
from bot.storage.engine import Engine
from bot.storage.postgres import PostgresEngine

__all__ = ["open_database", "password_from_environment"]


def password_from_environment(settings: Settings) -> str | None:
    """The PostgreSQL password from the variable named by `database_password_env`, or
    None (the server may not ask for one: a local socket, a client certificate)."""
    return os.environ.get(settings.database_password_env) or None


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Engine]:
    """The engine for `settings.database`; raises DatabaseError naming what to fix."""
    url = settings.database_url
    if url is None:
        async with Database.open(settings.database_path) as database:
            yield database
        return
    async with PostgresEngine.open(url, password=password_from_environment(settings)) as engine:
        yield engine
