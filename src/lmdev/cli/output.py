"""Terminal output: data on stdout, messages on stderr, colour only where it belongs.

rich is imported lazily so that ``lmdev --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from rich.console import Console


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


def _colour() -> bool:
    return "NO_COLOR" not in os.environ


def out() -> "Console":
    """A console on stdout: colour and markup only on a TTY and without NO_COLOR."""
    from rich.console import Console

    return Console(highlight=False, no_color=not _colour(), soft_wrap=False)


def err() -> "Console":
    from rich.console import Console

    return Console(stderr=True, highlight=False, no_color=not _colour())


def message(text: str) -> None:
    """A plain message on stderr (no markup, so ids and paths print as they are)."""
    print(text, file=sys.stderr)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


@contextmanager
def progress(total: int, description: str, *, minimum: int = 5) -> Iterator[Callable[[int], None]]:
    """Yield an ``advance(n)`` callback; a bar shows on a stderr terminal for jobs of ``minimum`` or more."""
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
        yield lambda n=1: bar.advance(task, n)
