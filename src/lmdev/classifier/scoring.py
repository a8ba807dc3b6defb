"""The classifier's hot path: a document's learned scores and seed-term prior in one pass.

Bulk classification is bound by Python work per distinct word, so everything scoring needs
from a stem is found with one dictionary look-up (the model's *lexicon*): its idf, what it adds
to each slot (the tags' learned scores, relevance, the stance models), and the prior rows it is
a one-word seed phrase of. The positions where the prior's longer phrases can start are found
at C speed. The prior computed here is :meth:`Prior.scores`' (a test keeps them equal); only the
order in which a row's terms are added differs, which can move the last bit of a float.
"""

from __future__ import annotations

import math
from collections import Counter
from operator import mul
from typing import TYPE_CHECKING, Optional

from lmdev.classifier.prior import AVERAGE_LENGTH, K1, B, Phrase

if TYPE_CHECKING:
    from lmdev.classifier.model import Model

Slots = tuple[tuple[int, float], ...]
# idf (None: a stem only the prior knows), (slot, idf x weight) for a stem seen once,
# (slot, weight), and (prior row, weight) of the stem as a one-word seed phrase
Entry = tuple[Optional[float], Slots, Slots, Slots]
Tallies = dict[tuple[Phrase, int], int]  # per (seed phrase of two or more stems, prior row), how often


def lexicon(idf: dict[str, float], by_feature: dict[str, list[tuple[int, float]]], singles: dict[str, list[tuple[int, float]]]) -> dict[str, Entry]:
    """Every stem the learned models or the prior's one-word phrases know, with its :data:`Entry`."""
    out: dict[str, Entry] = {}
    for w in idf.keys() | singles.keys():
        v = idf.get(w)
        weights = tuple(by_feature.get(w, ())) if v is not None else ()
        units = tuple((slot, v * r) for slot, r in weights) if v is not None else ()
        out[w] = (v, units, weights, tuple(singles.get(w, ())))
    return out


def tally(model: Model, words: list[str], word_counts: Counter[str], phrases: Tallies) -> tuple[dict[str, float], float, list[float], list[float], dict[str, int]]:
    """The sublinear TF-IDF weights (unnormalised) and their L2 norm, every slot's weighted sum,
    the prior's scores (its longer phrases' tallies go to ``phrases``), and how many occurrences
    of each word those phrases took from the one-word phrases, in one pass over the document's
    distinct words."""
    lexicon_get = model.lexicon.get
    log = math.log
    raw: dict[str, float] = {}
    totals = [0.0] * len(model.base)
    prior = [0.0] * len(model.prior.rows)
    length = K1 * (1 - B + B * len(words) / AVERAGE_LENGTH)
    once = 1 * (K1 + 1) / (1 + length)  # BM25's saturation of a stem seen once
    for w, c in word_counts.items():
        entry = lexicon_get(w)
        if entry is None:
            continue
        v, units, weights, single = entry
        if c == 1:
            if v is not None:
                raw[w] = v
                for slot, u in units:
                    totals[slot] += u
            for index, weight in single:
                prior[index] += weight * once
            continue
        if v is not None:
            raw[w] = v = v * (1.0 + log(c))
            for slot, r in weights:
                totals[slot] += v * r
        if single:
            saturated = c * (K1 + 1) / (c + length)
            for index, weight in single:
                prior[index] += weight * saturated
    covered = model.prior.add_phrases(words, word_counts, length, prior, phrases)
    norm = math.sqrt(sum(map(mul, raw.values(), raw.values()))) or 1.0
    return raw, norm, [b + t / norm for b, t in zip(model.base, totals)], prior, covered


def heading_prior(model: Model, words: list[str]) -> list[float]:
    """The prior's scores of a few words (a title)."""
    prior = [0.0] * len(model.prior.rows)
    length = K1 * (1 - B + B * len(words) / AVERAGE_LENGTH)
    lexicon_get = model.lexicon.get
    word_counts = Counter(words)
    for w, c in word_counts.items():
        entry = lexicon_get(w)
        if entry is not None and entry[3]:
            saturated = c * (K1 + 1) / (c + length)
            for index, weight in entry[3]:
                prior[index] += weight * saturated
    model.prior.add_phrases(words, word_counts, length, prior, {})
    return prior
