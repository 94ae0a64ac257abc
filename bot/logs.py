"""Logging for the command line: colour only on a terminal, and no voice-support noise.

discord.py colours its log lines whenever it guesses the output can show colour (it
guesses yes inside any container, even when piped), and warns at every start that its
voice libraries are missing; Peerlight uses no voice, so that warning only alarms hosts.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

PLAIN_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"


class _NoVoiceWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def wants_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def setup_logging(level: int | str, stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger; returns it so callers can remove it."""
    import discord.utils

    target = stream or sys.stderr
    handler = logging.StreamHandler(target)
    if wants_colour(target):
        handler.setFormatter(discord.utils._ColourFormatter())
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT, "%Y-%m-%d %H:%M:%S", style="{"))
    handler.addFilter(_NoVoiceWarnings())
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    return handler
