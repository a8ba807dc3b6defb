"""Papers as JSON and CSV: the shapes other tools read, defined once for every command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from lmdev.models import Paper

CSV_COLUMNS = ("id", "title", "authors", "year", "problems", "assumptions", "doi", "journal_ref", "link", "citekey")


def paper_json(paper: Paper) -> dict[str, Any]:
    """A paper's stored fields plus what lmdev derives from them (its link and year)."""
    return {**paper.model_dump(mode="json"), "link": paper.link, "year": paper.year}


def render_json(papers: Iterable[Paper]) -> str:
    return json.dumps([paper_json(p) for p in papers], indent=2, ensure_ascii=False) + "\n"


def csv_row(paper: Paper) -> list[str]:
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
