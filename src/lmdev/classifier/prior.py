"""The classifier's zero-label prior: seed phrases and descriptions from the taxonomy.

Each node's score is a saturating, length-normalised count of its phrases in the document
(BM25's shape): repeats add less and less, long abstracts do not win by length alone. Phrases are
matched on stems. A phrase that several nodes of one kind list is split between them: a word
that points to two problems is weaker evidence for each; so is one that a field's scope terms
also list ('vlm', 'prompts'), which names the kind of model more than the problem attacked.
One extra row, ``SCOPE``, scores the fields' own terms (what the tracker is about at all), and
one more, ``AGAINST_SCOPE``, their ``against`` phrases (domains a model is applied to, surveys),
both for relevance.

Among the taxonomy's own rows, phrases are matched longest first: where 'direct preference
optimization' is found, its words do not count again as 'preference optimization' (alignment's
too) or as 'optimization' (optimization's), nor 'prompt injection' as 'prompt'. Each reading of a
stretch of words counts once, for the phrase that says the most. The scope and against-scope rows
look at every word on their own: they ask what the paper is about, not what it attacks.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import compress, count, islice
from typing import Optional

from lmdev.taxonomy import Taxonomy
from lmdev.text import SKIP, stemmed, title_head

TERM = 1.0
AGAINST = -0.5
DESCRIPTION = 0.15
K1 = 1.2
B = 0.75
AVERAGE_LENGTH = 220.0

Phrase = tuple[str, ...]
SCOPE = "@scope"
AGAINST_SCOPE = "@against-scope"


class Prior:
    """Scores every taxonomy node from the words of one document.

    ``rarity`` weighs each phrase (keyed by its stems joined with spaces) by how rare it is in
    ordinary arXiv text, BM25's IDF: 'kv cache' says more than 'memory'. Without it every
    phrase counts the same.
    """

    def __init__(self, taxonomy: Taxonomy, rarity: Optional[Mapping[str, float]] = None) -> None:
        self.node_ids = [n.id for n in taxonomy]
        self.phrases: list[dict[Phrase, float]] = []
        self.labels: dict[Phrase, str] = {}  # a seed phrase as the taxonomy writes it, for reasons
        described = [{w for w in stemmed(n.node.description) if w not in SKIP and len(w) > 2} for n in taxonomy]
        spread = Counter(w for words in described for w in words)
        for n in taxonomy:
            for t in n.node.terms:
                self.labels.setdefault(tuple(stemmed(t)), t)
        listed = [{tuple(stemmed(t)) for t in n.node.terms} for n in taxonomy]
        sharing = Counter((n.kind, p) for n, phrases in zip(taxonomy, listed) for p in phrases)
        for f in taxonomy.data.fields:  # a phrase naming the kind of model says little of the problem
            for t in f.terms:
                sharing[("problem", tuple(stemmed(t)))] += 1
        for node, words, phrases in zip(taxonomy, described, listed):
            table: dict[Phrase, float] = {}
            for word in words:
                if spread[word] == 1:  # a word of one node's description only: distinctive
                    table[(word,)] = DESCRIPTION
            for phrase in phrases:
                table[phrase] = TERM / sharing[(node.kind, phrase)]
            for term in node.node.against:
                table[tuple(stemmed(term))] = AGAINST
            self.phrases.append({p: w for p, w in table.items() if p})
        scope: dict[Phrase, float] = {}
        domain: dict[Phrase, float] = {}
        for f in taxonomy.data.fields:
            scope.update({tuple(stemmed(t)): TERM for t in f.terms})
            domain.update({tuple(stemmed(t)): TERM for t in f.against})
        self.phrases.append({p: w for p, w in scope.items() if p and p not in domain})
        self.phrases.append({p: w for p, w in domain.items() if p})
        if rarity:
            self.phrases = [{p: w * rarity.get(" ".join(p), 1.0) for p, w in table.items()} for table in self.phrases]
        self.rows = [*self.node_ids, SCOPE, AGAINST_SCOPE]
        self.scope_index = len(self.node_ids)  # the fields' terms: about language models at all?
        self.against_index = self.scope_index + 1  # their against phrases: applying one to a domain?
        self.scope_firsts = frozenset(p[0] for p in self.phrases[self.scope_index])
        self.scope_lengths = sorted({len(p) for p in self.phrases[self.scope_index]})
        self.signature = hash(repr(self.phrases))
        self.single: dict[str, list[int]] = defaultdict(list)
        self.by_pair: dict[tuple[str, ...], list[tuple[Phrase, int]]] = defaultdict(list)
        for index, table in enumerate(self.phrases):
            for phrase in table:
                if len(phrase) == 1:
                    self.single[phrase[0]].append(index)
                else:
                    self.by_pair[phrase[:2]].append((phrase, index))
        self.single = dict(self.single)
        self.by_pair = dict(self.by_pair)
        # per word pair: the scope rows' phrases starting with it, and the taxonomy rows' phrases,
        # longest first, each with every (phrase, row) key that lists it (see :meth:`resolve`)
        self.starts: dict[tuple[str, ...], tuple[tuple[tuple[Phrase, int], ...], tuple[tuple[Phrase, tuple[tuple[Phrase, int], ...]], ...]]] = {}
        for pair, keys in self.by_pair.items():
            grouped: dict[Phrase, list[tuple[Phrase, int]]] = defaultdict(list)
            for key in keys:
                if key[1] < self.scope_index:
                    grouped[key[0]].append(key)
            longest_first = sorted(grouped.items(), key=lambda item: -len(item[0]))
            self.starts[pair] = (tuple(k for k in keys if k[1] >= self.scope_index), tuple((phrase, tuple(ks)) for phrase, ks in longest_first))
        self.pair_firsts = frozenset(pair[0] for pair in self.by_pair)
        self.single_weights = {w: [(i, self.phrases[i][(w,)]) for i in nodes] for w, nodes in self.single.items()}

    def counts(self, words: list[str], word_counts: Optional[Counter[str]] = None) -> list[dict[Phrase, int]]:
        """For each node, how often each of its phrases occurs in ``words`` (longest first, as
        :meth:`scores` counts them)."""
        found: list[dict[Phrase, int]] = [{} for _ in self.rows]
        word_counts = word_counts if word_counts is not None else Counter(words)
        tallies: dict[tuple[Phrase, int], int] = {}
        covered = self.resolve(words, tallies) if word_counts.keys() & self.pair_firsts else {}
        nested = self.scope_index
        for word in word_counts.keys() & self.single.keys():
            c = word_counts[word]
            for index in self.single[word]:
                n = c - covered.get(word, 0) if index < nested else c
                if n > 0:
                    found[index][(word,)] = n
        for (phrase, index), c in tallies.items():
            found[index][phrase] = c
        return found

    def resolve(self, words: list[str], tallies: dict[tuple[Phrase, int], int]) -> dict[str, int]:
        """Tally the phrases of two or more stems in ``words`` into ``tallies``, and return how
        many occurrences of each stem the taxonomy rows' longer phrases took (which its one-word
        phrases in those rows then do not count). Left to right, the longest taxonomy phrase
        starting at a word wins and covers its words; the scope rows' phrases are all tallied."""
        starts = self.starts
        covered: dict[str, int] = {}
        until = 0
        for i in compress(count(), map(starts.__contains__, zip(words, islice(words, 1, None)))):
            scope_keys, groups = starts[words[i], words[i + 1]]
            for key in scope_keys:
                phrase = key[0]
                if len(phrase) == 2 or tuple(words[i : i + len(phrase)]) == phrase:
                    tallies[key] = tallies.get(key, 0) + 1
            if i < until:
                continue
            for phrase, keys in groups:
                n = len(phrase)
                if n == 2 or tuple(words[i : i + n]) == phrase:
                    for key in keys:
                        tallies[key] = tallies.get(key, 0) + 1
                    until = i + n
                    for w in words[i:until]:
                        covered[w] = covered.get(w, 0) + 1
                    break
        return covered

    def head(self, title: str) -> list[str]:
        """The stems of a title's head (:func:`lmdev.text.title_head`), a setting being a kind
        of model where the fields' scope phrases name one: what the primary's ranking reads of
        the title."""
        return stemmed(title_head(title, self.names_model))

    def names_model(self, text: str) -> bool:
        """Whether some text holds one of the fields' scope phrases ('language models', 'VLMs')."""
        words = stemmed(text)
        table = self.phrases[self.scope_index]
        starts = compress(count(), map(self.scope_firsts.__contains__, words))
        return any(tuple(words[i : i + n]) in table for i in starts for n in self.scope_lengths)

    def scores(self, words: list[str], word_counts: Optional[Counter[str]] = None) -> list[float]:
        """Each node's prior score, then the scope and against-scope scores. Classifying goes
        through :func:`lmdev.classifier.scoring.tally` instead, which gives the same scores."""
        word_counts = word_counts if word_counts is not None else Counter(words)
        norm = K1 * (1 - B + B * len(words) / AVERAGE_LENGTH)
        totals = [0.0] * len(self.rows)
        single = self.single_weights
        for word in word_counts.keys() & single.keys():
            c = word_counts[word]
            saturated = c * (K1 + 1) / (c + norm)
            for index, weight in single[word]:
                totals[index] += weight * saturated
        if word_counts.keys() & self.pair_firsts:
            self.add_phrases(words, word_counts, norm, totals, {})
        return totals

    def add_phrases(self, words: list[str], word_counts: Mapping[str, int], norm: float, totals: list[float], tallies: dict[tuple[Phrase, int], int]) -> dict[str, int]:
        """Tally the phrases of two or more stems into ``tallies`` (longest first, :meth:`resolve`),
        add their scores to ``totals`` and take back what their words scored as one-word phrases;
        returns the occurrences those phrases took. Both :meth:`scores` and the classifier's hot
        path (:func:`lmdev.classifier.scoring.tally`) score the longer phrases here."""
        covered = self.resolve(words, tallies)
        for (phrase, index), c in tallies.items():
            totals[index] += self.phrases[index][phrase] * c * (K1 + 1) / (c + norm)
        if covered:
            self.uncount(covered, word_counts, norm, totals)
        return covered

    def uncount(self, covered: Mapping[str, int], word_counts: Mapping[str, int], norm: float, totals: list[float]) -> None:
        """Take back from the taxonomy rows what their one-word phrases scored for the
        occurrences a longer phrase covered (see :meth:`resolve`)."""
        nested = self.scope_index
        single = self.single_weights
        for word, k in covered.items():
            entries = single.get(word)
            if not entries:
                continue
            c = word_counts[word]
            left = c - k
            delta = (left * (K1 + 1) / (left + norm) if left > 0 else 0.0) - c * (K1 + 1) / (c + norm)
            for index, weight in entries:
                if index < nested:
                    totals[index] += weight * delta


def rarity(prior: Prior, documents: Iterable[list[str]]) -> dict[str, float]:
    """Each phrase's BM25 IDF over ``documents`` (stemmed words), divided by the mean over all
    phrases so that a typical phrase keeps weight 1, and kept within [0.25, 3]."""
    df: Counter[Phrase] = Counter()
    n = 0
    for words in documents:
        n += 1
        df.update({p for found in prior.counts(words) for p in found})
    phrases = {p for table in prior.phrases for p in table}
    if not n or not phrases:
        return {}
    idf = {p: math.log((n - df[p] + 0.5) / (df[p] + 0.5) + 1.0) for p in phrases}
    mean = sum(idf.values()) / len(idf)
    return {" ".join(p): round(min(max(v / mean, 0.25), 3.0), 4) for p, v in sorted(idf.items())}
