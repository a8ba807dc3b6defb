"""Bringing in a reference library: import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lmdev.cli.base import app, examples, library, require_file, trained_model
from lmdev.cli.options import OFFLINE_HINT, AssumptionTags, FormatOption, NoCache, Offline, ProblemTags, TextOrJson
from lmdev.cli.output import message, print_json

if TYPE_CHECKING:
    from lmdev.arxiv.client import ArxivClient
    from lmdev.bibimport import Item


@app.command("import", epilog=examples(
    "lmdev import zotero-export.bib",
    "lmdev import refs.bib --assumption out-of-the-box:relies     tag every new paper",
    "lmdev import refs.bib --accept-suggestions --format json",
))
def import_cmd(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(metavar="FILE", help="A BibTeX file (a Zotero or Better BibTeX export).")],
    problem: ProblemTags = [],  # noqa: B006
    assumption: AssumptionTags = [],  # noqa: B006
    accept_suggestions: Annotated[bool, typer.Option("--accept-suggestions", help="Tag new papers with the classifier's suggestions (to review later).")] = False,
    no_cache: NoCache = False,
    offline: Offline = False,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Import a BibTeX file: arXiv entries are fetched from arXiv, the rest become URL entries."""
    from lmdev.bibimport import import_bibtex
    from lmdev.cli.output import safe

    require_file(source)
    lib = library(ctx)

    def client() -> ArxivClient:
        from lmdev.arxiv.client import ArxivClient

        return ArxivClient(use_cache=not no_cache, offline=offline, unreachable_hint=OFFLINE_HINT)

    before_save = None
    if accept_suggestions:
        from lmdev.classifier.apply import suggestion_hook

        before_save = suggestion_hook(lib, lambda: trained_model(lib))

    def show(item: Item) -> None:
        if fmt is TextOrJson.text:
            where = f"{source}:{item.line}" if item.line else str(source)
            what = f"{item.id}  {item.title}" if item.id and item.title else (item.id or "")
            message(safe(f"{item.action:<10} {where} {item.key}  {what}".rstrip() + (f"\n           {item.reason}" if item.reason else ""), newlines=True))

    report = import_bibtex(lib, source, client, problems=problem, assumptions=assumption, before_save=before_save, on_item=show)
    if fmt is TextOrJson.json:
        print_json([i.to_json() for i in report.items])
    counts = ", ".join(f"{report.count(a)} {a}" for a in ("imported", "merged", "skipped") if report.count(a))
    message(f"import: {counts or 'no entries'}")
    if report.count("skipped"):
        raise typer.Exit(1)
