"""Reviewing the inbox on a terminal: one key per paper.

a accept with the suggested tags, e edit the tags (then accept), r reject with an optional
reason, s skip, o open the abs page in the browser, q quit the whole session. Only those keys
are taken; anything else asks again. The reading of keys and lines is injected, so the session
is tested without a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Optional

import typer

from lmdev.cli.output import out, safe
from lmdev.cli.render import esc
from lmdev.errors import LmdevError, UsageError
from lmdev.ids import abs_url
from lmdev.inbox import Inbox, Waiting
from lmdev.store import Library
from lmdev.tagging import TagChange, one_stance_each, parse_assumption_spec

KEYS = {"a": "accept", "e": "edit tags", "r": "reject", "s": "skip", "o": "open", "q": "quit"}
PROMPT = "  [a]ccept [e]dit tags [r]eject [s]kip [o]pen [q]uit: "
_SPLIT = re.compile(r"[\s,]+")


class Quit(Exception):
    """End of input (Ctrl-D) at a prompt: the session ends as with q, keeping what was decided."""


def _getchar() -> str:
    try:
        return str(typer.getchar())
    except EOFError:
        return "q"


def _line(text: str, default: str) -> str:
    """A line, or ``default`` for an empty one. Both are shown escaped (a default comes from an
    inbox file, which may hold anything); Ctrl-C interrupts (exit 130), Ctrl-D quits."""
    try:
        answer = input(f"{safe(text)}{f' [{safe(default)}]' if default else ''}: ")
    except EOFError:
        raise Quit from None
    return answer or default


@dataclass
class Terminal:
    """How the session talks to a person: a key, a line (with a default), and output."""

    getchar: Callable[[], str] = field(default=_getchar)
    ask: Callable[[str, str], str] = field(default=_line)
    echo: Callable[[str], None] = field(default=lambda text: typer.echo(safe(text)))
    open_url: Callable[[str], object] = field(default=lambda url: __import__("webbrowser").open(url))


def read_key(term: Terminal, prompt: str = PROMPT, keys: str = "".join(KEYS)) -> str:
    """One key from ``keys`` (case-insensitive); asks again for anything else."""
    while True:
        term.echo(prompt.rstrip())
        key = (term.getchar() or "").lower()
        if len(key) == 1 and key in keys:
            term.echo(f"  -> {KEYS.get(key, key)}")
            return key
        term.echo(f"  press one of: {', '.join(f'{k} {KEYS.get(k, k)}' for k in keys)}")


def _show(item: Waiting, abstract: str, n: int, total: int) -> None:
    console = out()
    console.print(f"\n[bold]{n}/{total}  {esc(item.title)}[/]")
    authors = ", ".join(item.authors[:4]) + (" et al." if len(item.authors) > 4 else "")
    console.print(f"[dim]{esc(item.id)}  {esc(authors)}[/]")
    problems = ", ".join(f"{p.id} {p.score:.2f}" for p in item.problems)
    assumptions = ", ".join(f"{a.id}:{a.stance} {a.score:.2f}" for a in item.assumptions)
    console.print(f"  relevance [bold]{item.relevance:.2f}[/]   problems: {esc(problems or '-')}   assumptions: {esc(assumptions or '-')}")
    for reason in item.reasons:
        console.print(f"  [dim]{esc(reason)}[/]")
    if abstract:
        from rich.padding import Padding

        console.print(Padding(f"{esc(abstract[:900])}{'…' if len(abstract) > 900 else ''}", (0, 0, 0, 2)))  # wrapped lines indented too


def _edit(lib: Library, item: Waiting, term: Terminal) -> TagChange:
    """Ask for problems (primary first) and assumptions, again until every id and stance is valid."""
    tax = lib.taxonomy
    while True:
        answer = term.ask("  problems, primary first", " ".join(p.id for p in item.problems if p.id in tax.nodes and tax.nodes[p.id].kind == "problem"))
        problems = [p for p in _SPLIT.split(answer.strip()) if p]
        try:
            if not problems:
                raise UsageError("give at least one problem")
            for problem in problems:
                tax.get(problem, "problem")
            break
        except UsageError as exc:
            term.echo(f"  {exc.message}")
    while True:
        answer = term.ask("  assumptions as ID:STANCE", " ".join(f"{a.id}:{a.stance}" for a in item.assumptions if a.id in tax.nodes and tax.nodes[a.id].kind == "assumption"))
        specs = [s for s in _SPLIT.split(answer.strip()) if s]
        try:
            if not specs:
                raise UsageError("give at least one assumption (every paper needs one)")
            for spec in specs:
                tax.get(parse_assumption_spec(spec)[0], "assumption")
            one_stance_each(specs)
            break
        except UsageError as exc:
            term.echo(f"  {exc.message}")
    return TagChange(problems=problems, assumptions=specs, primary=problems[0])


def review_inbox_session(
    lib: Library,
    *,
    problem: Optional[str] = None,
    min_relevance: Optional[float] = None,
    limit: Optional[int] = None,
    term: Optional[Terminal] = None,
    quit_flag: Optional[list[bool]] = None,
) -> int:
    """Walk the waiting papers best first; returns how many were accepted or rejected.
    ``quit_flag`` (a one-item list) is set when the person pressed ``q``, so a caller that runs
    more review after this one ends the whole session too."""
    from lmdev.triage import ordered, select, undecided

    term = term or Terminal()
    inbox = Inbox(lib.root)
    waiting, unreadable = inbox.waiting()
    for error in unreadable:  # named, as lmdev inbox names them, rather than passed over in silence
        term.echo(f"skipped {error} (lmdev check lists every problem)")
    waiting = undecided(lib, waiting)
    items = ordered(select(waiting, problem=problem, min_relevance=min_relevance), problem=problem)
    items = items[:limit] if limit else items
    if not items:
        from lmdev.cli.render_inbox import nothing_shown

        term.echo(nothing_shown(waiting, len(unreadable)))
        return 0
    counts = dict.fromkeys(("accepted", "rejected", "skipped"), 0)
    try:
        _walk(lib, inbox, items, counts, term, quit_flag)
    except KeyboardInterrupt:
        term.echo("")  # the summary on a line of its own, not after the ^C
        raise
    finally:  # Ctrl-C or Ctrl-D too: every decision made is already on disk, and the summary says so
        left = _still_waiting(lib, inbox, len(waiting) - counts["accepted"] - counts["rejected"])
        term.echo(f"review: {counts['accepted']} accepted, {counts['rejected']} rejected, {counts['skipped']} skipped; {left} waiting")
    return counts["accepted"] + counts["rejected"]


def _still_waiting(lib: Library, inbox: Inbox, guess: int) -> int:
    """How many papers wait now: another person or the scheduled job may have decided some, or
    added more, while this session ran (``guess``, this session's own count, if the inbox cannot
    be read again)."""
    from lmdev.triage import undecided

    try:
        return len(undecided(lib, inbox.waiting()[0]))
    except (LmdevError, OSError):
        return guess


def _walk(lib: Library, inbox: Inbox, items: list[Waiting], counts: dict[str, int], term: Terminal, quit_flag: Optional[list[bool]]) -> None:
    from lmdev.triage import accept, reject

    for n, item in enumerate(items, 1):
        try:
            abstract = inbox.get(item.id).abstract
        except LmdevError:
            abstract = ""
        _show(item, abstract, n, len(items))
        key = read_key(term)
        while key == "o":
            if term.open_url(abs_url(item.id)):
                out().print(f"  [dim]opened {esc(abs_url(item.id))}[/]")  # a browser may open out of sight
            else:
                out().print(f"  [yellow]no browser found[/]; the link: {esc(abs_url(item.id))}")
            key = read_key(term)
        if key == "q":
            if quit_flag is not None:
                quit_flag[:] = [True]
            break
        if key == "s":
            counts["skipped"] += 1
            continue
        try:
            if key == "r":
                reason = term.ask("  reason", "out of scope").strip() or "out of scope"
                results = reject(lib, [item.id], reason)
            else:
                results = accept(lib, [item.id], _edit(lib, item, term) if key == "e" else None)
        except Quit:
            if quit_flag is not None:
                quit_flag[:] = [True]
            break
        except LmdevError as exc:
            term.echo(f"  not decided: {exc}")
            continue
        for decided in results:
            term.echo(f"  {decided.action} {decided.id}" + (f": {decided.detail}" if decided.detail else ""))
            if decided.action in counts:
                counts[decided.action] += 1
