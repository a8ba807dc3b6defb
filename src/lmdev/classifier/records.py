"""Papers to classify that are not in the library: JSONL records, paper files, folders of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lmdev.errors import DataError
from lmdev.store import Library


@dataclass
class Record:
    id: str
    title: str
    abstract: str


def read_records(source: Path) -> Iterator[Record | DataError]:
    """Papers to classify from a JSONL file of arXiv records, a paper YAML file, or a folder of them.

    Bad entries are yielded as :class:`DataError` (file and line) so a bulk run can go on.
    """
    if source.is_dir():
        library = Library(source)
        paths = sorted(p for p in source.iterdir() if p.suffix in (".yaml", ".yml"))
        for path in paths:
            try:
                paper = library.read(path).paper
                yield Record(paper.id, paper.title, paper.abstract)
            except DataError as exc:
                yield exc
        return
    if source.suffix in (".yaml", ".yml"):
        try:
            paper = Library(source.parent).read(source).paper
            yield Record(paper.id, paper.title, paper.abstract)
        except DataError as exc:
            yield exc
        return
    try:
        handle = source.open(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read input: {exc.strerror or exc}", path=str(source)) from None
    with handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield parse_record(line, str(source), number)


def parse_record(line: str, path: str, number: int) -> Record | DataError:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return DataError(f"not a JSON object: {exc.msg}", path=path, line=number)
    if not isinstance(data, dict):
        return DataError("not a JSON object", path=path, line=number)
    paper_id = data.get("arxiv_id") or data.get("id")
    title = data.get("title")
    if not isinstance(paper_id, str) or not isinstance(title, str) or not title.strip():
        return DataError("a record needs 'arxiv_id' (or 'id') and 'title' strings", path=path, line=number)
    abstract = data.get("abstract") or ""
    return Record(paper_id, title, abstract if isinstance(abstract, str) else "")
