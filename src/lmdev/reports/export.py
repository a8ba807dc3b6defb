"""Papers as JSON and CSV: the shapes other tools read, defined once for every command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from lmdev.doctext import printable, to_json
from lmdev.models import Paper

if TYPE_CHECKING:
    from lmdev.index import Index

CSV_COLUMNS = ("id", "title", "authors", "year", "problems", "primary", "assumptions", "doi", "journal_ref", "link", "citekey")


def paper_json(paper: Paper) -> dict[str, Any]:
    """A paper's stored fields plus what lmdev derives from them (its link and year)."""
    return {**paper.model_dump(mode="json"), "link": paper.link, "year": paper.year}


def render_json(papers: Iterable[Paper]) -> str:
    return to_json([paper_json(p) for p in papers], indent=2) + "\n"


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with ``= + - @`` (or a tab or
    carriage return) would be run as a formula, so it gets a leading apostrophe."""
    value = printable(value)
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def csv_row(paper: Paper) -> list[str]:
    return [_cell(value) for value in _columns(paper)]


def _columns(paper: Paper) -> list[str]:
    return [
        paper.id,
        paper.title,
        "; ".join(paper.authors),
        str(paper.year or ""),
        " ".join(t.id for t in paper.primary_first()),
        paper.primary or "",
        " ".join(f"{a.id}:{a.stance}" for a in paper.assumptions),
        paper.doi or "",
        paper.journal_ref or "",
        paper.link,
        paper.citekey or "",
    ]


def render_csv(papers: Iterable[Paper]) -> str:
    return "".join(csv_chunks(papers))


def json_chunks(items: Iterable[Any]) -> Iterator[str]:
    """``json.dumps(list(items), indent=2)`` plus a newline, one item at a time."""
    first = True
    for item in items:
        yield ("[\n  " if first else ",\n  ") + to_json(item, indent=2, default=str).replace("\n", "\n  ")
        first = False
    yield "[]\n" if first else "\n]\n"


def csv_chunks(papers: Iterable[Paper]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for paper in papers:
        writer.writerow(csv_row(paper))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def indexed_json(index: Index, where: str = "1", params: Iterable[Any] = (), order: str = "name") -> Iterator[dict[str, Any]]:
    """:func:`paper_json` of the selected papers, straight from the stored JSON (no model is built)."""
    sql = f"SELECT b.data, link, year FROM papers JOIN bodies b USING (name) WHERE error IS NULL AND ({where}) ORDER BY {order}"
    for data, link, year in index.query(sql, params):
        yield {**json.loads(data), "link": link, "year": year}


def export_chunks(fmt: str, index: Index, where: str, params: list[Any], order: str) -> Iterator[str]:
    """An export (bibtex, json or csv) of the selected papers, written as it is read: one pass."""
    if fmt == "json":
        yield from json_chunks(indexed_json(index, where, params, order))
    elif fmt == "csv":
        yield from csv_chunks(index.papers(where, params, order))
    else:
        from lmdev.reports import bibtex

        keys = bibtex.indexed_citekeys(index, where, params)
        yield from bibtex.entry_chunks(index.papers(where, params, order), keys)
