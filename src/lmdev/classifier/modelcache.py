"""Using the classifier on a library: the cached model, applying suggestions, reading inputs.

The trained model is cached on disk under a fingerprint of the taxonomy and the paper files
(names, sizes, modification times), so classifying one paper needs no training and no parse
of the other papers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from lmdev.arxiv.cache import cache_dir
from lmdev.classifier.model import MODEL_VERSION, Model, Result
from lmdev.classifier.training import train
from lmdev.errors import DataError
from lmdev.models import Paper
from lmdev.store import Library
from lmdev.tagging import set_assumption, set_problem
from lmdev.yamlio import atomic_write


def fingerprint(library: Library) -> str:
    digest = hashlib.sha256(f"lmdev-model-{MODEL_VERSION}".encode())
    digest.update((library.root / "taxonomy.yaml").read_bytes())
    for path in library.files():
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def model_path(library: Library) -> Path:
    return cache_dir() / "models" / f"{fingerprint(library)}.json"


def load_model(library: Library, *, retrain: bool = False) -> Model:
    """The model for this library: from the cache when nothing changed, else trained and cached."""
    path = model_path(library)
    if not retrain and path.exists():
        try:
            return Model(library.taxonomy, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is rebuilt below
    model = train(library.taxonomy, library.papers(), fingerprint=path.stem)
    try:
        for old in path.parent.glob("*.json"):
            old.unlink(missing_ok=True)
        atomic_write(path, json.dumps(model.to_json(), separators=(",", ":")))
    except OSError:
        pass  # an unwritable cache only costs training time next run
    return model


@dataclass
class Applied:
    added: list[str]
    removed: list[str]


def apply_suggestions(paper: Paper, result: Result, library: Library, *, min_score: Optional[float] = None) -> Applied:
    """Write suggested tags as the classifier's. A person's (or the essay's) tag is never touched.

    Classifier tags that are no longer suggested are removed: they are the model's state, not
    anyone's judgement.
    """
    tax = library.taxonomy
    added: list[str] = []
    removed: list[str] = []

    def chosen(score: float, suggested: bool) -> bool:
        return score >= min_score if min_score is not None else suggested

    had = set(paper.problem_ids()) | set(paper.assumption_stances())
    for s in result.problems:
        if chosen(s.score, s.suggested):
            if set_problem(paper, tax, s.id, by="classifier", score=s.score) and s.id not in had:
                added.append(s.id)
        elif any(t.id == s.id and t.by == "classifier" for t in paper.problems):
            paper.problems = [t for t in paper.problems if t.id != s.id]
            removed.append(s.id)
    for s in result.assumptions:
        if chosen(s.score, s.suggested):
            if set_assumption(paper, tax, s.id, s.stance or "relies", by="classifier", score=s.score) and s.id not in had:
                added.append(f"{s.id}:{s.stance}")
        elif any(t.id == s.id and t.by == "classifier" for t in paper.assumptions):
            paper.assumptions = [t for t in paper.assumptions if t.id != s.id]
            removed.append(s.id)
    return Applied(added, removed)


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
    except ValueError as exc:
        return DataError(f"not a JSON object: {exc.msg}", path=path, line=number)
    if not isinstance(data, dict):
        return DataError("not a JSON object", path=path, line=number)
    paper_id = data.get("arxiv_id") or data.get("id")
    title = data.get("title")
    if not isinstance(paper_id, str) or not isinstance(title, str) or not title.strip():
        return DataError("a record needs 'arxiv_id' (or 'id') and 'title' strings", path=path, line=number)
    abstract = data.get("abstract") or ""
    return Record(paper_id, title, abstract if isinstance(abstract, str) else "")
