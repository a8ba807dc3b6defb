"""Classifying many records (100k abstracts) in worker processes.

The main process only reads lines and writes results: workers parse, classify and serialise,
so the work spreads over the cores. Small inputs stay in-process, where start-up costs more
than it saves.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Optional

from lmdev.classifier.model import Doc, Model
from lmdev.classifier.records import MAX_LINE_BYTES, Record, iter_lines, parse_record
from lmdev.errors import DataError, LmdevError
from lmdev.taxonomy import load_taxonomy

CHUNK = 2000
CHUNK_BYTES = 8 * 1024 * 1024
PARALLEL_FROM = 5000

_model: Optional[Model] = None


def _init(taxonomy_path: str, model_path: str, min_score: Optional[float]) -> None:
    global _model
    _model = Model(load_taxonomy(Path(taxonomy_path)), json.loads(Path(model_path).read_text(encoding="utf-8")))
    _model.min_score = min_score


def classify_one(model: Model, record: Record, fmt: str, reasons: str = "suggested") -> str:
    """One record as a JSON object (every tag with its score; reasons for the suggested ones, or
    for all with ``reasons="all"``) or as a line of relevance and suggested tags."""
    doc = Doc.of(record.id, record.title, record.abstract)
    if fmt == "json":
        return model.classify_json(doc, reasons=reasons)
    relevance, problems, assumptions = model.suggested(doc)
    shown_problems = ", ".join(f"{i} {p:.2f}" for i, p in problems) or "-"
    shown_assumptions = ", ".join(f"{i}:{s} {p:.2f}" for i, s, p in assumptions) or "-"
    return f"{record.id}\trelevance: {relevance:.2f}\tproblems: {shown_problems}\tassumptions: {shown_assumptions}"


def _work(path: str, start: int, end: int, first_line: int, fmt: str, reasons: str = "suggested") -> tuple[bytes, int, list[str]]:
    """Classify the lines between two byte offsets. The worker reads them itself, so the main
    process ships only offsets, and it sends back one block of UTF-8 (lines for text output,
    objects joined by ",\n" for JSON), so the main process has nothing to do but write it: no
    decoding and encoding again of 200 MB on the core the workers need."""
    assert _model is not None
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    out: list[str] = []
    errors: list[str] = []
    for number, line in enumerate(data.split(b"\n"), first_line):
        if not line.strip():
            continue
        record = parse_record(line, path, number)
        if isinstance(record, DataError):
            errors.append(str(record))
        else:
            out.append(classify_one(_model, record, fmt, reasons))
    if fmt == "json":
        return ",\n".join(out).encode("utf-8"), len(out), errors
    # one line per paper, whatever its id holds: the reader splits the block at line breaks
    return "\n".join([line.translate(_ONE_LINE) for line in out]).encode("utf-8"), len(out), errors


_ONE_LINE = str.maketrans({"\n": " ", "\u2028": " ", "\u2029": " "})


Span = tuple[int, int, int, int, list[str]]


def _ranges(path: Path) -> Iterator[Span]:
    """(start offset, end offset, first line number, lines, errors) for chunks of at most
    ``CHUNK`` lines and ``CHUNK_BYTES`` bytes. A line too long to classify ends the chunk before
    it and comes as an error of its own, so no worker ever reads it."""
    start = offset = 0
    first = 1
    lines = 0
    with path.open("rb") as handle:
        for number, line, size in iter_lines(handle):
            if line is None:
                if lines:
                    yield start, offset, first, lines, []
                yield offset, offset, number, 1, [str(DataError(f"line longer than {MAX_LINE_BYTES:,} bytes; skipped", path=str(path), line=number))]
                offset += size
                start, first, lines = offset, number + 1, 0
                continue
            offset += size
            lines += 1
            if lines == CHUNK or offset - start >= CHUNK_BYTES:
                yield start, offset, first, lines, []
                start, first, lines = offset, number + 1, 0
    if lines:
        yield start, offset, first, lines, []


def _pool(model: Model, taxonomy_path: Path, model_path: Path, workers: int) -> ProcessPoolExecutor:
    """Workers that have the model: inherited on Linux, where processes fork safely; loaded from
    the model cache elsewhere."""
    global _model
    if sys.platform.startswith("linux"):
        _model = model
        # what the workers inherit (the model above all) is never garbage: frozen, their collector
        # skips it, and the pages holding it are not copied to mark it (about 1 % of their work)
        gc.collect()
        gc.freeze()
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    return ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(str(taxonomy_path), str(model_path), model.min_score))


def classify_jsonl(path: Path, model: Model, taxonomy_path: Path, model_path: Path, fmt: str, *, workers: int, advance: Callable[[int], None], reasons: str = "suggested") -> Iterator[tuple[bytes, int, list[str]]]:
    """Yield (block of output, papers in it, errors) per chunk of a JSONL file, in input order."""
    try:
        yield from _classify_chunks(path, model, taxonomy_path, model_path, fmt, workers=workers, advance=advance, reasons=reasons)
    finally:
        gc.unfreeze()


def _classify_chunks(path: Path, model: Model, taxonomy_path: Path, model_path: Path, fmt: str, *, workers: int, advance: Callable[[int], None], reasons: str) -> Iterator[tuple[bytes, int, list[str]]]:
    with _pool(model, taxonomy_path, model_path, workers) as pool:
        pending: list[tuple[int, Future[tuple[bytes, int, list[str]]]]] = []
        for start, end, first, size, errors in _ranges(path):
            if errors:
                future: Future[tuple[bytes, int, list[str]]] = Future()
                future.set_result((b"", 0, errors))
            else:
                future = pool.submit(_work, str(path), start, end, first, fmt, reasons)
            pending.append((size, future))
            while len(pending) > workers * 2:
                size, done = pending.pop(0)
                yield _result(done)
                advance(size)
        for size, done in pending:
            yield _result(done)
            advance(size)


def _result(future: Future[tuple[bytes, int, list[str]]]) -> tuple[bytes, int, list[str]]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise LmdevError("a worker process died while classifying (out of memory?); try --workers 1") from None


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def classify_records(model: Model, records: Iterable[Record | DataError], fmt: str, reasons: str = "suggested") -> Iterator[tuple[Optional[str], Optional[str]]]:
    """In-process: (output, error) per record."""
    for record in records:
        if isinstance(record, DataError):
            yield None, str(record)
        else:
            yield classify_one(model, record, fmt, reasons), None
