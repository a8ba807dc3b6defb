"""Training the stance models: for each assumption, which stance (relies, supports, challenges)
a paper takes, from the papers tagged with it (see :mod:`lmdev.classifier.training`)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from lmdev.classifier.fitting import add_into, log_ratio
from lmdev.models import STANCES, Paper
from lmdev.taxonomy import Taxonomy

KEEP_STANCE_WEIGHTS = 40


def train_stances(taxonomy: Taxonomy, tagged: Sequence[Paper], vectors: Sequence[dict[str, float]], vocab_size: int) -> dict[str, Any]:
    """Per assumption: stance frequencies plus a naive-Bayes log ratio of each stance vs the rest."""
    out: dict[str, Any] = {}
    for node in taxonomy.assumptions:
        rows = [(p.assumption_stances()[node.id], v) for p, v in zip(tagged, vectors) if node.id in p.assumption_stances()]
        if not rows:
            continue
        counts = Counter(s for s, _ in rows)
        model: dict[str, Any] = {"log_prior": {s: round(math.log((counts[s] + 0.5) / (len(rows) + 1.5)), 4) for s in STANCES}, "weights": {}}
        for stance in STANCES:
            pos: dict[str, float] = {}
            neg: dict[str, float] = {}
            for s, v in rows:
                add_into(pos if s == stance else neg, v)
            model["weights"][stance] = log_ratio(pos, neg, vocab_size, KEEP_STANCE_WEIGHTS) if pos and neg else {}
        out[node.id] = model
    return out
