"""Report commands: coverage, reading lists, export, HTML report."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from lmdev.cli.base import app, examples, library
from lmdev.cli.library_cmds import (
    FILTER_ASSUMPTION,
    FILTER_PROBLEM,
    FILTER_STANCE,
    FILTER_TEXT,
    FILTER_UNTAGGED,
    FILTER_YEAR,
    StanceChoice,
    select,
)
from lmdev.cli.output import out, print_json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lmdev.reports.coverage import Coverage, NodeCoverage
    from lmdev.taxonomy import Taxonomy

DEFAULT_MIN_PAPERS = 3
DEFAULT_RECENT_YEARS = 2


class CoverageFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


@app.command("coverage", epilog=examples("lmdev coverage", "lmdev coverage --format json", "lmdev coverage --format markdown > COVERAGE.md", "lmdev coverage --min-papers 5 --recent-years 1"))
def coverage_cmd(
    ctx: typer.Context,
    fmt: CoverageFormat = typer.Option(CoverageFormat.table, "--format", "-f", help="table, json or markdown."),
    min_papers: int = typer.Option(DEFAULT_MIN_PAPERS, "--min-papers", metavar="N", min=0, help="Call out problems with fewer papers than this."),
    recent_years: int = typer.Option(DEFAULT_RECENT_YEARS, "--recent-years", metavar="N", min=1, help="Call out nodes with no paper in this many years, counted back from the newest paper."),
) -> None:
    """How the library covers each problem and assumption, and where the gaps are."""
    from lmdev.reports.coverage import coverage

    lib = library(ctx)
    tax = lib.taxonomy
    cov = coverage(tax, lib.papers(), min_papers=min_papers, recent_years=recent_years)
    if fmt is CoverageFormat.json:
        print_json(cov.to_json())
    elif fmt is CoverageFormat.markdown:
        from lmdev.reports.markdown import coverage_page

        sys.stdout.write(coverage_page(tax, cov))
    else:
        render_coverage(tax, cov)


def _short_labels(tax: Taxonomy) -> dict[str, str]:
    """Column labels after the essay's numbering: LM1 is LM development's first assumption."""
    prefix = {"lm-development": "LM", "deep-learning": "DL", "statistical-ml": "ST"}
    labels: dict[str, str] = {}
    for f in tax.data.fields:
        for i, n in enumerate(tax.in_field(f.id, "assumption"), 1):
            labels[n.id] = f"{prefix.get(f.id, f.id[:2].upper())}{n.node.ref.item or i}"
    return labels


def _bar(value: int, top: int, width: int = 12) -> str:
    if not top:
        return ""
    full = value * width / top
    return "█" * int(full) + ("▌" if full - int(full) >= 0.5 else "")


def render_coverage(tax: Taxonomy, cov: Coverage) -> None:
    from rich.table import Table

    console = out()
    console.print(f"[bold]{tax.data.source.title}[/] — coverage of {cov.total} papers ({cov.untagged} untagged)\n")
    top = max((n.papers for n in cov.nodes), default=0)
    for f in tax.field_order():
        for kind in ("problem", "assumption"):
            rows: list[NodeCoverage] = [n for n in cov.nodes if n.field == f.id and n.kind == kind]
            if not rows:
                continue
            table = Table(title=f"{f.name}: {kind}s", title_justify="left", box=None, pad_edge=False, title_style="bold")
            table.add_column("id", style="green", no_wrap=True)
            table.add_column("papers", justify="right", no_wrap=True)
            if kind == "assumption":
                for stance in ("relies", "supports", "challenges"):
                    table.add_column(stance, justify="right", no_wrap=True)
            table.add_column("", no_wrap=True, style="cyan")
            if kind == "problem":
                table.add_column("newest", no_wrap=True, style="dim")
            for n in rows:
                extra = [str(n.relies), str(n.supports), str(n.challenges)] if kind == "assumption" else []
                newest = [f"{n.newest_id} ({n.newest_year})" if n.newest_id else "—"] if kind == "problem" else []
                table.add_row(n.id, str(n.papers), *extra, _bar(n.papers, top), *newest)
            console.print(table)
            console.print()
    labels = _short_labels(tax)
    used = [a.id for f in tax.field_order() for a in tax.in_field(f.id, "assumption") if any(a.id in row for row in cov.matrix.values())]
    matrix = Table(title="Problems × assumptions: papers that rely on or support each (✗ those that challenge it)", title_justify="left", title_style="bold", box=None, pad_edge=False)
    matrix.add_column("problem", style="green", no_wrap=True)
    peak = max((sum(c.values()) for row in cov.matrix.values() for c in row.values()), default=1)
    for a in used:
        matrix.add_column(labels[a], justify="center", no_wrap=True)
    for problem, row in cov.matrix.items():
        cells = []
        for a in used:
            cell = row.get(a)
            if not cell:
                cells.append("")
                continue
            heat = ("white on grey35", "white on dark_orange3", "black on orange1", "white on red1")[min(3, sum(cell.values()) * 4 // (peak + 1))]
            agree = cell["relies"] + cell["supports"]
            text = (str(agree) if agree else "") + (f"✗{cell['challenges']}" if cell["challenges"] else "")
            cells.append(f"[{heat}]{text}[/]")
        matrix.add_row(problem, *cells)
    console.print(matrix)
    console.print("[dim]" + ", ".join(f"{labels[a]} {a}" for a in used) + "[/]")
    console.print()
    years = Table(title="Papers per year", title_justify="left", title_style="bold", box=None, pad_edge=False)
    years.add_column("problem", style="green", no_wrap=True)
    for y in cov.years:
        years.add_column(str(y)[2:] if len(cov.years) > 8 else str(y), justify="right")
    for n in cov.nodes:
        if n.kind == "problem":
            years.add_row(n.id, *(str(n.by_year.get(y, "")) for y in cov.years))
    console.print(years)
    console.print()
    console.print("[bold]Gaps[/]")
    for g in cov.gaps:
        console.print(f"  [yellow]{g.id}[/] ({g.kind}): {g.reason}")
    if not cov.gaps:
        console.print("  none")


class ListFormat(str, Enum):
    markdown = "markdown"
    bibtex = "bibtex"
    json = "json"


class ExportFormat(str, Enum):
    bibtex = "bibtex"
    json = "json"
    csv = "csv"


def _with_citekeys(lib, papers):  # type: ignore[no-untyped-def]
    """Make citekeys for papers that lack one and store them, so they never change again."""
    from lmdev.reports.bibtex import assign_citekeys
    from lmdev.cli.output import message

    taken = {p.citekey for p in lib.papers() if p.citekey}
    changed = assign_citekeys(papers, taken)
    for paper in changed:
        lib.save(paper)
    if changed:
        message(f"made {len(changed)} new citekey(s), stored in the paper files")
    return papers


@app.command("reading-list", epilog=examples(
    "lmdev reading-list efficiency",
    "lmdev reading-list out-of-the-box --format bibtex > ootb.bib",
    "lmdev reading-list --all --out docs/reading-lists",
    "lmdev check --reading-lists docs/reading-lists      fails when the lists are stale",
))
def reading_list_cmd(
    ctx: typer.Context,
    node_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="A problem or assumption id."),
    all_problems: bool = typer.Option(False, "--all", help="A list for every problem (with --out: one file each plus an index)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", metavar="DIR", help="With --all: write the lists into DIR."),
    fmt: ListFormat = typer.Option(ListFormat.markdown, "--format", "-f", help="markdown, bibtex or json."),
) -> None:
    """The papers tagged with a problem or assumption: essay citations first, then challengers, then newest."""
    from lmdev.reports import readinglist
    from lmdev.errors import UsageError

    lib = library(ctx)
    tax = lib.taxonomy
    if (node_id is None) == (not all_problems):
        raise UsageError("give one problem or assumption id, or --all")
    if out_dir is not None and not all_problems:
        raise UsageError("--out goes with --all")
    papers = lib.papers()
    if out_dir is not None:
        from lmdev.cli.output import message
        from lmdev.yamlio import atomic_write

        if fmt is not ListFormat.markdown:
            raise UsageError("--all --out writes Markdown lists")
        for name, text in readinglist.list_files(tax, papers).items():
            atomic_write(out_dir / name, text)
        message(f"wrote {len(tax.problems) + 1} files to {out_dir}")
        return
    lists = readinglist.all_problem_lists(tax, papers) if all_problems else {node_id: readinglist.reading_list(tax, papers, node_id)}  # type: ignore[dict-item]
    if fmt is ListFormat.json:
        print_json({k: [e.to_json() for e in v] for k, v in lists.items()} if all_problems else [e.to_json() for e in next(iter(lists.values()))])
    elif fmt is ListFormat.bibtex:
        from lmdev.reports.bibtex import render

        chosen = list({e.paper.id: e.paper for entries in lists.values() for e in entries}.values())
        sys.stdout.write(render(_with_citekeys(lib, chosen)))
    else:
        sys.stdout.write("\n".join(readinglist.render_markdown(tax, k, v) for k, v in lists.items()))


@app.command(epilog=examples(
    "lmdev export --format bibtex > lmd.bib",
    "lmdev export --format csv --problem efficiency --year 2022-",
    "lmdev export --format json --assumption out-of-the-box --stance challenges",
))
def export(
    ctx: typer.Context,
    fmt: ExportFormat = typer.Option(..., "--format", "-f", help="bibtex, json or csv."),
    problem: list[str] = FILTER_PROBLEM,
    assumption: list[str] = FILTER_ASSUMPTION,
    stance: Optional[StanceChoice] = FILTER_STANCE,
    year: Optional[str] = FILTER_YEAR,
    text: Optional[str] = FILTER_TEXT,
    untagged: bool = FILTER_UNTAGGED,
    out_file: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Write to FILE instead of stdout."),
) -> None:
    """Export papers as BibTeX, JSON or CSV, with the same filters as list."""
    lib = library(ctx)
    papers = sorted(select(lib, problem, assumption, stance, year, text, untagged), key=lambda p: (p.year or 0, p.id))
    if fmt is ExportFormat.bibtex:
        from lmdev.reports.bibtex import render

        body = render(_with_citekeys(lib, papers))
    elif fmt is ExportFormat.json:
        import json

        from lmdev.cli.library_cmds import paper_json

        body = json.dumps([paper_json(p) for p in papers], indent=2, ensure_ascii=False) + "\n"
    else:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "title", "authors", "year", "problems", "assumptions", "doi", "journal_ref", "link", "citekey"])
        for p in papers:
            writer.writerow([p.id, p.title, "; ".join(p.authors), p.year or "", " ".join(p.problem_ids()), " ".join(f"{a.id}:{a.stance}" for a in p.assumptions), p.doi or "", p.journal_ref or "", p.link, p.citekey or ""])
        body = buffer.getvalue()
    if out_file is not None:
        from lmdev.cli.output import message
        from lmdev.yamlio import atomic_write

        atomic_write(out_file, body)
        message(f"wrote {len(papers)} paper(s) to {out_file}")
    else:
        sys.stdout.write(body)


@app.command(epilog=examples("lmdev report --html site/", "lmdev report --html docs/report --min-papers 5"))
def report(
    ctx: typer.Context,
    html_dir: Path = typer.Option(..., "--html", metavar="DIR", help="Folder to write index.html into."),
    min_papers: int = typer.Option(DEFAULT_MIN_PAPERS, "--min-papers", metavar="N", min=0, help="Call out problems with fewer papers than this."),
    recent_years: int = typer.Option(DEFAULT_RECENT_YEARS, "--recent-years", metavar="N", min=1, help="Call out nodes with no paper in this many years."),
) -> None:
    """Write a static HTML report (inline SVG charts, gaps, reading lists; no JavaScript)."""
    from lmdev.reports import html as htmlreport
    from lmdev.cli.output import message
    from lmdev.reports.coverage import coverage
    from lmdev.yamlio import atomic_write

    lib = library(ctx)
    papers = lib.papers()
    cov = coverage(lib.taxonomy, papers, min_papers=min_papers, recent_years=recent_years)
    path = html_dir / "index.html"
    atomic_write(path, htmlreport.render(lib.taxonomy, cov, papers))
    message(f"wrote {path}")
