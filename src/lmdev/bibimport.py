"""``lmdev import``: a BibTeX file (a Zotero or Better BibTeX export) becomes papers.

Entries that name an arXiv paper (``eprint``, an arXiv URL or DOI, ``arXiv:ID`` in ``journal``
or ``note``) are fetched from arXiv, so their metadata is arXiv's; the others become URL
entries with the metadata the BibTeX file gives (nothing is invented: a year without a date is
stored as ``published_year``). An entry's citekey is kept whenever no other paper has it, so
citations in the group's manuscripts keep working. Entries matching a paper on file (same arXiv
id, DOI or title) are merged: the paper only gains the citekey if it had none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from lmdev import yamlio
from lmdev.citekeys import Assigner, usable
from lmdev.errors import DataError, InvalidIdError, NotFoundError
from lmdev.ids import ArxivId, id_from_stem, slugify, try_parse_arxiv_id
from lmdev.models import Paper
from lmdev.store import Library, normalise_title
from lmdev.tagging import apply_tag_flags

if TYPE_CHECKING:
    from lmdev.arxiv.client import ArxivClient

MAX_BIB_BYTES = 32 * 1024 * 1024
# What @string macros may add to a file, all substitutions together: a few kilobytes in any real
# export (month names, journal abbreviations); macros of macros grow tenfold a line, so a
# 500-byte file could otherwise spell out gigabytes.
MAX_EXPANSION = 4 * 1024 * 1024
_ARXIV_IN_TEXT = re.compile(r"arxiv(?:\.org/(?:abs|pdf)/|\s*[:.]\s*|\s+preprint\s+arxiv\s*:\s*)\s*([a-z][a-z.\-]*/\d{7}|\d{4}\.\d{4,5})(v\d+)?", re.I)
_FORMATTING = re.compile(r"\\(?:textit|textbf|emph|texttt|textsc|textrm|textsf|mathrm)\s*\{([^{}]*)\}")
_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(\w+)[ \t]*[{(][ \t]*([^\s,{}()]+)", re.M)


@dataclass
class Item:
    """What happened to one BibTeX entry: ``imported``, ``merged`` or ``skipped``."""

    key: str
    line: Optional[int]
    action: str
    id: Optional[str] = None
    title: Optional[str] = None
    reason: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        """Every key, always (null where there is nothing), as the other commands' JSON has it."""
        return dict(self.__dict__)


@dataclass
class Report:
    path: str
    items: list[Item] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(i.action == action for i in self.items)


@dataclass
class BibEntry:
    key: str
    line: Optional[int]
    type: str
    fields: dict[str, str]
    authors: list[str]


# The escapes lmdev's own export writes for characters LaTeX treats as special, and what each
# stands for; pybtex leaves several as they are ('\\textbraceleft{}'), so an export read back
# would not give the text it came from.
_ESCAPED = {"\\textbackslash{}": "\\", "\\textbraceleft{}": "{", "\\textbraceright{}": "}", "\\textasciitilde{}": "~", "\\textasciicircum{}": "^", "\\$": "$", "\\%": "%", "\\&": "&", "\\#": "#", "\\_": "_", "\\{": "{", "\\}": "}"}
_ESCAPED_RE = re.compile("|".join(map(re.escape, sorted(_ESCAPED, key=len, reverse=True))))
_MATH_SPAN = re.compile(r"\$[^$]*\$")
_HELD = re.compile("[\ue000-\uf8ff]")  # the private use area, where escapes and math wait out pybtex


def _latex(text: str) -> str:
    """LaTeX field text as plain Unicode: accents decoded, protective braces dropped. The escapes
    an export writes stand for their characters, and a title's ``$...$`` math stays as written,
    as arXiv writes it, so an export read back gives the text it was made from."""
    if not any(c in text for c in "\\{}$~"):
        return re.sub(r"\s+", " ", text).strip()
    from pybtex.backends.plaintext import Backend
    from pybtex.richtext import Text

    held: list[str] = []
    if not _HELD.search(text):

        def hold(value: str) -> str:
            held.append(value)
            return chr(0xE000 + len(held) - 1)

        text = _ESCAPED_RE.sub(lambda m: hold(_ESCAPED[m.group(0)]), text)
        text = _MATH_SPAN.sub(lambda m: hold(m.group(0)), text)
    previous = None
    while previous != text:
        previous, text = text, _FORMATTING.sub(r"\1", text)
    try:
        plain = str(Text.from_latex(text).render(Backend()))  # render_as() looks the backend up per call: slow
    except Exception:
        plain = text.replace("{", "").replace("}", "")
    if held:
        plain = _HELD.sub(lambda m: held[ord(m.group(0)) - 0xE000] if ord(m.group(0)) - 0xE000 < len(held) else m.group(0), plain)
    return re.sub(r"\s+", " ", plain).strip()


def _doi(fields: dict[str, str]) -> str:
    """An entry's DOI as written; the escapes some exports put in one (``tacl\\_a``, as lmdev's
    own did) are taken back, since a DOI is read verbatim."""
    return _ESCAPED_RE.sub(lambda m: _ESCAPED[m.group(0)], fields.get("doi", "")).strip()


def _person(person: Any) -> str:
    parts = [*person.first_names, *person.middle_names, *person.prelast_names, *person.last_names, *person.lineage_names]
    return _latex(" ".join(parts))


def parse_bibtex(text: str, *, path: str) -> tuple[list[BibEntry], list[Item]]:
    """Entries of a BibTeX text, and a skipped item for each entry that does not parse (named by
    its key and line where they can be found; a partly parsed entry is dropped, not guessed at)."""
    import pybtex.errors
    from pybtex.database.input.bibtex import Parser
    from pybtex.utils import CaseInsensitiveDict

    class Macros(CaseInsensitiveDict):  # type: ignore[misc]
        """pybtex's macro table, counting what substitutions cost (see ``MAX_EXPANSION``)."""

        left = MAX_EXPANSION

        def __getitem__(self, name: str) -> str:
            value: str = super().__getitem__(name)
            self.left -= len(value)
            if self.left < 0:
                raise _Expansion(name)
            return value

    starts = [(m.start(), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _ENTRY_START.finditer(text)]
    lines = {key: line for _, key, line in reversed(starts)}
    parser = Parser()
    parser.macros = Macros(parser.macros)
    with pybtex.errors.capture() as captured:
        try:
            data = parser.parse_string(text)
        except _Expansion as exc:
            raise DataError(f"@string macros expand to more than {MAX_EXPANSION:,} characters (at {str(exc)[:40]!r}); refused", path=path) from None
        except Exception as exc:  # pybtex raises its own errors for some malformed input
            raise DataError(f"not a BibTeX file pybtex can read: {exc}", path=path) from None
    skipped: list[Item] = []
    broken: set[str] = set()
    for error in captured:
        key, line = _error_place(error, starts)
        broken.add(key)
        skipped.append(Item(key, line, "skipped", reason=re.sub(r"\s+", " ", str(error)).strip()[:200]))
    entries = []
    for key, entry in data.entries.items():
        if key in broken:
            continue
        fields = {k.lower(): str(v) for k, v in entry.fields.items()}
        authors = [_person(p) for p in entry.persons.get("author", []) if str(p).strip().lower() != "others"]
        entries.append(BibEntry(key, lines.get(key), entry.type.lower(), fields, [a for a in authors if a]))
    return entries, skipped


class _Expansion(Exception):
    """A BibTeX file whose macros expand past ``MAX_EXPANSION``."""


def _why(exc: Exception) -> str:
    """One short line for why an entry cannot become a paper: a validation error's first
    problem, as a person would say it, rather than pydantic's report."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    if isinstance(exc, DataError):
        return exc.message
    return re.sub(r"\s+", " ", str(exc))[:200]


def _error_place(error: Exception, starts: list[tuple[int, str, int]]) -> tuple[str, Optional[int]]:
    """The key and line of the entry an error belongs to."""
    info = getattr(error, "error_context_info", None)
    if info:
        before = [(key, line) for start, key, line in starts if start <= info[0]]
        if before:
            return before[-1]
    match = re.search(r"\bkey ([^\s,]+)", str(error)) or re.search(r"\bentry:? ([^\s,]+)", str(error))
    key = match.group(1) if match else "?"
    line = getattr(error, "lineno", None) or next((line for _, k, line in starts if k == key), None)
    return key, line


def arxiv_id_of(entry: BibEntry) -> Optional[ArxivId]:
    """The arXiv paper an entry names, if any."""
    f = entry.fields
    prefix = (f.get("archiveprefix") or f.get("eprinttype") or "").strip().lower()
    if f.get("eprint") and prefix in ("arxiv", ""):
        found = try_parse_arxiv_id(f["eprint"].strip())
        if found:
            return found
    doi = _doi(f)
    if doi.lower().startswith("10.48550/arxiv."):
        found = try_parse_arxiv_id(doi[len("10.48550/arxiv.") :])
        if found:
            return found
    for name in ("url", "journal", "journaltitle", "note", "howpublished", "booktitle", "eprint"):
        match = _ARXIV_IN_TEXT.search(f.get(name, ""))
        if match:
            found = try_parse_arxiv_id(match.group(1) + (match.group(2) or ""))
            if found:
                return found
    return None


def _date(fields: dict[str, str]) -> tuple[Optional[dt.date], Optional[int]]:
    """A full date where the entry gives one (biblatex ``date``), else just its year."""
    raw = fields.get("date", "").strip()
    try:
        return dt.date.fromisoformat(raw[:10]), None
    except ValueError:
        pass
    year = re.fullmatch(r"\s*(\d{4})\s*", fields.get("year", "") or raw[:4])
    return None, int(year.group(1)) if year else None


def url_paper(entry: BibEntry, paper_id: str) -> Paper:
    """A reading not on arXiv, from its BibTeX metadata alone."""
    f = entry.fields
    doi = _doi(f) or None
    url = f.get("url", "").strip() or (f"https://doi.org/{doi}" if doi else "")
    published, year = _date(f)
    venue = f.get("journal") or f.get("journaltitle") or f.get("booktitle")
    return Paper(
        id=paper_id,
        url=url,
        title=_latex(f.get("title", "")),
        authors=entry.authors,
        abstract=_latex(f.get("abstract", "")),
        published=published,
        published_year=year,
        doi=doi,
        journal_ref=_latex(venue) if venue else None,
    )


class _Index:
    """Papers on file by id, DOI, title and citekey, updated as entries are imported."""

    def __init__(self, library: Library) -> None:
        self.library = library
        loaded, errors = library.scan()
        self.ids = {item.paper.id: item.paper for item in loaded}
        self.files = set(self.ids) | {_stem_id(e.path) for e in errors if e.path}  # one snapshot: no file seen half
        self.by_doi = {p.doi.lower(): p.id for p in self.ids.values() if p.doi}
        self.by_title = {normalise_title(p.title): p.id for p in self.ids.values()}

    def match(self, entry: BibEntry) -> Optional[str]:
        doi = _doi(entry.fields).lower()
        if doi and doi in self.by_doi:
            return self.by_doi[doi]
        title = normalise_title(_latex(entry.fields.get("title", "")))
        return self.by_title.get(title) if title else None

    def add(self, paper: Paper) -> None:
        self.ids[paper.id] = paper
        self.files.add(paper.id)
        if paper.doi:
            self.by_doi.setdefault(paper.doi.lower(), paper.id)
        self.by_title.setdefault(normalise_title(paper.title), paper.id)


def _stem_id(path: str) -> str:
    try:
        return id_from_stem(Path(path).stem)
    except InvalidIdError:
        return Path(path).stem


def _free_slug(entry: BibEntry, taken: set[str]) -> str:
    try:
        base = slugify(entry.key)
    except InvalidIdError:
        base = slugify("bib-" + _latex(entry.fields.get("title", "untitled"))[:60])
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def read_bib(path: Path) -> str:
    return yamlio.read_text(path, max_bytes=MAX_BIB_BYTES)


def import_bibtex(
    library: Library,
    source: Path,
    client_factory: Callable[[], ArxivClient],
    *,
    problems: Iterable[str] = (),
    assumptions: Iterable[str] = (),
    before_save: Optional[Callable[[Paper], None]] = None,
    on_item: Optional[Callable[[Item], None]] = None,
) -> Report:
    """Import every entry of ``source``; the client is made only if an arXiv paper is new."""
    problems, assumptions = list(problems), list(assumptions)
    entries, skipped = parse_bibtex(read_bib(source), path=str(source))
    report = Report(str(source))

    def record(item: Item) -> None:
        report.items.append(item)
        if on_item:
            on_item(item)

    for item in skipped:
        record(item)
    index = _Index(library)
    keys = Assigner(library)
    seen: dict[str, str] = {}
    wanted: dict[str, BibEntry] = {}
    for entry in entries:
        arxiv = arxiv_id_of(entry)
        if arxiv is not None and arxiv.base in seen:
            record(Item(entry.key, entry.line, "skipped", arxiv.base, reason=f"same arXiv paper as entry {seen[arxiv.base]}"))
            continue
        if arxiv is not None:
            seen[arxiv.base] = entry.key
        on_file = arxiv.base if arxiv is not None and arxiv.base in index.files else index.match(entry)
        if on_file is not None:
            record(_merge(library, keys, entry, on_file))
        elif arxiv is not None:
            wanted[arxiv.base] = entry
        else:
            record(_url_entry(library, index, keys, entry, problems, assumptions, before_save))
    if wanted:
        _fetch(library, client_factory, wanted, keys, problems, assumptions, before_save, index, record)
    return report


def _merge(library: Library, keys: Assigner, entry: BibEntry, paper_id: str) -> Item:
    """An entry for a paper on file: it gains the entry's citekey if it had none."""
    try:
        paper = library.get(paper_id)
    except DataError as exc:
        return Item(entry.key, entry.line, "skipped", paper_id, reason=f"matches {paper_id}, whose file does not validate: {exc.message}")
    note = "already on file"
    if paper.citekey is None and usable(entry.key) and keys.claim(entry.key):

        def take(stored: Paper) -> None:  # re-read under the lock: a tag or note written meanwhile stays
            if stored.citekey is None:
                stored.citekey = entry.key

        try:
            done = library.update(paper_id, take)
        except (DataError, NotFoundError) as exc:  # broken or removed since the look above
            return Item(entry.key, entry.line, "skipped", paper_id, reason=f"matches {paper_id}, which could not be updated: {exc}")
        paper = done.paper
        note = "already on file; took the entry's citekey" if paper.citekey == entry.key else f"already on file with citekey {paper.citekey} (kept)"
    elif paper.citekey and paper.citekey != entry.key:
        note = f"already on file with citekey {paper.citekey} (kept)"
    return Item(entry.key, entry.line, "merged", paper.id, paper.title, note)


def _keep_key(paper: Paper, entry: BibEntry, keys: Assigner) -> None:
    if usable(entry.key) and keys.claim(entry.key):
        paper.citekey = entry.key


def _url_entry(library: Library, index: _Index, keys: Assigner, entry: BibEntry, problems: list[str], assumptions: list[str], before_save: Optional[Callable[[Paper], None]]) -> Item:
    f = entry.fields
    if not _latex(f.get("title", "")):
        return Item(entry.key, entry.line, "skipped", reason="no title")
    if not (f.get("url", "").strip() or f.get("doi", "").strip()):
        return Item(entry.key, entry.line, "skipped", reason="no arXiv id, URL or DOI to find it by")
    try:
        paper = url_paper(entry, _free_slug(entry, index.files))
        while library.path_for(paper.id).exists():  # written since the index was made (another import)
            index.files.add(paper.id)
            other = library.get(paper.id)
            if normalise_title(other.title) == normalise_title(paper.title):
                return _merge(library, keys, entry, other.id)
            paper = url_paper(entry, _free_slug(entry, index.files))
    except (ValueError, InvalidIdError) as exc:
        return Item(entry.key, entry.line, "skipped", reason=_why(exc)[:200])
    apply_tag_flags(paper, library.taxonomy, problems, assumptions)
    if before_save:
        before_save(paper)
    _keep_key(paper, entry, keys)
    keys(paper)
    def make(stored: Optional[Paper]) -> Paper:
        # the look above was made without the lock: a file another import wrote since is kept
        if stored is not None:
            raise DataError(f"{paper.id} was written by another command meanwhile; import again to merge with it")
        return paper

    try:
        library.upsert(paper.id, make)
    except DataError as exc:  # too large to store, say: this entry is skipped, the others go on
        return Item(entry.key, entry.line, "skipped", reason=_why(exc)[:200])
    index.add(paper)
    return Item(entry.key, entry.line, "imported", paper.id, paper.title, f"not on arXiv: a URL entry, citekey {paper.citekey}")


def _fetch(library: Library, client_factory: Callable[[], ArxivClient], wanted: dict[str, BibEntry], keys: Assigner, problems: list[str], assumptions: list[str], before_save: Optional[Callable[[Paper], None]], index: _Index, record: Callable[[Item], None]) -> None:
    from lmdev.ingest import sync

    def keep_key(paper: Paper) -> None:
        if before_save:
            before_save(paper)
        _keep_key(paper, wanted[paper.id], keys)

    with client_factory() as client:
        outcomes = sync(library, client, [ArxivId(i) for i in wanted], problems=problems, assumptions=assumptions, before_save=keep_key)
    for outcome in outcomes:
        entry = wanted[outcome.id]
        if outcome.action == "failed" or outcome.paper is None:
            record(Item(entry.key, entry.line, "skipped", outcome.id, reason=f"arXiv: {outcome.reason}"))
            continue
        index.add(outcome.paper)
        note = f"from arXiv, citekey {outcome.paper.citekey}" + (f"; warning: {outcome.warning}" if outcome.warning else "")
        record(Item(entry.key, entry.line, "imported", outcome.id, outcome.paper.title, note))
