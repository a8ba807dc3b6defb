"""The classifier's zero-label prior: seed phrases and descriptions from the taxonomy.

Each node's score is a saturating, length-normalised count of its phrases in the document
(BM25's shape): repeats add less and less, long abstracts do not win by length alone.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

from lmdev.taxonomy import Taxonomy
from lmdev.text import STOP, tokens

TERM = 1.0
AGAINST = -0.5
DESCRIPTION = 0.15
K1 = 1.2
B = 0.75
AVERAGE_LENGTH = 220.0

Phrase = tuple[str, ...]


class Prior:
    """Scores every taxonomy node from the words of one document."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.node_ids = [n.id for n in taxonomy]
        self.phrases: list[dict[Phrase, float]] = []
        for node in taxonomy:
            table: dict[Phrase, float] = {}
            for word in tokens(node.node.description):
                if word not in STOP and len(word) > 2:
                    table[(word,)] = DESCRIPTION
            for term in node.node.terms:
                table[tuple(tokens(term))] = TERM
            for term in node.node.against:
                table[tuple(tokens(term))] = AGAINST
            self.phrases.append({p: w for p, w in table.items() if p})
        self.by_first: dict[str, list[tuple[Phrase, int, float]]] = defaultdict(list)
        for index, table in enumerate(self.phrases):
            for phrase, weight in table.items():
                self.by_first[phrase[0]].append((phrase, index, weight))
        self.max_len = max((len(p) for t in self.phrases for p in t), default=1)

    def counts(self, words: list[str]) -> list[dict[Phrase, int]]:
        found: list[dict[Phrase, int]] = [{} for _ in self.node_ids]
        by_first = self.by_first
        for i, word in enumerate(words):
            entries = by_first.get(word)
            if not entries:
                continue
            for phrase, index, _ in entries:
                if len(phrase) == 1 or tuple(words[i : i + len(phrase)]) == phrase:
                    bucket = found[index]
                    bucket[phrase] = bucket.get(phrase, 0) + 1
        return found

    def scores(self, words: list[str], counts: Optional[list[dict[Phrase, int]]] = None) -> list[float]:
        counts = counts if counts is not None else self.counts(words)
        norm = K1 * (1 - B + B * len(words) / AVERAGE_LENGTH)
        result = []
        for table, found in zip(self.phrases, counts):
            total = 0.0
            for phrase, c in found.items():
                total += table[phrase] * c * (K1 + 1) / (c + norm)
            result.append(total)
        return result

    def matched(self, words: list[str], index: int, limit: int = 5) -> list[str]:
        """The node's seed phrases found in the document, strongest first (for explanations)."""
        found = self.counts(words)[index]
        table = self.phrases[index]
        ranked = sorted((p for p in found if table[p] >= TERM), key=lambda p: (-found[p], p))
        return [" ".join(p) for p in ranked[:limit]]
