"""Entry point: registers the commands and turns library errors into exit codes, in one place."""

from __future__ import annotations

import importlib
import io
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import typer

from lmdev.cli import base
from lmdev.cli.base import state
from lmdev.cli.launch import command_name
from lmdev.cli.output import safe
from lmdev.errors import LmdevError
from lmdev.paths import debug_enabled

# The parser's own errors (bad option values, unknown commands): click's ClickException, which
# typer re-exports under its own name from 0.2x on; found through a public class either way.
_PARSE_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


# The module that registers each command. A run imports only the module of the command it names
# (Typer builds every registered command's parameters on each run, and each module has its own
# imports): a tenth of a second less start-up per command. Anything else (--help, no command, a
# typo, shell completion, a command missing here) registers them all. A test keeps this in step.
COMMAND_MODULES = {
    "accept": "watch_cmds", "add": "arxiv_cmds", "check": "library_cmds", "citekeys": "papers_cmds",
    "classify": "classify_cmds", "coverage": "report_cmds", "digest": "watch_cmds", "eval": "classify_cmds",
    "export": "report_cmds", "import": "import_cmds", "inbox": "watch_cmds", "init": "tracker_cmds",
    "list": "library_cmds", "open": "papers_cmds", "reading-list": "report_cmds", "refresh": "arxiv_cmds",
    "reject": "watch_cmds", "remove": "papers_cmds", "report": "report_cmds", "rescore": "watch_cmds", "review": "review_cmds",
    "search": "arxiv_cmds", "show": "library_cmds", "tag": "library_cmds", "taxonomy": "library_cmds",
    "watch": "watch_cmds",
}
ALL_MODULES = ("arxiv_cmds", "classify_cmds", "import_cmds", "library_cmds", "papers_cmds", "report_cmds", "review_cmds", "tracker_cmds", "watch_cmds")


def register(args: Sequence[str] = ()) -> None:
    """Register the command ``args`` name, or every command when they name none we know."""
    module = COMMAND_MODULES.get(command_name(args) or "")
    for name in [module] if module else ALL_MODULES:
        importlib.import_module(f"lmdev.cli.{name}")


def __getattr__(name: str) -> Any:
    """``from lmdev.cli.app import app``: the application with every command registered."""
    if name == "app":
        register()
        return base.app
    raise AttributeError(name)


def _waiting(lock: Path) -> None:
    print(safe(f"lmdev: waiting for another lmdev to finish with {lock.parent} (it holds {lock.name}; Ctrl-C stops waiting)"), file=sys.stderr, flush=True)


def run(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI and return its exit code: 0 ok, 1 check failed or error, 2 usage.

    Library errors and unreadable files become one line on stderr; ``--debug`` (or
    ``LMDEV_DEBUG=1``) lets them through with their traceback instead. Everything printed here
    passes through :func:`safe`, since messages quote what users and servers sent.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _stand_in_for_closed_streams()
    state.reset(debug=debug_enabled())
    bad = _not_utf8(args)
    if bad:
        print(f"lmdev: error: {bad}; nothing was done", file=sys.stderr)
        return 2
    # Typer's --show-completion/--install-completion then take the shell by name (bash, zsh, fish,
    # powershell, pwsh) instead of guessing it from the parent process, which fails in scripts.
    os.environ.setdefault("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    from lmdev import locking

    locking.waiting = _waiting
    try:
        register(args)
        code = base.app(args=args, prog_name="lmdev", standalone_mode=False)
    except _PARSE_ERROR as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `lmdev` alone: the help is the answer
            shown = io.StringIO()
            exc.show(file=shown)  # type: ignore[attr-defined]
            sys.stderr.write(safe(shown.getvalue(), newlines=True))
        else:
            print(f"lmdev: error: {safe(_parse_message(exc))}", file=sys.stderr)
        return int(exc.exit_code)  # type: ignore[attr-defined]
    except typer.Abort:
        print("lmdev: aborted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head and the like
        return 0
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):  # the parser's own answer to it is exit 1
            return 0
        raise
    except (LmdevError, OSError) as exc:
        if state.debug:
            raise
        code = exc.exit_code if isinstance(exc, LmdevError) else 1
        print(f"lmdev: error: {safe(_describe(exc))}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("lmdev: interrupted", file=sys.stderr)
        return 130
    code = _lost_output(code if isinstance(code, int) else 0)
    if code == 130:  # Typer turns Ctrl-C into a quiet exit 130
        print("lmdev: interrupted", file=sys.stderr)
        return code
    if code == 0 and state.skipped:
        print(f"lmdev: {state.skipped} paper file(s) could not be read and were left out; run 'lmdev check' for details", file=sys.stderr)
        return 1
    return code


class _Closed(io.TextIOBase):
    """Stands in for an output the command was started without: takes what is written (no
    traceback) and counts it, so that output a script would have lost is an error at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.lost += len(text)
        return len(text)


def _stand_in_for_closed_streams() -> None:
    """A command started with its output closed (``lmdev list >&-``) finds ``sys.stdout`` None:
    it runs, and if it had anything to print, it ends with an error instead of exit 0."""
    if sys.stdout is None or isinstance(sys.stdout, _Closed):
        sys.stdout = _Closed()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process


def _lost_output(code: int) -> int:
    """Exit 1, said on stderr, when what the command printed had nowhere to go."""
    if isinstance(sys.stdout, _Closed) and sys.stdout.lost:
        print("lmdev: error: could not write the output: standard output is closed", file=sys.stderr)
        return code or 1
    return code


def _not_utf8(args: list[str]) -> Optional[str]:
    """Invalid bytes on a command line reach Python as lone surrogates; written into a paper they
    would make it unreadable, so such an argument is refused before anything runs."""
    for n, arg in enumerate(args):
        if any("\ud800" <= ch <= "\udfff" for ch in arg):
            try:
                shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            except UnicodeEncodeError:
                shown = arg.encode("utf-8", "backslashreplace").decode("utf-8")
            option = f" of {args[n - 1]}" if n and args[n - 1].startswith("-") and "=" not in args[n - 1] else ""
            return f"the value{option} '{safe(shown)}' is not valid UTF-8 text"
    return None


def _parse_message(exc: Exception) -> str:
    """The parser's complaint (a bad or missing value, an unknown option or command) in the
    project's one-line form, naming where the command's help is, instead of click's usage box."""
    text = " ".join(str(exc.format_message()).split()).rstrip(".").replace("Value error, ", "")  # type: ignore[attr-defined]
    if text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]
    ctx = getattr(exc, "ctx", None)
    return f"{text} (see '{ctx.command_path} --help')" if ctx is not None else text


_TEMPORARY = re.compile(r"^(?P<dir>.*[/\\])?\.(?P<name>[^/\\]+)\.[^./\\]+\.tmp$")


def _describe(exc: BaseException) -> str:
    """The error's one line, at most ~400 characters (an argument may be megabytes long), naming
    the file being written rather than the temporary file an atomic write goes through."""
    if isinstance(exc, LmdevError):
        text = str(exc)
    else:
        assert isinstance(exc, OSError)
        name = str(exc.filename) if exc.filename else ""
        written = _TEMPORARY.match(name)
        if written:
            name = (written.group("dir") or "") + written.group("name")
        text = f"{name}: {exc.strerror or exc}" if name else f"{exc.strerror or exc}"
    return text if len(text) <= 400 else f"{text[:300]} … {text[-80:]}"


def main() -> None:
    sys.exit(run())
