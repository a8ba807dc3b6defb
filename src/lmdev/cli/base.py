"""The Typer application object, its global options, and what every command needs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmdev import __version__
from lmdev.paths import ENV_DATA_DIR, ENV_DEBUG

if TYPE_CHECKING:
    from lmdev.store import Library

app = typer.Typer(
    name="lmdev",
    help=(
        "Track the literature of language model development against the assumptions and "
        "problems named in Raffel's essay 'A New Alchemy'."
    ),
    epilog=(
        "\b\nExamples:\n"
        "  lmdev coverage                      where the literature stands\n"
        "  lmdev add 2205.14135 --problem efficiency --assumption fixed-recipe:relies\n"
        "  lmdev list --problem prompting --year 2022-\n"
        "  lmdev check --format github         the CI gate"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Set by the root callback, read by the error boundary in lmdev.cli.app.
state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        print(f"lmdev {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--data-dir",
            metavar="DIR",
            envvar=ENV_DATA_DIR,
            show_default=False,
            help="Folder holding taxonomy.yaml and papers/ (default: the nearest data/ at or above the working directory).",
        ),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Say what happens (requests, retries, waits); -vv for more.")] = 0,
    debug: Annotated[bool, typer.Option("--debug", envvar=ENV_DEBUG, help="Show the full traceback of an error (for bug reports).")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = {"data_dir": data_dir}
    state["debug"] = debug
    import logging

    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="lmdev: %(message)s", force=True)


def library(ctx: typer.Context) -> Library:
    """The library named by ``--data-dir`` / ``$LMDEV_DATA_DIR`` / the working directory."""
    from lmdev.store import Library

    root = ctx.find_root()
    data_dir = (root.obj or {}).get("data_dir")
    lib = Library.open(data_dir)
    lib.taxonomy  # noqa: B018 - load and validate it up front
    ctx.call_on_close(lib.close)
    from lmdev.cli.output import progress

    lib.progress = progress
    return lib


def examples(*lines: str) -> str:
    """An epilog listing example invocations, kept unwrapped in ``--help``."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
