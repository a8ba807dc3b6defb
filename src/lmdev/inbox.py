"""The inbox: papers a watch found that nobody has decided on yet, one small YAML file each under
``<data dir>/inbox/``.

One file per paper is what makes triage merge safely: two people (or a person and the scheduled
watch) never touch the same file unless they decide on the same paper, and a decision is a file
removed here plus a paper file added (accept) or a line appended to ``rejected.yaml`` (reject).
An inbox file whose paper has been decided elsewhere is ignored on reading and removed by the
next command that writes.

Reading 5,000 waiting papers must stay well under a second, so :meth:`Inbox.waiting` keeps an
index of the parsed files in the cache directory, keyed by each file's size, modification time
and inode: only files that changed since the last run are parsed again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lmdev import yamlio
from lmdev.errors import DataError, InvalidIdError, NotFoundError
from lmdev.ids import file_stem, id_from_stem, normalise_paper_id
from lmdev.models import Paper, Stance
from lmdev.paths import cache_dir

INBOX_DIR = "inbox"
INDEX_VERSION = 1
MAX_INBOX_FILE = 200_000
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoredProblem(_Strict):
    """A problem the classifier suggests, with its calibrated score."""

    id: str
    score: float = Field(ge=0.0, le=1.0)


class ScoredAssumption(ScoredProblem):
    stance: Stance


class InboxItem(_Strict):
    """A waiting paper: arXiv metadata as announced, when it was seen, and the classifier's view."""

    id: str
    version: Optional[int] = Field(default=None, ge=1)
    title: str = Field(min_length=1)
    authors: list[str] = Field(default_factory=list)
    abstract: str = ""
    published: Optional[dt.date] = None
    primary_category: Optional[str] = None
    categories: list[str] = Field(default_factory=list)
    doi: Optional[str] = None
    journal_ref: Optional[str] = None
    comment: Optional[str] = None
    announced: Optional[str] = None
    listed: Optional[dt.date] = None
    seen: dt.date
    relevance: float = Field(ge=0.0, le=1.0)
    primary: Optional[str] = None
    problems: list[ScoredProblem] = Field(default_factory=list)
    assumptions: list[ScoredAssumption] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _canonical_id(cls, value: str) -> str:
        try:
            canonical = normalise_paper_id(value)
        except InvalidIdError as exc:
            raise ValueError(exc.message) from None
        if canonical != value:
            raise ValueError(f"not a canonical id (write it without version or prefix): {value!r}")
        return value

    @field_validator("announced")
    @classmethod
    def _announce_type(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in ANNOUNCE_TYPES:
            raise ValueError(f"announced must be one of {', '.join(ANNOUNCE_TYPES)}, not {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> InboxItem:
        ids = [p.id for p in self.problems]
        if self.primary is not None and self.primary not in ids:
            raise ValueError(f"primary {self.primary!r} is not one of the suggested problems")
        return self

    def problem_score(self, problem_id: Optional[str] = None) -> float:
        """The score of ``problem_id`` (0 if not suggested), or of the top problem."""
        if problem_id is None:
            return self.problems[0].score if self.problems else 0.0
        return next((p.score for p in self.problems if p.id == problem_id), 0.0)

    def paper(self) -> Paper:
        """The paper file this item becomes when accepted: its metadata, no tags yet."""
        fields = set(Paper.model_fields) & set(type(self).model_fields) - {"primary", "problems", "assumptions"}
        return Paper(**{name: getattr(self, name) for name in fields})

    def to_data(self) -> dict[str, Any]:
        """The dict written to YAML: fixed key order, empty fields left out."""
        data: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None or value == [] or value == "":
                continue
            if name in ("problems", "assumptions"):
                value = [_scored(tag) for tag in value]
            elif name == "relevance":
                value = round(value, 3)
            data[name] = value
        return data

    def to_json(self) -> dict[str, Any]:
        """The shape ``lmdev inbox --format json`` prints."""
        return {
            "id": self.id,
            "title": self.title,
            "relevance": round(self.relevance, 3),
            "primary": self.primary,
            "problems": [{"id": p.id, "score": round(p.score, 3)} for p in self.problems],
            "assumptions": [{"id": a.id, "stance": a.stance, "score": round(a.score, 3)} for a in self.assumptions],
            "reasons": self.reasons,
            "announced": self.announced,
            "listed": self.listed.isoformat() if self.listed else None,
            "seen": self.seen.isoformat(),
            "link": f"https://arxiv.org/abs/{self.id}",
        }


def _scored(tag: ScoredProblem) -> dict[str, Any]:
    data: dict[str, Any] = {"id": tag.id}
    if isinstance(tag, ScoredAssumption):
        data["stance"] = tag.stance
    data["score"] = round(tag.score, 3)
    return data


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when present (an order of magnitude faster than the pure-Python one,
    which matters when a watch writes 600 files); output is the same as :func:`yamlio.dump`."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if any(ch in value for ch in ("\x85", "\u2028", "\u2029")):
        style: Optional[str] = '"'  # breaks YAML would fold or split on reading stay escapes
    else:
        style = "|" if "\n" in value and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def render(item: InboxItem) -> str:
    return yaml.dump(item.to_data(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100, indent=2)


class Inbox:
    """The folder of waiting papers of one data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / INBOX_DIR

    def path_for(self, paper_id: str) -> Path:
        return self.dir / f"{file_stem(normalise_paper_id(paper_id))}.yaml"

    def files(self) -> list[Path]:
        try:
            names = os.listdir(self.dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [self.dir / n for n in sorted(names) if n.endswith((".yaml", ".yml")) and not n.startswith(".")]

    def ids(self) -> set[str]:
        """Ids of the waiting papers, from file names alone."""
        found = set()
        for path in self.files():
            try:
                found.add(id_from_stem(path.stem))
            except Exception:
                continue
        return found

    def read(self, path: Path) -> InboxItem:
        """Read and validate one inbox file; raises :class:`DataError` naming file, line and field."""
        text = yamlio.read_text(path, max_bytes=MAX_INBOX_FILE)
        data, node = yamlio.parse(text, path=str(path))
        return _validate(data, node, path)

    def get(self, paper_id: str) -> InboxItem:
        path = self.path_for(paper_id)
        if not path.exists():
            raise NotFoundError(f"{normalise_paper_id(paper_id)} is not in the inbox ({self.dir})")
        return self.read(path)

    def scan(self) -> tuple[list[InboxItem], list[DataError]]:
        """Every file parsed afresh (for ``lmdev check``): the readable items and an error per bad file."""
        items: list[InboxItem] = []
        errors: list[DataError] = []
        for path in self.files():
            try:
                item = self.read(path)
            except DataError as exc:
                errors.append(exc)
                continue
            if path.stem != file_stem(item.id):
                errors.append(DataError(f"file name does not match id {item.id!r} (expected {self.path_for(item.id).name})", path=str(path), line=1))
                continue
            items.append(item)
        return items, errors

    def waiting(self, *, decided: Iterable[str] = ()) -> tuple[list[InboxItem], list[DataError]]:
        """The waiting papers (minus ``decided`` ids), fast: unchanged files come from the index."""
        gone = set(decided)
        index_path = self._index_path()
        old = _load_index(index_path)
        new: dict[str, list[Any]] = {}
        items: list[InboxItem] = []
        errors: list[DataError] = []
        for path in self.files():
            try:
                info = path.stat()
            except OSError:
                continue
            key = [info.st_size, info.st_mtime_ns, info.st_ino]
            cached = old.get(path.name)
            item = _from_index(cached, key)
            if item is None:
                try:
                    item = self.read(path)
                except DataError as exc:
                    errors.append(exc)
                    continue
                if path.stem != file_stem(item.id):
                    errors.append(DataError(f"file name does not match id {item.id!r}", path=str(path), line=1))
                    continue
                cached = [*key, item.model_dump(mode="json")]
            new[path.name] = cached  # type: ignore[assignment]
            if item.id not in gone:
                items.append(item)
        if new.keys() != old.keys() or any(new[k][:3] != old[k][:3] for k in new):
            _save_index(index_path, new)
        return items, errors

    def _index_path(self) -> Path:
        digest = hashlib.sha256(str(self.dir.resolve()).encode("utf-8")).hexdigest()[:24]
        return cache_dir() / "inbox" / f"{digest}.json"

    def add(self, items: Iterable[InboxItem]) -> list[InboxItem]:
        """Write items that are not waiting yet (an unreadable file for the same id is replaced);
        returns those written.

        Each file is written to a temporary name and renamed, so no reader sees half a file; the
        folder is synced once at the end rather than each file, which would cost seconds for a
        busy day. An inbox file is derived data (the feed plus the model) until a person decides.
        """
        written: list[InboxItem] = []
        for item in items:
            path = self.path_for(item.id)
            if path.exists() and self._readable(path):
                continue
            _write(path, render(item))
            written.append(item)
        if written:
            _sync_dir(self.dir)
        return written

    def _readable(self, path: Path) -> bool:
        try:
            self.read(path)
        except DataError:
            return False
        return True

    def remove(self, paper_id: str) -> bool:
        """Remove a paper's file; False if it was not there (decided elsewhere already)."""
        try:
            self.path_for(paper_id).unlink()
        except FileNotFoundError:
            return False
        return True

    def prune(self, decided: Iterable[str]) -> list[str]:
        """Remove the files of papers decided elsewhere (now in the library or rejected)."""
        gone = set(decided) & self.ids()
        return [paper_id for paper_id in sorted(gone) if self.remove(paper_id)]


def _from_index(cached: Optional[list[Any]], key: list[int]) -> Optional[InboxItem]:
    """The indexed item when the file is unchanged (and the entry still valid), else None."""
    if cached is None or cached[:3] != key:
        return None
    try:
        return InboxItem.model_validate(cached[3])
    except ValidationError:
        return None


def _validate(data: Any, node: Optional[yaml.Node], path: Path) -> InboxItem:
    if not isinstance(data, dict):
        raise DataError("an inbox file must be a mapping of fields", path=str(path), line=1)
    try:
        return InboxItem.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "item"
        message = err["msg"].removeprefix("Value error, ")
        raise DataError(f"{where}: {message}", path=str(path), line=yamlio.line_of(node, loc)) from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _sync_dir(folder: Path) -> None:
    """Make the renames durable where the platform allows it (a file whose contents a crash lost
    does not parse; ``lmdev check`` names it and the next watch writes it again)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _load_index(path: Path) -> dict[str, list[Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION or not isinstance(data.get("files"), dict):
        return {}
    return {k: v for k, v in data["files"].items() if isinstance(v, list) and len(v) == 4}


def _save_index(path: Path, files: dict[str, list[Any]]) -> None:
    try:
        yamlio.atomic_write(path, json.dumps({"version": INDEX_VERSION, "files": files}, separators=(",", ":"), ensure_ascii=False))
    except OSError:
        pass  # an unwritable cache only costs parsing time next run
