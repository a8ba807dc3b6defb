"""Entry point: registers the commands and turns library errors into exit codes, in one place."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Optional

from lmdev.cli import arxiv_cmds, classify_cmds, import_cmds, library_cmds, papers_cmds, report_cmds, review_cmds, tracker_cmds  # noqa: F401 - register commands
from lmdev.cli.base import app, state
from lmdev.errors import LmdevError
from lmdev.paths import debug_enabled


def run(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI and return its exit code: 0 ok, 1 check failed or error, 2 usage.

    Library errors and unreadable files become one line on stderr; ``--debug`` (or
    ``LMDEV_DEBUG=1``) lets them through with their traceback instead.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    state["debug"] = debug_enabled()
    # Typer's --show-completion/--install-completion then take the shell by name (bash, zsh, fish,
    # powershell, pwsh) instead of guessing it from the parent process, which fails in scripts.
    os.environ.setdefault("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    try:
        app(args=args, prog_name="lmdev", standalone_mode=True)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except BrokenPipeError:  # output piped into head and the like
        return 0
    except (LmdevError, OSError) as exc:
        if state["debug"]:
            raise
        code = exc.exit_code if isinstance(exc, LmdevError) else 1
        print(f"lmdev: error: {_describe(exc)}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("lmdev: interrupted", file=sys.stderr)
        return 130
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _describe(exc: BaseException) -> str:
    if isinstance(exc, LmdevError):
        return str(exc)
    assert isinstance(exc, OSError)
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def main() -> None:
    sys.exit(run())
