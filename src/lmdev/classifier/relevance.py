"""Relevance, and what the seed terms say surely about the shipped background.

Relevance is a logistic regression on the seed terms' scope, against-scope and best-problem
scores, whether any scope term is named at all, and a learned score: naive Bayes of the library
and the background papers the seed terms call surely in scope against the rejections and those
they call surely out (self-training: the background is of today's arXiv). The same seed
relevance picks the background papers whose primary the seed terms name surely, which a small
library's word model of the primary borrows (:func:`surely_primary`).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from lmdev.classifier.corpus import Corpus, Vectorizer, background_docs, counts, doc, fold_of
from lmdev.classifier.fitting import dot, fit_logistic, sigmoid
from lmdev.classifier.model import Doc, Model, unscoped
from lmdev.classifier.prior import Prior
from lmdev.models import Paper
from lmdev.taxonomy import Taxonomy

MIN_REJECTIONS = 10
KEEP_RELEVANCE_WEIGHTS = 2000
BACKGROUND_WEIGHT = 0.5  # a background paper's label is the seed terms' guess: it counts half
PSEUDO_IN = 0.8  # background papers the seed terms call in scope at least this surely are positives
PSEUDO_OUT = 0.3  # and at most this, negatives, when learning relevance
SURE_MARGIN = 1.0  # the lead of the seed terms' best problem that names a background paper's primary (0.5, 1, 2 cross-validated)
SELF_WEIGHT = 2.0  # the learned relevance score's weight until there are rejections (cross-validated)


def surely_primary(prior: Prior, vectorizer: Vectorizer, problem_index: Sequence[int], known: set[str], use_background: bool) -> list[tuple[dict[str, float], int]]:
    """Background papers whose primary the seed terms name surely, with it (an index among the
    problems): those surely in scope (as for relevance) whose best problem, by the seed terms of
    the whole text and of the title's head together, leads the next by ``SURE_MARGIN``. They are
    of today's arXiv, so a word model of the primary that needs them learns today's words. The
    library's papers and rejections (``known``) are not background."""
    out: list[tuple[dict[str, float], int]] = []
    for d in background_docs(use_background):
        if d.id in known or seed_relevance(relevance_features(prior, problem_index, d)) < PSEUDO_IN:
            continue
        whole, head = prior.scores(d.words), prior.scores(prior.head(d.title))
        (top, best), (second, _) = heapq.nlargest(2, ((whole[i] + head[i], j) for j, i in enumerate(problem_index)))
        if top - second >= SURE_MARGIN:
            out.append((vectorizer(counts(d)), best))
    return out


Features = tuple[float, float, float, float]
_FEATURE_CACHE: dict[tuple[int, int], tuple[Doc, Features]] = {}


def relevance_features(prior: Prior, problem_index: Sequence[int], document: Doc) -> Features:
    """Scope score, best problem score, against-scope score and how far the paper is from naming
    a language model at all (the last two negated); remembered per prior and document (the very
    object, which the cache keeps alive), as cross-validation trains the same documents again and again."""
    key = (prior.signature, id(document))
    found = _FEATURE_CACHE.get(key)
    if found is None or found[0] is not document:
        if len(_FEATURE_CACHE) > 100_000:
            _FEATURE_CACHE.clear()
        scores = prior.scores(document.words)
        best = max((scores[i] for i in problem_index), default=0.0)
        found = _FEATURE_CACHE[key] = (document, (scores[prior.scope_index], best, -scores[prior.against_index], -unscoped(scores[prior.scope_index])))
    return found[1]


def seed_relevance(features: Features) -> float:
    """Relevance from the seed terms alone, with the cold-start weights."""
    w_scope, w_problem, _, w_against, w_none, intercept = Model.DEFAULT_RELEVANCE
    return sigmoid(w_scope * features[0] + w_problem * features[1] + w_against * features[2] + w_none * features[3] + intercept)


def train_relevance(taxonomy: Taxonomy, prior: Prior, vectorizer: Vectorizer, papers: Sequence[Paper], rejected: Sequence[Doc], known: set[str], use_background: bool) -> dict[str, Any]:
    """Relevance: a logistic regression on [scope, best problem, learned, against-scope, no scope term].

    The learned score is a naive-Bayes log ratio of the library's papers and the background
    papers the seed terms call surely in scope, against the rejections and the background
    papers they call surely out of scope (self-training: the background is of its own time,
    so the words it learns are those of today's arXiv, not of the library's era). With
    rejections to learn from, the five weights are fitted on the library against them; with
    fewer, the seed scores keep their cold-start weights and the learned score is added at
    weight ``SELF_WEIGHT``, centred between the two sides.
    """
    problem_index = [i for i, n in enumerate(taxonomy) if n.kind == "problem"]
    positives = [doc(p.id, p.title, p.abstract) for p in papers]
    backdrop = [d for d in background_docs(use_background) if d.id not in known]
    seed = [seed_relevance(relevance_features(prior, problem_index, d)) for d in backdrop]
    sure_in = [d for d, r in zip(backdrop, seed) if r >= PSEUDO_IN]
    sure_out = [d for d, r in zip(backdrop, seed) if r <= PSEUDO_OUT]
    docs = positives + sure_in + list(rejected) + sure_out
    n_pos = len(positives) + len(sure_in)
    labels = [1] * n_pos + [0] * (len(docs) - n_pos)
    negatives = len(rejected) + BACKGROUND_WEIGHT * len(sure_out)
    balance = (len(positives) + BACKGROUND_WEIGHT * len(sure_in)) / negatives if negatives else 1.0  # 0.5 means as likely in scope as not
    weights = [1.0] * len(positives) + [BACKGROUND_WEIGHT] * len(sure_in) + [balance] * len(rejected) + [balance * BACKGROUND_WEIGHT] * len(sure_out)
    default = {"weights": {}, "calibration": list(Model.DEFAULT_RELEVANCE)}
    if not n_pos or n_pos == len(docs) or not vectorizer.idf:
        return default
    corpus = Corpus(docs, [vectorizer(counts(d)) for d in docs], [], [fold_of("relevance:" + d.id) for d in docs], len(vectorizer.idf), weights)
    nb = corpus.nb_weights(labels, KEEP_RELEVANCE_WEIGHTS)
    if not positives or len(rejected) < MIN_REJECTIONS:
        scores = [dot(nb, v) for v in corpus.vectors]
        inside = [s for s, y in zip(scores, labels) if y]
        outside = [s for s, y in zip(scores, labels) if not y]
        centre = (sum(inside) / len(inside) + sum(outside) / len(outside)) / 2
        w_scope, w_problem, _, w_against, w_none, intercept = Model.DEFAULT_RELEVANCE
        return {"weights": nb, "calibration": [w_scope, w_problem, SELF_WEIGHT, w_against, w_none, round(intercept - SELF_WEIGHT * centre, 5)]}
    learned = corpus.nb_out_of_fold(labels, KEEP_RELEVANCE_WEIGHTS)
    real = [i for i in range(len(docs)) if i < len(positives) or n_pos <= i < n_pos + len(rejected)]
    feats = [relevance_features(prior, problem_index, docs[i]) for i in real]
    rows = [(s, p, learned[i], a, u) for (s, p, a, u), i in zip(feats, real)]
    coef = fit_logistic(rows, [labels[i] for i in real], weights=[weights[i] for i in real], l2=0.1, nonnegative=(0, 1, 2, 3, 4))
    return {"weights": nb, "calibration": [round(c, 5) for c in coef]}
