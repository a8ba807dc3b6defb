"""Renderings of the inbox for the terminal: the waiting papers as a table or as lines, and one
waiting (or rejected) paper in full, as ``show`` gives it. Data passes through
:func:`~lmdev.cli.render.esc` or :func:`~lmdev.cli.output.safe`, as everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmdev.cli.output import out, safe
from lmdev.cli.render import byline, esc, node_name
from lmdev.ids import abs_url

if TYPE_CHECKING:
    from lmdev.decisions import Rejection
    from lmdev.inbox import InboxItem, Waiting
    from lmdev.taxonomy import Taxonomy


def inbox_table(items: list[Waiting]) -> None:
    """Waiting papers, best first: relevance, top problem, id, title and the strongest reason."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("#", "rel", "problem", "id", "title", "why"):
        table.add_column(column, no_wrap=column in ("#", "rel", "problem", "id"), overflow="fold", ratio=2 if column == "title" else 1 if column == "why" else None)
    for n, item in enumerate(items, 1):
        table.add_row(str(n), f"{item.relevance:.2f}", esc(item.primary or "-"), esc(item.id), esc(item.title), f"[dim]{esc(item.reasons[0]) if item.reasons else ''}[/]")
    out().print(table)


def inbox_lines(items: list[Waiting]) -> str:
    """One waiting paper per line, tab-separated (id, relevance, top problem, title, why)."""
    return "".join(f"{safe(i.id)}\t{i.relevance:.3f}\t{safe(i.primary or '-')}\t{safe(i.title, tabs=True)}\t{safe(i.reasons[0], tabs=True) if i.reasons else ''}\n" for i in items)


def waiting_detail(item: InboxItem, tax: Taxonomy) -> None:
    """An inbox paper as ``show`` gives it: what a paper's detail shows, with the classifier's
    suggestions and reasons in place of tags, and how to decide on it."""
    console = out()
    paper = item.paper()
    console.print(f"[bold]{esc(item.title)}[/]")
    console.print(byline(item.authors or ["unknown authors"], paper.year))
    console.print(f"[dim]{esc(item.id)}  {esc(paper.link)}[/]")
    if item.categories:
        console.print(f"[dim]categories:[/] {esc(', '.join(item.categories))}")
    listed = f"listed {item.listed}" + (f" ({item.announced})" if item.announced else "") + ", " if item.listed else ""
    console.print(f"[yellow]waiting in the inbox[/]: {esc(listed)}seen {item.seen}; relevance [bold]{item.relevance:.2f}[/]")
    console.print("\n[bold]suggested problems[/]" if item.problems else "\n[bold]suggested problems[/] none")
    for t in item.problems:
        console.print(f"  {esc(t.id):<14} {'primary  ' if t.id == item.primary else ' ' * 9}{node_name(tax, t.id)} [dim]({t.score:.2f})[/]")
    console.print("[bold]suggested assumptions[/]" if item.assumptions else "[bold]suggested assumptions[/] none")
    for a in item.assumptions:
        console.print(f"  {esc(a.id):<18} {a.stance:<10} {node_name(tax, a.id)} [dim]({a.score:.2f})[/]")
    for reason in item.reasons:
        console.print(f"  [dim]{esc(reason)}[/]")
    console.print(f"decide with lmdev accept {esc(item.id)} (tag flags change the tags) or lmdev reject {esc(item.id)} --reason TEXT")
    if item.abstract:
        console.print(f"\n{esc(item.abstract)}")


def rejection_detail(rejection: Rejection) -> None:
    """A rejected paper as ``show`` gives it: what the record keeps of it, and why."""
    console = out()
    if rejection.title:
        console.print(f"[bold]{esc(rejection.title)}[/]")
    console.print(f"[dim]{esc(rejection.id)}  {esc(abs_url(rejection.id))}[/]")
    when = f" (dated {rejection.date})" if rejection.date else ""  # the decision's day or its listing's
    console.print(f"[yellow]rejected{when}[/]: {esc(rejection.reason)}")
    if rejection.abstract:
        console.print(f"\n{esc(rejection.abstract)}")


def nothing_shown(waiting: list[Waiting], unreadable: int) -> str:
    """Why an inbox listing or review shows nothing: nothing waits, nothing readable waits (the
    files were named on stderr), or the filters leave nothing."""
    if waiting:
        return "no waiting paper matches"
    return f"no readable paper waits in the inbox ({unreadable} file(s) skipped, named above)" if unreadable else "the inbox is empty"
