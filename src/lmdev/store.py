"""The paper store: one YAML file per paper under ``<data dir>/papers/``.

The store finds the data directory, maps ids to file names, reads files into
:class:`~lmdev.models.Paper` objects with errors that name file, line and field, and writes
them back deterministically and atomically.

Every change to a stored paper is a read-modify-write under one lock per library
(``<data dir>/.lmdev.lock``), held across the re-read, the change and the atomic rename, so two
commands running at once (twenty ``lmdev tag``, a ``refresh`` beside a note) never lose each
other's changes. Writes go to the file the paper was read from, and only when that file's name
matches the id inside it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from pydantic import ValidationError

from lmdev import yamlio
from lmdev.errors import DataError, InvalidIdError, NotFoundError
from lmdev.ids import file_stem, id_from_stem, is_slug, normalise_paper_id, why_not_id
from lmdev.listing import SUFFIXES, StatKey, entries, folder_mark, remember_clean, remembered_clean, stat_key, temporaries
from lmdev.locking import exclusive
from lmdev.models import Paper
from lmdev.paperfile import file_text
from lmdev.paths import PAPERS_DIR, TAXONOMY_FILE, find_data_dir
from lmdev.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from lmdev.index import Index, ProgressFactory

LOCK_FILE = ".lmdev.lock"



def normalise_title(title: str) -> str:
    """Titles compared for duplicates: case, punctuation and spacing ignored."""
    return re.sub(r"[^0-9a-z]+", " ", title.lower()).strip()


@dataclass
class LoadedPaper:
    paper: Paper
    path: Path
    text: str


@dataclass
class Update:
    """One locked read-modify-write: the paper as stored before (None if the file is new) and after."""

    before: Optional[Paper]
    paper: Paper
    path: Path
    changed: bool


def validation_error(exc: ValidationError, path: Path, node: object, data: object = None) -> DataError:
    """A paper that fails validation as one line naming the file, the line and every bad field."""
    from lmdev.validation import data_error

    return data_error(exc, path=str(path), node=node, data=data, what="paper")


class Library:
    """A data directory: the taxonomy plus the paper files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.papers_dir = root / PAPERS_DIR
        self._taxonomy: Optional[Taxonomy] = None
        self.progress: Optional[ProgressFactory] = None  # set by the CLI: a bar while the index fills
        self._index: Optional[Index] = None
        self._listed: Optional[list[str]] = None  # the folder as the tidy-up saw it, for the next ids()

    @classmethod
    def open(cls, data_dir: Optional[Path] = None) -> Library:
        library = cls(find_data_dir(data_dir))
        if os.path.lexists(library.papers_dir) and not library.papers_dir.is_dir():  # else read as empty, all good
            raise DataError(f"{PAPERS_DIR} is not a directory; paper files go in a folder named {PAPERS_DIR}", path=str(library.papers_dir))
        return library

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy(self.root / TAXONOMY_FILE)
        return self._taxonomy

    def path_for(self, paper_id: str) -> Path:
        return self.papers_dir / f"{file_stem(normalise_paper_id(paper_id))}.yaml"

    def entries(self) -> Iterator[tuple[str, StatKey]]:
        """The paper files' names with their stat keys (see :func:`lmdev.listing.entries`): the
        one place that decides which files are papers, for every bulk reader and the index."""
        return entries(self.papers_dir)

    def listing(self) -> list[tuple[str, tuple[int, int, int, int]]]:
        """:meth:`entries`, sorted by name."""
        return sorted(self.entries(), key=lambda item: item[0])

    def names(self) -> list[str]:
        """The names of :meth:`entries`, sorted, from the directory alone (no file is statted)."""
        try:
            found = os.listdir(self.papers_dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(name for name in found if not name.startswith(".") and name.endswith(SUFFIXES))

    def files(self) -> list[Path]:
        """Every entry named like a paper file, sorted (see :meth:`entries`)."""
        return [self.papers_dir / name for name in self.names()]

    def index(self) -> Index:
        """The index of this library (see :mod:`lmdev.index`), brought up to date with the files."""
        from lmdev.index import open_index

        self.close()
        self._index = open_index(self, progress=self.progress)
        return self._index

    def close(self) -> None:
        """Close the index's database connection, if one is open."""
        if self._index is not None:
            self._index.close()
            self._index = None

    def locate(self, paper_id: str) -> Optional[Path]:
        """The existing file of ``paper_id`` (``.yaml`` or ``.yml``), or None.

        Raises:
            DataError: when both exist, so no write can pick one and leave the other stale.
        """
        base = self.path_for(paper_id)
        found = [p for p in (base, base.with_suffix(".yml")) if os.path.lexists(p)]
        if len(found) > 1:
            raise DataError(f"both {found[0].name} and {found[1].name} exist; keep one", path=str(found[1]))
        return found[0] if found else None

    def read(self, path: Path, *, named: bool = True) -> LoadedPaper:
        """Read and validate one paper file; raises :class:`DataError` (file, line, field, reason).
        A file of the library must be named after its id (``named``); one read from elsewhere
        (``classify --input draft.yaml``) need not be."""
        text = yamlio.read_text(path, follow_symlinks=False)
        data, node = yamlio.parse(text, path=str(path))
        if not isinstance(data, dict):
            raise DataError("a paper file must be a mapping of fields", path=str(path), line=1)
        try:
            paper = Paper.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc, path, node, data) from None
        if named and not self.stem_matches(path, paper):
            # a copy made to start a new paper from: read as it is, it would list, count and
            # export the same paper twice (only check used to say so)
            expected = self.path_for(paper.id).name
            raise DataError(f"file name does not match id {paper.id!r} (expected {expected}): a copy? give it its own id, or rename it", path=str(path), line=yamlio.line_of(node, ("id",)))
        return LoadedPaper(paper, path, text)

    def scan(self) -> tuple[list[LoadedPaper], list[DataError]]:
        """Every readable paper, plus an error for every file that is not."""
        loaded: list[LoadedPaper] = []
        errors: list[DataError] = []
        for path in self.files():
            try:
                loaded.append(self.read(path))
            except DataError as exc:
                errors.append(exc)
        return loaded, errors

    def papers(self) -> list[Paper]:
        """All papers in file-name order, failing on the first file that does not validate."""
        return list(self.iter_papers())

    def iter_papers(self) -> Iterator[Paper]:
        """All papers one at a time, from the index (only changed files are read)."""
        index = self.index()
        index.require_valid()
        yield from index.papers()

    def ids(self, *, fresh: bool = False) -> set[str]:
        """Ids of the stored papers, from file names alone (no file is parsed). New-style arXiv
        names, nearly all of a large library, are matched in one pass of a regular expression
        over the listing (``inbox`` asks at every run); the others go through :func:`id_from_stem`.
        ``fresh`` lists the folder again: under a lock, what another process wrote since the
        start-up listing must count."""
        listed, self._listed = self._listed, None  # listed a moment ago by tidy(): at 100k files, 40 ms saved
        if listed is None or fresh:
            try:
                listed = os.listdir(self.papers_dir)
            except (FileNotFoundError, NotADirectoryError):
                return set()
        joined = "\n".join(listed)
        if joined.count("\n") != len(listed) - 1:  # a name with a line break: name by name
            return _ids_of(n for n in listed if not n.startswith(".") and n.endswith(SUFFIXES))
        return set(_NEW_NAME.findall(joined)) | _ids_of(_OTHER_NAME.findall(joined))

    def present(self, paper_ids: Iterable[str]) -> set[str]:
        """Those of ``paper_ids`` (canonical) that have a paper file, looked for by name: a few
        thousand ``lstat`` calls cost less than listing 100k names (see :meth:`ids`)."""
        folder = str(self.papers_dir)
        found = set()
        for paper_id in paper_ids:
            try:
                stem = f"{folder}{os.sep}{file_stem(paper_id)}"
            except InvalidIdError:
                continue
            if os.path.lexists(stem + ".yaml") or os.path.lexists(stem + ".yml"):
                found.add(paper_id)
        return found

    def resolve(self, text: str) -> str:
        """The id of the paper ``text`` names: any id form, or the citekey of a stored paper."""
        try:
            paper_id = normalise_paper_id(text)
        except InvalidIdError:
            paper_id = None
        if paper_id is not None and (self.path_for(paper_id).exists() or not is_slug(paper_id)):
            return paper_id  # an arXiv id names that paper, stored or not, never a citekey
        from lmdev.citekeys import stored_citekeys

        name = stored_citekeys(self).get(text.strip())
        if name is not None:
            return id_from_stem(Path(name).stem)
        if paper_id is None:
            raise InvalidIdError(
                f"not an arXiv id, arXiv URL, slug or citekey of a stored paper{why_not_id(text)}: {text.strip()!r}"
            )
        return paper_id

    def missing(self, canonical: str) -> NotFoundError:
        """No stored paper by that id; one waiting in the inbox is named as such, with the
        commands that show it and take it in."""
        from lmdev.inbox import Inbox

        text = f"no paper {canonical!r} in {self.papers_dir}"
        if not is_slug(canonical) and Inbox(self.root).path_for(canonical).is_file():
            text += f"; it waits in the inbox (lmdev show {canonical}, lmdev accept {canonical})"
        return NotFoundError(text)

    def get(self, paper_id: str) -> Paper:
        """A stored paper by any id form or by citekey: from the index when its row matches the
        file's stat, else read (and indexed)."""
        from lmdev.index import Index

        canonical = normalise_paper_id(self.resolve(paper_id))
        path = self.locate(canonical)
        try:
            st = os.lstat(path) if path is not None else None
        except FileNotFoundError:
            st = None
        if path is None or st is None:
            raise self.missing(canonical)
        index = Index(self)
        try:
            paper = index.paper(path.name, stat_key(st))
            if paper is None:
                loaded = self.stored(canonical)
                if loaded is None:
                    raise self.missing(canonical)
                index.store_one(loaded.path.name, stat_key(st), loaded)
                return loaded.paper
            if paper.id != canonical:
                raise _foreign(path, paper.id, canonical)
            return paper
        finally:
            index.close()

    def stored(self, paper_id: str) -> Optional[LoadedPaper]:
        """The file of ``paper_id`` read and validated, or None when there is none.

        Raises:
            DataError: the file does not validate, or holds another paper than its name says
                (a hand-made copy), which no command may read or write as this paper.
        """
        canonical = normalise_paper_id(paper_id)
        path = self.locate(canonical)
        if path is None:
            return None
        loaded = self.read(path)
        if loaded.paper.id != canonical:
            raise _foreign(path, loaded.paper.id, canonical)
        return loaded

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the library's write lock (reentrant); temporary files that interrupted writes
        left behind are removed the first time it is taken."""
        self.papers_dir.mkdir(parents=True, exist_ok=True)
        self._listed = None  # a write makes the start-up listing stale
        with exclusive(self.root / LOCK_FILE):
            self._remove_stale_temporaries()
            yield

    def tidy(self) -> None:
        """Remove temporary files of interrupted writes, if any, when no other process is writing.
        Every command starts with this look; its listing is kept for the first :meth:`ids`, and
        when it finds none the folder's stat is remembered: a folder whose stat is unchanged since
        has had no file added, so the next look costs one ``stat`` instead of a listing."""
        from lmdev.prefetch import temporaries_seen

        if temporaries_seen(self.papers_dir) is False:  # the head start's listing found none
            return
        mark = folder_mark(self.papers_dir)
        if mark is not None and remembered_clean(self.root) == mark:
            return
        try:
            self._listed = os.listdir(self.papers_dir)
        except OSError:
            return
        if not temporaries(self._listed):
            if mark is not None:
                remember_clean(self.root, mark)
            return
        try:
            with exclusive(self.root / LOCK_FILE, blocking=False) as held:
                if held:
                    self._remove_stale_temporaries()
        except OSError:
            pass  # a read-only checkout: nothing to tidy there

    def _remove_stale_temporaries(self) -> None:
        """Only called with the lock held: any temporary file present then is a dead writer's."""
        try:
            names = os.listdir(self.papers_dir)
        except OSError:
            return
        for name in temporaries(names):
            try:
                (self.papers_dir / name).unlink()
            except OSError:
                pass

    def update(self, paper_id: str, change: Callable[[Paper], Optional[Paper]]) -> Update:
        """Re-read a stored paper, apply ``change`` and write it back, all under the lock.

        ``change`` edits the paper it is given (returning None) or returns the paper to write.

        Raises:
            NotFoundError: the paper is not stored.
            DataError: its file does not validate, or holds another id than its name says.
        """

        paper_id = self.resolve(paper_id)  # a citekey works here too, as wherever an id does

        def existing(paper: Optional[Paper]) -> Paper:
            if paper is None:
                raise self.missing(normalise_paper_id(paper_id))
            return change(paper) or paper

        return self.upsert(paper_id, existing)

    def upsert(self, paper_id: str, make: Callable[[Optional[Paper]], Paper]) -> Update:
        """Like :meth:`update`, for a paper that may not be stored yet: ``make`` gets the stored
        paper (a copy, re-read under the lock) or None, and returns the paper to write."""
        canonical = normalise_paper_id(paper_id)
        with self.lock():
            loaded = self.stored(canonical)
            path = loaded.path if loaded else self.path_for(canonical)
            before = loaded.paper if loaded else None
            try:
                paper = make(before.model_copy(deep=True) if before else None)
            except ValidationError as exc:
                raise validation_error(exc, path, None) from None
            if paper.id != canonical:
                raise DataError(f"a change may not turn paper {canonical!r} into {paper.id!r}", path=str(path))
            return Update(before, paper, path, self._write(path, paper, loaded.text if loaded else None))

    def save(self, paper: Paper) -> bool:
        """Write a paper as given, replacing what is stored; returns False when the bytes on disk
        are already the same. Prefer :meth:`update`, which cannot undo another writer's change."""
        return self.upsert(paper.id, lambda _stored: paper).changed

    def _write(self, path: Path, paper: Paper, old_text: Optional[str]) -> bool:
        """The one place a paper file is written (call with the lock held). A file a person
        edited keeps its comments, key order, quoting and flow style."""
        text = file_text(paper, old_text, path=path)
        if old_text == text:
            return False
        size = len(text.encode("utf-8"))
        if size > yamlio.MAX_FILE_BYTES:
            raise DataError(f"paper {paper.id} would be {size:,} bytes, larger than the {yamlio.MAX_FILE_BYTES:,} a paper file may hold; not written", path=str(path))
        yamlio.atomic_write(path, text)
        return True

    def remove(self, paper_id: str) -> Path:
        """Delete a paper's file (by any id form or citekey); returns the path it had."""
        with self.lock():
            path = self.locate(normalise_paper_id(self.resolve(paper_id)))
            if path is None:
                raise NotFoundError(f"no paper {paper_id.strip()!r} in {self.papers_dir}")
            path.unlink()
            return path

    def stem_matches(self, path: Path, paper: Paper) -> bool:
        try:
            return id_from_stem(path.stem) == paper.id
        except Exception:
            return False


_NEW_NAME = re.compile(r"^([0-9]{2}(?:0[1-9]|1[0-2])\.[0-9]{4,5})\.ya?ml$", re.MULTILINE | re.ASCII)
_OTHER_NAME = re.compile(r"^(?!\.)(?![0-9]{2}(?:0[1-9]|1[0-2])\.[0-9]{4,5}\.ya?ml$)(.*\.ya?ml)$", re.MULTILINE)


def _ids_of(names: Iterable[str]) -> set[str]:
    found = set()
    for name in names:
        try:
            found.add(id_from_stem(name.rpartition(".")[0]))
        except Exception:
            continue
    return found


def _foreign(path: Path, found: str, canonical: str) -> DataError:
    return DataError(f"holds paper {found!r}, not {canonical!r} as its name says; refusing to use it (rename the file or fix its id)", path=str(path))
