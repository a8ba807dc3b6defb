"""Papers to classify that are not in the library: JSONL records, paper files, folders of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional

from lmdev.errors import DataError
from lmdev.store import Library

MAX_LINE_BYTES = 1_000_000  # an arXiv record is a few kilobytes; a longer line is an error


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
                paper = library.read(path, named=False).paper
                yield Record(paper.id, paper.title, paper.abstract)
            except DataError as exc:
                yield exc
        return
    if source.suffix in (".yaml", ".yml"):
        try:
            paper = Library(source.parent).read(source, named=False).paper
            yield Record(paper.id, paper.title, paper.abstract)
        except DataError as exc:
            yield exc
        return
    try:
        handle = source.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read input: {exc.strerror or exc}", path=str(source)) from None
    with handle:
        for number, line, _size in iter_lines(handle):
            if line is None:
                yield DataError(f"line longer than {MAX_LINE_BYTES:,} bytes; skipped", path=str(source), line=number)
            elif line.strip():
                yield parse_record(line, str(source), number)


def iter_lines(handle: BinaryIO) -> Iterator[tuple[int, Optional[bytes], int]]:
    """(line number, line, bytes it took) for each line of a binary stream. A line longer than
    ``MAX_LINE_BYTES`` comes as None and is skipped in pieces, never held in memory whole."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield number, line, len(line)
            continue
        size = len(line)
        while line and not line.endswith(b"\n"):
            line = handle.readline(1 << 20)
            size += len(line)
        yield number, None, size


def parse_record(line: bytes | str, path: str, number: int) -> Record | DataError:
    """One JSONL line as a record, or the reason it is not one (invalid UTF-8, nesting too deep
    for the parser, not an object, no id or title)."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return DataError(f"not UTF-8 text (byte {exc.start})", path=path, line=number)
    try:
        data = json.loads(line.removeprefix("\ufeff"))  # a byte-order mark, as Windows editors write one
    except json.JSONDecodeError as exc:
        return DataError(f"not a JSON object: {exc.msg}", path=path, line=number)
    except RecursionError:
        return DataError("JSON nested too deeply", path=path, line=number)
    except ValueError:  # an integer of thousands of digits, past what Python converts
        return DataError("not a JSON object lmdev reads: a number thousands of digits long", path=path, line=number)
    if not isinstance(data, dict):
        return DataError("not a JSON object", path=path, line=number)
    paper_id = data.get("arxiv_id") or data.get("id")
    title = data.get("title")
    if not isinstance(paper_id, str) or not isinstance(title, str) or not title.strip():
        return DataError("a record needs 'arxiv_id' (or 'id') and 'title' strings", path=path, line=number)
    abstract = data.get("abstract") or ""
    return Record(paper_id, title, abstract if isinstance(abstract, str) else "")
