"""Tag suggestions: a seed-term prior plus a per-tag linear model learned from tagged papers.

Per tag, documents are sublinear TF-IDF vectors of their words; a naive-Bayes
log-count-ratio vector gives the linear score, and a logistic regression on
``[learned score, prior score]`` fitted to out-of-fold scores calibrates it to [0, 1] (Platt
scaling with the prior as a second feature, so the model learns per tag how far to trust the
seed terms). Tags with too few examples fall back to the prior alone. Stances come from a small
naive-Bayes model per assumption. Pure Python: scoring is tokenizer-bound either way.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from lmdev.classifier.prior import Phrase, Prior
from lmdev.taxonomy import Taxonomy
from lmdev.text import document_tokens, features

MODEL_VERSION = 1
PRIOR_ONLY = (3.0, -3.0)  # calibration of the seed-term score for tags with too few examples


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


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
    """Every problem and assumption with its score, best first, plus how relevant the paper is
    to the essay's agenda (0 to 1) and the problem it most likely attacks (its primary)."""

    paper_id: str
    problems: list[Suggestion]
    assumptions: list[Suggestion]

    @property
    def relevance(self) -> float:
        return self.problems[0].score if self.problems else 0.0

    @property
    def primary(self) -> Optional[str]:
        return self.problems[0].id if self.problems else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.paper_id,
            "relevance": round(self.relevance, 3),
            "primary": self.primary,
            "problems": [s.to_json() for s in self.problems],
            "assumptions": [s.to_json() for s in self.assumptions],
        }


class Model:
    """A trained model. Build with :func:`train`; persist with :meth:`to_json`."""

    def __init__(self, taxonomy: Taxonomy, data: dict[str, Any]) -> None:
        self.taxonomy = taxonomy
        self.data = data
        self.prior = Prior(taxonomy)
        self.node_ids: list[str] = self.prior.node_ids
        self.kinds = [taxonomy.nodes[i].kind for i in self.node_ids]
        self.idf: dict[str, float] = data["idf"]
        self.weights: list[dict[str, float]] = [data["nodes"][i]["weights"] for i in self.node_ids]
        self.by_feature: dict[str, list[tuple[int, float]]] = {}
        for index, weights in enumerate(self.weights):
            for f, r in weights.items():
                self.by_feature.setdefault(f, []).append((index, r))
        n = len(self.node_ids)
        self.calibration = [tuple(data["nodes"][i]["calibration"]) for i in self.node_ids]
        self.thresholds = [data["nodes"][i]["threshold"] for i in self.node_ids]
        self.min_score: Optional[float] = None  # when set, replaces every tag's own threshold
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
        word_counts = word_counts if word_counts is not None else Counter(words)
        log = math.log
        raw = {w: idf[w] * (1.0 + log(c)) if c > 1 else idf[w] for w, c in word_counts.items() if w in idf}
        return raw, math.sqrt(sum([v * v for v in raw.values()])) or 1.0

    def _scores(self, doc: Doc) -> tuple[dict[str, float], list[float], list[float]]:
        word_counts = Counter(doc.words)
        raw, norm = self.raw_vector(doc.words, word_counts)
        totals = [0.0] * len(self.base)
        by_feature = self.by_feature
        for f, v in raw.items():
            for slot, r in by_feature.get(f, ()):
                totals[slot] += v * r
        totals = [b + t / norm for b, t in zip(self.base, totals)]
        learned = totals[: len(self.node_ids)]
        prior = self.prior.scores(doc.words, word_counts)
        probs = []
        for (a, b, c), s, p in zip(self.calibration, learned, prior):
            probs.append(sigmoid(a * s + b * p + c) if c is not None else sigmoid(PRIOR_ONLY[0] * p + PRIOR_ONLY[1]))
        return raw, probs, totals

    def stance(self, assumption: str, scores: list[float]) -> tuple[str, float]:
        """The likeliest stance for an assumption and the share of the stance model's weight it has."""
        slots = self.stance_slots.get(assumption)
        if not slots:
            return "relies", 0.0
        top_stance, top_slot = max(slots, key=lambda item: scores[item[1]])
        total = sum(math.exp(scores[slot] - scores[top_slot]) for _, slot in slots)
        return top_stance, 1.0 / total

    def threshold(self, index: int) -> float:
        """The score a tag needs to be suggested: ``min_score`` if set, else the tag's tuned threshold."""
        return self.min_score if self.min_score is not None else self.thresholds[index]

    def suggested(self, doc: Doc) -> tuple[list[tuple[str, float]], list[tuple[str, str, float]]]:
        """Only the suggested tags, best first: the lean path for bulk text output."""
        _, probs, totals = self._scores(doc)
        problems: list[tuple[str, float]] = []
        assumptions: list[tuple[str, str, float]] = []
        for index, (node_id, kind, p) in enumerate(zip(self.node_ids, self.kinds, probs)):
            if p < self.threshold(index):
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
        raw, probs, stance_scores = self._scores(doc)
        vector: dict[str, float] = {}
        counts: list[dict[Phrase, int]] = []
        similar: Optional[dict[str, float]] = None
        problems: list[Suggestion] = []
        assumptions: list[Suggestion] = []
        for index, (node_id, kind, p) in enumerate(zip(self.node_ids, self.kinds, probs)):
            suggested = p >= self.threshold(index)
            reasons: list[str] = []
            if explain and (suggested or p >= 0.6 * self.threshold(index)):
                if similar is None:
                    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
                    vector = {f: v / norm for f, v in raw.items()}
                    similar = self._similar(vector, doc.id)
                    counts = self.prior.counts(doc.words)
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
