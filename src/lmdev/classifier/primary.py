"""Training what ranks the problems for a paper's primary (the one it attacks most).

Whether a problem is *present* and whether it is the one a paper *attacks most* are different
questions, so the primary has parts of its own: each common problem's calibration as the
primary (:func:`lead`), a multinomial logistic regression of the primary on the paper's words
(:func:`primary_words`), and the conditional logit that weighs these with the seed terms of the
title's head (:func:`fit_primary`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any, Optional

from lmdev.classifier.fitting import fit_choice, fit_logistic, fit_softmax, log_softmax, softmax_logits
from lmdev.models import Paper

MIN_FOR_LEAD = 20  # primaries a problem needs for a calibration of its own as the primary (ten per fitted weight)
MIN_PRIMARIES = 6  # primaries, at least, before the ranking's weights are fitted at all
PRIMARY_EPOCHS = 5  # passes of the word model's gradient descent (3 to 20 cross-validated)
PRIMARY_ALPHA = 1e-4  # its L2 penalty (1e-3, 3e-4, 1e-4, 3e-5 cross-validated)
KEEP_PRIMARY_WEIGHTS = 1000  # its largest weights kept per problem (100, 300, 1,000, all cross-validated)
PRIMARY_FOLDS = 3  # its out-of-fold fits, whose mean is the model kept (3 or 5, averaged or refitted)


def lead(problem: str, tagged: Sequence[Paper], rows: Sequence[tuple[float, float]], presence: Sequence[float], shrink: float) -> Sequence[float]:
    """A problem's calibration as the paper's primary (learned and seed scores out of fold),
    pulled towards its presence calibration; that one itself when too few papers have it as
    their primary. Integration is present in most vision-language papers, yet the primary of
    few of those that attack their safety or alignment: presence alone ranks it first there."""
    leads = [int(p.primary == problem) for p in tagged]
    if sum(leads) < MIN_FOR_LEAD or len(leads) - sum(leads) < MIN_FOR_LEAD:
        return presence
    return fit_logistic(rows, leads, l2=shrink, center=presence[:2], nonnegative=(0, 1))


def primary_words(tagged: Sequence[Paper], vectors: Sequence[dict[str, float]], folds: Sequence[int], problem_ids: Sequence[str], surely: Callable[[], Sequence[tuple[dict[str, float], int]]] = tuple) -> tuple[Optional[dict[str, Any]], list[list[float]]]:
    """A multinomial logistic regression of the primary on the paper's words, and its out-of-fold
    log probabilities for every paper (zeros where there is none): the naive-Bayes scores are
    learned for a problem's presence, one problem at a time; this one learns which problem wins.
    ``folds`` (:data:`PRIMARY_FOLDS` of them) split the papers for the out-of-fold fits. It needs
    :data:`MIN_FOR_LEAD` primaries per problem on average (180 for nine problems); until the
    library has them, the background papers ``surely()`` labels (vector, problem index) join
    every fit (they are never scored), and without enough of those the ranking does without it."""
    k = len(problem_ids)
    oof = [[0.0] * k for _ in tagged]
    rows = [(i, problem_ids.index(p.primary)) for i, p in enumerate(tagged) if p.primary in problem_ids]
    # a model of thousands of weights learns the era of a few papers, not their problems: a
    # library with too few primaries borrows the background's sure ones, of today's arXiv
    extra = surely() if len(rows) < MIN_FOR_LEAD * k else ()
    if len(rows) + len(extra) < MIN_FOR_LEAD * k:
        return None, oof

    def fit(inside: Sequence[tuple[int, int]]) -> tuple[dict[str, list[float]], list[float]]:
        weights, bias = fit_softmax([vectors[i] for i, _ in inside] + [v for v, _ in extra], [y for _, y in inside] + [y for _, y in extra], k, epochs=PRIMARY_EPOCHS, alpha=PRIMARY_ALPHA)
        return strongest(weights, k, KEEP_PRIMARY_WEIGHTS), bias

    models = []
    for fold in sorted(set(folds)):
        model = fit([(i, y) for i, y in rows if folds[i] != fold])
        models.append(model)
        for i, _ in rows:
            if folds[i] == fold:
                oof[i] = log_softmax(softmax_logits(model, vectors[i]))
    # the model kept is the mean of the folds' models (a linear model averages): no fit on all
    weights: dict[str, list[float]] = {}
    for part, _ in models:
        for f, row in part.items():
            total = weights.setdefault(f, [0.0] * k)
            total[:] = [t + r / len(models) for t, r in zip(total, row)]
    bias = [sum(b[c] for _, b in models) / len(models) for c in range(k)]
    weights = strongest(weights, k, KEEP_PRIMARY_WEIGHTS)
    return {"weights": {f: [round(w, 5) for w in row] for f, row in weights.items()}, "bias": [round(b, 5) for b in bias]}, oof


def strongest(weights: dict[str, list[float]], classes: int, keep: int) -> dict[str, list[float]]:
    """Each class's ``keep`` largest weights (by size) and zeros elsewhere: every weight kept costs
    an addition per word in the scoring of every paper, and the small ones change no ranking."""
    kept: dict[str, list[float]] = {}
    for c in range(classes):
        for f in heapq.nlargest(keep, weights, key=lambda f: abs(weights[f][c])):
            kept.setdefault(f, [0.0] * classes)[c] = weights[f][c]
    return kept


def fit_primary(tagged: Sequence[Paper], parts: Sequence[Sequence[Sequence[float]]], problem_ids: Sequence[str], l2: float = 1.0) -> list[float]:
    """How to weigh the learned, prior and base-rate parts of each problem's logit, the seed terms
    of the title's head, and the word model's log probability, when picking the one problem a
    paper attacks most: a conditional logit over the problems, fitted to the primaries of the
    training papers (out-of-fold scores) and pulled towards the plain argmax of the calibrated
    scores (weights 1, 1, 1, 0, 0)."""
    rows = [([p for p in row], problem_ids.index(paper.primary)) for paper, row in zip(tagged, parts) if paper.primary in problem_ids]
    center = [1.0, 1.0, 1.0, 0.0, 0.0]
    if len(rows) < MIN_PRIMARIES:
        return center
    w = fit_choice(rows, center, l2)
    return [round(min(max(wi, 0.0), 5.0), 5) for wi in w]
