"""Tokenising titles and abstracts, shared by the classifier's prior and its learned model.

Kept small and fast: one regex pass per document, bag of unigrams and bigrams.
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[a-z][a-z0-9]*")

STOP = frozenset(
    """a about above after again against all also an and any are as at be been before being below between both but by can
    could did do does doing down during each few for from further had has have having he her here hers how i if in into is
    it its itself just may more most much must no nor not now of off on once only or other our out over own per same she
    should so some such than that the their them then there these they this those through to too under until up upon us
    very via was we were what when where which while who whom why will with within without would you your yet however
    thus therefore show shows shown propose proposed paper approach method methods results result new use used using
    based work study task tasks model models""".split()
)


SKIP = STOP | frozenset("abcdefghijklmnopqrstuvwxyz")
"""Words that never become features: stop words and single letters."""


def fold(text: str) -> str:
    """Lowercase with accents stripped, so 'Ré' and 're' meet."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    """Every word, stop words included (seed phrases such as 'know what they know' need them)."""
    return _TOKEN.findall(fold(text))


def features(words: list[str]) -> list[str]:
    """Unigrams and adjacent bigrams of the content words."""
    content = [w for w in words if w not in SKIP]
    return content + [f"{a} {b}" for a, b in zip(content, content[1:])]


def document_tokens(title: str, abstract: str) -> list[str]:
    """The words the classifier reads: the title twice (a cheap title boost), then the abstract."""
    head = tokens(title)
    return head + head + tokens(abstract)
