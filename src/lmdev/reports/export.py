"""Papers as JSON and CSV: the shapes other tools read, defined once for every command."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from lmdev.models import Paper
from lmdev.text import printable, to_json

CSV_COLUMNS = ("id", "title", "authors", "year", "problems", "assumptions", "doi", "journal_ref", "link", "citekey")


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
        " ".join(paper.problem_ids()),
        " ".join(f"{a.id}:{a.stance}" for a in paper.assumptions),
        paper.doi or "",
        paper.journal_ref or "",
        paper.link,
        paper.citekey or "",
    ]


def render_csv(papers: Iterable[Paper]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for paper in papers:
        writer.writerow(csv_row(paper))
    return buffer.getvalue()
