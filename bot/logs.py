"""Logging that cannot give a member away, at any level (SAFETY.md §5).

Two guards, because either alone would depend on every library behaving:

1. Libraries that see whole interactions are held at INFO whatever `log_level` says.
   At DEBUG, discord.py's gateway logger writes every event it receives (member ids and
   names, what was typed into a command, interaction tokens), its HTTP logger every request
   and response body, and aiosqlite every statement with its parameters. At INFO and above
   they write only connection events and errors. `log_level: DEBUG` therefore shows
   Peerlight's own debug lines and nothing more from them.
2. Every record, from any logger, passes a filter on the handlers that replaces anything
   shaped like a Discord token (a bot token, an interaction or webhook token) with
   `[redacted]`, in the message and in its arguments.

Two courtesies for hosts: colour only on a terminal (and never with NO_COLOR set), and
no warning at every start that discord.py's voice libraries are missing (Peerlight uses no
voice).

Peerlight's own code never logs a member's id or name or anything a member typed; the
end-to-end test that drives every command at DEBUG reads the whole log to prove it.
"""

from __future__ import annotations

import logging
import os
import re
import sys

__all__ = [
    "QUIET_LIBRARIES",
    "REDACTED",
    "RedactTokens",
    "configure_logging",
    "redact",
    "wants_colour",
]

# Loggers never allowed below INFO: each can write interaction payloads or SQL parameters.
QUIET_LIBRARIES: tuple[str, ...] = (
    "discord",
    "aiosqlite",
    "asyncpg",
    "aiohttp",
    "websockets",
    "asyncio",
)
REDACTED = "[redacted]"
# A bot token is three base64url parts joined by dots; interaction and webhook tokens are
# long runs of base64url. Both are longer than any word or id Peerlight writes on purpose.
_TOKENS = re.compile(
    r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}"
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{60,}(?![A-Za-z0-9_-])"
)
_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


def redact(text: str) -> str:
    """`text` with anything shaped like a Discord token replaced."""
    return _TOKENS.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Formats the record's message once, with tokens replaced, so no handler can print
    the original arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is dropped, not printed raw
            return False
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class NoVoiceWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def wants_colour(stream: object) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def _formatter(handler: logging.Handler) -> logging.Formatter:
    stream = getattr(handler, "stream", None)
    if isinstance(handler, logging.StreamHandler) and wants_colour(stream):
        import discord.utils

        return discord.utils._ColourFormatter()
    return logging.Formatter(_FORMAT)


def _library_level(level: int) -> int:
    return max(level, logging.INFO)


def configure_logging(level: str | int, *, handler: logging.Handler | None = None) -> None:
    """One handler on the root logger (stderr unless given), with the token filter, at
    `level`; the libraries in `QUIET_LIBRARIES` never below INFO."""
    numeric = level if isinstance(level, int) else logging.getLevelName(level)
    if not isinstance(numeric, int):
        raise ValueError(f"not a logging level: {level!r}")
    root = logging.getLogger()
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(handler))
    handler.addFilter(RedactTokens())
    handler.addFilter(NoVoiceWarnings())
    for existing in list(root.handlers):
        if getattr(existing, "_peerlight", False):
            root.removeHandler(existing)
    handler._peerlight = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(_library_level(numeric))
