"""The Typer application object, its global options, and what every command needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmdev import __version__
from lmdev.cli.output import SafeFormatter, note
from lmdev.paths import ENV_DATA_DIR, ENV_DEBUG

if TYPE_CHECKING:
    from lmdev.classifier.model import Model
    from lmdev.index import Index
    from lmdev.models import Paper
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
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

@dataclass
class RunState:
    """What one run records for the error boundary in :mod:`lmdev.cli.app`: whether to show
    tracebacks, and how many paper files a command had to leave out."""

    debug: bool = False
    skipped: int = 0
    named: set[str] = field(default_factory=set)  # the files already named, each counted once

    def reset(self, *, debug: bool) -> None:
        self.debug, self.skipped = debug, 0
        self.named = set()

    def skip(self, error: str, why: str = "") -> None:
        """Name a paper file that could not be read, once per run however often it is met."""
        if error not in self.named:
            self.named.add(error)
            note(f"skipped {error}{why}")
            self.skipped += 1


state = RunState()


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
            show_default=False,
            # the environment variable is read where the folder is found, so an error names where it came from
            help=f"Folder holding taxonomy.yaml and papers/ (default: ${ENV_DATA_DIR}, else the nearest data/ at or above the working directory).",
        ),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Say what happens (requests, retries, waits); -vv for more.")] = 0,
    debug: Annotated[bool, typer.Option("--debug", envvar=ENV_DEBUG, help="Show the full traceback of an error (for bug reports).")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = {"data_dir": data_dir}
    state.debug = debug
    import logging

    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("lmdev: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def ahead(*modules: str) -> None:
    """Import what a command will need once the index answers, while the head start's child is
    still statting the paper files (see lmdev.prefetch): the parent would otherwise wait idle
    for it and import these afterwards."""
    from lmdev.prefetch import pending

    if pending():
        import importlib

        for name in modules:
            importlib.import_module(name)


def library(ctx: typer.Context) -> Library:
    """The library named by ``--data-dir`` / ``$LMDEV_DATA_DIR`` / the working directory."""
    from lmdev.store import Library

    root = ctx.find_root()
    data_dir = (root.obj or {}).get("data_dir")
    lib = Library.open(data_dir)
    lib.taxonomy  # noqa: B018 - load and validate it up front
    lib.tidy()
    ctx.call_on_close(lib.close)
    from lmdev.cli.output import progress

    lib.progress = progress
    return lib


def require_file(path: str | Path) -> None:
    """A file named on the command line that is not there is a usage error (exit 2), as for
    ``classify --input`` and ``check FILE``; one that cannot be read is the library's error."""
    import os

    if str(path) != "-" and not os.path.lexists(path):
        from lmdev.errors import UsageError

        raise UsageError(f"no such file: {path}")


def readable_index(lib: Library) -> Index:
    """The library's index, refreshed; every file that does not read is named on stderr, and the
    command exits 1 after its output: one broken file does not stop a report. Queries of the
    index leave such files out."""
    index = lib.index()
    for exc in index.errors():
        state.skip(str(exc))
    return index


YOUNG_MODEL = 30  # tagged papers below which a command says its scores lean on the seed terms


def trained_model(lib: Library, *, retrain: bool = False) -> Model:
    """The classifier for the library; each paper file it had to be trained without (one that
    does not read) is named on stderr, and the command exits 1 after its output, as a reading
    command does: a model that silently misses a paper would suggest tags from less than the
    person thinks."""
    from lmdev.classifier.modelcache import load_model

    model = load_model(lib, retrain=retrain)
    for error in model.data.get("unreadable", []):
        state.skip(error, " (the model was trained without it)")
    tagged = int(model.data.get("trained_on", 0))
    if tagged < YOUNG_MODEL:  # scores that look as sure as a trained model's, from the seed terms
        from lmdev.cli.output import message

        message(f"note: the classifier has learned from {tagged} tagged paper(s) and {model.data.get('rejections', 0)} rejection(s); until a few dozen are tagged its scores lean on the taxonomy's seed terms (each accept, reject and tag teaches it)")
    return model


def readable_papers(lib: Library) -> list[Paper]:
    """The papers of every file that reads (see :func:`readable_index`), in file-name order."""
    return list(readable_index(lib).papers())


def examples(*lines: str) -> str:
    """An epilog listing example invocations, kept unwrapped in ``--help``."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
