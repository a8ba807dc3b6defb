"""BibTeX export: stable citekeys, entry types that fit, LaTeX special characters escaped.

Citekeys themselves are made in :mod:`lmdev.citekeys`; an export never stores one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lmdev.citekeys import assign_citekeys, citekey_base
from lmdev.models import Paper

__all__ = ["assign_citekeys", "citekey_base", "entry", "escape", "render"]

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
