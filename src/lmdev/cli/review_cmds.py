"""Reviewing on a terminal: review (the classifier's suggestions)."""

from __future__ import annotations

from typing import Annotated

import typer

from lmdev.cli.base import app, examples, library
from lmdev.cli.options import OptionalPaperIds
from lmdev.cli.output import is_interactive, message
from lmdev.errors import UsageError


@app.command(epilog=examples(
    "lmdev review                     every paper with unreviewed suggestions, newest first",
    "lmdev review 2205.14135 --suggestions",
    "keys: a accept, r reject, e edit (stance or problem), s skip, q quit the session",
    "off a terminal: lmdev list --unreviewed, then lmdev tag ID --confirm or --remove ID",
))
def review(
    ctx: typer.Context,
    ids: OptionalPaperIds = None,
    suggestions: Annotated[bool, typer.Option("--suggestions", help="Review the classifier's unconfirmed suggestions (the default).")] = False,
) -> None:
    """Walk the classifier's unconfirmed suggestions, one key per decision."""
    from lmdev.cli.review import review_suggestions_session

    if not is_interactive():
        raise UsageError("review prompts, so it needs a terminal; use lmdev list --unreviewed and lmdev tag ID --confirm (or --remove ID)")
    lib = library(ctx)
    changed = review_suggestions_session(lib, ids)
    message(f"review: {changed} paper(s) changed")
