"""Rich renderings for the terminal, and their plain-text twins for pipes.

Every string that comes from data (titles, authors, notes, ids) passes through
:func:`~lmdev.cli.output.safe` and rich's ``escape``, so it is never taken as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from lmdev.cli.output import out, safe

if TYPE_CHECKING:
    from lmdev.classifier.evaluation import Evaluation
    from lmdev.classifier.model import Result
    from lmdev.indexrows import Summary
    from lmdev.ingest import Outcome
    from lmdev.models import Paper
    from lmdev.reports.coverage import Coverage
    from lmdev.taxonomy import Taxonomy


def esc(value: object) -> str:
    """Data made safe for a rich console: control characters out, markup escaped."""
    from rich.markup import escape

    return escape(safe(str(value)))


def tags_text(paper: Paper) -> str:
    from lmdev.indexrows import tags_text as text

    return text(paper)


def taxonomy_tree(tax: Taxonomy) -> None:
    from rich.tree import Tree

    src = tax.data.source
    tree = Tree(f"[bold]{esc(src.title)}[/] ({esc(src.author)}, {src.year})")
    for f in tax.field_order():
        branch = tree.add(f"[bold cyan]{esc(f.name)}[/] [dim]({esc(f.id)})[/]")
        for kind in ("assumption", "problem"):
            nodes = tax.in_field(f.id, kind)
            if not nodes:
                continue
            sub = branch.add(f"{kind}s")
            for n in nodes:
                number = f"#{n.node.ref.item} " if n.node.ref.item else ""
                sub.add(f"[green]{esc(n.id)}[/]  {number}{esc(n.name)}")
    out().print(tree)


def paper_table(rows: Iterable[Summary]) -> int:
    """Papers as a table on a terminal; returns how many."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("id", "year", "title", "tags"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for p in rows:
        table.add_row(esc(p.id), str(p.year or ""), esc(p.title), esc(p.tags))
    if table.row_count:
        out().print(table)
    return table.row_count


def write_paper_lines(rows: Iterable[Summary], stream: IO[str]) -> int:
    """One paper per line, tab-separated (id, year, title, tags), for grep, cut and sort; returns how many."""
    count = 0
    lines = []
    for paper_id, year, title, tags in rows:
        lines.append(f"{safe(paper_id)}\t{year or ''}\t{safe(title, tabs=True)}\t{safe(tags)}\n")
        if len(lines) == 1000:
            stream.write("".join(lines))
            count += len(lines)
            lines = []
    stream.write("".join(lines))
    return count + len(lines)


def paper_detail(paper: Paper, tax: Taxonomy) -> None:
    console = out()
    console.print(f"[bold]{esc(paper.title)}[/]")
    authors = ", ".join(paper.authors[:6]) + (f" and {len(paper.authors) - 6} more" if len(paper.authors) > 6 else "")
    console.print(esc(f"{authors} ({paper.year or 'n.d.'})"))
    console.print(f"[dim]{esc(paper.id)}  {esc(paper.link)}[/]")
    for label, value in (("categories", ", ".join(paper.categories)), ("doi", paper.doi), ("journal", paper.journal_ref), ("comment", paper.comment)):
        if value:
            console.print(f"[dim]{label}:[/] {esc(value)}")
    console.print("\n[bold]problems[/]" if paper.problems else "\n[bold]problems[/] none")
    for t in paper.problems:
        name = tax.nodes[t.id].name if t.id in tax.nodes else "unknown id"
        score = f", {t.score:.2f}" if t.score is not None else ""
        console.print(f"  {esc(t.id):<14} {esc(name)} [dim]({t.by}{score})[/]")
    console.print("[bold]assumptions[/]" if paper.assumptions else "[bold]assumptions[/] none")
    for a in paper.assumptions:
        name = tax.nodes[a.id].name if a.id in tax.nodes else "unknown id"
        console.print(f"  {esc(a.id):<18} {a.stance:<10} {esc(name)} [dim]({a.by})[/]")
    if paper.notes:
        console.print(f"\n[bold]notes[/]\n{esc(paper.notes)}")
    if paper.abstract:
        console.print(f"\n{esc(paper.abstract)}")


def outcome_line(outcome: Outcome) -> str:
    if outcome.action == "failed":
        return safe(f"failed     {outcome.id}: {outcome.reason}")
    paper = outcome.paper
    assert paper is not None
    who = paper.first_author.split()[-1] if paper.authors else "?"
    line = f"{outcome.action:<10} {paper.id}  {paper.title} ({who}, {paper.year or 'n.d.'})"
    if outcome.changes:
        line += "\n           " + "; ".join(outcome.changes)
    return safe(line, newlines=True)


def search_hits(papers: list[Paper], stored: set[str]) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("#", "", "id", "year", "title", "first author"):
        table.add_column(column, no_wrap=column in ("#", "id"), overflow="fold")
    for n, p in enumerate(papers, 1):
        table.add_row(str(n), "✓" if p.id in stored else "", esc(p.id), str(p.year or ""), esc(p.title), esc(p.first_author))
    out().print(table)


def classification(result: Result, title: str, *, terminal: bool) -> None:
    """The suggested (✓) and near-miss (?) tags of one paper, with their strongest reasons."""
    rows = [s for s in [*result.problems, *result.assumptions] if s.reasons or s.suggested]
    if not terminal:
        lines = [safe(f"{result.paper_id}  {title}")]
        for s in rows:
            label = f"{s.id}:{s.stance}" if s.stance else s.id
            lines.append(f"  {'✓' if s.suggested else '?'} {s.kind:<10} {label:<32} {s.score:.2f}")
            lines.extend(f"      {safe(reason)}" for reason in s.reasons[:2])
        print("\n".join(lines))
        return
    console = out()
    console.print(f"[bold]{esc(result.paper_id)}[/]  {esc(title)}")
    for s in rows:
        mark = "[green]✓[/]" if s.suggested else "[yellow]?[/]"
        label = f"{s.id}:{s.stance}" if s.stance else s.id
        console.print(f"  {mark} {s.kind:<10} {esc(label):<32} {s.score:.2f}")
        for reason in s.reasons[:2]:
            console.print(f"      [dim]{esc(reason)}[/]")


def evaluation(ev: Evaluation, folds: int) -> None:
    from rich.table import Table

    console = out()
    m, b = ev.model, ev.baseline
    console.print(f"[bold]{folds}-fold cross-validation on {ev.papers} tagged papers[/] (learned model vs seed terms only)\n")
    table = Table(box=None, pad_edge=False)
    for column in ("tag", "kind", "papers", "P", "R", "F1", "base P", "base R", "base F1"):
        table.add_column(column, justify="left" if column in ("tag", "kind") else "right", no_wrap=True, min_width=4)
    for tm, tb in zip(m.tags, b.tags):
        table.add_row(tm.id, tm.kind, str(tm.support), f"{tm.precision:.2f}", f"{tm.recall:.2f}", f"{tm.f1:.2f}", f"{tb.precision:.2f}", f"{tb.recall:.2f}", f"{tb.f1:.2f}")
    console.print(table)
    summary = Table(box=None, pad_edge=False, title="Summary", title_justify="left", title_style="bold")
    for column in ("figure", "model", "baseline"):
        summary.add_column(column, justify="left" if column == "figure" else "right", no_wrap=True, min_width=5)
    labels = (("micro_f1", "micro F1 (all tags)"), ("macro_f1", "macro F1 (all tags)"), ("problems_micro_f1", "micro F1, problems"), ("problems_macro_f1", "macro F1, problems"), ("assumptions_micro_f1", "micro F1, assumptions"), ("assumptions_macro_f1", "macro F1, assumptions"))
    for key, label in labels:
        summary.add_row(label, f"{m.summary[key]:.3f}", f"{b.summary[key]:.3f}")
    summary.add_row("top-ranked problem correct", f"{m.top_problem_accuracy:.3f}", f"{b.top_problem_accuracy:.3f}")
    if m.stance_accuracy is not None and b.stance_accuracy is not None:
        summary.add_row("stance correct (true assumptions)", f"{m.stance_accuracy:.3f}", f"{b.stance_accuracy:.3f}")
    console.print()
    console.print(summary)
    delta = m.summary["micro_f1"] - b.summary["micro_f1"]
    verdict = "beats" if delta > 0 else "does not beat"
    console.print(f"\nThe learned model {verdict} the seed-terms baseline on micro F1 ({delta:+.3f}). Thresholds are tuned per tag on held-out scores; tags with fewer than 3 papers use seed terms only.")


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


def coverage(tax: Taxonomy, cov: Coverage) -> None:
    console = out()
    console.print(f"[bold]{esc(tax.data.source.title)}[/] — coverage of {cov.total} papers ({cov.untagged} untagged)\n")
    _coverage_nodes(tax, cov)
    _coverage_matrix(tax, cov)
    _coverage_years(cov)
    console.print("[bold]Gaps[/]")
    for g in cov.gaps:
        console.print(f"  [yellow]{esc(g.id)}[/] ({g.kind}): {esc(g.reason)}")
    if not cov.gaps:
        console.print("  none")


def _coverage_nodes(tax: Taxonomy, cov: Coverage) -> None:
    from rich.table import Table

    console = out()
    top = max((n.papers for n in cov.nodes), default=0)
    for f in tax.field_order():
        for kind in ("problem", "assumption"):
            rows = [n for n in cov.nodes if n.field == f.id and n.kind == kind]
            if not rows:
                continue
            table = Table(title=f"{esc(f.name)}: {kind}s", title_justify="left", box=None, pad_edge=False, title_style="bold")
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
                newest = [f"{esc(n.newest_id)} ({n.newest_year})" if n.newest_id else "—"] if kind == "problem" else []
                table.add_row(esc(n.id), str(n.papers), *extra, _bar(n.papers, top), *newest)
            console.print(table)
            console.print()


def _coverage_matrix(tax: Taxonomy, cov: Coverage) -> None:
    from rich.table import Table

    console = out()
    labels = _short_labels(tax)
    used = [a.id for f in tax.field_order() for a in tax.in_field(f.id, "assumption") if any(a.id in row for row in cov.matrix.values())]
    matrix = Table(title="Problems × assumptions: papers that rely on or support each (✗ those that challenge it)", title_justify="left", title_style="bold", box=None, pad_edge=False)
    matrix.add_column("problem", style="green", no_wrap=True)
    peak = max((sum(c.values()) for row in cov.matrix.values() for c in row.values()), default=1)
    for a in used:
        matrix.add_column(labels[a], justify="center", no_wrap=True)
    heats = ("white on grey35", "white on dark_orange3", "black on orange1", "white on red1")
    for problem, row in cov.matrix.items():
        cells = []
        for a in used:
            cell: Any = row.get(a)
            if not cell:
                cells.append("")
                continue
            heat = heats[min(3, sum(cell.values()) * 4 // (peak + 1))]
            agree = cell["relies"] + cell["supports"]
            text = (str(agree) if agree else "") + (f"✗{cell['challenges']}" if cell["challenges"] else "")
            cells.append(f"[{heat}]{text}[/]")
        matrix.add_row(esc(problem), *cells)
    console.print(matrix)
    console.print("[dim]" + esc(", ".join(f"{labels[a]} {a}" for a in used)) + "[/]")
    console.print()


def _coverage_years(cov: Coverage) -> None:
    from rich.table import Table

    console = out()
    years = Table(title="Papers per year", title_justify="left", title_style="bold", box=None, pad_edge=False)
    years.add_column("problem", style="green", no_wrap=True)
    for y in cov.years:
        years.add_column(str(y)[2:] if len(cov.years) > 8 else str(y), justify="right")
    for n in cov.nodes:
        if n.kind == "problem":
            years.add_row(esc(n.id), *(str(n.by_year.get(y, "")) for y in cov.years))
    console.print(years)
    console.print()
