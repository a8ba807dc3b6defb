"""Reviewing the classifier's suggestions on a terminal, one key per decision.

Suggestions are either stored in a paper file (``by: classifier``, set by ``classify --apply``
or ``--accept-suggestions``) or fresh from the model (after ``add``, or ``tag ID`` on a
terminal). Each gets one key: accept (it becomes the person's tag), reject, edit (another
stance or problem, as the person's), skip (it stays, or is stored, as a suggestion) or quit,
which ends the whole session. Any other key asks again. Decisions are applied to the paper as
read just before it is saved, one paper at a time, so quitting keeps what was decided.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from lmdev.cli.output import out
from lmdev.cli.render import esc
from lmdev.models import Paper
from lmdev.tagging import decline_suggestion, decline_tags, set_assumption, set_problem

if TYPE_CHECKING:
    from lmdev.classifier.model import Model
    from lmdev.store import Library
    from lmdev.taxonomy import Taxonomy

KeyReader = Callable[[], str]

DECISIONS = {"a": "accept", "r": "reject", "e": "edit", "s": "skip", "q": "quit"}
STANCE_KEYS = {"r": "relies", "s": "supports", "c": "challenges"}
PICK_KEYS = "123456789abcdfghijklmnoprstuvwyz"  # no e, q or x: x cancels


EOF_KEY = "\x04"  # what read_key gives at the end of input (Ctrl-D)


class EndOfInput(Exception):
    """Ctrl-D at a question that offers no quit key (the stance, the problem instead): the
    session ends as with q, keeping what was decided."""



def read_key() -> str:
    """One key press from the terminal, without Enter; :data:`EOF_KEY` at the end of input."""
    import typer

    try:
        return str(typer.getchar())
    except EOFError:
        return EOF_KEY


def ask(question: str, choices: dict[str, str], *, read: Optional[KeyReader] = None) -> str:
    """Show ``question`` with its keys and read one; a key not listed asks again."""
    console = out()
    legend = "  ".join(f"[bold]{esc(k)}[/] {esc(label)}" for k, label in choices.items())
    while True:
        console.print(f"  {esc(question) + ' ' if question else ''}{legend} > ", end="")
        sys.stdout.flush()
        key = (read or read_key)()
        if key == EOF_KEY:  # never asked again: input that has ended gives the same answer for ever
            if "q" in choices or "n" in choices:
                key = "q" if "q" in choices else "n"
            else:
                raise EndOfInput
        shown = key if key.isprintable() else repr(key)
        console.print(esc(shown), highlight=False)
        if key.lower() in choices:
            return key.lower()
        console.print(f"  [yellow]{esc(shown)} is not one of: {esc(', '.join(choices))}[/]")


@dataclass
class Candidate:
    """A suggestion to decide on: stored in the file, or fresh from the model."""

    kind: str
    id: str
    stance: Optional[str]
    score: Optional[float]
    stored: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.id}:{self.stance}" if self.stance else self.id


@dataclass
class Decision:
    key: str  # a, r, e, s
    candidate: Candidate
    value: Optional[str] = None  # the edited stance or problem


def apply_decision(paper: Paper, tax: Taxonomy, d: Decision) -> bool:
    """One decision onto a paper as read from disk; True if it changed."""
    c = d.candidate
    if d.key == "s":
        if c.stored:
            return False
        if c.kind == "problem":
            return set_problem(paper, tax, c.id, by="classifier", score=c.score)
        return set_assumption(paper, tax, c.id, c.stance or "relies", by="classifier", score=c.score)
    if d.key == "r":
        if c.stored:
            return bool(decline_tags(paper, [c.id]))
        return decline_suggestion(paper, c.id)
    if c.kind == "assumption":
        return set_assumption(paper, tax, c.id, d.value or c.stance or "relies")
    if d.key == "e" and d.value:
        was_primary = paper.primary == c.id
        changed = bool(decline_tags(paper, [c.id])) if c.stored and c.id != d.value else False
        changed |= set_problem(paper, tax, d.value)
        if was_primary:
            paper.primary = d.value
        return changed
    return set_problem(paper, tax, c.id)


def stored_candidates(paper: Paper) -> list[Candidate]:
    problems = [Candidate("problem", t.id, None, t.score, True) for t in paper.problems if not t.reviewed]
    return problems + [Candidate("assumption", t.id, t.stance, t.score, True) for t in paper.assumptions if not t.reviewed]


def fresh_candidates(model: Model, paper: Paper) -> list[Candidate]:
    from lmdev.classifier.apply import suggestions_for

    result = suggestions_for(model, paper)
    have = set(paper.problem_ids()) | set(paper.assumption_stances()) | set(paper.declined)
    return [Candidate(s.kind, s.id, s.stance, s.score, False, list(s.reasons[:3])) for s in [*result.problems, *result.assumptions] if s.suggested and s.id not in have]


def _show_paper(paper: Paper, position: str) -> None:
    console = out()
    console.print(f"\n[bold]{esc(paper.title)}[/] [dim]({esc(paper.id)}, {paper.year or 'n.d.'}; {position})[/]")
    if paper.abstract:
        console.print(f"[dim]{esc(paper.abstract[:400] + ('…' if len(paper.abstract) > 400 else ''))}[/]")


def decide(paper: Paper, tax: Taxonomy, candidates: list[Candidate], decisions: list[Decision], *, position: str = "", read: Optional[KeyReader] = None) -> bool:
    """Ask about each candidate, appending each decision to ``decisions`` as it is made (so an
    interrupted session can keep them); returns whether the person quit."""
    console = out()
    _show_paper(paper, position)
    for c in candidates:
        name = tax.nodes[c.id].name if c.id in tax.nodes else "unknown id"
        score = f"score {c.score:.2f}" if c.score is not None else "no score"
        console.print(f"  [green]{c.kind} {esc(c.label)}[/] {esc(name)} [dim]({score}{'' if c.stored else ', new'})[/]")
        for reason in c.reasons:
            console.print(f"    [dim]{esc(reason)}[/]")
        key = ask("", DECISIONS, read=read)
        if key == "q":
            return True
        value = None
        if key == "e":
            try:
                value = _edit(paper, tax, c, read)
            except EndOfInput:
                return True
            if value is None:
                continue
        decisions.append(Decision(key, c, value))
    return False


def _edit(paper: Paper, tax: Taxonomy, c: Candidate, read: Optional[KeyReader]) -> Optional[str]:
    if c.kind == "assumption":
        stance = ask("stance:", STANCE_KEYS | {"x": "cancel"}, read=read)
        return None if stance == "x" else STANCE_KEYS[stance]
    options = [n.id for n in tax.problems if n.id not in paper.problem_ids()][: len(PICK_KEYS)]
    choices = {PICK_KEYS[i]: node_id for i, node_id in enumerate(options)} | {"x": "cancel"}
    picked = ask("instead:", choices, read=read)
    return None if picked == "x" else choices[picked]


def _save(lib: Library, paper_id: str, decisions: list[Decision]) -> Optional[Paper]:
    """Apply the decisions to the paper as it is on disk now, and save it; the paper saved, or
    None when nothing changed."""
    from lmdev.citekeys import Assigner

    assign = Assigner(lib)

    def edit(paper: Paper) -> None:
        # under the library's lock, on the paper as it is on disk now: a person may take minutes
        # to answer, and whatever changed the file meanwhile stays
        if any([apply_decision(paper, lib.taxonomy, d) for d in decisions]):
            assign(paper)

    result = lib.update(paper_id, edit)
    return result.paper if result.changed else None


def review_suggestions_session(lib: Library, ids: Optional[Iterable[str]] = None, *, read: Optional[KeyReader] = None) -> int:
    """Walk the stored suggestions (of every paper, or of ``ids``); returns how many papers changed."""
    from lmdev.filters import newest_first

    papers = [lib.get(i) for i in ids] if ids else newest_first(lib.papers())
    pending = [p for p in papers if p.suggestions()]
    if not pending:
        out().print("no unreviewed suggestions")
        return 0
    return _walk(lib, [(p, stored_candidates(p)) for p in pending], read)


def review_new(lib: Library, papers: list[Paper], *, model: Optional[Model] = None, read: Optional[KeyReader] = None) -> int:
    """The model's suggestions for ``papers`` (just added, or named by ``tag``), with any stored
    ones; a skipped fresh suggestion is stored as one. Returns how many papers changed."""
    if not papers:
        return 0
    from lmdev.cli.base import trained_model

    model = model or trained_model(lib)
    work = [(p, stored_candidates(p) + fresh_candidates(model, p)) for p in papers]
    for paper, candidates in work:
        if not candidates:
            out().print(f"{esc(paper.id)}: no suggestions")
    return _walk(lib, [(p, c) for p, c in work if c], read)


def _walk(lib: Library, work: list[tuple[Paper, list[Candidate]]], read: Optional[KeyReader]) -> int:
    saved = 0
    for n, (paper, candidates) in enumerate(work, 1):
        decisions: list[Decision] = []
        try:
            quit_now = decide(paper, lib.taxonomy, candidates, decisions, position=f"{n} of {len(work)}", read=read)
        finally:  # on Ctrl-C or Ctrl-D too: what was decided is kept, as q keeps it
            stored = _save(lib, paper.id, decisions) if decisions else None
            if stored is not None:
                saved += 1
                out().print(f"  [dim]saved {esc(lib.path_for(paper.id))}[/]")
                if not stored.assumptions:  # as tag --remove warns: check refuses such a paper
                    out().print(f"  [yellow]{esc(paper.id)} now maps to no assumption, which check refuses: give it one with lmdev tag {esc(paper.id)} --assumption ID:STANCE[/]")
        if quit_now:
            break
    return saved


def ask_yes_no(question: str, *, read: Optional[KeyReader] = None) -> bool:
    return ask(question, {"y": "yes", "n": "no"}, read=read) == "y"
