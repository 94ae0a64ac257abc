"""Pseudonyms: how what Peerlight holds in memory about a member is keyed (SAFETY.md §3).

A pseudonym is an HMAC-SHA256 of one or more ids (a member's, and where it matters the
server's) under a key made at start-up and kept nowhere else. What is filed under it holds
no id and cannot be joined to one without that key, and the key is gone when the process
ends. A plain hash would not do: member ids are visible to everyone in a server, so anyone
could hash them all and look the results up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["KEY_BYTES", "Pseudonyms"]

KEY_BYTES = 32


class Pseudonyms:
    def __init__(self, key: bytes | None = None) -> None:
        """`key`: at least `KEY_BYTES` random bytes; a fresh random key when None."""
        if key is None:
            key = secrets.token_bytes(KEY_BYTES)
        if len(key) < KEY_BYTES:
            raise ValueError(f"the key must be at least {KEY_BYTES} random bytes")
        self._key = key

    def of(self, *parts: int) -> bytes:
        """The 32-byte pseudonym of these ids, in this order."""
        if not parts:
            raise ValueError("a pseudonym is made of at least one id")
        message = ":".join(str(int(part)) for part in parts).encode("ascii")
        return hmac.new(self._key, message, hashlib.sha256).digest()
