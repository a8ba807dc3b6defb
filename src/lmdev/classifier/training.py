"""Training the classifier from the library and its out-of-scope decisions (see
:mod:`lmdev.classifier.model` for the model).

Per tag: a naive-Bayes log-count ratio over TF-IDF vectors, scored out of fold, then a logistic
regression on ``[learned score, prior score]`` for calibration, pulled towards what all tags of
its kind share, with neither weight allowed below zero. Problems get one threshold for the tags
after the top one, and, with enough primaries, a second calibration fitted to "this is the
paper's primary" that ranks the problems for the predicted primary (its learned score and base
rate; the seed score keeps the scale all problems share), beside a word model of the primary
(see :mod:`lmdev.classifier.primary`). Relevance, self-trained on the shipped background, is
trained in :mod:`lmdev.classifier.relevance`; what training reads (documents, vectors, folds) is
:mod:`lmdev.classifier.corpus`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmdev.classifier.corpus import Corpus, Vectorizer, background_docs, counts, doc, fold_of, rarity_weights
from lmdev.classifier.fitting import best_threshold, fit_logistic, sigmoid
from lmdev.classifier.model import MODEL_VERSION, Model
from lmdev.classifier.primary import PRIMARY_FOLDS, fit_primary, lead, primary_words
from lmdev.classifier.prior import Prior
from lmdev.classifier.relevance import surely_primary, train_relevance
from lmdev.classifier.stances import train_stances
from lmdev.models import Paper
from lmdev.taxonomy import Taxonomy

MIN_POSITIVES = 3
MIN_FOR_THRESHOLD = 5
KEEP_WEIGHTS_FOR_TAGS = 100
KEEP_VECTOR = 25
SHRINK = 2.0  # pull of a tag's calibration towards its kind's shared calibration
SECONDARY_SHARE = 0.5  # a paper's secondary problem counts half a positive of its words
CONFIDENT = 0.5  # a secondary problem is suggested only when it is more likely than not
ASSUMPTION_FLOOR = 0.4  # F1 is the same from 0.05 to 0.4 (cross-validated), with a third fewer suggestions


def train(taxonomy: Taxonomy, papers: Sequence[Paper], rejected: Sequence[tuple[str, str, str]] = (), *, fingerprint: str = "", use_background: bool = True) -> Model:
    """Fit the model on the library's papers and its rejections ((id, title, abstract) triples).

    Tags are learned from the tags a person (or the essay) gave, never from the classifier's own
    suggestions, which would teach the model what it already thinks; relevance from every paper
    against the rejections and the shipped background.
    """
    papers = [p.as_reviewed() for p in papers]
    tagged = [p for p in papers if p.is_tagged()]
    docs = [doc(p.id, p.title, p.abstract) for p in tagged]
    rejected_docs = [doc(i, t, a) for i, t, a in rejected]
    vectorizer = Vectorizer.fit([counts(d) for d in docs + rejected_docs + background_docs(use_background)])
    weights = rarity_weights(taxonomy) if use_background else {}
    prior = Prior(taxonomy, weights)
    corpus = Corpus(docs, [vectorizer(counts(d)) for d in docs], [prior.scores(d.words) for d in docs], [fold_of("calibration:" + p.id) for p in tagged], len(vectorizer.idf))
    nodes, probs, parts = _train_nodes(taxonomy, tagged, corpus, prior)
    problem_index = [i for i, n in enumerate(taxonomy) if n.kind == "problem"]
    problem_ids = [n.id for n in taxonomy if n.kind == "problem"]
    known = {p.id for p in papers} | {d.id for d in rejected_docs}
    words, oof = primary_words(tagged, corpus.vectors, [fold_of("primary:" + p.id, PRIMARY_FOLDS) for p in tagged], problem_ids, lambda: surely_primary(prior, vectorizer, problem_index, known, use_background))
    primary = fit_primary(tagged, [[(*row[i], lp) for i, lp in zip(problem_index, oof[k])] for k, row in enumerate(parts)], problem_ids)
    secondary = _secondary_threshold(tagged, [[row[i] for i in problem_index] for row in probs], problem_ids)
    relevance = train_relevance(taxonomy, prior, vectorizer, papers, rejected_docs, known, use_background)
    stances = train_stances(taxonomy, tagged, corpus.vectors, len(vectorizer.idf))
    doc_table = {d.id: {"title": d.title, "vector": dict(sorted(v.items(), key=lambda kv: -kv[1])[:KEEP_VECTOR])} for d, v in zip(docs, corpus.vectors)}
    data = {
        "version": MODEL_VERSION,
        "fingerprint": fingerprint,
        "trained_on": len(tagged),
        "rejections": len(rejected_docs),
        "idf": vectorizer.idf,
        "rarity": weights,
        "nodes": nodes,
        "secondary": secondary,
        "primary": primary,
        "primary_words": words,
        "relevance": relevance,
        "stances": stances,
        "docs": doc_table,
    }
    return Model(taxonomy, data)


def _labels(taxonomy: Taxonomy, tagged: Sequence[Paper]) -> list[list[int]]:
    return [[int(node.id in (p.problem_ids() if node.kind == "problem" else p.assumption_stances())) for p in tagged] for node in taxonomy]


Parts = tuple[float, float, float, float]


def _train_nodes(taxonomy: Taxonomy, tagged: Sequence[Paper], corpus: Corpus, prior: Prior) -> tuple[dict[str, Any], list[list[float]], list[list[Parts]]]:
    """Weights, calibration and threshold per tag (and a problem's calibration as the primary);
    and every paper's out-of-fold probabilities, with the parts of the logits that rank the
    primary (learned, prior, intercept, and the title's seed score)."""
    labels = _labels(taxonomy, tagged)
    n_docs = len(tagged)
    shared = {kind: _shared_calibration(taxonomy, kind, labels, corpus) for kind in ("problem", "assumption")}
    nodes: dict[str, Any] = {}
    probs = [[0.0] * len(labels) for _ in range(n_docs)]
    parts: list[list[Parts]] = [[(0.0, 0.0, 0.0, 0.0)] * len(labels) for _ in range(n_docs)]
    titles = [prior.scores(prior.head(d.title)) for d in corpus.docs]
    for index, (node, ys) in enumerate(zip(taxonomy, labels)):
        positives = sum(ys)
        b0, c0 = shared[node.kind]
        entry: dict[str, Any] = {"positives": positives, "tagged": [p.id for p, y in zip(tagged, ys) if y]}
        if positives >= MIN_POSITIVES and n_docs - positives >= MIN_POSITIVES:
            shares = _shares(node.id, tagged, ys) if node.kind == "problem" else ys
            oof = corpus.nb_out_of_fold(shares, KEEP_WEIGHTS_FOR_TAGS)
            rows = [(oof[i], corpus.prior[i][index]) for i in range(n_docs)]
            a, b, c = fit_logistic(rows, ys, l2=SHRINK, center=(0.0, b0), nonnegative=(0, 1))
            entry["weights"] = corpus.nb_weights(shares, KEEP_WEIGHTS_FOR_TAGS)
        else:
            rows = [(0.0, corpus.prior[i][index]) for i in range(n_docs)]
            a, b, c = 0.0, b0, c0
            entry["weights"] = {}
        column = [sigmoid(a * x1 + b * x2 + c) for x1, x2 in rows]
        la, lb, lc = lead(node.id, tagged, rows, (a, b, c), SHRINK) if node.kind == "problem" else (a, b, c)
        if node.kind == "problem":
            # the seed scores are made comparable across problems (BM25 with rarity weights), so
            # they enter the ranking on their kind's shared scale: a slope fitted to one
            # problem's few papers would let it win by scale alone
            lb = b0
            entry["lead"] = [round(la, 5), round(lb, 5), round(lc, 5)]
        for i, (p, (x1, x2)) in enumerate(zip(column, rows)):
            probs[i][index] = p
            parts[i][index] = (la * x1, lb * x2, lc, titles[i][index])
        entry["threshold"] = best_threshold(column, ys) if positives >= MIN_FOR_THRESHOLD else 0.5
        if node.kind == "assumption":
            entry["threshold"] = max(entry["threshold"], ASSUMPTION_FLOOR)
        entry["calibration"] = [round(a, 5), round(b, 5), round(c, 5)]
        nodes[node.id] = entry
    return nodes, probs, parts


def _shares(problem: str, tagged: Sequence[Paper], ys: Sequence[int]) -> list[float]:
    """How much each paper counts as a positive of a problem's words: fully where it is the
    paper's primary, ``SECONDARY_SHARE`` where the paper only touches it (the rest counts as a
    negative). A vision-language safety paper says 'visual' and 'multimodal'; those words
    are what integration is about only when integrating is what the paper attacks."""
    return [0.0 if not y else 1.0 if p.primary in (None, problem) else SECONDARY_SHARE for p, y in zip(tagged, ys)]


def _shared_calibration(taxonomy: Taxonomy, kind: str, labels: Sequence[Sequence[int]], corpus: Corpus) -> tuple[float, float]:
    """One prior-score calibration for every tag of a kind (what a tag with few papers uses)."""
    rows: list[tuple[float]] = []
    ys: list[int] = []
    for index, (node, column) in enumerate(zip(taxonomy, labels)):
        if node.kind == kind:
            rows += [(corpus.prior[i][index],) for i in range(len(column))]
            ys += column
    if sum(ys) < MIN_POSITIVES or len(ys) - sum(ys) < MIN_POSITIVES:
        return Model.DEFAULT_PRIOR[kind]
    b, c = fit_logistic(rows, ys, l2=0.1, nonnegative=(0,))
    return round(b, 5), round(c, 5)


def _secondary_threshold(tagged: Sequence[Paper], probs: Sequence[Sequence[float]], ids: Sequence[str]) -> float:
    """The score a problem needs to be suggested beside the top one: the best micro-F1 over
    the library's out-of-fold scores, when the top problem is always suggested."""
    rows = [(p, [int(i in p.problem_ids()) for i in ids], row) for p, row in zip(tagged, probs) if p.problems]
    if len(rows) < MIN_POSITIVES:
        return Model.DEFAULT_SECONDARY
    truth = sum(sum(y) for _, y, _ in rows)
    best, best_f1 = Model.DEFAULT_SECONDARY, -1.0
    for step in range(20, 40):
        tau = step / 40
        tp = fp = 0
        for _, ys, ps in rows:
            top = max(range(len(ps)), key=ps.__getitem__)
            for j, (y, p) in enumerate(zip(ys, ps)):
                if j == top or p >= tau:
                    tp += y
                    fp += 1 - y
        f1 = 2 * tp / (tp + fp + truth)
        if f1 > best_f1:
            best, best_f1 = tau, f1
    return max(best, CONFIDENT)


def prior_only(taxonomy: Taxonomy) -> Model:
    """The seed-terms baseline: what lmdev suggests before anything is tagged or rejected."""
    return train(taxonomy, [])
