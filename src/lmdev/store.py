"""The paper store: one YAML file per paper under ``<data dir>/papers/``.

The store finds the data directory, maps ids to file names, reads files into
:class:`~lmdev.models.Paper` objects with errors that name file, line and field, and writes
them back deterministically and atomically.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from pydantic import ValidationError

from lmdev import yamlio
from lmdev.errors import DataError, NotFoundError
from lmdev.ids import file_stem, id_from_stem, normalise_paper_id
from lmdev.models import Paper
from lmdev.paths import PAPERS_DIR, TAXONOMY_FILE, find_data_dir
from lmdev.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lmdev.index import Index, ProgressFactory


def normalise_title(title: str) -> str:
    """Titles compared for duplicates: case, punctuation and spacing ignored."""
    return re.sub(r"[^0-9a-z]+", " ", title.lower()).strip()


@dataclass
class LoadedPaper:
    paper: Paper
    path: Path
    text: str


class Library:
    """A data directory: the taxonomy plus the paper files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.papers_dir = root / PAPERS_DIR
        self._taxonomy: Optional[Taxonomy] = None
        self.progress: Optional[ProgressFactory] = None  # set by the CLI: a bar while the index fills
        self._index: Optional[Index] = None

    @classmethod
    def open(cls, data_dir: Optional[Path] = None) -> Library:
        return cls(find_data_dir(data_dir))

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy(self.root / TAXONOMY_FILE)
        return self._taxonomy

    def path_for(self, paper_id: str) -> Path:
        return self.papers_dir / f"{file_stem(normalise_paper_id(paper_id))}.yaml"

    def entries(self) -> Iterator[tuple[str, os.stat_result]]:
        """The paper files' names and stats, in directory order: the one place that decides which
        files are papers, for every bulk reader and the index."""
        if not self.papers_dir.is_dir():
            return
        if os.stat not in os.supports_dir_fd:  # Windows: scandir, slower but everywhere
            with os.scandir(self.papers_dir) as found:
                for entry in found:
                    if not entry.name.startswith(".") and entry.name.endswith((".yaml", ".yml")):
                        yield entry.name, os.stat(entry.path, follow_symlinks=os.path.exists(entry.path))
            return
        folder = os.open(self.papers_dir, os.O_RDONLY)
        try:
            # listdir plus stat relative to the open folder: the cheapest way to stat 100k files.
            for name in os.listdir(folder):
                if name.startswith(".") or not name.endswith((".yaml", ".yml")):
                    continue
                try:
                    st = os.stat(name, dir_fd=folder)
                except FileNotFoundError:
                    try:
                        st = os.stat(name, dir_fd=folder, follow_symlinks=False)  # a dangling link: listed, so reading it reports it
                    except FileNotFoundError:
                        continue  # deleted since the listing
                yield name, st
        finally:
            os.close(folder)

    def listing(self) -> list[tuple[str, os.stat_result]]:
        """:meth:`entries`, sorted by name."""
        return sorted(self.entries(), key=lambda item: item[0])

    def files(self) -> list[Path]:
        return [self.papers_dir / name for name, _ in self.listing()]

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

    def read(self, path: Path) -> LoadedPaper:
        """Read and validate one paper file; raises :class:`DataError` (file, line, field, reason)."""
        text = yamlio.read_text(path)
        data, node = yamlio.parse(text, path=str(path))
        if not isinstance(data, dict):
            raise DataError("a paper file must be a mapping of fields", path=str(path), line=1)
        try:
            paper = Paper.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc) or "paper"
            message = err["msg"].removeprefix("Value error, ")
            more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
            raise DataError(f"{field}: {message}{more}", path=str(path), line=yamlio.line_of(node, loc)) from None
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

    def ids(self) -> set[str]:
        """Ids of the stored papers, from file names alone (no file is parsed)."""
        found = set()
        for path in self.files():
            try:
                found.add(id_from_stem(path.stem))
            except Exception:
                continue
        return found

    def get(self, paper_id: str) -> Paper:
        """One paper: from the index when its row matches the file's stat, else read (and indexed)."""
        from lmdev.index import Index

        path = self.path_for(paper_id)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise NotFoundError(f"no paper {normalise_paper_id(paper_id)!r} in {self.papers_dir}") from None
        index = Index(self)
        try:
            paper = index.paper(path.name, st)
            if paper is None:
                loaded = self.read(path)
                index.store_one(path.name, st, loaded)
                paper = loaded.paper
            return paper
        finally:
            index.close()

    def save(self, paper: Paper) -> bool:
        """Write a paper's file; returns False when the bytes on disk are already the same."""
        path = self.path_for(paper.id)
        text = render(paper)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            return False
        yamlio.atomic_write(path, text)
        return True

    def stem_matches(self, path: Path, paper: Paper) -> bool:
        try:
            return id_from_stem(path.stem) == paper.id
        except Exception:
            return False


def render(paper: Paper) -> str:
    """A paper's file text: the same paper always gives the same bytes."""
    return yamlio.dump(paper.to_data())
