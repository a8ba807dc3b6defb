"""BibTeX export: stable citekeys, entry types that fit, LaTeX special characters escaped.

Citekeys themselves are made in :mod:`lmdev.citekeys`; an export never stores one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from lmdev.citekeys import assign_citekeys, citekey_base
from lmdev.doctext import printable
from lmdev.models import Paper

__all__ = ["assign_citekeys", "citekey_base", "entry", "escape", "render"]

if TYPE_CHECKING:
    from lmdev.index import Index

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_UNCOUNTED = {**_SPECIAL, "{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
_SPECIAL_RE = re.compile(r"[\\&%$#_{}~^]")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
# Control sequences a title's math may use. Anything else (\input, \write18, \def, \csname...)
# makes the whole value escaped as plain text, so a paper file can never make LaTeX run a command.
_MATH_COMMANDS = frozenset(
    ["alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "mathcal", "mathbf", "mathrm", "mathbb", "mathit", "mathsf", "mathtt", "mathfrak", "boldsymbol", "text", "textrm", "textit", "textbf", "textsc", "operatorname", "frac", "sqrt", "sum", "prod", "int", "oint", "log", "ln", "exp", "min", "max", "sup", "inf", "lim", "arg", "det", "cdot", "times", "div", "pm", "mp", "leq", "geq", "le", "ge", "neq", "ne", "approx", "sim", "simeq", "cong", "equiv", "propto", "ll", "gg", "infty", "partial", "nabla", "ell", "hbar", "to", "rightarrow", "leftarrow", "Rightarrow", "Leftarrow", "leftrightarrow", "Leftrightarrow", "mapsto", "uparrow", "downarrow", "in", "notin", "subset", "subseteq", "supset", "supseteq", "cup", "cap", "setminus", "emptyset", "varnothing", "forall", "exists", "neg", "land", "lor", "oplus", "otimes", "ldots", "cdots", "dots", "vdots", "ddots", "left", "right", "big", "Big", "bigg", "Bigg", "hat", "tilde", "bar", "vec", "dot", "ddot", "overline", "underline", "widehat", "widetilde", "prime", "circ", "star", "ast", "dagger", "langle", "rangle", "lfloor", "rfloor", "lceil", "rceil", "mid", "vert", "Vert", "quad", "qquad"]
)
_MATH_SYMBOLS = frozenset(",;:! {}|\\")


def escape(text: str) -> str:
    """Escape LaTeX's special characters, so a value can neither close its BibTeX field nor run
    TeX. Balanced ``$...$`` spans (arXiv titles use them for math, such as ``H$_2$O``) are kept
    as written when their braces balance as BibTeX counts them and they use only math commands.

    BibTeX counts braces even when escaped, so ``\\}`` could still close a field: when the
    braces of a value do not pair up, they are written as ``\\textbraceleft{}`` and
    ``\\textbraceright{}`` instead, which BibTeX does not count.
    """
    text = printable(text)
    parts = text.split("$")
    math = len(parts) % 2 == 1 and len(parts) > 1 and all(_safe_math(p) for p in parts[1::2])
    for braces in (True, False):
        if math:
            out = "".join(_plain(p, braces) if i % 2 == 0 else f"${p}$" for i, p in enumerate(parts))
        else:
            out = _plain(text, braces)
        if _balanced(out):
            break
    return out


def _plain(text: str, braces: bool = True) -> str:
    special = _SPECIAL if braces else _UNCOUNTED
    return _SPECIAL_RE.sub(lambda m: special[m.group(0)], text)


def _balanced(text: str) -> bool:
    """Whether BibTeX, which counts every brace, escaped or not, sees the braces pair up."""
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _safe_math(span: str) -> bool:
    if "%" in span.replace("\\%", "") or "^^" in span or "#" in span or not _balanced(span):
        return False  # a comment would swallow the closing brace; ^^5c spells a backslash
    return all(m.group(1) in _MATH_COMMANDS or m.group(1) in _MATH_SYMBOLS for m in _COMMAND.finditer(span))


_NAME_SPLITS = re.compile(r"(?:^|\s)and(?:\s|$)|,", re.IGNORECASE)
_VERBATIM = re.compile(r"[^\s{}\\%]+")


def _author(name: str) -> str:
    """An author as BibTeX reads one: a name holding the word 'and' (which BibTeX splits names
    on) or a comma (which makes it 'Last, First') is braced whole, so it stays one name as written."""
    text = escape(name)
    return "{" + text + "}" if _NAME_SPLITS.search(name) else text


def _verbatim(value: str) -> str:
    """A DOI as written: biblatex reads the field verbatim, so an escaped underscore would be a
    backslash in the link. One holding a brace, backslash, percent sign or space is escaped."""
    return value if _VERBATIM.fullmatch(value) else escape(value)


def entry(paper: Paper) -> str:
    """One entry: ``@article`` when there is a journal reference, or a DOI of an arXiv paper (its
    journal 'arXiv preprint'), else ``@misc``."""
    kind = "article" if paper.journal_ref or (paper.doi and paper.is_arxiv) else "misc"
    fields: list[tuple[str, str]] = [
        ("title", "{" + escape(paper.title) + "}"),
        ("author", " and ".join(map(_author, paper.authors)) or "Anonymous"),
        ("year", str(paper.year) if paper.year else ""),
    ]
    if kind == "article":
        fields.append(("journal", escape(paper.journal_ref) if paper.journal_ref else "arXiv preprint arXiv:" + escape(paper.id)))
    if paper.is_arxiv:
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv"), ("primaryClass", escape(paper.primary_category or ""))]
    fields += [("doi", _verbatim(paper.doi) if paper.doi else ""), ("url", paper.link)]
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

    Keys are handed out in :func:`assign_citekeys`'s order over *every* paper of the library
    without one, avoiding every key stored, so a paper's key is the same whatever an export or
    reading list selects (two reading lists' .bib files join without one key for two papers).
    """
    from lmdev.citekeys import suffixed

    taken = {key for (key,) in index.query("SELECT citekey FROM papers WHERE error IS NULL AND citekey IS NOT NULL")}
    wanted = {paper_id for (paper_id,) in index.query(f"SELECT id FROM papers WHERE error IS NULL AND citekey IS NULL AND ({where})", tuple(params))}
    keys: dict[str, str] = {}
    for paper_id, base in index.query("SELECT id, key_base FROM papers WHERE error IS NULL AND citekey IS NULL ORDER BY coalesce(year, 0), id, name"):
        key = suffixed(base, taken)
        taken.add(key)
        if paper_id in wanted:
            keys[paper_id] = key
    return keys


def entry_chunks(papers: Iterable[Paper], keys: dict[str, str]) -> Iterator[str]:
    """:func:`render`'s text one entry at a time, with the keys of :func:`indexed_citekeys`."""
    first = True
    for paper in papers:
        if not paper.citekey:
            paper.citekey = keys[paper.id]
        yield entry(paper) if first else "\n" + entry(paper)
        first = False
