"""Errors a member or moderator should read, raised anywhere below the Discord layer."""


class UserFacingError(Exception):
    """Shown to the person who ran the command, privately, as it is written.

    Write the message for a member: what happened and what to do next, kindly.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
