"""Classifying many records (100k abstracts) in worker processes.

The main process only reads lines and writes results: workers parse, classify and serialise,
so the work spreads over the cores. Small inputs stay in-process, where start-up costs more
than it saves.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from lmdev.classify import Doc, Model, Result
from lmdev.errors import DataError
from lmdev.suggest import Record, parse_record
from lmdev.taxonomy import load_taxonomy

CHUNK = 2000
PARALLEL_FROM = 5000

_model: Optional[Model] = None


def _init(taxonomy_path: str, model_path: str) -> None:
    global _model
    _model = Model(load_taxonomy(Path(taxonomy_path)), json.loads(Path(model_path).read_text(encoding="utf-8")))


def render_text(result: Result) -> str:
    """One line per paper: suggested problems, then suggested assumptions with stances."""
    problems = ", ".join(f"{s.id} {s.score:.2f}" for s in result.problems if s.suggested) or "-"
    assumptions = ", ".join(f"{s.id}:{s.stance} {s.score:.2f}" for s in result.assumptions if s.suggested) or "-"
    return f"{result.paper_id}\tproblems: {problems}\tassumptions: {assumptions}"


def classify_one(model: Model, record: Record, fmt: str) -> str:
    result = model.classify(Doc.of(record.id, record.title, record.abstract), explain=fmt == "json")
    return json.dumps(result.to_json(), ensure_ascii=False) if fmt == "json" else render_text(result)


def _work(lines: list[tuple[int, str]], path: str, fmt: str) -> tuple[list[str], list[str]]:
    assert _model is not None
    out: list[str] = []
    errors: list[str] = []
    for number, line in lines:
        record = parse_record(line, path, number)
        if isinstance(record, DataError):
            errors.append(str(record))
        else:
            out.append(classify_one(_model, record, fmt))
    return out, errors


def _chunks(path: Path) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                chunk.append((number, line))
                if len(chunk) == CHUNK:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def classify_jsonl(path: Path, taxonomy_path: Path, model_path: Path, fmt: str, *, workers: int, advance: Callable[[int], None]) -> Iterator[tuple[list[str], list[str]]]:
    """Yield (outputs, errors) per chunk of a JSONL file, in input order."""
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(str(taxonomy_path), str(model_path))) as pool:
        pending = []
        for chunk in _chunks(path):
            pending.append((len(chunk), pool.submit(_work, chunk, str(path), fmt)))
            while len(pending) > workers * 2:
                size, future = pending.pop(0)
                yield future.result()
                advance(size)
        for size, future in pending:
            yield future.result()
            advance(size)


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def classify_records(model: Model, records: Iterable[Record | DataError], fmt: str) -> Iterator[tuple[Optional[str], Optional[str]]]:
    """In-process: (output, error) per record."""
    for record in records:
        if isinstance(record, DataError):
            yield None, str(record)
        else:
            yield classify_one(model, record, fmt), None
