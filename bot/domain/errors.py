"""Errors a member or moderator should read, raised anywhere below the Discord layer."""

import sqlite3


class UserFacingError(Exception):
    """Shown to the person who ran the command, privately, as it is written.

    Write the message for a member: what happened and what to do next, kindly.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StorageError(Exception):
    """The database server refused or could not be reached; nothing of the transaction
    was stored. Raised by the PostgreSQL engine in place of its driver's errors."""


# A database refusing a change, whichever engine holds it (bot/storage/engine.py): the
# bot answers "nothing was saved" for any of these.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, StorageError)
