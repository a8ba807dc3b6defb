"""Terminal output: data on stdout, messages on stderr, colour only where it belongs.

rich is imported lazily so that ``lmdev --help`` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lmdev.termtext import safe as safe  # the one way the CLI makes text terminal-safe

if TYPE_CHECKING:
    from rich.console import Console


class SafeFormatter(logging.Formatter):
    """Log records go to a terminal too: retries quote what a server said."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record), newlines=True)


def _colour() -> bool:
    return "NO_COLOR" not in os.environ


PIPE_WIDTH = 10_000


def out() -> Console:
    """A console on stdout: colour and markup only on a TTY and without NO_COLOR. Piped, lines
    are never wrapped and tables never cut (whatever COLUMNS says): what a script reads is whole."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else PIPE_WIDTH
    return Console(highlight=False, emoji=False, no_color=not _colour(), soft_wrap=False, width=width)


def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False, no_color=not _colour())


def message(text: str) -> None:
    """A plain message on stderr: no markup, control characters escaped, line breaks kept."""
    print(safe(text, newlines=True), file=sys.stderr)


def note(text: str) -> None:
    """One line on stderr whatever it quotes (a file name may hold a line break): what CI logs
    read as one finding, never as a second, forged one."""
    print(safe(text), file=sys.stderr)


def print_json(data: Any) -> None:
    """JSON on stdout; characters a terminal would act on are written as ``\\u`` escapes."""
    from lmdev.doctext import to_json

    sys.stdout.write(to_json(data, indent=2, default=str) + "\n")


def write(text: str) -> None:
    """A document (Markdown, BibTeX, CSV...) on stdout, control characters escaped: the library
    leaves none in the documents it makes, and this keeps it so whatever they quote."""
    sys.stdout.write(safe(text, newlines=True))


def write_chunks(chunks: Iterable[str]) -> None:
    """:func:`write` for a document made as it goes (exports, reading lists at scale)."""
    sys.stdout.writelines(safe(chunk, newlines=True) for chunk in chunks)


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


@contextmanager
def progress(total: int, description: str, *, minimum: int = 5) -> Iterator[Callable[[int], None]]:
    """Yield an ``advance(n)`` callback; a bar shows on a stderr terminal for jobs of ``minimum`` or more.
    Off a terminal the callback does nothing, and rich is not imported: a disabled bar still cost
    a tenth of a second to import and several microseconds per call (100,000 calls in a bulk run)."""
    if total < minimum or not sys.stderr.isatty():
        yield _nothing
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = err()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=total < minimum or not console.is_terminal,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def _nothing(n: int = 1) -> None:
    """What ``advance`` does when no bar shows."""
