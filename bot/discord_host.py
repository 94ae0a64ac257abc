"""Pointing discord.py at another Discord: a local sandbox, or a proxy a host runs.

`discord.api_base` and `discord.gateway_url` in the configuration name it; `peerlight run`
calls `connect_client_to` before the bot logs in. Kept apart from `bot.sandbox`, so that
running the bot never imports the sandbox.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import discord.gateway
import discord.http
import yarl


def connect_client_to(api_base: str, gateway_url: str) -> None:
    """Point every discord.py client in this process at another Discord (e.g. a Sandbox).

    Interaction callbacks go through the webhook adapter, which builds its URLs from the
    same ``Route`` class, so these two attributes redirect everything.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@contextlib.contextmanager
def client_pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """`connect_client_to` for the duration of a block, then back to what it was."""
    previous_base = discord.http.Route.BASE
    previous_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    connect_client_to(api_base, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = previous_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = previous_gateway
