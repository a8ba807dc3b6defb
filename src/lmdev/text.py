"""Tokenising titles and abstracts for the classifier (making data text safe for the documents
lmdev writes is :mod:`lmdev.doctext`'s, and for a terminal :mod:`lmdev.termtext`'s).

Kept small and fast: one pass per document, a bag of stemmed content words. Words are stemmed
(Snowball's English stemmer, memoised per word) so that 'retrieved', 'retrieval' and 'retrieving'
meet, and sentences that only announce a release ("Code is available at ...") are dropped, so
that boilerplate does not look like a topic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, Optional, Union

_PUNCTUATION = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})

STOP = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "more", "most", "much", "must", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "per", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "us", "very", "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "within", "without", "would", "you", "your", "yet", "however", "thus", "therefore", "show", "shows", "shown", "propose", "proposed", "paper", "approach", "method", "methods", "results", "result", "new", "use", "used", "using", "based", "work", "study", "task", "tasks", "model", "models"]
)

# British spellings that the stemmer would otherwise keep apart from the American ones.
_SPELLING = {"behaviour": "behavior", "behaviours": "behaviors", "behavioural": "behavioral", "modelling": "modeling", "modelled": "modeled", "labelled": "labeled", "labelling": "labeling", "analyse": "analyze", "analysed": "analyzed", "analyses": "analyzes", "analysing": "analyzing", "colour": "color", "favour": "favor", "centre": "center", "centred": "centered"}
# Words whose stem would merge them with an unrelated family ('optimal' with 'optimisation').
_KEEP = {"optimal": "optimal", "optimally": "optimal", "optimality": "optimal", "suboptimal": "suboptimal", "general": "general", "generally": "general"}
_ISE = re.compile(r"(?<=[lmnrt])is(e|ed|es|ing|er|ers|ation|ations)$")
_NOT_ISE = frozenset(["promise", "premise", "compromise", "expertise", "surprise", "enterprise", "comprise", "treatise", "merchandise", "otherwise"])


def _english_stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


_STEMS: dict[str, str] = {}
_SURFACE: dict[str, str] = {}  # per stem, the shortest word seen that has it: how reasons show it
_STEMMER: Any = None
_CACHE_LIMIT = 500_000


def _new_stem(word: str) -> str:
    """Stem a word not seen before, and remember it (stemming is the slow part; words repeat)."""
    global _STEMMER
    if len(_STEMS) >= _CACHE_LIMIT:
        _STEMS.clear()
        _SURFACE.clear()
    if word in _KEEP:
        spelled = _KEEP[word]
    else:
        spelled = _SPELLING.get(word, word)
        if spelled.endswith(("ise", "ised", "ises", "ising", "iser", "isers", "isation", "isations")) and not any(spelled.startswith(w) for w in _NOT_ISE):
            spelled = _ISE.sub(r"iz\1", spelled)
        if len(spelled) > 3 and spelled.endswith("s") and not any(v in spelled[:-1] for v in "aeiouy"):
            spelled = spelled[:-1]  # plurals of acronyms: llms, vlms, cnns
        elif len(spelled) > 3 and spelled.isalpha():
            if _STEMMER is None:
                _STEMMER = _english_stemmer()
            spelled = _STEMMER.stemWord(spelled)
    _STEMS[word] = spelled
    shown = _SURFACE.get(spelled)
    if shown is None or _plain(word) < _plain(shown):
        _SURFACE[spelled] = word
    return spelled


def _plain(word: str) -> tuple[bool, int, str]:
    """How well a word shows its stem: an uninflected form first, then the shortest."""
    return word.endswith(("s", "ed", "ing")), len(word), word


def surface(stem: str, preferred: Optional[dict[str, str]] = None) -> str:
    """A word to show for a stem ('specul' -> 'speculation'): the word ``preferred`` gives (say,
    the one a paper's title uses), else the plainest word this process has stemmed to it, else
    the stem itself."""
    if preferred and stem in preferred:
        return preferred[stem]
    return _SURFACE.get(stem, stem)


def surfaces(text: str) -> dict[str, str]:
    """Each stem of ``text`` with the word ``text`` writes for it (the first one)."""
    words = tokens(text)
    words.reverse()  # so that the first word of a stem is the one written last
    return dict(zip(stems(words), words))


def stem(word: str) -> str:
    """The stem of one folded word ('retrieval' -> 'retriev')."""
    return _STEMS.get(word) or _new_stem(word)


def stems(words: Iterable[str]) -> list[str]:
    """The stem of each word: one C-level pass over the memo, words not seen before filled in after."""
    out = list(map(_STEMS.get, words))
    if None in out:
        words = words if isinstance(words, list) else list(words)
        out = [s or _new_stem(w) for s, w in zip(out, words)]
    return out  # type: ignore[return-value]


SKIP = frozenset(stems(STOP)) | frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
"""Stems that never become features: stop words, single letters and digits."""


class _Folding(dict[int, Optional[str]]):
    """What :func:`fold` makes of each character of decomposed text, for ``str.translate``:
    combining marks dropped, letters and digits kept, anything else a space. Filled in as
    characters are met, so the translation runs at C speed (a character at a time in Python
    was a tenth of the JSON classification of an abstract with one accent); bounded, so text
    written to fill it costs time, not memory."""

    def __missing__(self, code: int) -> Optional[str]:
        char = chr(code)
        made = None if unicodedata.combining(char) else char if char.isalnum() else " "
        if len(self) < 20_000:
            self[code] = made
        return made


_FOLDING = _Folding()


def fold(text: str) -> str:
    """Lowercase with accents stripped, so 'Ré' and 're' meet."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).translate(_FOLDING).lower()


def written_as(folded: str, stemmed: str) -> Optional[str]:
    """The first word of ``folded`` (text through :func:`fold`) whose stem is ``stemmed``, found by
    searching for the stem less its last letter, which begins nearly every word that has it
    ('safet' for 'safeti' in 'safety', 'prun' for 'prune' in 'pruning'); None when no word begins
    so. Far cheaper than :func:`surfaces` over a whole abstract for the few terms a reason names."""
    start = stemmed[:-1] if len(stemmed) > 3 else stemmed
    end = len(folded)
    at = folded.find(start)
    while at >= 0:
        if at == 0 or not folded[at - 1].isalnum():
            stop = at + len(start)
            while stop < end and folded[stop].isalnum():
                stop += 1
            word = folded[at:stop]
            if stem(word) == stemmed:
                return word
        at = folded.find(start, at + 1)
    return None


def tokens(text: str) -> list[str]:
    """Every word, stop words included (seed phrases such as 'know what they know' need them).

    Words are runs of letters and digits; everything else separates them. A translate-and-split
    is twice as fast as a regular expression here, and tokenising dominates bulk classification.
    """
    return fold(text).translate(_PUNCTUATION).split()


# ASCII text (nearly every abstract) is tokenised as bytes: lowercasing and blanking punctuation
# in one table lookup per byte, about twice as fast as the str path, with the same words.
_ASCII_WORDS = bytes(ord(chr(c).lower()) if chr(c).isalnum() else 32 for c in range(128)) + b" " * 128
_BYTE_STEMS: dict[bytes, str] = {}


def _stemmed_ascii(text: str) -> tuple[list[str], list[bytes]]:
    words = text.encode("ascii").translate(_ASCII_WORDS).split()
    out = list(map(_BYTE_STEMS.get, words))
    if None in out:
        if len(_BYTE_STEMS) >= _CACHE_LIMIT:
            _BYTE_STEMS.clear()
        for n, (s, w) in enumerate(zip(out, words)):
            if s is None:
                out[n] = _BYTE_STEMS[w] = stem(w.decode("ascii"))
    return out, words  # type: ignore[return-value]


def stemmed(text: str) -> list[str]:
    """The stems of every word of ``text`` (how seed phrases are matched)."""
    if text.isascii():
        return _stemmed_ascii(text)[0]
    return stems(tokens(text))


Written = Union[list[str], list[bytes]]
"""Folded words as tokenising found them: ASCII text's stay bytes until one is shown."""


def stemmed_words(text: str) -> tuple[list[str], Written]:
    """The stems of ``text`` and, position by position, the folded words they come from: what a
    reason names a term by, at no cost beyond keeping them."""
    if text.isascii():
        return _stemmed_ascii(text)
    words = tokens(text)
    return stems(words), words


def shown_word(word: Union[str, bytes]) -> str:
    """A word of :data:`Written` as text."""
    return word.decode("ascii") if isinstance(word, bytes) else word


def features(words: list[str]) -> list[str]:
    """The content stems: stop words and single letters dropped."""
    return [w for w in words if w not in SKIP]


_SENTENCE_END = re.compile(r"[.!?]\s+")  # a sentence ends at the punctuation; the spaces go
_LINK = re.compile(r"https?:|www\.|github|huggingface\.co", re.IGNORECASE)
# A release is announced by one of a few rare verbs, after what is released (code, weights, data).
_RELEASED = re.compile(r"\b(available|released|open[- ]sourced|publicly|accessible)\b", re.IGNORECASE)
_SOFTWARE = re.compile(r"\b(code|codes|implementation|checkpoints|weights|demo|repository)\b", re.IGNORECASE)
_ARTEFACT = re.compile(r"\b(data|datasets?|models?|benchmark|resources)\b", re.IGNORECASE)
_RELEASE_HINTS = ("http", "www.", "github", "huggingface", "availab", "releas", "open-sourc", "open sourc", "publicly", "accessib")


def _announces_release(sentence: str) -> bool:
    """A link, or code/weights made available, or data/models released (within 80 characters)."""
    if len(sentence) >= 400:
        return False
    if _LINK.search(sentence):
        return True
    for verb in _RELEASED.finditer(sentence):
        before = sentence[max(0, verb.start() - 90) : verb.start()]
        if _SOFTWARE.search(before) or (verb.group(1).lower() != "available" and verb.group(1).lower() != "accessible" and _ARTEFACT.search(before)):
            return True
    return False


def strip_boilerplate(abstract: str) -> str:
    """The abstract without sentences that announce code, data or weights, or give a link.

    "Code is available at github.com/..." says nothing about the topic, yet 'code' reads like
    integration and 'hyperparameters' like optimisation; such sentences are dropped. The
    pattern only runs on sentences holding one of its words: on whole abstracts it backtracks.
    """
    lowered = abstract.lower()
    if not any(hint in lowered for hint in _RELEASE_HINTS):
        return abstract
    sentences = _sentences(abstract)
    kept = [s for s in sentences if not (_has_hint(s) and _announces_release(s))]
    return abstract if len(kept) == len(sentences) else " ".join(kept)


def _sentences(text: str) -> list[str]:
    """``re.split(r"(?<=[.!?])\\s+", text)``, a third of the time: a pattern that starts with its
    character class lets the matcher skip ahead, where a look-behind tries every position."""
    out = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        out.append(text[start : match.start() + 1])
        start = match.end()
    out.append(text[start:])
    return out


def _has_hint(sentence: str) -> bool:
    """Whether a sentence holds one of the words every release announcement has (cheap substring
    tests, so the patterns run on one or two sentences of an abstract instead of all)."""
    folded = sentence.casefold()  # as the patterns' IGNORECASE compares ('ſ' is an 's')
    return any(hint in folded for hint in _RELEASE_HINTS)


# Where a title may turn from what a paper does to what it is done to ("Token Pruning for
# Vision-Language Models", "Stabilising Temporal Encoding in Video LLMs").
_SETTING = re.compile(r"\s(?:for|in|on|across|under|to)\s", re.IGNORECASE)
_NAME_COLON = re.compile(r":\s")  # "DocSLM: A ...", not the "2:4" of a sparsity ratio
_TITLE_READ = 300  # characters: every real title; a longer one is not read further


def title_head(title: str, names_model: Callable[[str], bool]) -> str:
    """The part of a title that names what the paper does: after a system's name ("DocSLM: A
    Small Vision-Language Model ...") and without each setting that ``names_model`` says is a
    kind of model ("... in Video LLMs"), up to the next setting word, so a goal after it stays
    ("... for Factual Accuracy"). A name or a setting says 'agent' or 'VLM' where the
    contribution is its safety or efficiency. Each stretch is read once: linear in the title."""
    title = title[:_TITLE_READ]
    colon = _NAME_COLON.search(title)
    if colon is not None and len(title[colon.end() :].split()) >= 3:
        title = title[colon.end() :]
    found = [m for m in _SETTING.finditer(title) if m.start() > 0]
    kept: list[str] = []
    start = 0
    for n, setting in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(title)
        if names_model(title[setting.end() : end]):
            kept.append(title[start : setting.start()])
            start = end
    kept.append(title[start:])
    return "".join(kept)


def document_tokens(title: str, abstract: str) -> list[str]:
    """The stems the classifier reads: the title twice (a cheap title boost), then the abstract."""
    return document_words(title, abstract)[0]


def document_words(title: str, abstract: str) -> tuple[list[str], Written, Written]:
    """:func:`document_tokens`, with the words of the title and of the abstract they come from."""
    head, title_words = stemmed_words(title)
    body, abstract_words = stemmed_words(strip_boilerplate(abstract))
    return head + head + body, title_words, abstract_words
