"""Reviewing on a terminal: the inbox a watch filled, then the classifier's suggestions."""

from __future__ import annotations

from typing import Annotated

import typer

from lmdev.cli.base import app, examples, library
from lmdev.cli.options import OptionalPaperIds
from lmdev.cli.output import is_interactive, message
from lmdev.cli.watch_cmds import Limit, MinRelevance, ProblemOnly
from lmdev.errors import UsageError


@app.command(epilog=examples(
    "lmdev review                     the inbox, then every paper with unreviewed suggestions",
    "lmdev review --inbox --problem safety --min-relevance 0.5",
    "lmdev review 2205.14135 --suggestions",
    "inbox keys: a accept, e edit tags, r reject, s skip, o open, q quit",
    "suggestion keys: a accept, r reject, e edit (stance or problem), s skip, q quit",
    "off a terminal: lmdev accept/reject ID..., lmdev list --unreviewed, lmdev tag ID --confirm",
))
def review(
    ctx: typer.Context,
    ids: OptionalPaperIds = None,
    inbox: Annotated[bool, typer.Option("--inbox", help="Only the inbox: the papers a watch found.")] = False,
    suggestions: Annotated[bool, typer.Option("--suggestions", help="Only the classifier's unconfirmed suggestions on library papers.")] = False,
    problem: ProblemOnly = None,
    min_relevance: MinRelevance = None,
    limit: Limit = None,
) -> None:
    """Decide, one key at a time: waiting papers first (accept or reject), then unconfirmed suggestions."""
    from lmdev.cli.inbox_review import review_inbox_session
    from lmdev.cli.review import review_suggestions_session

    if ids and inbox:
        raise UsageError("ids name library papers, whose suggestions --inbox leaves out; to decide waiting papers by id: lmdev accept/reject ID...")
    if not is_interactive():
        raise UsageError("review prompts, so it needs a terminal; use lmdev accept/reject ID..., or lmdev list --unreviewed and lmdev tag ID --confirm")
    lib = library(ctx)
    if problem is not None:
        lib.taxonomy.get(problem, "problem")
    both = not inbox and not suggestions
    quit_flag = [False]
    if (inbox or both) and not ids:
        review_inbox_session(lib, problem=problem, min_relevance=min_relevance, limit=limit, quit_flag=quit_flag)
    if (suggestions or both) and not quit_flag[0]:  # q ends the whole session, not one half
        changed = review_suggestions_session(lib, ids)
        message(f"review: {changed} paper(s) changed")
