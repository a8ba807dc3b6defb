"""Training the classifier from the library and its out-of-scope decisions (see
:mod:`lmdev.classifier.model` for the model).

Per tag: a naive-Bayes log-count ratio over TF-IDF vectors, scored out of fold, then a logistic
regression on ``[learned score, prior score]`` for calibration, pulled towards what all tags of
its kind share, with neither weight allowed below zero. Problems get one threshold for the tags
after the top one, and, with enough primaries, a second calibration fitted to "this is the
paper's primary" that ranks the problems for the predicted primary (its learned score and base
rate; the seed score keeps the scale all problems share), beside a word model of the primary
(see :mod:`lmdev.classifier.primary`). Relevance is a second
logistic regression, on the seed-term scope, against-scope and problem scores, whether any
scope term is named at all, and a learned score: naive Bayes of the library and the background papers the seed terms surely call in scope
against the rejections and those they surely call out (see :func:`_train_relevance`). Its
weights are fitted on the library against the rejections once there are enough of them.
"""

from __future__ import annotations

import heapq
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from lmdev.classifier import background
from lmdev.classifier.fitting import add_into, best_threshold, dot, fit_logistic, heaviest, log_ratio, sigmoid
from lmdev.classifier.model import MODEL_VERSION, Doc, Model, unscoped
from lmdev.classifier.primary import PRIMARY_FOLDS, fit_primary, lead, primary_words
from lmdev.classifier.prior import Prior, rarity
from lmdev.classifier.stances import train_stances
from lmdev.models import Paper
from lmdev.taxonomy import Taxonomy

FOLDS = 5
MIN_POSITIVES = 3
MIN_FOR_THRESHOLD = 5
MIN_REJECTIONS = 10
KEEP_WEIGHTS_FOR_TAGS = 100
KEEP_RELEVANCE_WEIGHTS = 2000
KEEP_VECTOR = 25
SHRINK = 2.0  # pull of a tag's calibration towards its kind's shared calibration
BACKGROUND_WEIGHT = 0.5  # a background paper's label is the seed terms' guess: it counts half
PSEUDO_IN = 0.8  # background papers the seed terms call in scope at least this surely are positives
PSEUDO_OUT = 0.3  # and at most this, negatives, when learning relevance
SURE_MARGIN = 1.0  # the lead of the seed terms' best problem that names a background paper's primary (0.5, 1, 2 cross-validated)
SELF_WEIGHT = 2.0  # the learned relevance score's weight until there are rejections (cross-validated)
SECONDARY_SHARE = 0.5  # a paper's secondary problem counts half a positive of its words
CONFIDENT = 0.5  # a secondary problem is suggested only when it is more likely than not
ASSUMPTION_FLOOR = 0.4  # F1 is the same from 0.05 to 0.4 (cross-validated), with a third fewer suggestions


@dataclass
class Vectorizer:
    idf: dict[str, float]

    @classmethod
    def fit(cls, docs: Sequence[Iterable[str]], min_df: int = 2) -> Vectorizer:
        df: Counter[str] = Counter()
        for feats in docs:
            df.update(set(feats))
        n = len(docs)
        return cls({f: math.log((1 + n) / (1 + c)) + 1.0 for f, c in df.items() if c >= min_df})

    def __call__(self, feats: Iterable[str] | Counter[str]) -> dict[str, float]:
        idf = self.idf
        counts = feats if isinstance(feats, Counter) else Counter(feats)
        log = math.log
        vector = {f: (1.0 + log(c)) * idf[f] if c > 1 else idf[f] for f, c in counts.items() if f in idf}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}


def fold_of(paper_id: str, folds: int = FOLDS) -> int:
    """A stable fold for each paper, so cross-validation is repeatable."""
    return zlib.crc32(paper_id.encode("utf-8")) % folds


@dataclass
class _Corpus:
    """What every part of training shares: documents, vectors, prior scores and folds."""

    docs: list[Doc]
    vectors: list[dict[str, float]]
    prior: list[list[float]]
    folds: list[int]
    vocab: int
    weights: Optional[list[float]] = None

    def __post_init__(self) -> None:
        """Per fold, the (weighted) sum of every vector: negatives are this minus the positives."""
        self.fold_totals = [dict[str, float]() for _ in range(FOLDS)]
        self.sample = self.weights or [1.0] * len(self.vectors)
        for v, f, w in zip(self.vectors, self.folds, self.sample):
            add_into(self.fold_totals[f], v, w)
        self.total: dict[str, float] = {}
        for t in self.fold_totals:
            add_into(self.total, t)
        self._heavy: dict[int, set[str]] = {}

    def nb_out_of_fold(self, labels: Sequence[float], keep: int) -> list[float]:
        """Out-of-fold naive-Bayes scores: per fold, positives summed, negatives = all − positives."""
        pos = [dict[str, float]() for _ in range(FOLDS)]
        for v, y, f, share in zip(self.vectors, labels, self.folds, self.sample):
            if y:
                add_into(pos[f], v, share * y)
        pos_total: dict[str, float] = {}
        for k in range(FOLDS):
            add_into(pos_total, pos[k])
        oof = [0.0] * len(labels)
        for k in range(FOLDS):
            p = dict(pos_total)
            add_into(p, pos[k], -1.0)
            p = {f: x for f, x in p.items() if x > 1e-12}
            w = log_ratio(p, self.total, self.vocab, keep, minus=(self.fold_totals[k], p), heavy=self.heavy(keep))
            for i, f in enumerate(self.folds):
                if f == k:
                    oof[i] = dot(w, self.vectors[i])
        return oof

    def nb_weights(self, labels: Sequence[float], keep: int) -> dict[str, float]:
        p: dict[str, float] = {}
        for v, y, share in zip(self.vectors, labels, self.sample):
            if y:
                add_into(p, v, share * y)
        return log_ratio(p, self.total, self.vocab, keep, minus=(p,), heavy=self.heavy(keep))

    def heavy(self, keep: int) -> set[str]:
        """The heaviest features of the whole sum, found once per ``keep`` for every tag's fits."""
        found = self._heavy.get(keep)
        if found is None:
            found = self._heavy[keep] = heaviest(self.total, keep)
        return found


def train(taxonomy: Taxonomy, papers: Sequence[Paper], rejected: Sequence[tuple[str, str, str]] = (), *, fingerprint: str = "", use_background: bool = True) -> Model:
    """Fit the model on the library's papers and its rejections ((id, title, abstract) triples).

    Tags are learned from the tags a person (or the essay) gave, never from the classifier's own
    suggestions, which would teach the model what it already thinks; relevance from every paper
    against the rejections and the shipped background.
    """
    papers = [p.as_reviewed() for p in papers]
    tagged = [p for p in papers if p.is_tagged()]
    docs = [_doc(p.id, p.title, p.abstract) for p in tagged]
    rejected_docs = [_doc(i, t, a) for i, t, a in rejected]
    vectorizer = Vectorizer.fit([_counts(d) for d in docs + rejected_docs + _background(use_background)])
    weights = _rarity(taxonomy) if use_background else {}
    prior = Prior(taxonomy, weights)
    corpus = _Corpus(docs, [vectorizer(_counts(d)) for d in docs], [prior.scores(d.words) for d in docs], [fold_of("calibration:" + p.id) for p in tagged], len(vectorizer.idf))
    nodes, probs, parts = _train_nodes(taxonomy, tagged, corpus, prior)
    problem_index = [i for i, n in enumerate(taxonomy) if n.kind == "problem"]
    problem_ids = [n.id for n in taxonomy if n.kind == "problem"]
    known = {p.id for p in papers} | {d.id for d in rejected_docs}
    words, oof = primary_words(tagged, corpus.vectors, [fold_of("primary:" + p.id, PRIMARY_FOLDS) for p in tagged], problem_ids, lambda: _surely_primary(prior, vectorizer, problem_index, known, use_background))
    primary = fit_primary(tagged, [[(*row[i], lp) for i, lp in zip(problem_index, oof[k])] for k, row in enumerate(parts)], problem_ids)
    secondary = _secondary_threshold(tagged, [[row[i] for i in problem_index] for row in probs], problem_ids)
    relevance = _train_relevance(taxonomy, prior, vectorizer, papers, rejected_docs, known, use_background)
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


def _train_nodes(taxonomy: Taxonomy, tagged: Sequence[Paper], corpus: _Corpus, prior: Prior) -> tuple[dict[str, Any], list[list[float]], list[list[Parts]]]:
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


def _surely_primary(prior: Prior, vectorizer: Vectorizer, problem_index: Sequence[int], known: set[str], use_background: bool) -> list[tuple[dict[str, float], int]]:
    """Background papers whose primary the seed terms name surely, with it (an index among the
    problems): those surely in scope (as for relevance) whose best problem, by the seed terms of
    the whole text and of the title's head together, leads the next by ``SURE_MARGIN``. They are
    of today's arXiv, so a word model of the primary that needs them learns today's words. The
    library's papers and rejections (``known``) are not background."""
    out: list[tuple[dict[str, float], int]] = []
    for d in _background(use_background):
        if d.id in known or _seed_relevance(_relevance_features(prior, problem_index, d)) < PSEUDO_IN:
            continue
        whole, head = prior.scores(d.words), prior.scores(prior.head(d.title))
        (top, best), (second, _) = heapq.nlargest(2, ((whole[i] + head[i], j) for j, i in enumerate(problem_index)))
        if top - second >= SURE_MARGIN:
            out.append((vectorizer(_counts(d)), best))
    return out


def _shared_calibration(taxonomy: Taxonomy, kind: str, labels: Sequence[Sequence[int]], corpus: _Corpus) -> tuple[float, float]:
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


Features = tuple[float, float, float, float]
_FEATURE_CACHE: dict[tuple[int, int], tuple[Doc, Features]] = {}


def _relevance_features(prior: Prior, problem_index: Sequence[int], doc: Doc) -> Features:
    """Scope score, best problem score, against-scope score and how far the paper is from naming
    a language model at all (the last two negated); remembered per prior and document (the very
    object, which the cache keeps alive), as cross-validation trains the same documents again and again."""
    key = (prior.signature, id(doc))
    found = _FEATURE_CACHE.get(key)
    if found is None or found[0] is not doc:
        if len(_FEATURE_CACHE) > 100_000:
            _FEATURE_CACHE.clear()
        scores = prior.scores(doc.words)
        best = max((scores[i] for i in problem_index), default=0.0)
        found = _FEATURE_CACHE[key] = (doc, (scores[prior.scope_index], best, -scores[prior.against_index], -unscoped(scores[prior.scope_index])))
    return found[1]


def _seed_relevance(features: Features) -> float:
    """Relevance from the seed terms alone, with the cold-start weights."""
    w_scope, w_problem, _, w_against, w_none, intercept = Model.DEFAULT_RELEVANCE
    return sigmoid(w_scope * features[0] + w_problem * features[1] + w_against * features[2] + w_none * features[3] + intercept)


def _train_relevance(taxonomy: Taxonomy, prior: Prior, vectorizer: Vectorizer, papers: Sequence[Paper], rejected: Sequence[Doc], known: set[str], use_background: bool) -> dict[str, Any]:
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
    positives = [_doc(p.id, p.title, p.abstract) for p in papers]
    backdrop = [d for d in _background(use_background) if d.id not in known]
    seed = [_seed_relevance(_relevance_features(prior, problem_index, d)) for d in backdrop]
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
    corpus = _Corpus(docs, [vectorizer(_counts(d)) for d in docs], [], [fold_of("relevance:" + d.id) for d in docs], len(vectorizer.idf), weights)
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
    feats = [_relevance_features(prior, problem_index, docs[i]) for i in real]
    rows = [(s, p, learned[i], a, u) for (s, p, a, u), i in zip(feats, real)]
    coef = fit_logistic(rows, [labels[i] for i in real], weights=[weights[i] for i in real], l2=0.1, nonnegative=(0, 1, 2, 3, 4))
    return {"weights": nb, "calibration": [round(c, 5) for c in coef]}


_RARITY: dict[int, dict[str, float]] = {}


def _rarity(taxonomy: Taxonomy) -> dict[str, float]:
    """Seed-phrase weights from their rarity in the background (remembered per taxonomy)."""
    plain = Prior(taxonomy)
    if plain.signature not in _RARITY:
        _RARITY[plain.signature] = rarity(plain, (d.words for d in _background_cache()))
    return _RARITY[plain.signature]


def _background(use: bool) -> list[Doc]:
    return _background_cache() if use else []


@lru_cache(maxsize=1)
def _background_cache() -> list[Doc]:
    return [_doc(i, t, a) for i, t, a in background.load()]


_DOCS: dict[tuple[str, str, str], Doc] = {}
_COUNTS: dict[int, tuple[Doc, Counter[str]]] = {}


def _doc(paper_id: str, title: str, abstract: str) -> Doc:
    """A document, tokenised once per process: cross-validation trains on the same ones again."""
    key = (paper_id, title, abstract)
    doc = _DOCS.get(key)
    if doc is None:
        if len(_DOCS) > 50_000:
            _DOCS.clear()
            _COUNTS.clear()
        doc = _DOCS[key] = Doc.of(paper_id, title, abstract)
    return doc


def _counts(doc: Doc) -> Counter[str]:
    """A document's content-word counts, remembered with the document."""
    found = _COUNTS.get(id(doc))
    if found is None or found[0] is not doc:  # the cache keeps the document, so its id stays its own
        found = _COUNTS[id(doc)] = (doc, Counter(doc.feats))
    return found[1]


def prior_only(taxonomy: Taxonomy) -> Model:
    """The seed-terms baseline: what lmdev suggests before anything is tagged or rejected."""
    return train(taxonomy, [])
