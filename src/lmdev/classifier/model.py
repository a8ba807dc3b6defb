"""Tag suggestions and relevance: a seed-term prior plus linear models learned from the library.

Per tag, documents are sublinear TF-IDF vectors of their stems; a naive-Bayes log-count-ratio
vector gives the learned score, and a logistic regression on ``[learned score, prior score]``
calibrates it to [0, 1] (both weights kept non-negative; tags with few papers share their
kind's calibration of the prior). The top-ranked problem is the predicted primary; it is
suggested when the paper is relevant, other problems only above a stricter threshold.
Relevance is a logistic regression on the fields' scope terms (and whether any is named), their
against-scope phrases, the best problem's seed score and a learned score (self-trained on the shipped background, with the
library and its rejections). Pure Python: scoring is tokenizer-bound either way.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, ClassVar, Optional

from lmdev.classifier.fitting import sigmoid
from lmdev.classifier.prior import Prior
from lmdev.classifier.reasons import Explainer
from lmdev.taxonomy import Taxonomy
from lmdev.text import document_tokens, features, json_safe

MODEL_VERSION = 5
RELEVANT = 0.5  # relevance from which the top problem is suggested as the paper's primary
LIKE_POSTINGS = 20  # and for each feature, the tagged papers where it weighs most


@dataclass
class Doc:
    id: str
    title: str
    words: list[str]  # the title's stems twice, then the abstract's
    heading: int = 0  # how many stems the title has

    @classmethod
    def of(cls, paper_id: str, title: str, abstract: str) -> Doc:
        words, heading = document_tokens(title, abstract)
        return cls(paper_id, title, words, heading)

    @property
    def title_words(self) -> list[str]:
        return self.words[: self.heading]

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
    phrases: Optional[dict[tuple[tuple[str, ...], int], int]] = None  # the prior's longer seed phrases found, per row
    norm: float = 0.0  # of ``raw`` (0: not computed)


SCOPE_SURE = 0.5  # a scope score from which a paper surely names the kind of model it is about


def unscoped(scope: float) -> float:
    """How far a paper is from naming a language (or multimodal foundation) model at all: 1 with
    no scope term, 0 from ``SCOPE_SURE`` on. Problem words without one (quantising a CNN, weight
    decay for ResNets) are the commonest out-of-scope paper near the top of a day."""
    return max(0.0, 1.0 - scope / SCOPE_SURE)


class Model:
    """A trained model. Build with :func:`lmdev.classifier.training.train`; persist with :meth:`to_json`."""

    # Cold start (nothing tagged, nothing rejected), set by hand, not fitted: one strong seed term
    # (a score near 2) gives a problem about 0.45, two about 0.9; a paper with neither scope nor
    # problem terms is relevant at 0.03 (naming no language model at all costs 1.0 on the logit
    # scale), one with a scope term and a problem term at about 0.9.
    DEFAULT_PRIOR: ClassVar[dict[str, tuple[float, float]]] = {"problem": (1.2, -2.6), "assumption": (1.0, -2.6)}
    DEFAULT_SECONDARY: ClassVar[float] = 0.6
    DEFAULT_RELEVANCE: ClassVar[tuple[float, ...]] = (1.5, 1.0, 0.0, 0.75, 1.0, -2.5)

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
        self.by_feature: dict[str, list[tuple[int, float]]] = {}
        for index, weights in enumerate(self.weights):
            for f, r in weights.items():
                self.by_feature.setdefault(f, []).append((index, r))
        self.relevance_slot = n
        for f, r in data["relevance"]["weights"].items():
            self.by_feature.setdefault(f, []).append((n, r))
        self.base: list[float] = [0.0] * (n + 1)
        self.stance_slots: dict[str, list[tuple[str, int]]] = {}
        for assumption, model in data["stances"].items():
            slots = []
            for stance, log_prior in model["log_prior"].items():
                slot = len(self.base)
                self.base.append(log_prior)
                slots.append((stance, slot))
                for f, r in model["weights"].get(stance, {}).items():
                    self.by_feature.setdefault(f, []).append((slot, r))
            self.stance_slots[assumption] = slots
        self._doc_index: Optional[dict[str, list[tuple[str, float]]]] = None
        self.tagged = [frozenset(nodes[i]["tagged"]) for i in self.node_ids]
        # a feature seen once weighs its idf: its slots' products with it, computed once here
        self._json: Optional[tuple[list[str], list[Optional[list[int]]], dict[int, str]]] = None
        idf = self.idf
        self.by_unit = {f: [(slot, idf[f] * r) for slot, r in entries] for f, entries in self.by_feature.items() if f in idf}

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

    def linear(self, word_counts: Counter[str]) -> tuple[dict[str, float], float, list[float]]:
        """The sublinear TF-IDF weights (unnormalised), their L2 norm, and every slot's weighted sum
        (the tags' learned scores, relevance, the stances), in one pass over the document's
        distinct words: each looks up only the slots it weighs in."""
        idf = self.idf
        by_unit = self.by_unit
        by_feature = self.by_feature
        log = math.log
        raw: dict[str, float] = {}
        totals = [0.0] * len(self.base)
        for w, c in word_counts.items():
            v = idf.get(w)
            if v is None:
                continue
            if c == 1:
                raw[w] = v
                for slot, u in by_unit.get(w, ()):
                    totals[slot] += u
            else:
                raw[w] = v = v * (1.0 + log(c))
                for slot, r in by_feature.get(w, ()):
                    totals[slot] += v * r
        norm = math.sqrt(sum([v * v for v in raw.values()])) or 1.0
        return raw, norm, [b + t / norm for b, t in zip(self.base, totals)]

    def scores(self, doc: Doc) -> Scores:
        """Calibrated probability per tag, relevance, and the stance models' raw scores."""
        word_counts = Counter(doc.words)
        raw, norm, totals = self.linear(word_counts)
        phrases: dict[tuple[tuple[str, ...], int], int] = {}
        prior = self.prior.scores(doc.words, word_counts, phrases)
        probs = [sigmoid(a * s + b * p + c) for (a, b, c), s, p in zip(self.calibration, totals, prior)]
        u, v, w, t = self.primary_weights
        heading = self.prior.scores(doc.title_words) if t else prior
        rank = [u * a * s + v * b * p + w * c + t * h for (a, b, c), s, p, h in zip(self.lead, totals, prior, heading)]
        best = max((prior[i] for i in self.problem_index), default=0.0)
        w_scope, w_problem, w_learned, w_against, w_none, intercept = self.relevance_calibration
        scope, against = prior[self.prior.scope_index], prior[self.prior.against_index]
        relevance = sigmoid(w_scope * scope + w_problem * best + w_learned * totals[self.relevance_slot] - w_against * against - w_none * unscoped(scope) + intercept)
        return Scores(probs, relevance, totals, raw, doc.words, rank, word_counts, phrases, norm)

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
        """``to_json(json.dumps(self.classify(doc, reasons=reasons).to_json(), ensure_ascii=False))``,
        built directly: in bulk runs, making and serialising twenty tag objects per paper cost
        more than classifying it. The text around each score is made once per model
        (:meth:`_json_parts`); only the id and the reasons come from the paper, and they are
        quoted and made safe one by one, so the whole needs no pass of its own."""
        s = self.scores(doc)
        chosen = self.decide(s)
        everything = reasons == "all"
        explainer = Explainer(self, doc, s, neighbours=everything) if reasons != "none" else None
        top = self.top(s)
        heads, stance_slots, slot_names = self._json_parts()
        stance_scores = s.stance_scores
        problems: list[tuple[tuple[bool, float], str]] = []
        assumptions: list[tuple[float, str]] = []
        for index, p in enumerate(s.probs):
            flag = chosen[index]
            why = explainer.reasons(index) if explainer is not None and (flag or everything) else None
            slots = stance_slots[index]
            if slots is None:  # a problem
                text = _json_list(why) if why else "[]"
                problems.append(((index != top, -p), f'{heads[index]}{round(p, 3)!r}, "suggested": {"true" if flag else "false"}, "reasons": {text}}}'))
                continue
            if not slots:
                stance = "relies"
            elif why:
                stance, share = self.stance(self.node_ids[index], stance_scores)
                if share:
                    why.append(f"stance {stance}: {share:.0%} of the stance model's weight")
            else:
                stance = slot_names[max(slots, key=stance_scores.__getitem__)]
            text = _json_list(why) if why else "[]"
            assumptions.append((-p, f'{heads[index]}{stance}", "score": {round(p, 3)!r}, "suggested": {"true" if flag else "false"}, "reasons": {text}}}'))
        problems.sort(key=_first)
        assumptions.sort(key=_first)
        primary = f'"{self.node_ids[top]}"' if top is not None else "null"
        return (
            f'{{"id": {json_safe(encode_basestring(doc.id))}, "relevance": {round(s.relevance, 3)!r}, "primary": {primary}, '
            f'"problems": [{", ".join([t for _, t in problems])}], "assumptions": [{", ".join([t for _, t in assumptions])}]}}'
        )

    def _json_parts(self) -> tuple[list[str], list[Optional[list[int]]], dict[int, str]]:
        """Per tag, the JSON text before its score (a problem) or its stance (an assumption) and,
        for an assumption, its stance model's slots; and each slot's stance. Node ids are slugs
        (the taxonomy's pattern), safe to write as they are."""
        if self._json is None:
            heads: list[str] = []
            slots: list[Optional[list[int]]] = []
            for node_id, kind in zip(self.node_ids, self.kinds):
                if kind == "problem":
                    heads.append(f'{{"id": "{node_id}", "score": ')
                    slots.append(None)
                else:
                    heads.append(f'{{"id": "{node_id}", "stance": "')
                    slots.append([slot for _, slot in self.stance_slots.get(node_id, ())])
            names = {slot: stance for pairs in self.stance_slots.values() for stance, slot in pairs}
            self._json = heads, slots, names
        return self._json


def _first(item: tuple[Any, str]) -> Any:
    return item[0]


def _json_list(texts: list[str]) -> str:
    """A JSON array of strings, as ``json.dumps(..., ensure_ascii=False)`` writes it, made safe to print."""
    return json_safe("[" + ", ".join(map(encode_basestring, texts)) + "]")
