"""What training reads: documents tokenised once, TF-IDF vectors, stable folds, the shipped
background of ordinary arXiv papers and the seed phrases' rarity in it. Cross-validation trains
on the same documents again and again, so each is tokenised and counted once per process.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from lmdev.classifier import background
from lmdev.classifier.fitting import add_into, dot, heaviest, log_ratio
from lmdev.classifier.model import Doc
from lmdev.classifier.prior import Prior, rarity
from lmdev.taxonomy import Taxonomy

FOLDS = 5


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
class Corpus:
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


_RARITY: dict[int, dict[str, float]] = {}


def rarity_weights(taxonomy: Taxonomy) -> dict[str, float]:
    """Seed-phrase weights from their rarity in the background (remembered per taxonomy)."""
    plain = Prior(taxonomy)
    if plain.signature not in _RARITY:
        _RARITY[plain.signature] = rarity(plain, (d.words for d in _background_cache()))
    return _RARITY[plain.signature]


def background_docs(use: bool) -> list[Doc]:
    return _background_cache() if use else []


@lru_cache(maxsize=1)
def _background_cache() -> list[Doc]:
    return [doc(i, t, a) for i, t, a in background.load()]


_DOCS: dict[tuple[str, str, str], Doc] = {}
_COUNTS: dict[int, tuple[Doc, Counter[str]]] = {}


def doc(paper_id: str, title: str, abstract: str) -> Doc:
    """A document, tokenised once per process: cross-validation trains on the same ones again."""
    key = (paper_id, title, abstract)
    found = _DOCS.get(key)
    if found is None:
        if len(_DOCS) > 50_000:
            _DOCS.clear()
            _COUNTS.clear()
        found = _DOCS[key] = Doc.of(paper_id, title, abstract)
    return found


def counts(document: Doc) -> Counter[str]:
    """A document's content-word counts, remembered with the document."""
    found = _COUNTS.get(id(document))
    if found is None or found[0] is not document:  # the cache keeps the document, so its id stays its own
        found = _COUNTS[id(document)] = (document, Counter(document.feats))
    return found[1]
