"""Report commands: coverage, reading lists, export, HTML report."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from lmdev.cli.base import app, examples, library
from lmdev.cli.output import out, print_json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lmdev.report import Coverage, NodeCoverage
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
    min_papers: int = typer.Option(DEFAULT_MIN_PAPERS, "--min-papers", min=0, help="Call out problems with fewer papers than this."),
    recent_years: int = typer.Option(DEFAULT_RECENT_YEARS, "--recent-years", min=1, help="Call out nodes with no paper in this many years, counted back from the newest paper."),
) -> None:
    """How the library covers each problem and assumption, and where the gaps are."""
    from lmdev.report import coverage

    lib = library(ctx)
    tax = lib.taxonomy
    cov = coverage(tax, lib.papers(), min_papers=min_papers, recent_years=recent_years)
    if fmt is CoverageFormat.json:
        print_json(cov.to_json())
    elif fmt is CoverageFormat.markdown:
        from lmdev.markdown import coverage_page

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
            heat = ("grey35", "dark_orange3", "orange1", "red1")[min(3, sum(cell.values()) * 4 // (peak + 1))]
            agree = cell["relies"] + cell["supports"]
            text = (str(agree) if agree else "") + (f"✗{cell['challenges']}" if cell["challenges"] else "")
            cells.append(f"[on {heat}]{text}[/]")
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
