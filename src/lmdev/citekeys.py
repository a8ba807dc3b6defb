"""Citekeys: made once (first author's surname, year, first title word; ASCII; ``a``/``b``
suffixes on clashes), stored in the paper file, and never regenerated, so that a citation in
someone's manuscript does not break when metadata is refreshed.

Keys are assigned when a paper is added, tagged or refreshed (and by ``lmdev citekeys``);
commands that only read never write one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from lmdev import yamlio
from lmdev.errors import DataError, NotFoundError
from lmdev.models import Paper, check_citekey
from lmdev.text import STOP, fold

if TYPE_CHECKING:
    from lmdev.store import Library

# A top-level ``citekey:`` line, its value optionally quoted and followed by a comment.
_LINE = re.compile(r"""^citekey:[ \t]*(?:'(?P<q1>[^'\n]*)'|"(?P<q2>[^"\n]*)"|(?P<plain>[^\s#'"][^\n#]*?))[ \t]*(?:#[^\n]*)?$""", re.M)
# What a citekey may hold: BibTeX allows much, but not spaces, commas, braces or quotes.
VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:.+/-]{0,99}")  # the rule a paper file's citekey must keep (lmdev.models)


def usable(key: str) -> bool:
    """Whether a key from outside (a BibTeX entry's) can be a paper's citekey: the paper file's
    rule (:func:`lmdev.models.check_citekey`: no arXiv id, say) within :data:`VALID`'s length."""
    try:
        check_citekey(key)
    except ValueError:
        return False
    return VALID.fullmatch(key) is not None


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


_TITLE_WORDS = re.compile(r"[\s\-:]+")
_TITLE_READ = 300  # characters of a title read for its first word (every real title)
WORD_CUT = 30  # characters of the surname and of the title word: a key stays within VALID's 100


def _surname(author: str) -> str:
    """The family name: the last word before any comma, which ends both the 'Last, First' form a
    BibTeX import may bring ("O'Brien, Pat") and a name with a suffix ("Guido van Rossum, Jr.")."""
    words = author.partition(",")[0].split()
    return _ascii_word(words[-1]) if words else ""


def citekey_base(paper: Paper) -> str:
    surname = _surname(paper.first_author)[:WORD_CUT] if paper.authors else "anon"
    words = (_ascii_word(w) for w in _TITLE_WORDS.split(paper.title[:_TITLE_READ]))  # lazily: every index row makes one
    first = next((w for w in words if w and w not in STOP and not w.isdigit()), "untitled")[:WORD_CUT]
    return f"{surname or 'anon'}{paper.year or 'nd'}{first}"


def assign_citekeys(papers: Iterable[Paper], taken: set[str]) -> list[Paper]:
    """Give each paper without a citekey a new one not in ``taken``; returns the papers changed."""
    changed = []
    for paper in sorted(papers, key=lambda p: (p.year or 0, p.id)):
        if paper.citekey:
            continue
        key = suffixed(citekey_base(paper), taken)
        paper.citekey = key
        taken.add(key)
        changed.append(paper)
    return changed


def suffixed(base: str, taken: set[str]) -> str:
    """``base``, or with the first letter suffix (a, b, ... z, aa) that makes it not ``taken``."""
    key, n = base, 0
    while key in taken:
        key = base + _suffix(n)
        n += 1
    return key


def _suffix(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(97 + r) + letters
    return letters


def stored_citekeys(library: Library) -> dict[str, str]:
    """Citekey -> file name for every paper file, read from the ``citekey:`` lines alone (no
    file is parsed, so the lookup stays fast on large libraries)."""
    found: dict[str, str] = {}
    for path in library.files():
        try:  # the bounded reader: a FIFO or a link to /dev/zero named like a paper is skipped
            text = yamlio.read_bytes(path, follow_symlinks=False).decode("utf-8", errors="replace")
        except DataError:
            continue
        match = _LINE.search(text)
        if match:
            key = match.group("q1") or match.group("q2") or match.group("plain") or ""
            found.setdefault(key, path.name)
    return found


class Assigner:
    """Gives papers a citekey on their way to disk; reads the library's keys once, on first need."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._taken: Optional[set[str]] = None

    def __call__(self, paper: Paper) -> bool:
        if paper.citekey:
            return False
        if self._taken is None:
            self._taken = set(stored_citekeys(self.library))
        assign_citekeys([paper], self._taken)
        return True

    def claim(self, key: str) -> bool:
        """Reserve ``key`` (a citekey brought in from outside); False if a paper already has it."""
        if self._taken is None:
            self._taken = set(stored_citekeys(self.library))
        if key in self._taken:
            return False
        self._taken.add(key)
        return True


def assign_missing(library: Library, ids: Optional[Iterable[str]] = None) -> list[Paper]:
    """``lmdev citekeys``: give every paper (or those in ``ids``) that lacks a citekey one, and save it."""
    wanted = {library.resolve(i) for i in ids} if ids is not None else None
    everything = library.papers()
    if wanted is not None:
        absent = sorted(wanted - {p.id for p in everything})
        if absent:
            raise library.missing(absent[0])
    papers = [p for p in everything if not p.citekey and (wanted is None or p.id in wanted)]
    taken = {p.citekey for p in everything if p.citekey}
    given: list[Paper] = []
    for paper in assign_citekeys(papers, taken):
        key = paper.citekey

        def give(stored: Paper, key: Optional[str] = key) -> None:
            # re-read under the lock: a tag or note written since the listing above stays
            if stored.citekey is None:
                stored.citekey = key

        try:
            library.update(paper.id, give)
        except NotFoundError:
            continue  # removed meanwhile: it stays removed
        given.append(paper)
    return given
