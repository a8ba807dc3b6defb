"""How far to trust suggestions: k-fold cross-validation on the tagged papers.

Every tagged paper is predicted by a model that never saw it; the same figures are computed
for the seed-terms-only prior, the model a library with no tags would get.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from lmdev.classifier.model import Doc, Model
from lmdev.classifier.training import FOLDS, fold_of, prior_only, train
from lmdev.models import Paper
from lmdev.taxonomy import Taxonomy


@dataclass
class TagScores:
    id: str
    kind: str
    support: int
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


@dataclass
class Figures:
    tags: list[TagScores]
    top_problem_accuracy: float
    stance_accuracy: Optional[float]
    summary: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: round(v, 4) for k, v in self.summary.items()},
            "top_problem_accuracy": round(self.top_problem_accuracy, 4),
            "stance_accuracy": None if self.stance_accuracy is None else round(self.stance_accuracy, 4),
            "tags": [{"id": t.id, "kind": t.kind, "support": t.support, "precision": round(t.precision, 4), "recall": round(t.recall, 4), "f1": round(t.f1, 4)} for t in self.tags],
        }


@dataclass
class Evaluation:
    papers: int
    folds: int
    model: Figures
    baseline: Figures

    def to_json(self) -> dict[str, Any]:
        return {"papers": self.papers, "folds": self.folds, "model": self.model.to_json(), "baseline": self.baseline.to_json()}


def _figures(taxonomy: Taxonomy, papers: Sequence[Paper], models: Sequence[Model]) -> Figures:
    tags = {n.id: TagScores(n.id, n.kind, 0) for n in taxonomy}
    top_hits = top_total = stance_hits = stance_total = 0
    for paper, model in zip(papers, models):
        result = model.classify(Doc.of(paper.id, paper.title, paper.abstract), explain=False)
        truth = set(paper.problem_ids()) | set(paper.assumption_stances())
        for s in [*result.problems, *result.assumptions]:
            t = tags[s.id]
            actual = s.id in truth
            t.support += actual
            t.tp += actual and s.suggested
            t.fp += (not actual) and s.suggested
            t.fn += actual and not s.suggested
        if paper.problems:
            top_total += 1
            top_hits += result.problems[0].id in paper.problem_ids()
        stances = paper.assumption_stances()
        for s in result.assumptions:
            if s.id in stances:
                stance_total += 1
                stance_hits += s.stance == stances[s.id]
    figures = Figures(list(tags.values()), top_hits / top_total if top_total else 0.0, stance_hits / stance_total if stance_total else None)
    for label, kinds in (("", ("problem", "assumption")), ("problems_", ("problem",)), ("assumptions_", ("assumption",))):
        chosen = [t for t in figures.tags if t.kind in kinds and t.support]
        tp, fp, fn = (sum(getattr(t, k) for t in chosen) for k in ("tp", "fp", "fn"))
        figures.summary[f"{label}micro_f1"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        figures.summary[f"{label}macro_f1"] = sum(t.f1 for t in chosen) / len(chosen) if chosen else 0.0
    return figures


def cross_validate(taxonomy: Taxonomy, papers: Sequence[Paper], folds: int = FOLDS) -> Evaluation:
    """k-fold CV of the learned model beside the seed-terms-only baseline."""
    tagged = [p for p in papers if p.is_tagged()]
    fold = [fold_of(p.id, folds) for p in tagged]
    trained = [train(taxonomy, [p for p, f in zip(tagged, fold) if f != k]) for k in range(folds)]
    baseline = prior_only(taxonomy)
    return Evaluation(
        len(tagged),
        folds,
        _figures(taxonomy, tagged, [trained[f] for f in fold]),
        _figures(taxonomy, tagged, [baseline] * len(tagged)),
    )
