"""BibTeX export: stable citekeys, entry types that fit, LaTeX special characters escaped.

Citekeys are made once (first author's surname, year, first title word; ASCII; ``a``/``b``
suffixes on clashes), stored in the paper file, and never regenerated: a citation in someone's
manuscript must not break because metadata was refreshed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from lmdev.models import Paper
from lmdev.text import STOP, fold

if TYPE_CHECKING:
    from lmdev.index import Index

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_SPECIAL_RE = re.compile(r"[\\&%$#_{}~^]")


def escape(text: str) -> str:
    """Escape LaTeX's special characters. Balanced ``$...$`` spans (arXiv titles use them for
    math, such as ``H$_2$O``) are kept as written when their braces balance."""
    parts = text.split("$")
    if len(parts) % 2 == 1 and len(parts) > 1 and all(_balanced(p) for p in parts[1::2]):
        return "".join(_plain(p) if i % 2 == 0 else f"${p}$" for i, p in enumerate(parts))
    return _plain(text)


def _plain(text: str) -> str:
    return _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], text)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def citekey_base(paper: Paper) -> str:
    surname = _ascii_word(paper.first_author.split()[-1]) if paper.authors else "anon"
    words = [_ascii_word(w) for w in re.split(r"[\s\-:]+", paper.title)]
    first = next((w for w in words if w and w not in STOP and not w.isdigit()), "untitled")
    return f"{surname or 'anon'}{paper.year or 'nd'}{first}"


def assign_citekeys(papers: Iterable[Paper], taken: set[str]) -> list[Paper]:
    """Give each paper without a citekey a new one not in ``taken``; returns the papers changed."""
    changed = []
    for paper in sorted(papers, key=lambda p: (p.year or 0, p.id)):
        if paper.citekey:
            continue
        base = citekey_base(paper)
        key, n = base, 0
        while key in taken:
            key = base + _suffix(n)
            n += 1
        paper.citekey = key
        taken.add(key)
        changed.append(paper)
    return changed


def _suffix(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(97 + r) + letters
    return letters


def entry(paper: Paper) -> str:
    """One entry: ``@article`` when there is a journal reference or DOI, else ``@misc``."""
    kind = "article" if paper.journal_ref or paper.doi else "misc"
    fields: list[tuple[str, str]] = [
        ("title", "{" + escape(paper.title) + "}"),
        ("author", " and ".join(escape(a) for a in paper.authors) or "Anonymous"),
        ("year", str(paper.year) if paper.year else ""),
    ]
    if kind == "article":
        fields.append(("journal", escape(paper.journal_ref) if paper.journal_ref else "arXiv preprint arXiv:" + escape(paper.id)))
    if paper.is_arxiv:
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv"), ("primaryClass", paper.primary_category or "")]
    fields += [("doi", escape(paper.doi) if paper.doi else ""), ("url", paper.link)]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{kind}{{{paper.citekey},\n{body}\n}}\n"


def render(papers: Iterable[Paper], taken: Iterable[str] = ()) -> str:
    """BibTeX for ``papers``. A paper without a stored citekey gets one for this output only
    (avoiding ``taken``, the keys stored in the library): exporting never rewrites paper files."""
    chosen = list(papers)
    missing = [p.model_copy() for p in chosen if not p.citekey]
    assign_citekeys(missing, set(taken))
    keyed = {p.id: p for p in missing}
    return "\n".join(entry(keyed.get(p.id, p)) for p in chosen)


def indexed_citekeys(index: Index, where: str = "1", params: Iterable[Any] = ()) -> dict[str, str]:
    """The keys :func:`render` would give the selected papers that have none: id -> key.

    Keys are handed out in :func:`assign_citekeys`'s order, avoiding every key stored in the library.
    """
    taken = {key for (key,) in index.query("SELECT citekey FROM papers WHERE error IS NULL AND citekey IS NOT NULL")}
    keys: dict[str, str] = {}
    for paper in index.papers(f"citekey IS NULL AND ({where})", params, order="coalesce(year, 0), id, name"):
        assign_citekeys([paper], taken)
        keys[paper.id] = paper.citekey or ""
    return keys


def entry_chunks(papers: Iterable[Paper], keys: dict[str, str]) -> Iterator[str]:
    """:func:`render`'s text one entry at a time, with the keys of :func:`indexed_citekeys`."""
    first = True
    for paper in papers:
        if not paper.citekey:
            paper.citekey = keys[paper.id]
        yield entry(paper) if first else "\n" + entry(paper)
        first = False
