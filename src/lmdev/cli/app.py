"""Entry point: registers the commands and turns library errors into exit codes, in one place."""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from lmdev.cli import library_cmds  # noqa: F401 - registers commands
from lmdev.cli.base import app
from lmdev.errors import LmdevError

for _module in ("arxiv_cmds", "classify_cmds", "report_cmds"):
    try:
        __import__(f"lmdev.cli.{_module}")
    except ModuleNotFoundError as exc:  # a command group still being built
        if exc.name != f"lmdev.cli.{_module}":
            raise


def run(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI and return its exit code: 0 ok, 1 check failed or error, 2 usage."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="lmdev")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except LmdevError as exc:
        print(f"lmdev: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a file that cannot be written or read: say which, without a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lmdev: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lmdev: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head and the like
        return 0
    return 0


def main() -> None:
    sys.exit(run())
