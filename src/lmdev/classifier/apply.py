"""Turning the classifier's suggestions into tags on a paper, without touching a person's tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from lmdev.classifier.model import Doc, Model, Result
from lmdev.classifier.modelcache import load_model
from lmdev.models import Paper
from lmdev.store import Library
from lmdev.tagging import remove_tags, set_assumption, set_problem


def suggestions_for(model: Model, paper: Paper, *, reasons: str = "suggested") -> Result:
    """The model's result for a stored paper. A tag the paper's ``declined`` lists (a person
    took the suggestion off) is not suggested, whatever its score, and says why."""
    result = model.classify(Doc.of(paper.id, paper.title, paper.abstract), reasons=reasons)
    declined = set(paper.declined)
    for tag in [*result.problems, *result.assumptions] if declined else []:
        if tag.id in declined and tag.suggested:
            tag.suggested = False
            tag.reasons = ["declined: a person took this suggestion off (lmdev tag adds it back)", *tag.reasons]
    return result


@dataclass
class Applied:
    added: list[str]
    removed: list[str]
    kept: Optional[str] = None  # the likeliest assumption, kept though not suggested (ID:STANCE)


def apply_suggestions(paper: Paper, result: Result, library: Library) -> Applied:
    """Write suggested tags as the classifier's. A person's (or the essay's) tag is never touched.

    Classifier tags that are no longer suggested are removed: they are the model's state, not
    anyone's judgement. A tag a person declined is never suggested again. A paper left without
    any assumption keeps the likeliest as the classifier's suggestion. A paper without a
    primary gets the predicted one, when it is suggested.
    """
    tax = library.taxonomy
    added: list[str] = []
    removed: list[str] = []

    had = set(paper.problem_ids()) | set(paper.assumption_stances())
    declined = set(paper.declined)
    for s in result.problems:
        if s.suggested and s.id not in declined:
            if set_problem(paper, tax, s.id, by="classifier", score=s.score) and s.id not in had:
                added.append(s.id)
        elif any(t.id == s.id and t.by == "classifier" for t in paper.problems):
            removed += remove_tags(paper, [s.id])
    for s in result.assumptions:
        if s.suggested and s.id not in declined:
            if set_assumption(paper, tax, s.id, s.stance or "relies", by="classifier", score=s.score) and s.id not in had:
                added.append(f"{s.id}:{s.stance}")
        elif any(t.id == s.id and t.by == "classifier" for t in paper.assumptions):
            removed += remove_tags(paper, [s.id])
    kept: Optional[str] = None
    if not paper.assumptions:
        # every paper maps to an assumption (check asks it): with none suggested, the likeliest
        # stays the classifier's suggestion for a person to confirm, as accept keeps it
        likeliest = next((s for s in result.assumptions if s.id not in declined), None)
        if likeliest is not None:
            set_assumption(paper, tax, likeliest.id, likeliest.stance or "relies", by="classifier", score=likeliest.score)
            kept = f"{likeliest.id}:{likeliest.stance or 'relies'}"
            if likeliest.id in removed:
                removed.remove(likeliest.id)
            elif likeliest.id not in had:
                added.append(kept)
    top = result.problems[0] if result.problems else None
    if paper.primary is None and top is not None and top.suggested and top.id in paper.problem_ids():
        paper.primary = top.id
    return Applied(added, removed, kept)


def apply_to_stored(library: Library, paper_id: str, result: Result) -> tuple[Applied, bool]:
    """Apply ``result`` to the paper as stored now (re-read under the library lock, so a tag or
    note written since it was classified stays); returns what changed and whether the file did."""
    applied = Applied([], [])

    def change(paper: Paper) -> None:
        nonlocal applied
        applied = apply_suggestions(paper, result, library)

    changed = library.update(paper_id, change).changed
    return applied, changed


def accept_all(library: Library, paper: Paper, model: Optional[Model] = None) -> list[str]:
    """Apply every suggested tag as the classifier's (a person's tags stay as they are)."""
    model = model or load_model(library)
    return apply_suggestions(paper, suggestions_for(model, paper), library).added


def suggestion_hook(library: Library, load: Optional[Callable[[], Model]] = None) -> Callable[[Paper], None]:
    """A ``before_save`` step for ``add --accept-suggestions``: the model loads once, on first
    use, by ``load`` (default: :func:`load_model` of the library)."""
    cache: dict[str, Model] = {}

    def hook(paper: Paper) -> None:
        if "model" not in cache:
            cache["model"] = load() if load is not None else load_model(library)
        accept_all(library, paper, cache["model"])

    return hook
