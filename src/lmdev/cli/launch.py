"""The console script's first steps, taken before Typer and the commands are imported.

A command that answers from the index (``list``, ``coverage``...) gets its freshness pass started
in a child process here (see :mod:`lmdev.prefetch`), so that statting every paper file overlaps
the parent's imports instead of following them. Nothing here may fail a command: when the data
directory cannot be found, the command itself says so later.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, Optional

GLOBAL_WITH_VALUE = ("--data-dir",)
# The commands that refresh the whole index before they answer.
INDEX_COMMANDS = frozenset({"list", "coverage", "reading-list", "export", "report"})


def command_name(args: Sequence[str]) -> Optional[str]:
    """The first argument that is neither a global option nor its value."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in GLOBAL_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _data_dir(args: Sequence[str]) -> Optional[Path]:
    """The value of a global ``--data-dir`` before the command (the last one, as the parser keeps)."""
    found, value_next = None, False
    for arg in args:
        if value_next:
            found, value_next = Path(arg), False
        elif arg == "--data-dir":
            value_next = True
        elif arg.startswith("--data-dir="):
            found = Path(arg.partition("=")[2])
        elif not arg.startswith("-"):
            break
    return found


def head_start(args: Sequence[str]) -> None:
    """Start the index's freshness pass early for a command that will need it."""
    if command_name(args) not in INDEX_COMMANDS or "--help" in args or "-h" in args:
        return
    from lmdev.errors import LmdevError
    from lmdev.paths import find_data_dir
    from lmdev.prefetch import start

    try:
        root = find_data_dir(_data_dir(args))
    except (LmdevError, OSError, ValueError):
        return
    start(root)


def main() -> None:
    """The ``lmdev`` command."""
    head_start(sys.argv[1:])
    from lmdev.cli.app import run

    leave(run())


def leave(code: int) -> NoReturn:
    """Exit with ``code`` without tearing the interpreter down: freeing every module and object one
    by one takes 40-80 ms after a command that has imported pydantic, Typer and rich, a sixth of
    the time a warm read has. Output is flushed and the exit handlers run (logging's, the head
    start's) as at a normal exit; with another thread still running, the normal exit is kept, so
    that the thread is waited for."""
    import atexit
    import os
    import threading

    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left (``| head``): it has what it wanted
        pass
    except OSError as exc:  # a full disk under ``> file``, say: the output is incomplete
        print(f"lmdev: error: could not write the output: {exc.strerror or exc}", file=sys.stderr)
        code = code or 1
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
