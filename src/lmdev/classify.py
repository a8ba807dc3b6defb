"""Tag suggestions: a seed-term prior plus a per-tag linear model learned from tagged papers.

Per tag, documents are sublinear TF-IDF vectors (unigrams and bigrams); a naive-Bayes
log-count-ratio vector gives the linear score, and a logistic regression on
``[learned score, prior score]`` fitted to out-of-fold scores calibrates it to [0, 1] (Platt
scaling with the prior as a second feature, so the model learns per tag how far to trust the
seed terms). Tags with too few examples fall back to the prior alone. Stances come from a small
naive-Bayes model per assumption. Pure Python: scoring is tokenizer-bound either way.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

from lmdev.models import STANCES, Paper
from lmdev.prior import Phrase, Prior
from lmdev.taxonomy import Taxonomy
from lmdev.text import SKIP, document_tokens, features

MODEL_VERSION = 1
FOLDS = 5
MIN_POSITIVES = 3
MIN_FOR_THRESHOLD = 5
ALPHA = 0.3
KEEP_WEIGHTS = 200
KEEP_STANCE_WEIGHTS = 60
KEEP_VECTOR = 40
PRIOR_ONLY = (3.0, -3.0)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


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
            p = _sigmoid(w[0] * x1 + w[1] * x2 + w[2])
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


@dataclass
class Doc:
    id: str
    title: str
    words: list[str]

    @classmethod
    def of(cls, paper_id: str, title: str, abstract: str) -> Doc:
        return cls(paper_id, title, document_tokens(title, abstract))

    @property
    def feats(self) -> list[str]:
        return features(self.words)


@dataclass
class Suggestion:
    id: str
    kind: str
    score: float
    suggested: bool
    reasons: list[str] = field(default_factory=list)
    stance: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id}
        if self.stance is not None:
            data["stance"] = self.stance
        data.update(score=round(self.score, 3), suggested=self.suggested, reasons=self.reasons)
        return data


@dataclass
class Result:
    paper_id: str
    problems: list[Suggestion]
    assumptions: list[Suggestion]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.paper_id, "problems": [s.to_json() for s in self.problems], "assumptions": [s.to_json() for s in self.assumptions]}


class Model:
    """A trained model. Build with :func:`train`; persist with :meth:`to_json`."""

    def __init__(self, taxonomy: Taxonomy, data: dict[str, Any]) -> None:
        self.taxonomy = taxonomy
        self.data = data
        self.prior = Prior(taxonomy)
        self.node_ids: list[str] = self.prior.node_ids
        self.kinds = [taxonomy.nodes[i].kind for i in self.node_ids]
        self.idf: dict[str, float] = data["idf"]
        self.bigram_left = {f.split(" ", 1)[0] for f in self.idf if " " in f}
        self.weights: list[dict[str, float]] = [data["nodes"][i]["weights"] for i in self.node_ids]
        self.by_feature: dict[str, list[tuple[int, float]]] = {}
        for index, weights in enumerate(self.weights):
            for f, r in weights.items():
                self.by_feature.setdefault(f, []).append((index, r))
        n = len(self.node_ids)
        self.calibration = [tuple(data["nodes"][i]["calibration"]) for i in self.node_ids]
        self.thresholds = [data["nodes"][i]["threshold"] for i in self.node_ids]
        self.stance_slots: dict[str, list[tuple[str, int]]] = {}
        self.base: list[float] = [0.0] * n
        for assumption, model in data["stances"].items():
            slots = []
            for stance, log_prior in model["log_prior"].items():
                slot = len(self.base)
                self.base.append(log_prior)
                slots.append((stance, slot))
                for f, r in model["weights"].get(stance, {}).items():
                    self.by_feature.setdefault(f, []).append((slot, r))
            self.stance_slots[assumption] = slots
        self.doc_index: dict[str, list[tuple[str, float]]] = {}
        for pid, entry in data["docs"].items():
            for f, w in entry["vector"].items():
                self.doc_index.setdefault(f, []).append((pid, w))

    def to_json(self) -> dict[str, Any]:
        return self.data

    def raw_vector(self, words: list[str], word_counts: Optional[Counter[str]] = None) -> tuple[dict[str, float], float]:
        """Unnormalised TF-IDF weights and their L2 norm (scores divide by it once, at the end)."""
        idf = self.idf
        left = self.bigram_left
        word_counts = word_counts if word_counts is not None else Counter(words)
        counts = {w: c for w, c in word_counts.items() if w in idf}
        content = [w for w in words if w not in SKIP]
        for pair in [a + " " + b for a, b in zip(content, content[1:]) if a in left]:
            if pair in idf:
                counts[pair] = counts.get(pair, 0) + 1
        log = math.log
        raw = {f: idf[f] * (1.0 + log(c)) if c > 1 else idf[f] for f, c in counts.items()}
        return raw, math.sqrt(sum([v * v for v in raw.values()])) or 1.0

    def vector(self, words: list[str]) -> dict[str, float]:
        """The document's TF-IDF vector; the same as ``Vectorizer(features(words))``, built faster."""
        raw, norm = self.raw_vector(words)
        return {f: v / norm for f, v in raw.items()}

    def _scores(self, doc: Doc) -> tuple[dict[str, float], list[float], list[dict[Phrase, int]], list[float]]:
        word_counts = Counter(doc.words)
        raw, norm = self.raw_vector(doc.words, word_counts)
        totals = [0.0] * len(self.base)
        by_feature = self.by_feature
        for f, v in raw.items():
            for slot, r in by_feature.get(f, ()):
                totals[slot] += v * r
        totals = [b + t / norm for b, t in zip(self.base, totals)]
        learned = totals[: len(self.node_ids)]
        counts = self.prior.counts(doc.words, word_counts)
        prior = self.prior.scores(doc.words, counts)
        probs = []
        for (a, b, c), s, p in zip(self.calibration, learned, prior):
            probs.append(_sigmoid(a * s + b * p + c) if c is not None else _sigmoid(PRIOR_ONLY[0] * p + PRIOR_ONLY[1]))
        return raw, probs, counts, totals

    def probabilities(self, doc: Doc) -> list[float]:
        return self._scores(doc)[1]

    def stance(self, assumption: str, scores: list[float]) -> tuple[str, float]:
        """The likeliest stance for an assumption and the share of the stance model's weight it has."""
        slots = self.stance_slots.get(assumption)
        if not slots:
            return "relies", 0.0
        top_stance, top_slot = max(slots, key=lambda item: scores[item[1]])
        total = sum(math.exp(scores[slot] - scores[top_slot]) for _, slot in slots)
        return top_stance, 1.0 / total

    def suggested(self, doc: Doc) -> tuple[list[tuple[str, float]], list[tuple[str, str, float]]]:
        """Only the suggested tags, best first: the lean path for bulk text output."""
        _, probs, _, totals = self._scores(doc)
        problems: list[tuple[str, float]] = []
        assumptions: list[tuple[str, str, float]] = []
        for node_id, kind, p, tau in zip(self.node_ids, self.kinds, probs, self.thresholds):
            if p < tau:
                continue
            if kind == "problem":
                problems.append((node_id, p))
            else:
                assumptions.append((node_id, self.stance(node_id, totals)[0], p))
        problems.sort(key=lambda item: -item[1])
        assumptions.sort(key=lambda item: -item[2])
        return problems, assumptions

    def classify(self, doc: Doc, *, explain: bool = True) -> Result:
        """Every problem and assumption with its calibrated score, best first; reasons for likely ones."""
        raw, probs, counts, stance_scores = self._scores(doc)
        vector: dict[str, float] = {}
        similar: Optional[dict[str, float]] = None
        problems: list[Suggestion] = []
        assumptions: list[Suggestion] = []
        for index, (node_id, kind, p) in enumerate(zip(self.node_ids, self.kinds, probs)):
            suggested = p >= self.thresholds[index]
            reasons: list[str] = []
            if explain and (suggested or p >= 0.6 * self.thresholds[index]):
                if similar is None:
                    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
                    vector = {f: v / norm for f, v in raw.items()}
                    similar = self._similar(vector, doc.id)
                reasons = self._reasons(index, vector, counts[index], similar)
            if kind == "problem":
                problems.append(Suggestion(node_id, kind, p, suggested, reasons))
            else:
                stance, share = self.stance(node_id, stance_scores)
                if reasons and share:
                    reasons.append(f"stance {stance}: {share:.0%} of the stance model's weight")
                assumptions.append(Suggestion(node_id, kind, p, suggested, reasons, stance))
        problems.sort(key=lambda s: -s.score)
        assumptions.sort(key=lambda s: -s.score)
        return Result(doc.id, problems, assumptions)

    def _similar(self, vector: dict[str, float], own_id: str) -> dict[str, float]:
        """Cosine similarity (on pruned vectors) to every tagged paper the model kept."""
        sims: dict[str, float] = {}
        index = self.doc_index
        for f, v in vector.items():
            for pid, w in index.get(f, ()):
                sims[pid] = sims.get(pid, 0.0) + v * w
        sims.pop(own_id, None)
        return sims

    def _reasons(self, index: int, vector: dict[str, float], found: dict[Phrase, int], similar: dict[str, float]) -> list[str]:
        node = self.data["nodes"][self.node_ids[index]]
        reasons = []
        weights = self.weights[index]
        if weights:
            terms = sorted(((v * weights.get(f, 0.0), f) for f, v in vector.items()), reverse=True)[:5]
            top = [f"{f} ({c:+.2f})" for c, f in terms if c > 0]
            if top:
                reasons.append("terms: " + ", ".join(top))
        table = self.prior.phrases[index]
        seeds = sorted((p for p in found if table[p] >= 1.0), key=lambda p: (-found[p], p))[:5]
        if seeds:
            reasons.append("seed terms: " + ", ".join(" ".join(p) for p in seeds))
        near = sorted(((similar[pid], pid) for pid in node["tagged"] if similar.get(pid, 0.0) > 0), reverse=True)[:3]
        if near:
            docs = self.data["docs"]
            reasons.append("like: " + "; ".join(f"{pid} {docs[pid]['title'][:60]}" for _, pid in near))
        if node["calibration"][2] is not None:
            reasons.append(f"learned from {node['positives']} tagged papers")
        else:
            reasons.append("seed terms only: too few tagged papers to learn from")
        return reasons


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
            probs = [_sigmoid(a * x1 + b * x2 + c) for x1, x2 in rows]
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
