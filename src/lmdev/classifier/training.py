"""Training the classifier from tagged papers (see :mod:`lmdev.classifier.model` for the model).

Per tag: a naive-Bayes log-count ratio over TF-IDF vectors, scored out of fold, then a
logistic regression on ``[learned score, prior score]`` for calibration, and a threshold that
maximises F1 on the out-of-fold scores.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lmdev.classifier.model import MODEL_VERSION, Doc, Model, sigmoid
from lmdev.classifier.prior import Prior
from lmdev.models import STANCES, Paper
from lmdev.taxonomy import Taxonomy

FOLDS = 5
MIN_POSITIVES = 3
MIN_FOR_THRESHOLD = 5
ALPHA = 0.3
KEEP_WEIGHTS = 100
KEEP_STANCE_WEIGHTS = 40
KEEP_VECTOR = 40


@dataclass
class Vectorizer:
    idf: dict[str, float]

    @classmethod
    def fit(cls, docs: Sequence[list[str]], min_df: int = 2) -> Vectorizer:
        df: Counter[str] = Counter()
        for feats in docs:
            df.update(set(feats))
        n = len(docs)
        return cls({f: math.log((1 + n) / (1 + c)) + 1.0 for f, c in df.items() if c >= min_df})

    def __call__(self, feats: Iterable[str]) -> dict[str, float]:
        idf = self.idf
        counts = Counter(f for f in feats if f in idf)
        vector = {f: (1.0 + math.log(c)) * idf[f] for f, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}


def _dot(weights: dict[str, float], vector: dict[str, float]) -> float:
    return sum(v * weights.get(f, 0.0) for f, v in vector.items())


def _log_ratio(pos: Sequence[dict[str, float]], neg: Sequence[dict[str, float]], vocab: Iterable[str]) -> dict[str, float]:
    """Naive-Bayes log-count ratio per feature, pruned to the strongest ``KEEP_WEIGHTS``."""
    p: Counter[str] = Counter()
    q: Counter[str] = Counter()
    for v in pos:
        p.update(v)
    for v in neg:
        q.update(v)
    vocab = list(vocab)
    p_total = ALPHA * len(vocab) + sum(p.values())
    q_total = ALPHA * len(vocab) + sum(q.values())
    shift = math.log(q_total / p_total)
    ratio = {f: math.log((p.get(f, 0.0) + ALPHA) / (q.get(f, 0.0) + ALPHA)) + shift for f in vocab if f in p or f in q}
    top = sorted(ratio, key=lambda f: -abs(ratio[f]))[:KEEP_WEIGHTS]
    return {f: round(ratio[f], 4) for f in top}


def _fit_logistic(rows: Sequence[tuple[float, float]], labels: Sequence[int], l2: float = 0.3) -> tuple[float, float, float]:
    """Logistic regression on two features by Newton's method, with Platt's smoothed targets."""
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    hi, lo = (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2)
    targets = [hi if y else lo for y in labels]
    w = [0.0, 0.0, 0.0]
    for _ in range(50):
        grad = [0.0, 0.0, 0.0]
        hess = [[l2 if i == j and i < 2 else 0.0 for j in range(3)] for i in range(3)]
        for (x1, x2), t in zip(rows, targets):
            x = (x1, x2, 1.0)
            p = sigmoid(w[0] * x1 + w[1] * x2 + w[2])
            g, h = p - t, p * (1 - p)
            for i in range(3):
                grad[i] += g * x[i]
                for j in range(3):
                    hess[i][j] += h * x[i] * x[j]
        for i in range(2):
            grad[i] += l2 * w[i]
        step = _solve3(hess, grad)
        w = [wi - si for wi, si in zip(w, step)]
        if max(abs(s) for s in step) < 1e-7:
            break
    return (w[0], w[1], w[2])


def _solve3(a: list[list[float]], b: list[float]) -> list[float]:
    m = [row[:] + [bi] for row, bi in zip(a, b)]
    for col in range(3):
        pivot = max(range(col, 3), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            m[col][col] = 1e-12
        for r in range(3):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [x - factor * y for x, y in zip(m[r], m[col])]
    return [m[i][3] / m[i][i] for i in range(3)]


def _best_threshold(probs: Sequence[float], labels: Sequence[int]) -> float:
    best, best_f1 = 0.5, -1.0
    for tau in sorted(set(round(p, 3) for p in probs)):
        tp = sum(1 for p, y in zip(probs, labels) if p >= tau and y)
        fp = sum(1 for p, y in zip(probs, labels) if p >= tau and not y)
        fn = sum(1 for p, y in zip(probs, labels) if p < tau and y)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1 or (f1 == best_f1 and abs(tau - 0.5) < abs(best - 0.5)):
            best, best_f1 = tau, f1
    return min(max(best, 0.05), 0.95)


def fold_of(paper_id: str, folds: int = FOLDS) -> int:
    """A stable fold for each paper, so cross-validation is repeatable."""
    return zlib.crc32(paper_id.encode("utf-8")) % folds


def train(taxonomy: Taxonomy, papers: Sequence[Paper], *, fingerprint: str = "") -> Model:
    """Fit the model on the papers that carry tags (untagged papers teach nothing)."""
    tagged = [p for p in papers if p.is_tagged()]
    docs = [Doc.of(p.id, p.title, p.abstract) for p in tagged]
    vectorizer = Vectorizer.fit([d.feats for d in docs])
    vectors = [vectorizer(d.feats) for d in docs]
    prior = Prior(taxonomy)
    prior_scores = [prior.scores(d.words) for d in docs]
    folds = [fold_of("calibration:" + p.id) for p in tagged]
    nodes: dict[str, Any] = {}
    for index, node in enumerate(taxonomy):
        labels = [int(node.id in (p.problem_ids() if node.kind == "problem" else p.assumption_stances())) for p in tagged]
        positives = sum(labels)
        entry: dict[str, Any] = {"positives": positives, "tagged": [p.id for p, y in zip(tagged, labels) if y]}
        if positives >= MIN_POSITIVES and len(labels) - positives >= MIN_POSITIVES:
            oof = [0.0] * len(docs)
            for k in range(FOLDS):
                train_idx = [i for i, f in enumerate(folds) if f != k]
                weights = _log_ratio([vectors[i] for i in train_idx if labels[i]], [vectors[i] for i in train_idx if not labels[i]], vectorizer.idf)
                for i, f in enumerate(folds):
                    if f == k:
                        oof[i] = _dot(weights, vectors[i])
            rows = [(oof[i], prior_scores[i][index]) for i in range(len(docs))]
            a, b, c = _fit_logistic(rows, labels)
            probs = [sigmoid(a * x1 + b * x2 + c) for x1, x2 in rows]
            entry["threshold"] = _best_threshold(probs, labels) if positives >= MIN_FOR_THRESHOLD else 0.5
            entry["calibration"] = [round(a, 5), round(b, 5), round(c, 5)]
            entry["weights"] = _log_ratio([v for v, y in zip(vectors, labels) if y], [v for v, y in zip(vectors, labels) if not y], vectorizer.idf)
        else:
            entry.update(threshold=0.5, calibration=[0.0, 0.0, None], weights={})
        nodes[node.id] = entry
    stances = _train_stances(taxonomy, tagged, vectors, vectorizer)
    kept = {pid for entry in nodes.values() for pid in entry["tagged"]}
    doc_table = {d.id: {"title": d.title, "vector": dict(sorted(v.items(), key=lambda kv: -kv[1])[:KEEP_VECTOR])} for d, v in zip(docs, vectors) if d.id in kept}
    data = {"version": MODEL_VERSION, "fingerprint": fingerprint, "trained_on": len(tagged), "idf": vectorizer.idf, "nodes": nodes, "stances": stances, "docs": doc_table}
    return Model(taxonomy, data)


def _train_stances(taxonomy: Taxonomy, tagged: Sequence[Paper], vectors: Sequence[dict[str, float]], vectorizer: Vectorizer) -> dict[str, Any]:
    """Per assumption: stance frequencies plus a naive-Bayes log ratio of each stance vs the rest."""
    out: dict[str, Any] = {}
    for node in taxonomy.assumptions:
        rows = [(p.assumption_stances()[node.id], v) for p, v in zip(tagged, vectors) if node.id in p.assumption_stances()]
        if not rows:
            continue
        counts = Counter(s for s, _ in rows)
        model: dict[str, Any] = {"log_prior": {s: round(math.log((counts[s] + 0.5) / (len(rows) + 1.5)), 4) for s in STANCES}, "weights": {}}
        for stance in STANCES:
            pos = [v for s, v in rows if s == stance]
            neg = [v for s, v in rows if s != stance]
            model["weights"][stance] = dict(list(_log_ratio(pos, neg, vectorizer.idf).items())[:KEEP_STANCE_WEIGHTS]) if pos and neg else {}
        out[node.id] = model
    return out


def prior_only(taxonomy: Taxonomy) -> Model:
    """The seed-terms baseline: what lmdev suggests before anything is tagged."""
    return train(taxonomy, [])
