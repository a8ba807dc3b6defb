"""Reviewing the classifier's suggestions for one paper, on a terminal or in bulk."""

from __future__ import annotations

from typing import Callable, Optional

import typer

from lmdev.classifier.model import Doc, Model, Result
from lmdev.cli.output import out
from lmdev.models import STANCES, Paper
from lmdev.store import Library
from lmdev.classifier.modelcache import apply_suggestions, load_model
from lmdev.tagging import set_assumption, set_problem


def suggestions_for(model: Model, paper: Paper) -> Result:
    return model.classify(Doc.of(paper.id, paper.title, paper.abstract))


def accept_all(library: Library, paper: Paper, model: Optional[Model] = None) -> list[str]:
    """Apply every suggested tag as the classifier's (a person's tags stay as they are)."""
    model = model or load_model(library)
    return apply_suggestions(paper, suggestions_for(model, paper), library).added


def suggestion_hook(library: Library) -> Callable[[Paper], None]:
    """A ``before_save`` step for ``add --accept-suggestions``: the model loads once, on first use."""
    cache: dict[str, Model] = {}

    def hook(paper: Paper) -> None:
        if "model" not in cache:
            cache["model"] = load_model(library)
        accept_all(library, paper, cache["model"])

    return hook


def review_suggestions(library: Library, paper: Paper, model: Optional[Model] = None) -> bool:
    """Ask about each suggested tag: accept (as the person's tag), reject, or change the stance."""
    from rich.markup import escape

    model = model or load_model(library)
    result = suggestions_for(model, paper)
    console = out()
    console.print(f"\n[bold]{escape(paper.title)}[/] [dim]({paper.id})[/]")
    have = set(paper.problem_ids()) | set(paper.assumption_stances())
    candidates = [s for s in [*result.problems, *result.assumptions] if s.suggested and s.id not in have]
    if not candidates:
        console.print("  no new suggestions")
        return False
    changed = False
    for s in candidates:
        label = f"{s.id}:{s.stance}" if s.stance else s.id
        console.print(f"  [green]{s.kind} {escape(label)}[/]  score {s.score:.2f}")
        for reason in s.reasons[:3]:
            console.print(f"    [dim]{escape(reason)}[/]")
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
