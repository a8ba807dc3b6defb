"""Starting a tracker: init."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from lmdev.cli.base import app, examples
from lmdev.cli.output import message


class CiChoice(str, Enum):
    github = "github"


@app.command(epilog=examples(
    "lmdev init reading-group                 a new tracker in ./reading-group",
    "lmdev init . --ci github --pre-commit    here, with a GitHub workflow and a pre-commit hook",
    "lmdev init lmd --ci github --install-from 'lmdev @ git+https://github.com/YOUR-ORG/lmdev@v0.2.0'",
))
def init(
    directory: Annotated[Path, typer.Argument(metavar="[DIR]", help="Folder for the tracker (made if missing; default: here).")] = Path("."),
    ci: Annotated[Optional[CiChoice], typer.Option("--ci", help="Also write a CI workflow that runs lmdev check: github.")] = None,
    pre_commit: Annotated[bool, typer.Option("--pre-commit", help="Also write a .pre-commit-config.yaml that runs lmdev check on commit.")] = False,
    install_from: Annotated[Optional[str], typer.Option("--install-from", metavar="SPEC", help="How CI installs lmdev: a pip requirement (default: where this lmdev came from).")] = None,
) -> None:
    """Start a tracker: the essay's taxonomy, papers/, a config file, git settings, optional CI."""
    from lmdev.tracker import init_tracker

    created = init_tracker(directory, ci=ci.value if ci else None, pre_commit=pre_commit, spec=install_from)
    for path in created.written:
        message(f"wrote      {path}")
    for path in created.updated:
        message(f"updated    {path}")
    for todo in created.todo:
        message(f"to do: {todo}")
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    message(f"next: {where}lmdev check, then lmdev add ID or lmdev import refs.bib")
