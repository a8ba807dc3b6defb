"""Reviewing the classifier's suggestions on a terminal, one key per decision."""

from __future__ import annotations

from typing import Optional

import typer

from lmdev.classifier.apply import suggestions_for
from lmdev.classifier.model import Model
from lmdev.classifier.modelcache import load_model
from lmdev.cli.output import out
from lmdev.cli.render import esc
from lmdev.models import STANCES, Paper
from lmdev.store import Library
from lmdev.tagging import TagChange, set_assumption, set_problem, tag_paper


def review_added(lib: Library, papers: list[Paper]) -> None:
    """After a fetch, walk through the new papers' suggestions one by one."""
    if not papers:
        return
    model = load_model(lib)
    for paper in papers:
        review_and_save(lib, paper, model)


def review_and_save(library: Library, paper: Paper, model: Optional[Model] = None) -> bool:
    """Review a paper's suggestions, then write the accepted tags into the paper as stored now:
    a person may take minutes to answer, and whatever changed the file meanwhile stays."""
    edited = paper.model_copy(deep=True)
    if not review_suggestions(library, edited, model):
        return False
    change = TagChange(
        problems=[t.id for t in edited.problems if t not in paper.problems],
        assumptions=[f"{t.id}:{t.stance}" for t in edited.assumptions if t not in paper.assumptions],
    )
    return tag_paper(library, paper.id, change).changed


def review_suggestions(library: Library, paper: Paper, model: Optional[Model] = None) -> bool:
    """Ask about each suggested tag: accept (as the person's tag), reject, or change the stance."""
    model = model or load_model(library)
    result = suggestions_for(model, paper)
    console = out()
    console.print(f"\n[bold]{esc(paper.title)}[/] [dim]({esc(paper.id)})[/]")
    have = set(paper.problem_ids()) | set(paper.assumption_stances())
    candidates = [s for s in [*result.problems, *result.assumptions] if s.suggested and s.id not in have]
    if not candidates:
        console.print("  no new suggestions")
        return False
    changed = False
    for s in candidates:
        label = f"{s.id}:{s.stance}" if s.stance else s.id
        console.print(f"  [green]{s.kind} {esc(label)}[/]  score {s.score:.2f}")
        for reason in s.reasons[:3]:
            console.print(f"    [dim]{esc(reason)}[/]")
        choices = "a/r/e/q" if s.stance else "a/r/q"
        answer = typer.prompt(f"  accept, reject{', edit stance' if s.stance else ''}, quit? [{choices}]", default="a").strip().lower()[:1]
        if answer == "q":
            break
        if answer == "r":
            continue
        if s.kind == "problem":
            changed |= set_problem(paper, library.taxonomy, s.id)
            continue
        stance = s.stance or "relies"
        if answer == "e":
            stance = typer.prompt(f"  stance ({', '.join(STANCES)})", default=stance).strip()
            while stance not in STANCES:
                stance = typer.prompt(f"  stance must be one of {', '.join(STANCES)}", default="relies").strip()
        changed |= set_assumption(paper, library.taxonomy, s.id, stance)
    return changed
