"""Commands on single papers: open, remove, citekeys."""

from __future__ import annotations

from typing import Annotated

import typer

from lmdev.cli.base import app, examples, library
from lmdev.cli.options import AnyPaperId, FormatOption, OptionalPaperIds, PaperIds, TextOrJson
from lmdev.cli.output import is_interactive, message, print_json, safe
from lmdev.errors import UsageError


@app.command("open", epilog=examples("lmdev open 2205.14135", "lmdev open 2605.09329        a paper in the inbox, or any arXiv id", "lmdev open liu2022shot          by citekey", "lmdev open 2205.14135 --print    print the link instead"))
def open_cmd(
    ctx: typer.Context,
    paper_id: AnyPaperId,
    print_only: Annotated[bool, typer.Option("--print", help="Print the link instead of opening a browser.")] = False,
) -> None:
    """Open a paper's arXiv page (or its URL) in the browser: a paper in the library, the inbox or
    rejected.yaml, or any arXiv id."""
    from lmdev.triage import page

    link, known = page(library(ctx), paper_id)
    if not known:
        message(f"{safe(paper_id)} is not in the library, the inbox or rejected.yaml")
    if print_only:
        print(safe(link))
        return
    import webbrowser

    if not webbrowser.open(link):
        print(safe(link))
        message("no browser found; the link is above")
        raise typer.Exit(1)
    message(f"opened {link}")


@app.command(epilog=examples("lmdev remove 2401.00001", "lmdev remove 2401.00001 2401.00002 --yes      without asking"))
def remove(
    ctx: typer.Context,
    ids: PaperIds,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required off a terminal).")] = False,
) -> None:
    """Remove papers from the tracker: their files are deleted (git keeps their history)."""
    lib = library(ctx)
    papers = [lib.get(i) for i in ids]
    if not yes:
        if not is_interactive():
            raise UsageError("remove deletes files; confirm with --yes (prompts only run on a terminal)")
        from lmdev.cli.review import ask_yes_no

        names = "; ".join(f"{p.id} ({p.title[:60]})" for p in papers)
        if not ask_yes_no(f"remove {names}?"):
            message("nothing removed")
            return
    for paper in papers:
        message(f"removed    {lib.remove(paper.id)}")


@app.command(epilog=examples("lmdev citekeys                 every paper without a citekey gets one", "lmdev citekeys 2205.14135 --format json"))
def citekeys(
    ctx: typer.Context,
    ids: OptionalPaperIds = None,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Give papers without a citekey one, stored in their files (existing keys never change)."""
    from lmdev.citekeys import assign_missing

    changed = assign_missing(library(ctx), ids)
    if fmt is TextOrJson.json:
        print_json([{"id": p.id, "citekey": p.citekey} for p in changed])
    else:
        for paper in changed:
            print(safe(f"{paper.id}\t{paper.citekey}"))
    message(f"citekeys: {len(changed)} assigned")
