"""The one exception hierarchy of lmdev.

The library raises these; the CLI turns them into a single line on stderr and an exit code
in one place (``lmdev.cli.main``), so no command needs its own error handling.
"""

from __future__ import annotations


class LmdevError(Exception):
    """Base class: a problem the user can act on, described in one line."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UsageError(LmdevError):
    """The command line itself is wrong (bad option value, unknown id form)."""

    exit_code = 2


class InvalidIdError(UsageError):
    """A paper id that is neither an arXiv id nor a valid slug."""


class DataError(LmdevError):
    """A data file (taxonomy or paper) that cannot be read or does not validate."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = None
        if path is not None:
            where = f"{path}:{line}" if line else path
        super().__init__(message, where=where)
        self.path = path
        self.line = line


class NotFoundError(LmdevError):
    """A paper or taxonomy node that the library does not hold."""


class ArxivError(LmdevError):
    """The arXiv API answered with an error, or could not be reached.

    ``url``, ``status`` and ``retry_after`` (seconds) say what was asked and how arXiv answered,
    so callers can decide without reading the message.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after = retry_after


class UnreachableError(ArxivError):
    """arXiv could not be reached at all (name lookup or connection failed): fail fast, no retry."""


class UnresponsiveError(ArxivError):
    """arXiv kept timing out or dropping the connection through every retry: the next request
    would most likely do the same, so a command of many requests stops instead of sitting out
    each one."""


class RateLimitedError(ArxivError):
    """arXiv kept refusing us for sending too many requests."""


class BlockedError(ArxivError):
    """arXiv's robot detection answered 403: stop at once, never retry."""
