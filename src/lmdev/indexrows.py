"""What the index stores of a paper: its row, its tag rows, the counts coverage keeps, and the
SQL function ``--text`` uses. Plain functions of a :class:`~lmdev.models.Paper`, so that worker
processes can make them (see :mod:`lmdev.parallel`) and send back plain data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from lmdev.filters import has_all_words
from lmdev.listing import content_hash
from lmdev.termtext import paper_line

if TYPE_CHECKING:
    from lmdev.models import Paper
    from lmdev.store import LoadedPaper

PAPER_COLUMNS = ("id", "year", "published", "title", "title_key", "doi", "citekey", "essay_cited", "tagged", "challenges", "tags", "link", "primary_id", "suggested", "list_line", "key_base", "sha")
TAG_COLUMNS = ("name", "pos", "kind", "tag", "stance", "by", "score", "year", "cited", "recency", "id")


def tags_text(paper: Paper) -> str:
    """A paper's tags on one line: ``problem, problem; assumption:stance, ...``, the primary
    problem first; an unreviewed classifier suggestion ends in ``?``."""
    probs = ", ".join(t.id + ("" if t.reviewed else "?") for t in paper.primary_first())
    assumptions = ", ".join(f"{t.id}:{t.stance}" + ("" if t.reviewed else "?") for t in paper.assumptions)
    return "; ".join(x for x in (probs, assumptions) if x)


def haystack(paper: Paper) -> str:
    """The text ``--text`` searches, lowercased (the same words :class:`Selection` matches)."""
    return " ".join([paper.id, paper.title, paper.abstract, *paper.authors, paper.notes or ""]).lower()


def _dated(paper: Paper) -> Optional[str]:
    """The ``published`` column: the date papers are ordered by (:attr:`Paper.dated`)."""
    dated = paper.dated
    return dated.isoformat() if dated else None


def paper_row(paper: Paper) -> tuple[Any, ...]:
    from lmdev.citekeys import citekey_base
    from lmdev.store import normalise_title

    tags = tags_text(paper)
    return (
        paper.id, paper.year, _dated(paper), paper.title, normalise_title(paper.title),
        paper.doi.lower() if paper.doi else None, paper.citekey, int(paper.essay_cited), int(paper.is_tagged()),
        int(any(a.stance == "challenges" and a.reviewed for a in paper.assumptions)), tags, paper.link,
        paper.primary, len(paper.suggestions()), paper_line(paper.id, paper.year, paper.title, tags),
        None if paper.citekey else citekey_base(paper),  # the key an export gives it (bibtex.indexed_citekeys)
    )


@dataclass
class Digest:
    """What the index stores of one valid file: its row, its JSON (kept in a table apart, so that
    scanning the papers table stays cheap) and its tag rows, plus whatever a caller of
    :meth:`Index.refresh` made of the file (``check``'s findings). Made where the file is read,
    which may be a worker process, so it is plain data."""

    row: tuple[Any, ...]
    body: str
    tags: list[tuple[Any, ...]]
    extra: Any = None


def digest(name: str, loaded: LoadedPaper, extra: Any = None) -> Digest:
    paper = loaded.paper
    return Digest((*paper_row(paper), content_hash(loaded.text.encode("utf-8"))), paper.model_dump_json(), tag_rows(name, paper), extra)


def tag_rows(name: str, paper: Paper) -> list[tuple[Any, ...]]:
    """One row per tag, with what coverage counts by (the paper's year, whether the essay cites
    it, and the key that picks a node's newest paper) so counting needs no join. A problem has no
    stance; the paper's primary problem has ``primary`` in that column, which coverage counts."""
    year, cited = paper.year or 0, int(paper.essay_cited)
    recency = _dated(paper) or paper.id
    rows: list[tuple[Any, ...]] = [(name, i, "problem", t.id, "primary" if t.id == paper.primary else None, t.by, t.score, year, cited, recency, paper.id) for i, t in enumerate(paper.problems)]
    rows += [(name, i, "assumption", t.id, t.stance, t.by, t.score, year, cited, recency, paper.id) for i, t in enumerate(paper.assumptions)]
    return rows


def counts(rows: Iterable[Sequence[Any]], sign: int, tags: Counter[tuple[Any, ...]], pairs: Counter[tuple[Any, ...]]) -> None:
    """Add (or with ``sign`` -1, take away) the coverage counts of some papers' tag rows
    (name, kind, tag, stance, year, cited, by). Tags count apart by whether a person reviewed
    them; the problem x assumption pairs count reviewed tags only, as coverage does."""
    by_name: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    for name, kind, tag, stance, year, cited, by in rows:
        reviewed = int(by != "classifier")
        tags[(tag, year, stance or "", cited, reviewed)] += sign
        if not reviewed:
            continue
        problems, assumptions = by_name.setdefault(name, ([], []))
        if kind == "problem":
            problems.append(tag)
        else:
            assumptions.append((tag, stance))
    for problems, assumptions in by_name.values():
        for problem in problems:
            for assumption, stance in assumptions:
                pairs[(problem, assumption, stance)] += sign


def has_words(data: str, words: str) -> bool:
    """SQL ``has_words(data, words)``: every word (newline-separated) begins a word of the text
    ``--text`` searches (:func:`lmdev.filters.has_all_words`). The JSON holds that text and
    more, so a quick look at it rules most papers out."""
    wanted = words.split("\n")
    folded = data.lower()
    if not all(word in folded for word in wanted if word.isprintable() and '"' not in word and "\\" not in word):
        return False
    from lmdev.models import Paper

    text = haystack(Paper.model_validate_json(data))
    return has_all_words(text, wanted)



class Summary(NamedTuple):
    """What ``list`` shows of a paper, straight from the index (no model is built)."""

    id: str
    year: Optional[int]
    title: str
    tags: str
