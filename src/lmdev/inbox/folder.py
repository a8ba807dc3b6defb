"""The inbox folder: papers a watch found that nobody has decided on yet, one small YAML file each under
``<data dir>/inbox/``.

One file per paper is what makes triage merge safely: two people (or a person and the scheduled
watch) never touch the same file unless they decide on the same paper, and a decision is a file
removed here plus a paper file added (accept) or a line appended to ``rejected.yaml`` (reject).
An inbox file whose paper has been decided elsewhere is ignored on reading and removed by the
next command that writes.

Reading 5,000 waiting papers must stay well under a second, so :meth:`Inbox.waiting` keeps an
index of the parsed files in the cache directory, keyed by each file's size, modification time
inode and status-change time: only files that changed since the last run are parsed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from lmdev import yamlio
from lmdev.errors import DataError, LmdevError, NotFoundError
from lmdev.ids import file_stem, id_from_stem, normalise_paper_id
from lmdev.inbox.item import InboxItem, Waiting, render, validate
from lmdev.paths import INBOX_DIR, cache_dir

INDEX_VERSION = 3
MAX_INBOX_FILE = 200_000
_MAX_INDEX_BYTES = 256 * 1024 * 1024  # the inbox's index: 5,000 waiting papers take about 1 MB


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
        return [self.dir / n for n in sorted(names) if n.endswith(".yaml") and not n.startswith(".")]

    def _entries(self) -> list[tuple[str, os.stat_result]]:
        """(name, stat) of each ``.yaml`` file, sorted by name, from one directory scan."""
        try:
            with os.scandir(self.dir) as scan:
                found = []
                for entry in scan:
                    if entry.name.endswith(".yaml") and not entry.name.startswith("."):
                        try:
                            found.append((entry.name, entry.stat()))
                        except OSError:
                            continue
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(found)

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
        return validate(data, node, path)

    def _read_named(self, path: Path) -> InboxItem:
        """:meth:`read`, and a file whose name is not its id's is an error too: the name is how
        every command finds it."""
        item = self.read(path)
        if path.stem != file_stem(item.id):
            raise DataError(f"file name does not match id {item.id!r} (expected {self.path_for(item.id).name})", path=str(path), line=1)
        return item

    def get(self, paper_id: str) -> InboxItem:
        path = self.path_for(paper_id)
        if not path.exists():
            raise NotFoundError(f"{normalise_paper_id(paper_id)} is not in the inbox ({self.dir})")
        return self._read_named(path)

    def scan(self) -> tuple[list[InboxItem], list[DataError]]:
        """Every file parsed afresh (for ``lmdev check``): the readable items and an error per bad file."""
        items: list[InboxItem] = []
        errors: list[DataError] = []
        for path in self.files():
            try:
                items.append(self._read_named(path))
            except DataError as exc:
                errors.append(exc)
        return items, errors

    def waiting(self, *, decided: Iterable[str] = ()) -> tuple[list[Waiting], list[DataError]]:
        """The waiting papers (minus ``decided`` ids), fast: unchanged files come from the index."""
        gone = set(decided)
        index_path = self._index_path()
        old = _load_index(index_path)
        new: dict[str, list[Any]] = {}
        items: list[Waiting] = []
        errors: list[DataError] = []
        for name, info in self._entries():
            key = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
            cached = old.get(name)
            item = Waiting.from_index(cached[4], name[:-5]) if cached is not None and cached[:4] == key else None
            if item is None:
                try:
                    item = self._read_named(self.dir / name).waiting()
                except DataError as exc:
                    errors.append(exc)
                    continue
                cached = [*key, item.to_index()]
            new[name] = cached  # type: ignore[assignment]
            if item.id not in gone:
                items.append(item)
        if new.keys() != old.keys() or any(new[k][:4] != old[k][:4] for k in new):
            _save_index(index_path, new)
        return items, errors

    def _index_path(self) -> Path:
        digest = hashlib.sha256(str(self.dir.resolve()).encode("utf-8")).hexdigest()[:24]
        return cache_dir() / "inbox" / f"{digest}.json"

    def add(self, items: Iterable[InboxItem], refused: Optional[list[str]] = None) -> list[InboxItem]:
        """Write items that are not waiting yet (an unreadable file for the same id is replaced);
        returns those written. An item whose file would be larger than an inbox file may be
        (a feed entry with a huge abstract) is not written, so no command meets a file it cannot
        read; a line naming it goes to ``refused``.

        Each file is written to a temporary name and renamed, so no reader sees half a file; the
        folder is synced once at the end rather than each file, which would cost seconds for a
        busy day. An inbox file is derived data (the feed plus the model) until a person decides.
        """
        written: list[InboxItem] = []
        for item in items:
            path = self.path_for(item.id)
            if path.exists() and self._readable(path):
                continue
            text = _fitting(item, refused)
            if text is None:
                continue
            _write(path, text)
            written.append(item)
        if written:
            _sync_dir(self.dir)
        return written

    def rewrite(self, items: Iterable[InboxItem]) -> list[InboxItem]:
        """Write items over their files, each only while its file is there (a paper decided
        meanwhile is not brought back); returns those written."""
        written: list[InboxItem] = []
        for item in items:
            path = self.path_for(item.id)
            text = _fitting(item, None)
            if text is not None and path.is_file():
                _write(path, text)
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


def _fitting(item: InboxItem, refused: Optional[list[str]]) -> Optional[str]:
    """The item's file text, or None (said in ``refused``) when it is larger than
    ``MAX_INBOX_FILE``, which every reader of the inbox refuses."""
    text = render(item)
    size = len(text.encode("utf-8"))
    if size <= MAX_INBOX_FILE:
        return text
    if refused is not None:
        refused.append(f"{item.id}: its inbox file would be {size:,} bytes, more than the {MAX_INBOX_FILE:,} an inbox file may hold (an abstract of {len(item.abstract or ''):,} characters); not added")
    return None


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
    try:  # the bounded reader: the cache directory is the user's to point anywhere
        data = json.loads(yamlio.read_bytes(path, max_bytes=_MAX_INDEX_BYTES))
    except (LmdevError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION or not isinstance(data.get("files"), dict):
        return {}
    return {k: v for k, v in data["files"].items() if isinstance(v, list) and len(v) == 5}


def _save_index(path: Path, files: dict[str, list[Any]]) -> None:
    try:
        yamlio.atomic_write(path, json.dumps({"version": INDEX_VERSION, "files": files}, separators=(",", ":"), ensure_ascii=False))
    except (OSError, LmdevError):
        pass  # an unwritable cache (or a special file in its place) only costs parsing time next run
