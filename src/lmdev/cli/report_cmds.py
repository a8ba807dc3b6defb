"""Report commands: coverage, reading lists, export, HTML report."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmdev.cli import render
from lmdev.cli.base import app, examples, library, readable_papers
from lmdev.cli.completion import node_ids
from lmdev.cli.options import (
    AssumptionFilter,
    MinPapers,
    ProblemFilter,
    RecentYears,
    StanceFilter,
    TextFilter,
    UnreviewedFilter,
    UntaggedFilter,
    YearFilter,
)
from lmdev.cli.output import message, print_json, write
from lmdev.errors import UsageError

if TYPE_CHECKING:
    from lmdev.store import Library


def _gap_settings(lib: Library, min_papers: Optional[int], recent_years: Optional[int]) -> tuple[int, int]:
    """The options as given, else the tracker's config, else lmdev's defaults."""
    from lmdev.config import load_config

    config = load_config(lib.root).coverage
    return (config.min_papers if min_papers is None else min_papers, config.recent_years if recent_years is None else recent_years)


class CoverageFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class ListFormat(str, Enum):
    markdown = "markdown"
    bibtex = "bibtex"
    json = "json"


class ExportFormat(str, Enum):
    bibtex = "bibtex"
    json = "json"
    csv = "csv"


@app.command("coverage", epilog=examples("lmdev coverage", "lmdev coverage --format json", "lmdev coverage --format markdown > COVERAGE.md", "lmdev coverage --min-papers 5 --recent-years 1"))
def coverage_cmd(
    ctx: typer.Context,
    fmt: Annotated[CoverageFormat, typer.Option("--format", "-f", help="table, json or markdown.")] = CoverageFormat.table,
    min_papers: MinPapers = None,
    recent_years: RecentYears = None,
) -> None:
    """How the library covers each problem and assumption, and where the gaps are."""
    from lmdev.reports.coverage import coverage

    lib = library(ctx)
    tax = lib.taxonomy
    min_papers, recent_years = _gap_settings(lib, min_papers, recent_years)
    cov = coverage(tax, readable_papers(lib), min_papers=min_papers, recent_years=recent_years)
    if fmt is CoverageFormat.json:
        print_json(cov.to_json())
    elif fmt is CoverageFormat.markdown:
        from lmdev.reports.markdown import coverage_page

        write(coverage_page(tax, cov))
    else:
        render.coverage(tax, cov)


@app.command("reading-list", epilog=examples(
    "lmdev reading-list efficiency",
    "lmdev reading-list out-of-the-box --format bibtex > ootb.bib",
    "lmdev reading-list --all --out docs/reading-lists",
    "lmdev check --reading-lists docs/reading-lists      fails when the lists are stale",
))
def reading_list_cmd(
    ctx: typer.Context,
    node_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", autocompletion=node_ids, help="A problem or assumption id.")] = None,
    all_problems: Annotated[bool, typer.Option("--all", help="A list for every problem (with --out: one file each plus an index).")] = False,
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="With --all: write the lists into DIR.")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="markdown, bibtex or json.")] = ListFormat.markdown,
) -> None:
    """The papers tagged with a problem or assumption: essay citations first, then challengers, then newest."""
    from lmdev.reports import readinglist

    if (node_id is None) == (not all_problems):
        raise UsageError("give one problem or assumption id, or --all")
    if out_dir is not None and not all_problems:
        raise UsageError("--out goes with --all")
    if out_dir is not None and fmt is not ListFormat.markdown:
        raise UsageError("--all --out writes Markdown lists")
    lib = library(ctx)
    tax = lib.taxonomy
    papers = readable_papers(lib)
    if out_dir is not None:
        written = readinglist.write_files(tax, papers, out_dir)
        message(f"wrote {written} files to {out_dir}")
        return
    lists = readinglist.all_problem_lists(tax, papers) if node_id is None else {node_id: readinglist.reading_list(tax, papers, node_id)}
    if fmt is ListFormat.json:
        print_json({k: [e.to_json() for e in v] for k, v in lists.items()} if node_id is None else [e.to_json() for e in lists[node_id]])
    elif fmt is ListFormat.bibtex:
        from lmdev.reports.bibtex import render as bibtex

        chosen = list({e.paper.id: e.paper for entries in lists.values() for e in entries}.values())
        write(bibtex(chosen, taken=(p.citekey for p in papers if p.citekey)))
    else:
        write("\n".join(readinglist.render_markdown(tax, k, v) for k, v in lists.items()))


@app.command(epilog=examples(
    "lmdev export --format bibtex > lmd.bib",
    "lmdev export --format csv --problem efficiency --year 2022-",
    "lmdev export --format json --assumption out-of-the-box --stance challenges",
))
def export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="bibtex, json or csv.")],
    problem: ProblemFilter = [],  # noqa: B006
    assumption: AssumptionFilter = [],  # noqa: B006
    stance: StanceFilter = None,
    year: YearFilter = None,
    text: TextFilter = None,
    untagged: UntaggedFilter = False,
    unreviewed: UnreviewedFilter = False,
    out_file: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Export papers as BibTeX, JSON or CSV, with the same filters as list. Paper files are never changed."""
    from lmdev.filters import Selection, oldest_first
    from lmdev.reports import bibtex
    from lmdev.reports import export as shapes

    lib = library(ctx)
    everything = readable_papers(lib)
    papers = oldest_first(Selection.parse(problem, assumption, stance.value if stance else None, year, text, untagged, unreviewed).validate(lib.taxonomy).apply(everything))
    if fmt is ExportFormat.bibtex:
        body = bibtex.render(papers, taken=(p.citekey for p in everything if p.citekey))
    elif fmt is ExportFormat.json:
        body = shapes.render_json(papers)
    else:
        body = shapes.render_csv(papers)
    if out_file is None:
        write(body)
        return
    from lmdev.yamlio import atomic_write

    atomic_write(out_file, body)
    message(f"wrote {len(papers)} paper(s) to {out_file}")


@app.command(epilog=examples("lmdev report --html site/", "lmdev report --html docs/report --min-papers 5"))
def report(
    ctx: typer.Context,
    html_dir: Annotated[Path, typer.Option("--html", metavar="DIR", help="Folder to write index.html into.")],
    min_papers: MinPapers = None,
    recent_years: RecentYears = None,
) -> None:
    """Write a static HTML report (inline SVG charts, gaps, reading lists; no JavaScript)."""
    from lmdev.reports import html
    from lmdev.reports.coverage import coverage
    from lmdev.yamlio import atomic_write

    lib = library(ctx)
    papers = readable_papers(lib)
    min_papers, recent_years = _gap_settings(lib, min_papers, recent_years)
    cov = coverage(lib.taxonomy, papers, min_papers=min_papers, recent_years=recent_years)
    path = html_dir / "index.html"
    atomic_write(path, html.render(lib.taxonomy, cov, papers))
    message(f"wrote {path}")
