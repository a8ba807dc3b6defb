"""Rich renderings for the terminal, and their plain-text twins for pipes.

Every string that comes from data (titles, authors, notes, ids) passes through
:func:`~lmdev.cli.output.safe` and rich's ``escape``, so it is never taken as markup.
"""

from __future__ import annotations

import codecs
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
    """Tags as text; an unreviewed classifier suggestion ends in ``?``."""
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


def write_paper_lines(batches: Iterable[list[bytes]], stream: IO[str]) -> int:
    """One paper per line, tab-separated (id, year, title and tags), for grep, cut and sort; returns
    how many. The lines are UTF-8 already: written as bytes where the stream encodes UTF-8."""
    binary = getattr(stream, "buffer", None) if codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "utf-8" else None
    stream.flush()
    count = 0
    for lines in batches:
        text = b"\n".join(lines) + b"\n"
        if binary is not None:
            binary.write(text)
        else:
            stream.write(text.decode("utf-8"))
        count += len(lines)
    if binary is not None:
        binary.flush()
    return count


def byline(authors: list[str], year: int | None) -> str:
    """The first six authors and the year, as a paper's detail shows them."""
    names = ", ".join(authors[:6]) + (f" and {len(authors) - 6} more" if len(authors) > 6 else "")
    return esc(f"{names} ({year or 'n.d.'})")


def node_name(tax: Taxonomy, node_id: str) -> str:
    """A tag's name in the taxonomy, for a detail view ('unknown id' for one it lacks)."""
    return esc(tax.nodes[node_id].name) if node_id in tax.nodes else "unknown id"


def paper_detail(paper: Paper, tax: Taxonomy) -> None:
    console = out()
    console.print(f"[bold]{esc(paper.title)}[/]")
    console.print(byline(paper.authors, paper.year))
    console.print(f"[dim]{esc(paper.id)}  {esc(paper.link)}[/]")
    for label, value in (("categories", ", ".join(paper.categories)), ("doi", paper.doi), ("journal", paper.journal_ref), ("comment", paper.comment)):
        if value:
            console.print(f"[dim]{label}:[/] {esc(value)}")
    console.print("\n[bold]problems[/]" if paper.problems else "\n[bold]problems[/] none")
    for t in paper.primary_first():
        score = f", {t.score:.2f}" if t.score is not None else ""
        primary = "primary  " if t.id == paper.primary else " " * 9
        console.print(f"  {esc(t.id):<14} {primary}{node_name(tax, t.id)} [dim]({t.by}{score})[/]")
    console.print("[bold]assumptions[/]" if paper.assumptions else "[bold]assumptions[/] none")
    for a in paper.assumptions:
        score = f", {a.score:.2f}" if a.score is not None else ""
        console.print(f"  {esc(a.id):<18} {a.stance:<10} {node_name(tax, a.id)} [dim]({a.by}{score})[/]")
    if paper.declined:
        console.print(f"[dim]declined (never suggested again):[/] {esc(', '.join(paper.declined))}")
    if paper.suggestions():
        console.print(f"[yellow]unreviewed suggestions[/]: confirm with lmdev tag {esc(paper.id)} --confirm, or walk them with lmdev review")
    if paper.notes:
        console.print(f"\n[bold]notes[/]\n{esc(paper.notes)}")
    if paper.abstract:
        console.print(f"\n{esc(paper.abstract)}")


def outcome_line(outcome: Outcome) -> str:
    if outcome.action == "failed":
        reason = (outcome.reason or "").removeprefix(f"{outcome.id}: ")  # the client names the id too
        return safe(f"failed     {outcome.id}: {reason}")
    paper = outcome.paper
    assert paper is not None
    who = paper.first_author.split()[-1] if paper.authors else "?"
    line = f"{outcome.action:<10} {paper.id}  {paper.title} ({who}, {paper.year or 'n.d.'})"
    if outcome.changes:
        line += "\n           " + "; ".join(outcome.changes)
    if outcome.warning:
        line += "\n           warning: " + outcome.warning
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
    head = f"relevance {result.relevance:.2f}, primary {result.primary or '-'}"
    if not terminal:
        lines = [safe(f"{result.paper_id}  {title}"), f"  {head}"]
        for s in rows:
            label = f"{s.id}:{s.stance}" if s.stance else s.id
            lines.append(f"  {'✓' if s.suggested else '?'} {s.kind:<10} {label:<32} {s.score:.2f}")
            lines.extend(f"      {safe(reason)}" for reason in s.reasons[:2])
        print("\n".join(lines))
        return
    console = out()
    console.print(f"[bold]{esc(result.paper_id)}[/]  {esc(title)}")
    console.print(f"  [dim]{esc(head)}[/]")
    for s in rows:
        mark = "[green]✓[/]" if s.suggested else "[yellow]?[/]"
        label = f"{s.id}:{s.stance}" if s.stance else s.id
        console.print(f"  {mark} {s.kind:<10} {esc(label):<32} {s.score:.2f}")
        for reason in s.reasons[:2]:
            console.print(f"      [dim]{esc(reason)}[/]")


def evaluation(ev: Evaluation, folds: int) -> None:
    """Per-tag cross-validated figures, then the headline figures of both splits side by side."""
    from rich.table import Table

    console = out()
    m, b = ev.model, ev.baseline
    console.print(f"[bold]{folds}-fold cross-validation on {ev.papers} tagged papers and {ev.rejections} rejections[/] (learned model vs seed terms only)\n")
    table = Table(box=None, pad_edge=False)
    for column in ("tag", "kind", "papers", "P", "R", "F1", "base P", "base R", "base F1"):
        table.add_column(column, justify="left" if column in ("tag", "kind") else "right", no_wrap=True, min_width=4)
    for tm, tb in zip(m.tags, b.tags):
        table.add_row(tm.id, tm.kind, str(tm.support), f"{tm.precision:.2f}", f"{tm.recall:.2f}", f"{tm.f1:.2f}", f"{tb.precision:.2f}", f"{tb.recall:.2f}", f"{tb.f1:.2f}")
    console.print(table)
    splits = [("cross-validation", ev.cv)] + ([("temporal", ev.temporal)] if ev.temporal is not None else [])
    summary = Table(box=None, pad_edge=False, title="Summary", title_justify="left", title_style="bold")
    summary.add_column("figure", no_wrap=True)
    for name, _ in splits:
        summary.add_column(f"{name}", justify="right", no_wrap=True)
        summary.add_column("baseline", justify="right", no_wrap=True)
    for key, label in _FIGURES:
        summary.add_row(label, *(cell for _, split in splits for cell in (_figure(split.model, key), _figure(split.baseline, key))))
    console.print()
    console.print(summary)
    if ev.temporal is not None:
        t = ev.temporal
        console.print(f"[dim]temporal: trained on {t.train_papers} papers up to 2023 and {t.train_rejections} rejections; tested on {t.test_papers} later papers and {t.test_rejections} later rejections[/]")
    _bands(splits)
    delta = m.summary["micro_f1"] - b.summary["micro_f1"]
    verdict = "beats" if delta > 0 else "does not beat"
    if ev.papers < 100:  # the binomial 95 % margin of a share near one half
        console.print(f"\n[yellow]On {ev.papers} tagged papers each figure is uncertain by about ±{1.96 * (0.25 / ev.papers) ** 0.5:.2f} (95 %): read them, and the comparison below, as rough.[/]")
    console.print(f"\nThe learned model {verdict} the seed-terms baseline on cross-validated micro F1 ({delta:+.3f}). The top-ranked problem is the predicted primary; other problems are suggested from a threshold chosen on held-out scores of the training papers, never on a test set.")


_FIGURES = (
    ("primary_accuracy", "acc@1, primary"),
    ("top_problem_accuracy", "acc@1, any of its problems"),
    ("problems_micro_f1", "micro F1, suggested problems"),
    ("problems_macro_f1", "macro F1, problems"),
    ("relevance_auc", "relevance ROC AUC"),
    ("problems_suggested_per_paper", "problems suggested per paper"),
    ("problems_per_paper", "problems per paper (people)"),
    ("micro_f1", "micro F1, all tags"),
    ("assumptions_micro_f1", "micro F1, assumptions"),
    ("stance_accuracy", "stance correct (true assumptions)"),
)


def _figure(figures: Any, key: str) -> str:
    value = figures.summary[key] if key in figures.summary else getattr(figures, key)
    return "–" if value is None else f"{value:.3f}"


def _bands(splits: list[Any]) -> None:
    """Precision of suggested problems by score band: is 0.9 right nine times in ten?"""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, title="Suggested problems by score band: how many, and the share that was right", title_justify="left", title_style="bold")
    table.add_column("score", no_wrap=True)
    for name, _ in splits:
        table.add_column(f"{name} n", justify="right", no_wrap=True)
        table.add_column("right", justify="right", no_wrap=True)
    first = splits[0][1].model.bands
    for i, band in enumerate(first):
        cells = []
        for _, split in splits:
            b = split.model.bands[i]
            cells += [str(b.suggested), "–" if b.precision is None else f"{b.precision:.2f}"]
        table.add_row(f"{band.low:.1f}–{min(band.high, 1.0):.1f}", *cells)
    out().print()
    out().print(table)


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
    unreviewed = f", {cov.unreviewed} with unreviewed suggestions" if cov.unreviewed else ""
    console.print(f"[bold]{esc(tax.data.source.title)}[/] — coverage of {cov.total} papers ({cov.untagged} untagged{unreviewed}); reviewed tags only, suggestions apart\n")
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
            table.add_column("", no_wrap=True, style="cyan")  # the papers column as a bar, beside it
            if kind == "assumption":
                for stance in ("relies", "supports", "challenges"):
                    table.add_column(stance, justify="right", no_wrap=True)
            else:
                table.add_column("primary", justify="right", no_wrap=True)
            table.add_column("suggested", justify="right", no_wrap=True, style="dim")
            if kind == "problem":
                table.add_column("newest", no_wrap=True, style="dim")
            for n in rows:
                extra = [str(n.relies), str(n.supports), str(n.challenges)] if kind == "assumption" else [str(n.primary)]
                newest = [f"{esc(n.newest_id)} ({n.newest_year})" if n.newest_id else "—"] if kind == "problem" else []
                table.add_row(esc(n.id), str(n.papers), _bar(n.papers, top), *extra, str(n.suggested) if n.suggested else "–", *newest)
            console.print(table)
            console.print()


def _coverage_matrix(tax: Taxonomy, cov: Coverage) -> None:
    from rich.table import Table

    console = out()
    labels = _short_labels(tax)
    used = [a.id for f in tax.field_order() for a in tax.in_field(f.id, "assumption") if any(a.id in row for row in cov.matrix.values())]
    if not used:  # a table of problems without a column would only wrap its title a word a line
        console.print("[bold]Problems × assumptions[/]: no paper maps a problem to an assumption yet\n")
        return
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
    if not cov.years:
        console.print("[bold]Papers per year[/]: no dated paper yet\n")
        return
    years = Table(title="Papers per year", title_justify="left", title_style="bold", box=None, pad_edge=False)
    years.add_column("problem", style="green", no_wrap=True)
    for y in cov.years:
        years.add_column(str(y)[2:] if len(cov.years) > 8 else str(y), justify="right")
    for n in cov.nodes:
        if n.kind == "problem":
            years.add_row(esc(n.id), *(str(n.by_year.get(y, "")) for y in cov.years))
    console.print(years)
    console.print()
