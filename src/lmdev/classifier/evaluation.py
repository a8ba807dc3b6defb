"""How far to trust suggestions: k-fold cross-validation, and a temporal split.

Cross-validation predicts every tagged paper and every rejection with a model that never saw
it. The temporal split trains on the papers up to a year (2023 by default) and tests on the
papers and rejections after it: how the classifier does on a field that has moved on. Settings
are never chosen on the temporal test. The same figures are computed for the seed-terms-only
model, the one a tracker with nothing tagged gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from lmdev.classifier.corpus import FOLDS, fold_of
from lmdev.classifier.fitting import auc
from lmdev.classifier.model import Doc, Model
from lmdev.classifier.training import prior_only, train
from lmdev.ids import is_slug
from lmdev.models import Paper
from lmdev.taxonomy import Taxonomy

SPLIT_YEAR = 2023
BANDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)
Rejected = tuple[str, str, str]  # id, title, abstract


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
class Band:
    """Suggested problems whose score falls in [low, high), and how many of them were right."""

    low: float
    high: float
    suggested: int = 0
    right: int = 0

    @property
    def precision(self) -> Optional[float]:
        return self.right / self.suggested if self.suggested else None


@dataclass
class Figures:
    tags: list[TagScores]
    primary_accuracy: float
    top_problem_accuracy: float
    stance_accuracy: Optional[float]
    relevance_auc: Optional[float]
    bands: list[Band]
    summary: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: round(v, 4) for k, v in self.summary.items()},
            "primary_accuracy": round(self.primary_accuracy, 4),
            "top_problem_accuracy": round(self.top_problem_accuracy, 4),
            "stance_accuracy": _round(self.stance_accuracy),
            "relevance_auc": _round(self.relevance_auc),
            "bands": [{"low": b.low, "high": min(b.high, 1.0), "suggested": b.suggested, "precision": _round(b.precision)} for b in self.bands],
            "tags": [{"id": t.id, "kind": t.kind, "support": t.support, "precision": round(t.precision, 4), "recall": round(t.recall, 4), "f1": round(t.f1, 4)} for t in self.tags],
        }


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)


@dataclass
class Split:
    """One way of holding papers out: what was trained on, what was tested, and the figures."""

    name: str
    train_papers: int
    train_rejections: int
    test_papers: int
    test_rejections: int
    model: Figures
    baseline: Figures

    def to_json(self) -> dict[str, Any]:
        return {
            "train": {"papers": self.train_papers, "rejections": self.train_rejections},
            "test": {"papers": self.test_papers, "rejections": self.test_rejections},
            "model": self.model.to_json(),
            "baseline": self.baseline.to_json(),
        }


@dataclass
class Evaluation:
    papers: int
    rejections: int
    folds: int
    cv: Split
    temporal: Optional[Split]

    @property
    def model(self) -> Figures:
        return self.cv.model

    @property
    def baseline(self) -> Figures:
        return self.cv.baseline

    def to_json(self) -> dict[str, Any]:
        return {
            "papers": self.papers,
            "rejections": self.rejections,
            "folds": self.folds,
            "model": self.cv.model.to_json(),
            "baseline": self.cv.baseline.to_json(),
            "temporal": None if self.temporal is None else {"split_year": SPLIT_YEAR, **self.temporal.to_json()},
        }


def figures(taxonomy: Taxonomy, papers: Sequence[Paper], models: Sequence[Model], rejected: Sequence[Rejected], rejected_models: Sequence[Model]) -> Figures:
    """The figures of ``papers`` and ``rejected``, each scored by its own model."""
    tags = {n.id: TagScores(n.id, n.kind, 0) for n in taxonomy}
    bands = [Band(lo, hi) for lo, hi in zip(BANDS, BANDS[1:])]
    primary_hits = primary_total = top_hits = top_total = stance_hits = stance_total = 0
    relevant: list[float] = []
    for paper, model in zip(papers, models):
        result = model.classify(Doc.of(paper.id, paper.title, paper.abstract), reasons="none")
        relevant.append(result.relevance)
        truth = set(paper.problem_ids()) | set(paper.assumption_stances())
        for s in [*result.problems, *result.assumptions]:
            t = tags[s.id]
            actual = s.id in truth
            t.support += actual
            t.tp += actual and s.suggested
            t.fp += (not actual) and s.suggested
            t.fn += actual and not s.suggested
            if s.suggested and s.kind == "problem":
                band = next(b for b in bands if b.low <= s.score < b.high)
                band.suggested += 1
                band.right += actual
        if paper.primary:
            primary_total += 1
            primary_hits += result.primary == paper.primary
        if paper.problems:
            top_total += 1
            top_hits += result.primary in paper.problem_ids()
        stances = paper.assumption_stances()
        for s in result.assumptions:
            if s.id in stances:
                stance_total += 1
                stance_hits += s.stance == stances[s.id]
    others = [model.triage(Doc.of(*row))[0] for row, model in zip(rejected, rejected_models)]
    out = Figures(
        list(tags.values()),
        primary_hits / primary_total if primary_total else 0.0,
        top_hits / top_total if top_total else 0.0,
        stance_hits / stance_total if stance_total else None,
        auc(relevant, others) if relevant and others else None,
        bands,
    )
    for label, kinds in (("", ("problem", "assumption")), ("problems_", ("problem",)), ("assumptions_", ("assumption",))):
        chosen = [t for t in out.tags if t.kind in kinds and t.support]
        tp, fp, fn = (sum(getattr(t, k) for t in chosen) for k in ("tp", "fp", "fn"))
        out.summary[f"{label}micro_f1"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        out.summary[f"{label}macro_f1"] = sum(t.f1 for t in chosen) / len(chosen) if chosen else 0.0
    suggested = sum(t.tp + t.fp for t in out.tags if t.kind == "problem")
    out.summary["problems_suggested_per_paper"] = suggested / len(papers) if papers else 0.0
    out.summary["problems_per_paper"] = sum(len(p.problems) for p in papers) / len(papers) if papers else 0.0
    return out


def id_year(paper_id: str) -> Optional[int]:
    """The year an arXiv id was issued (rejections carry no publication date)."""
    if is_slug(paper_id):
        return None
    yy = int(paper_id.split("/")[-1][:2])
    return (1900 if yy >= 91 else 2000) + yy


def reviewed(papers: Sequence[Paper]) -> list[Paper]:
    """The papers a person (or the essay) tagged, with those tags only: the classifier's
    unconfirmed suggestions are not a truth to measure it against."""
    return [r for r in (p.as_reviewed() for p in papers) if r.is_tagged()]


def cross_validate(taxonomy: Taxonomy, papers: Sequence[Paper], rejected: Sequence[Rejected] = (), folds: int = FOLDS) -> Split:
    """k-fold CV over the tagged papers and the rejections, beside the seed-terms baseline."""
    tagged = reviewed(papers)
    fold = [fold_of(p.id, folds) for p in tagged]
    rejected_fold = [fold_of(r[0], folds) for r in rejected]
    trained = [train(taxonomy, [p for p, f in zip(tagged, fold) if f != k], [r for r, f in zip(rejected, rejected_fold) if f != k]) for k in range(folds)]
    baseline = prior_only(taxonomy)
    return Split(
        f"{folds}-fold cross-validation",
        len(tagged) * (folds - 1) // folds,
        len(rejected) * (folds - 1) // folds,
        len(tagged),
        len(rejected),
        figures(taxonomy, tagged, [trained[f] for f in fold], rejected, [trained[f] for f in rejected_fold]),
        figures(taxonomy, tagged, [baseline] * len(tagged), rejected, [baseline] * len(rejected)),
    )


def split_by_year(papers: Sequence[Paper], rejected: Sequence[Rejected] = (), year: int = SPLIT_YEAR) -> tuple[list[Paper], list[Paper], list[Rejected], list[Rejected]]:
    """The tagged papers up to ``year`` and after it, and the rejections likewise (by their id's
    year): the two sides of the temporal split."""
    tagged = [p for p in reviewed(papers) if p.year is not None]
    before = [p for p in tagged if p.year is not None and p.year <= year]
    after = [p for p in tagged if p.year is not None and p.year > year]
    years = [id_year(r[0]) for r in rejected]
    rejected_before = [r for r, y in zip(rejected, years) if y is not None and y <= year]
    rejected_after = [r for r, y in zip(rejected, years) if y is not None and y > year]
    return before, after, rejected_before, rejected_after


def temporal_split(taxonomy: Taxonomy, papers: Sequence[Paper], rejected: Sequence[Rejected] = (), year: int = SPLIT_YEAR) -> Optional[Split]:
    """Train on papers (and rejections) up to ``year``, test on those after it."""
    before, after, rejected_before, rejected_after = split_by_year(papers, rejected, year)
    if not before or not after:
        return None
    model = train(taxonomy, before, rejected_before)
    baseline = prior_only(taxonomy)
    return Split(
        f"trained up to {year}, tested after",
        len(before),
        len(rejected_before),
        len(after),
        len(rejected_after),
        figures(taxonomy, after, [model] * len(after), rejected_after, [model] * len(rejected_after)),
        figures(taxonomy, after, [baseline] * len(after), rejected_after, [baseline] * len(rejected_after)),
    )


def evaluate(taxonomy: Taxonomy, papers: Sequence[Paper], rejected: Sequence[Rejected] = (), folds: int = FOLDS, *, temporal: bool = True) -> Evaluation:
    """Cross-validation and (unless ``temporal`` is false) the temporal split."""
    tagged = len(reviewed(papers))
    cv = cross_validate(taxonomy, papers, rejected, folds)
    return Evaluation(tagged, len(rejected), folds, cv, temporal_split(taxonomy, papers, rejected) if temporal else None)
