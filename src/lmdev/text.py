"""Tokenising titles and abstracts, shared by the classifier's prior and its learned model.

Kept small and fast: one pass per document, a bag of content words. (Bigrams were tried:
cross-validated F1 on the shipped tags was the same, and bulk classification 10 % slower.)
"""

from __future__ import annotations

import unicodedata

_PUNCTUATION = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})

STOP = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "more", "most", "much", "must", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "per", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "us", "very", "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "within", "without", "would", "you", "your", "yet", "however", "thus", "therefore", "show", "shows", "shown", "propose", "proposed", "paper", "approach", "method", "methods", "results", "result", "new", "use", "used", "using", "based", "work", "study", "task", "tasks", "model", "models"]
)


SKIP = STOP | frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
"""Words that never become features: stop words, single letters and digits."""


def fold(text: str) -> str:
    """Lowercase with accents stripped, so 'Ré' and 're' meet."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    """Every word, stop words included (seed phrases such as 'know what they know' need them).

    Words are runs of letters and digits; everything else separates them. A translate-and-split
    is twice as fast as a regular expression here, and tokenising dominates bulk classification.
    """
    return fold(text).translate(_PUNCTUATION).split()


def features(words: list[str]) -> list[str]:
    """The content words: stop words and single letters dropped."""
    return [w for w in words if w not in SKIP]


def document_tokens(title: str, abstract: str) -> list[str]:
    """The words the classifier reads: the title twice (a cheap title boost), then the abstract."""
    head = tokens(title)
    return head + head + tokens(abstract)
