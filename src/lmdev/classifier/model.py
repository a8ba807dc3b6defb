"""Tag suggestions and relevance: a seed-term prior plus linear models learned from the library.

Per tag, documents are sublinear TF-IDF vectors of their stems; a naive-Bayes log-count-ratio
vector gives the learned score, and a logistic regression on ``[learned score, prior score]``
calibrates it to [0, 1] (both weights kept non-negative; tags with few papers share their
kind's calibration of the prior). The top-ranked problem is the predicted primary (ranked by
each problem's calibration as the primary, the seed terms of the title's head and, with enough
primaries, a softmax word model of the primary); it is suggested when the paper is relevant,
other problems only above a stricter threshold.
Relevance is a logistic regression on the fields' scope terms (and whether any is named), their
against-scope phrases, the best problem's seed score and a learned score (self-trained on the shipped background, with the
library and its rejections). Pure Python: scoring is tokenizer-bound either way.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from lmdev.classifier import scoring
from lmdev.classifier.fitting import log_softmax, sigmoid
from lmdev.classifier.prior import Prior
from lmdev.classifier.reasons import Explainer
from lmdev.taxonomy import Taxonomy
from lmdev.text import Written, document_words, features

MODEL_VERSION = 10
RELEVANT = 0.5  # relevance from which the top problem is suggested as the paper's primary
LIKE_POSTINGS = 20  # and for each feature, the tagged papers where it weighs most


@dataclass
class Doc:
    id: str
    title: str
    words: list[str]  # the title's stems twice, then the abstract's
    abstract: str = ""  # kept for the reasons, which name a term by the word the paper itself uses
    # the title's and the abstract's words behind ``words``, position by position: the reasons'
    # names for terms, found by where a stem first occurs instead of by searching the abstract
    written: Optional[tuple[Written, Written]] = None

    @classmethod
    def of(cls, paper_id: str, title: str, abstract: str) -> Doc:
        words, title_words, abstract_words = document_words(title, abstract)
        return cls(paper_id, title, words, abstract, (title_words, abstract_words))

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
    relevance: float = 0.0

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


@dataclass
class Scores:
    """The numbers behind a result, before any reasons are built."""

    probs: list[float]
    relevance: float
    stance_scores: list[float]
    raw: dict[str, float]
    words: list[str]
    rank: list[float]  # how likely each problem is the primary, on a logit scale
    word_counts: Counter[str]
    phrases: dict[tuple[tuple[str, ...], int], int]  # the prior's longer seed phrases found, per row
    norm: float  # of ``raw``
    covered: dict[str, int]  # occurrences of words the longer phrases took (Prior.resolve)


SCOPE_SURE = 0.5  # a scope score from which a paper surely names the kind of model it is about


def unscoped(scope: float) -> float:
    """How far a paper is from naming a language (or multimodal foundation) model at all: 1 with
    no scope term, 0 from ``SCOPE_SURE`` on. Problem words without one (quantising a CNN, weight
    decay for ResNets) are the commonest out-of-scope paper near the top of a day."""
    return max(0.0, 1.0 - scope / SCOPE_SURE)


class Model:
    """A trained model. Build with :func:`lmdev.classifier.training.train`; persist with :meth:`to_json`."""

    # Cold start (nothing tagged, nothing rejected), not fitted: one strong seed term (a score
    # near 2) gives a problem about 0.45, two about 0.9. Relevance weighs its four seed scores
    # alike (scope, best problem, against-scope, no scope term: 1 each on the logit scale; chosen
    # over the earlier 1.5 and 0.75 for scope and against-scope on cross-validation without
    # rejections and on the training days read without rejections): a paper with neither scope
    # nor problem terms is relevant at 0.03, one with a scope term and a problem term at about 0.8.
    DEFAULT_PRIOR: ClassVar[dict[str, tuple[float, float]]] = {"problem": (1.2, -2.6), "assumption": (1.0, -2.6)}
    DEFAULT_SECONDARY: ClassVar[float] = 0.6
    DEFAULT_RELEVANCE: ClassVar[tuple[float, ...]] = (1.0, 1.0, 0.0, 1.0, 1.0, -2.5)

    def __init__(self, taxonomy: Taxonomy, data: dict[str, Any]) -> None:
        self.taxonomy = taxonomy
        self.data = data
        self.prior = Prior(taxonomy, data["rarity"])
        self.node_ids: list[str] = self.prior.node_ids
        self.kinds = [taxonomy.nodes[i].kind for i in self.node_ids]
        self.problem_index = [i for i, kind in enumerate(self.kinds) if kind == "problem"]
        self.idf: dict[str, float] = data["idf"]
        nodes = data["nodes"]
        self.weights: list[dict[str, float]] = [nodes[i]["weights"] for i in self.node_ids]
        self.calibration = [tuple(nodes[i]["calibration"]) for i in self.node_ids]
        self.lead = [tuple(nodes[i].get("lead", nodes[i]["calibration"])) for i in self.node_ids]  # for ranking the primary
        self.thresholds = [nodes[i]["threshold"] for i in self.node_ids]
        self.secondary: float = data["secondary"]
        self.primary_weights: tuple[float, ...] = tuple(data["primary"])
        self.relevance_calibration: tuple[float, ...] = tuple(data["relevance"]["calibration"])
        self.min_score: Optional[float] = None  # when set, replaces every tag's own threshold
        n = len(self.node_ids)
        by_feature: dict[str, list[tuple[int, float]]] = {}  # kept in the lexicon, not on its own
        for index, weights in enumerate(self.weights):
            for f, r in weights.items():
                by_feature.setdefault(f, []).append((index, r))
        self.relevance_slot = n
        for f, r in data["relevance"]["weights"].items():
            by_feature.setdefault(f, []).append((n, r))
        self.base: list[float] = [0.0] * (n + 1)
        self.stance_slots: dict[str, list[tuple[str, int]]] = {}
        for assumption, model in data["stances"].items():
            slots = []
            for stance, log_prior in model["log_prior"].items():
                slot = len(self.base)
                self.base.append(log_prior)
                slots.append((stance, slot))
                for f, r in model["weights"].get(stance, {}).items():
                    by_feature.setdefault(f, []).append((slot, r))
            self.stance_slots[assumption] = slots
        self.word_slots: list[int] = []  # the primary's word model: one slot per problem
        words = data.get("primary_words")
        if words:
            for b in words["bias"]:
                self.word_slots.append(len(self.base))
                self.base.append(b)
            for f, row in words["weights"].items():
                entries = by_feature.setdefault(f, [])
                entries += [(slot, r) for slot, r in zip(self.word_slots, row) if r]
        self._doc_index: Optional[dict[str, list[tuple[str, float]]]] = None
        self.tagged = [frozenset(nodes[i]["tagged"]) for i in self.node_ids]
        self._json: Optional[tuple[list[str], list[Optional[list[int]]], dict[int, str]]] = None  # jsonout's parts
        self.lexicon = scoring.lexicon(self.idf, by_feature, self.prior.single_weights)
        # for reasons: each tag's terms that can add to its score (the rest never show), its seed
        # phrases strong enough to be named, and its closing line
        positive = all(v > 0 for v in self.idf.values())
        self.gains = [{f: r for f, r in weights.items() if r > 0 or not positive} for weights in self.weights]
        self.strong = [(frozenset(p[0] for p, w in table.items() if len(p) == 1 and w > 0.3), frozenset(p for p, w in table.items() if len(p) > 1 and w > 0.3)) for table in self.prior.phrases]
        self.closings = [self.closing(index) for index in range(n)]

    @property
    def by_feature(self) -> dict[str, tuple[tuple[int, float], ...]]:
        """Each feature with an idf, and the (slot, weight) of every slot it weighs in."""
        return {w: entry[2] for w, entry in self.lexicon.items() if entry[2]}

    def to_json(self) -> dict[str, Any]:
        return self.data

    def dumps(self) -> str:
        return json.dumps(self.data, separators=(",", ":"))

    @property
    def doc_index(self) -> dict[str, list[tuple[str, float]]]:
        """Feature -> (paper, weight) for the 'like' reasons; built on first use."""
        if self._doc_index is None:
            index: dict[str, list[tuple[str, float]]] = {}
            for pid, entry in self.data["docs"].items():
                for f, w in entry["vector"].items():
                    index.setdefault(f, []).append((pid, w))
            # a common word's papers are many; those where it weighs most are enough
            self._doc_index = {f: sorted(postings, key=lambda item: -item[1])[:LIKE_POSTINGS] for f, postings in index.items()}
        return self._doc_index

    def scores(self, doc: Doc) -> Scores:
        """Calibrated probability per tag, relevance, and the stance models' raw scores."""
        words = doc.words
        word_counts = Counter(words)
        phrases: dict[tuple[tuple[str, ...], int], int] = {}
        raw, norm, totals, prior, covered = scoring.tally(self, words, word_counts, phrases)
        exp = math.exp
        probs = [1.0 / (1.0 + exp(-z)) if z >= 0 else (e := exp(z)) / (1.0 + e) for z in [a * s + b * p + c for (a, b, c), s, p in zip(self.calibration, totals, prior)]]
        u, v, w, t, q = self.primary_weights
        heading = scoring.heading_prior(self, self.prior.head(doc.title)) if t else prior
        rank = [u * a * s + v * b * p + w * c + t * h for (a, b, c), s, p, h in zip(self.lead, totals, prior, heading)]
        if q and self.word_slots:
            for i, lp in zip(self.problem_index, log_softmax([totals[slot] for slot in self.word_slots])):
                rank[i] += q * lp
        best = max(map(prior.__getitem__, self.problem_index)) if self.problem_index else 0.0
        w_scope, w_problem, w_learned, w_against, w_none, intercept = self.relevance_calibration
        scope, against = prior[self.prior.scope_index], prior[self.prior.against_index]
        relevance = sigmoid(w_scope * scope + w_problem * best + w_learned * totals[self.relevance_slot] - w_against * against - w_none * unscoped(scope) + intercept)
        return Scores(probs, relevance, totals, raw, words, rank, word_counts, phrases, norm, covered)

    def top(self, s: Scores) -> Optional[int]:
        """The index of the predicted primary: the problem ranked first."""
        return max(self.problem_index, key=s.rank.__getitem__, default=None)

    def triage(self, doc: Doc) -> tuple[float, Optional[str]]:
        """Relevance and predicted primary only: the cheap path for ranking a day's listing."""
        s = self.scores(doc)
        top = self.top(s)
        return s.relevance, None if top is None else self.node_ids[top]

    def likeliest_stance(self, assumption: str, scores: list[float]) -> str:
        """The likeliest stance only (what a bulk run needs for tags without reasons)."""
        slots = self.stance_slots.get(assumption)
        if not slots:
            return "relies"
        return max(slots, key=lambda item: scores[item[1]])[0]

    def stance(self, assumption: str, scores: list[float]) -> tuple[str, float]:
        """The likeliest stance for an assumption and the share of the stance model's weight it has."""
        slots = self.stance_slots.get(assumption)
        if not slots:
            return "relies", 0.0
        top_stance, top_slot = max(slots, key=lambda item: scores[item[1]])
        total = sum(math.exp(scores[slot] - scores[top_slot]) for _, slot in slots)
        return top_stance, 1.0 / total

    def closing(self, index: int) -> str:
        """The last reason of a tag: what its score was learned from."""
        if self.weights[index]:
            return f"learned from {self.data['nodes'][self.node_ids[index]]['positives']} tagged papers"
        return "seed terms only: too few tagged papers to learn from"

    def threshold(self, index: int) -> float:
        """The score a tag needs to be suggested: ``min_score`` if set, else the tag's tuned threshold."""
        return self.min_score if self.min_score is not None else self.thresholds[index]

    def decide(self, s: Scores) -> list[bool]:
        """Which tags to suggest. With ``min_score``, every tag scoring that much. Otherwise the
        top problem when the paper is relevant (or the problem clears its own threshold), the other
        problems only above the stricter secondary threshold, assumptions above their own."""
        probs = s.probs
        if self.min_score is not None:
            return [p >= self.min_score for p in probs]
        chosen = [p >= t for p, t in zip(probs, self.thresholds)]
        top = self.top(s)
        if top is not None:
            lead = s.relevance >= RELEVANT or chosen[top]
            for i in self.problem_index:
                chosen[i] = lead and (i == top or probs[i] >= max(self.secondary, self.thresholds[i]))
        return chosen

    def suggested(self, doc: Doc) -> tuple[float, list[tuple[str, float]], list[tuple[str, str, float]]]:
        """Relevance and only the suggested tags, best first: the lean path for bulk text output."""
        s = self.scores(doc)
        chosen = self.decide(s)
        problems: list[tuple[str, float]] = []
        assumptions: list[tuple[str, str, float]] = []
        for index, (node_id, kind, p) in enumerate(zip(self.node_ids, self.kinds, s.probs)):
            if not chosen[index]:
                continue
            if kind == "problem":
                problems.append((node_id, p))
            else:
                assumptions.append((node_id, self.likeliest_stance(node_id, s.stance_scores), p))
        top = self.top(s)
        problems.sort(key=lambda item: (item[0] != self.node_ids[top] if top is not None else True, -item[1]))
        assumptions.sort(key=lambda item: -item[2])
        return s.relevance, problems, assumptions

    def classify(self, doc: Doc, *, reasons: str = "suggested") -> Result:
        """Every problem and assumption with its calibrated score, best first. ``reasons`` says
        which tags carry reasons: "suggested" (the default: terms and seed terms), "all" (every
        tag, and the nearest tagged papers too) or "none"."""
        s = self.scores(doc)
        chosen = self.decide(s)
        explainer = Explainer(self, doc, s, neighbours=reasons == "all") if reasons != "none" else None
        problems: list[Suggestion] = []
        assumptions: list[Suggestion] = []
        for index, (node_id, kind, p) in enumerate(zip(self.node_ids, self.kinds, s.probs)):
            why = explainer.reasons(index) if explainer is not None and (chosen[index] or reasons == "all") else []
            if kind == "problem":
                problems.append(Suggestion(node_id, kind, p, chosen[index], why))
            else:
                stance, share = self.stance(node_id, s.stance_scores)
                if why and share:
                    why.append(f"stance {stance}: {share:.0%} of the stance model's weight")
                assumptions.append(Suggestion(node_id, kind, p, chosen[index], why, stance))
        top = self.top(s)
        lead = self.node_ids[top] if top is not None else None
        problems.sort(key=lambda t: (t.id != lead, -t.score))  # the predicted primary first
        assumptions.sort(key=lambda t: -t.score)
        return Result(doc.id, problems, assumptions, s.relevance)

    def classify_json(self, doc: Doc, *, reasons: str = "suggested") -> str:
        """``to_json(self.classify(doc, reasons=reasons).to_json())``, written directly
        (:mod:`lmdev.classifier.jsonout`): what a bulk run prints per paper."""
        from lmdev.classifier.jsonout import classify_json

        return classify_json(self, doc, reasons=reasons)
