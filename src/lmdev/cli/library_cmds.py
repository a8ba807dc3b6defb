"""Commands over the stored library: check, taxonomy, list, show, tag."""

from __future__ import annotations

import datetime as dt
import sys
from enum import Enum
from typing import Any, Optional

import typer

from lmdev.cli.base import app, examples, library
from lmdev.cli.output import TextOrJson, err, is_interactive, message, out, print_json
from lmdev.errors import UsageError
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lmdev.models import Paper
    from lmdev.store import Library
    from lmdev.taxonomy import Taxonomy


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


class StanceChoice(str, Enum):
    relies = "relies"
    supports = "supports"
    challenges = "challenges"


@app.command(epilog=examples("lmdev check", "lmdev check --format github", "lmdev check --min-papers-per-problem 3 --reading-lists docs/reading-lists"))
def check(
    ctx: typer.Context,
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="text, json, or github (workflow annotations)."),
    min_papers_per_problem: Optional[int] = typer.Option(None, "--min-papers-per-problem", metavar="N", min=1, help="Also fail when a problem has fewer papers than this."),
    reading_lists: Optional[str] = typer.Option(None, "--reading-lists", metavar="DIR", help="Also fail when the reading lists in this folder are stale."),
) -> None:
    """Check every paper file; exit 1 if any problem is found (the CI gate)."""
    from lmdev.check import check_library, github_annotation
    from lmdev.cli.checks import extra_checks

    lib = library(ctx)
    count, findings = check_library(lib, extra_checks(min_papers_per_problem, reading_lists))
    if fmt is CheckFormat.json:
        print_json({"ok": not findings, "files": count, "findings": [f.__dict__ for f in findings]})
    elif fmt is CheckFormat.github:
        for finding in findings:
            print(github_annotation(finding))
    else:
        for finding in findings:
            print(finding)
    summary = f"checked {count} paper files: " + (f"{len(findings)} problem(s)" if findings else "all good")
    message(summary)
    if findings:
        raise typer.Exit(1)


class TaxonomyFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


@app.command(epilog=examples("lmdev taxonomy", "lmdev taxonomy --format json", "lmdev taxonomy --format markdown > docs/taxonomy.md"))
def taxonomy(ctx: typer.Context, fmt: TaxonomyFormat = typer.Option(TaxonomyFormat.text, "--format", "-f", help="text (a tree), json or markdown.")) -> None:
    """Show the essay's taxonomy: fields, assumptions, problems."""
    tax = library(ctx).taxonomy
    if fmt is TaxonomyFormat.json:
        print_json(taxonomy_json(tax))
        return
    if fmt is TaxonomyFormat.markdown:
        from lmdev.reports.markdown import taxonomy_page

        sys.stdout.write(taxonomy_page(tax))
        return
    from rich.tree import Tree

    tree = Tree(f"[bold]{tax.data.source.title}[/] ({tax.data.source.author}, {tax.data.source.year})")
    for f in tax.field_order():
        branch = tree.add(f"[bold cyan]{f.name}[/] [dim]({f.id})[/]")
        for kind in ("assumption", "problem"):
            nodes = tax.in_field(f.id, kind)  # type: ignore[arg-type]
            if not nodes:
                continue
            sub = branch.add(f"{kind}s")
            for n in nodes:
                number = f"#{n.node.ref.item} " if n.node.ref.item else ""
                sub.add(f"[green]{n.id}[/]  {number}{n.name}")
    out().print(tree)


def taxonomy_json(tax: "Taxonomy") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in tax.data.fields:
        rows.append({"id": f.id, "kind": "field", "name": f.name, "description": f.description, "gave_rise_to": f.gave_rise_to, "ref": f.ref.model_dump()})
    for n in tax:
        rows.append({"id": n.id, "kind": n.kind, "field": n.field.id, "name": n.name, "description": n.node.description, "ref": n.node.ref.model_dump()})
    return rows


def paper_json(paper: "Paper") -> dict[str, Any]:
    return {**paper.model_dump(mode="json"), "link": paper.link, "year": paper.year}


def _tags_text(paper: "Paper") -> str:
    probs = ", ".join(paper.problem_ids())
    assumptions = ", ".join(f"{t.id}:{t.stance}" for t in paper.assumptions)
    return "; ".join(x for x in (probs, assumptions) if x)


# The filters of `list`, shared with `export`.
FILTER_PROBLEM = typer.Option([], "--problem", "-p", metavar="ID", help="Only papers tagged with this problem (repeatable).")
FILTER_ASSUMPTION = typer.Option([], "--assumption", "-a", metavar="ID", help="Only papers tagged with this assumption (repeatable).")
FILTER_STANCE = typer.Option(None, "--stance", help="With --assumption: only this stance.")
FILTER_YEAR = typer.Option(None, "--year", metavar="YEARS", help="YEAR, FROM-TO, FROM- or -TO.")
FILTER_TEXT = typer.Option(None, "--text", metavar="WORDS", help="Words that must all appear in id, title, abstract, authors or notes.")
FILTER_UNTAGGED = typer.Option(False, "--untagged", help="Only papers with no tags at all.")


def select(lib: "Library", problem: list[str], assumption: list[str], stance: Optional[StanceChoice], year: Optional[str], text: Optional[str], untagged: bool) -> list["Paper"]:
    """The library's papers that pass the filters, each id checked against the taxonomy."""
    from lmdev.filters import Selection, parse_years

    selection = Selection(problem, assumption, stance.value if stance else None, parse_years(year) if year else (None, None), text, untagged)
    return selection.validate(lib.taxonomy).apply(lib.papers())


@app.command("list", epilog=examples("lmdev list --problem efficiency", "lmdev list --assumption out-of-the-box --stance challenges", "lmdev list --year 2023 --text agents --format json", "lmdev list --untagged"))
def list_papers(
    ctx: typer.Context,
    problem: list[str] = FILTER_PROBLEM,
    assumption: list[str] = FILTER_ASSUMPTION,
    stance: Optional[StanceChoice] = FILTER_STANCE,
    year: Optional[str] = FILTER_YEAR,
    text: Optional[str] = FILTER_TEXT,
    untagged: bool = FILTER_UNTAGGED,
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f"),
) -> None:
    """List papers, filtered by tag, stance, year or text."""
    lib = library(ctx)
    papers = select(lib, problem, assumption, stance, year, text, untagged)
    papers.sort(key=lambda p: (p.published or dt.date.min, p.id), reverse=True)
    if fmt is TextOrJson.json:
        print_json([paper_json(p) for p in papers])
        return
    if not papers:
        message("no papers match")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("id", "year", "title", "tags"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for p in papers:
        table.add_row(p.id, str(p.year or ""), p.title, _tags_text(p))
    out().print(table)
    message(f"{len(papers)} paper(s)")


@app.command(epilog=examples("lmdev show 2205.14135", "lmdev show https://arxiv.org/abs/2205.14135v2 --format json"))
def show(ctx: typer.Context, paper_id: str = typer.Argument(..., metavar="ID", help="arXiv id, arXiv URL or slug."), fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f")) -> None:
    """Show one paper: metadata, tags with their stances, notes."""
    lib = library(ctx)
    paper = lib.get(paper_id)
    if fmt is TextOrJson.json:
        print_json(paper_json(paper))
        return
    render_paper(paper, lib.taxonomy)


def render_paper(paper: "Paper", tax: "Taxonomy") -> None:
    from rich.markup import escape

    console = out()
    console.print(f"[bold]{escape(paper.title)}[/]")
    authors = ", ".join(paper.authors[:6]) + (f" and {len(paper.authors) - 6} more" if len(paper.authors) > 6 else "")
    console.print(escape(f"{authors} ({paper.year or 'n.d.'})"))
    console.print(f"[dim]{escape(paper.id)}  {escape(paper.link)}[/]")
    for label, value in (("categories", ", ".join(paper.categories)), ("doi", paper.doi), ("journal", paper.journal_ref), ("comment", paper.comment)):
        if value:
            console.print(f"[dim]{label}:[/] {escape(value)}")
    console.print("\n[bold]problems[/]" if paper.problems else "\n[bold]problems[/] none")
    for t in paper.problems:
        name = tax.nodes[t.id].name if t.id in tax.nodes else "unknown id"
        console.print(f"  {t.id:<14} {escape(name)} [dim]({t.by}{f', {t.score:.2f}' if t.score is not None else ''})[/]")
    console.print("[bold]assumptions[/]" if paper.assumptions else "[bold]assumptions[/] none")
    for a in paper.assumptions:
        name = tax.nodes[a.id].name if a.id in tax.nodes else "unknown id"
        console.print(f"  {a.id:<18} {a.stance:<10} {escape(name)} [dim]({a.by})[/]")
    if paper.notes:
        console.print(f"\n[bold]notes[/]\n{escape(paper.notes)}")
    if paper.abstract:
        console.print(f"\n{escape(paper.abstract)}")


@app.command(epilog=examples(
    "lmdev tag 2205.14135 --problem efficiency --assumption fixed-recipe:relies",
    "lmdev tag 2205.14135 --remove cost-irrelevant",
    "lmdev tag 2205.14135 --note 'IO-aware exact attention'",
    "lmdev tag 2205.14135              (on a terminal: review the classifier's suggestions)",
))
def tag(
    ctx: typer.Context,
    paper_id: str = typer.Argument(..., metavar="ID", help="arXiv id, arXiv URL or slug."),
    problem: list[str] = typer.Option([], "--problem", "-p", metavar="ID", help="Problem id to add (repeatable)."),
    assumption: list[str] = typer.Option([], "--assumption", "-a", metavar="ID:STANCE", help="ID:STANCE, stance one of relies, supports, challenges (repeatable)."),
    remove: list[str] = typer.Option([], "--remove", "-r", metavar="ID", help="Problem or assumption id to remove (repeatable)."),
    note: Optional[str] = typer.Option(None, "--note", metavar="TEXT", help="Set the paper's notes."),
    accept_suggestions: bool = typer.Option(False, "--accept-suggestions", help="Apply the classifier's suggested tags without prompting."),
) -> None:
    """Tag a paper by hand; with no tag options on a terminal, review the classifier's suggestions."""
    from lmdev.tagging import apply_tag_flags, remove_tags

    lib = library(ctx)
    paper = lib.get(paper_id)
    tax = lib.taxonomy
    if not (problem or assumption or remove or note is not None or accept_suggestions):
        if not is_interactive():
            raise UsageError("give --problem, --assumption, --remove, --note or --accept-suggestions (prompts only run on a terminal)")
        from lmdev.cli.review import review_suggestions

        if review_suggestions(lib, paper):
            lib.save(paper)
            message(f"saved {lib.path_for(paper.id)}")
        return
    for node_id in remove:
        tax.get(node_id)
    apply_tag_flags(paper, tax, problem, assumption)
    removed = remove_tags(paper, remove)
    for node_id in set(remove) - set(removed):
        message(f"{paper.id} had no tag {node_id!r}")
    if note is not None:
        paper.notes = note or None
    if accept_suggestions:
        from lmdev.cli.review import accept_all

        accept_all(lib, paper)
    changed = lib.save(paper)
    err().print(f"{paper.id}: {_tags_text(paper) or 'no tags'}" + ("" if changed else " (unchanged)"), highlight=False, markup=False)
