"""The Typer application object and what every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from typing import TYPE_CHECKING

from lmdev import __version__

if TYPE_CHECKING:
    from lmdev.store import Library

ENV_DATA_DIR = "LMDEV_DATA_DIR"  # also lmdev.store.ENV_DATA_DIR; kept here so --help loads no data code

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


def _version(value: bool) -> None:
    if value:
        print(f"lmdev {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Optional[Path] = typer.Option(
        None,
        "--data-dir", metavar="DIR",
        envvar=ENV_DATA_DIR,
        help="Folder holding taxonomy.yaml and papers/ (default: the nearest data/ at or above the working directory).",
        show_default=False,
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    ctx.obj = {"data_dir": data_dir}


def library(ctx: typer.Context) -> "Library":
    """The library named by ``--data-dir`` / ``$LMDEV_DATA_DIR`` / the working directory."""
    from lmdev.store import Library

    root = ctx.find_root()
    data_dir = (root.obj or {}).get("data_dir")
    lib = Library.open(data_dir)
    lib.taxonomy  # noqa: B018 - load and validate it up front
    return lib


def examples(*lines: str) -> str:
    """An epilog listing example invocations, kept unwrapped in ``--help``."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
