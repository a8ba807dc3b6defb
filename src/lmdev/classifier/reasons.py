"""Why the classifier suggests a tag: the terms that weighed most, the seed phrases found and,
on request, the nearest tagged papers. Terms are shown as words ('speculation'), not as the
stems the model reads ('specul'). Kept apart from scoring: only suggested tags need reasons,
and the nearest-paper search is the costliest part of a paper's classification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from lmdev.text import fold, shown_word, surface, surfaces, written_as

if TYPE_CHECKING:
    from lmdev.classifier.model import Doc, Model, Scores

LIKE_FEATURES = 10  # a document's strongest features used to find the tagged papers it is like


class Explainer:
    """Reasons for one document's tags; the costly parts are computed once, on first need."""

    def __init__(self, model: Model, doc: Doc, scores: Scores, *, neighbours: bool) -> None:
        self.model = model
        self.neighbours = neighbours  # the nearest tagged papers: the costliest reason
        self.doc = doc
        self.scores = scores
        self._vector: Optional[dict[str, float]] = None
        self._similar: Optional[dict[str, float]] = None
        self._shown: Optional[dict[str, str]] = None
        self._folded: Optional[str] = None
        self._told: Optional[dict[str, str]] = None

    @property
    def shown(self) -> dict[str, str]:
        """The title's own word for each of its stems: how a term is named in the reasons."""
        if self._shown is None:
            self._shown = surfaces(self.doc.title)
        return self._shown

    def word(self, stem: str) -> str:
        """How to name a term: the title's word for it, else the abstract's, so a reason reads
        the same whatever else this process has classified."""
        doc = self.doc
        if doc.written is not None and stem in self.scores.word_counts:
            title_words, abstract_words = doc.written
            at = doc.words.index(stem)  # the title comes twice: a first occurrence is in its first copy or after both
            n = len(title_words)
            return shown_word(title_words[at] if at < n else abstract_words[at - 2 * n])
        shown = self.shown
        if stem in shown:
            return shown[stem]
        if self._folded is None:
            self._folded = fold(self.doc.abstract)
        found = written_as(self._folded, stem)
        if found is not None:
            return found
        if self._told is None:  # a word its stem does not begin ('study' for 'studi')
            self._told = surfaces(self.doc.abstract)
        return surface(stem, self._told)

    @property
    def norm(self) -> float:
        return self.scores.norm

    @property
    def vector(self) -> dict[str, float]:
        if self._vector is None:
            norm = self.norm
            self._vector = {f: v / norm for f, v in self.scores.raw.items()}
        return self._vector

    @property
    def similar(self) -> dict[str, float]:
        """Cosine similarity to every tagged paper, on pruned vectors (this document's strongest
        features against each paper's): nearly the same neighbours at a tenth of the cost."""
        if self._similar is None:
            sims: dict[str, float] = {}
            index = self.model.doc_index
            for v, f in sorted([(v, f) for f, v in self.vector.items()], reverse=True)[:LIKE_FEATURES]:
                for pid, w in index.get(f, ()):
                    sims[pid] = sims.get(pid, 0.0) + v * w
            sims.pop(self.doc.id, None)
            self._similar = sims
        return self._similar

    def reasons(self, index: int) -> list[str]:
        model = self.model
        out = []
        scores = self.scores
        gains = model.gains[index]
        if gains:
            raw = scores.raw
            norm = self.norm  # the weight of a term in the unit vector, as the score used it
            terms = sorted([(raw[f] / norm * gains[f], f) for f in raw.keys() & gains.keys()], reverse=True)[:5]
            if terms:
                top = [f"{self.word(f)} ({c:+.2f})" for c, f in terms if c > 0]
                if top:
                    out.append("terms: " + ", ".join(top))
        found = self.seeds(index)
        if found:
            labels = model.prior.labels
            out.append("seed terms: " + ", ".join([labels.get(p) or " ".join(p) for _, p in sorted(found)[:5]]))
        if not self.neighbours:
            out.append(model.closings[index])
            return out
        similar = self.similar
        tagged = model.tagged[index]
        near = sorted([(v, pid) for pid, v in similar.items() if v > 0 and pid in tagged], reverse=True)[:3]
        if near:
            docs = model.data["docs"]
            out.append("like: " + "; ".join(f"{pid} {docs[pid]['title'][:60]}" for _, pid in near))
        out.append(model.closings[index])
        return out

    def seeds(self, index: int) -> list[tuple[int, tuple[str, ...]]]:
        """(minus its count, phrase) for each seed phrase of a tag strong enough to name (weight
        over 0.3) found in the document, as the prior counted it (a word a longer phrase took
        is not counted again); a longer phrase counts once."""
        scores = self.scores
        singles, longer = self.model.strong[index]
        counts, covered = scores.word_counts, scores.covered
        out: list[tuple[int, tuple[str, ...]]] = []
        for w in counts.keys() & singles:
            n = covered.get(w, 0) - counts[w]
            if n < 0:
                out.append((n, (w,)))
        if longer:
            out += [(-1, p) for p, row in scores.phrases if row == index and p in longer]
        return out
