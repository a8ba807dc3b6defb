"""Report commands: coverage, reading lists, export, HTML report."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmdev.cli import render
from lmdev.cli.base import ahead, app, examples, library, readable_index
from lmdev.cli.completion import node_ids
from lmdev.cli.options import (
    AssumptionFilter,
    MinPapers,
    PrimaryFilter,
    ProblemFilter,
    RecentYears,
    StanceFilter,
    TextFilter,
    UnreviewedFilter,
    UntaggedFilter,
    YearFilter,
)
from lmdev.cli.output import message, print_json, write, write_chunks
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
    from lmdev.reports.coverage import indexed_coverage

    ahead("lmdev.index", *(("rich.table", "rich.console") if fmt is CoverageFormat.table else ()))
    lib = library(ctx)
    tax = lib.taxonomy
    min_papers, recent_years = _gap_settings(lib, min_papers, recent_years)
    cov = indexed_coverage(tax, readable_index(lib), min_papers=min_papers, recent_years=recent_years)
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
    if node_id is not None:
        tax.get(node_id)
    index = readable_index(lib)
    if out_dir is not None:
        written = readinglist.write_files(tax, index, out_dir)
        message(f"wrote {written} files to {out_dir}")
        return
    write_chunks(readinglist.output_chunks(tax, index, node_id, fmt.value))


@app.command(epilog=examples(
    "lmdev export --format bibtex > lmd.bib",
    "lmdev export --format csv --problem efficiency --year 2022-",
    "lmdev export --format json --assumption out-of-the-box --stance challenges",
))
def export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="bibtex, json or csv.")],
    problem: ProblemFilter = [],  # noqa: B006
    primary: PrimaryFilter = None,
    assumption: AssumptionFilter = [],  # noqa: B006
    stance: StanceFilter = None,
    year: YearFilter = None,
    text: TextFilter = None,
    untagged: UntaggedFilter = False,
    unreviewed: UnreviewedFilter = False,
    out_file: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Export papers as BibTeX, JSON or CSV, with the same filters as list. Paper files are never changed."""
    from lmdev.filters import OLDEST_FIRST, Selection
    from lmdev.reports.export import export_chunks

    lib = library(ctx)
    where, params = Selection.parse(problem, assumption, stance.value if stance else None, year, text, untagged, unreviewed, primary).validate(lib.taxonomy).sql()
    index = readable_index(lib)
    chunks = export_chunks(fmt.value, index, where, params, OLDEST_FIRST)
    if out_file is None:
        write_chunks(chunks)
        return
    from lmdev.yamlio import atomic_writer

    with atomic_writer(out_file) as handle:
        handle.writelines(chunks)
    message(f"wrote {index.count(where, params)} paper(s) to {out_file}")


@app.command(epilog=examples("lmdev report --html site/", "lmdev report --html docs/report --min-papers 5"))
def report(
    ctx: typer.Context,
    html_dir: Annotated[Path, typer.Option("--html", metavar="DIR", help="Folder to write index.html into.")],
    min_papers: MinPapers = None,
    recent_years: RecentYears = None,
) -> None:
    """Write a static HTML report (inline SVG charts, gaps, reading lists; no JavaScript)."""
    from lmdev.reports import html
    from lmdev.reports.coverage import indexed_coverage

    if html_dir.exists() and not html_dir.is_dir():
        raise UsageError(f"--html takes a folder to write index.html into; {html_dir} is a file")
    lib = library(ctx)
    index = readable_index(lib)
    min_papers, recent_years = _gap_settings(lib, min_papers, recent_years)
    cov = indexed_coverage(lib.taxonomy, index, min_papers=min_papers, recent_years=recent_years)
    written = html.write_report(lib.taxonomy, cov, index, html_dir)
    message(f"wrote {written[0]}" + (f" and {len(written) - 1} full reading list(s) in {html_dir / 'lists'}" if len(written) > 1 else ""))
