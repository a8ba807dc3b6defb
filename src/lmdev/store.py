"""The paper store: one YAML file per paper under ``<data dir>/papers/``.

The store finds the data directory, maps ids to file names, reads files into
:class:`~lmdev.models.Paper` objects with errors that name file, line and field, and writes
them back deterministically and atomically.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from lmdev import yamlio
from lmdev.errors import DataError, InvalidIdError, NotFoundError
from lmdev.ids import file_stem, id_from_stem, normalise_paper_id
from lmdev.models import Paper
from lmdev.paths import PAPERS_DIR, TAXONOMY_FILE, find_data_dir
from lmdev.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)


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

    def files(self) -> list[Path]:
        if not self.papers_dir.is_dir():
            return []
        return sorted(p for p in self.papers_dir.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))

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
        """All papers, failing on the first file that does not validate."""
        loaded, errors = self.scan()
        if errors:
            first = errors[0]
            raise DataError(f"{first.message} (run 'lmdev check' for every problem)", path=first.path, line=first.line)
        return [item.paper for item in loaded]

    def ids(self) -> set[str]:
        """Ids of the stored papers, from file names alone (no file is parsed)."""
        found = set()
        for path in self.files():
            try:
                found.add(id_from_stem(path.stem))
            except Exception:
                continue
        return found

    def resolve(self, text: str) -> str:
        """The id of the paper ``text`` names: any id form, or the citekey of a stored paper."""
        try:
            paper_id = normalise_paper_id(text)
        except InvalidIdError:
            paper_id = None
        if paper_id is not None and self.path_for(paper_id).exists():
            return paper_id
        from lmdev.citekeys import stored_citekeys

        name = stored_citekeys(self).get(text.strip())
        if name is not None:
            return id_from_stem(Path(name).stem)
        if paper_id is None:
            raise InvalidIdError(f"not an arXiv id, arXiv URL, slug or citekey of a stored paper: {text.strip()!r}")
        return paper_id

    def get(self, paper_id: str) -> Paper:
        """A stored paper by any id form or by citekey."""
        path = self.path_for(self.resolve(paper_id))
        if not path.exists():
            raise NotFoundError(f"no paper {normalise_paper_id(paper_id)!r} in {self.papers_dir}")
        return self.read(path).paper

    def save(self, paper: Paper) -> bool:
        """Write a paper's file; returns False when the bytes on disk are already the same.

        A file a person edited keeps its comments, key order, quoting and flow style."""
        path = self.path_for(paper.id)
        existing = path.read_text(encoding="utf-8") if path.exists() else None
        text = file_text(paper, existing, path=path)
        if existing == text:
            return False
        yamlio.atomic_write(path, text)
        return True

    def remove(self, paper_id: str) -> Path:
        """Delete a paper's file (by any id form or citekey); returns the path it had."""
        path = self.path_for(self.resolve(paper_id))
        if not path.exists():
            raise NotFoundError(f"no paper {paper_id.strip()!r} in {self.papers_dir}")
        path.unlink()
        return path

    def stem_matches(self, path: Path, paper: Paper) -> bool:
        try:
            return id_from_stem(path.stem) == paper.id
        except Exception:
            return False


def render(paper: Paper) -> str:
    """A paper's file text: the same paper always gives the same bytes."""
    return yamlio.dump(paper.to_data())


def file_text(paper: Paper, existing: Optional[str], *, path: Path) -> str:
    """The text to store for ``paper`` where ``existing`` is the file's current text (or None).

    New files, and files exactly as lmdev writes them, get :func:`render`'s bytes. A file a person
    edited is changed key by key (:mod:`lmdev.roundtrip`); should that ever fail to hold the
    paper exactly, the file is written as lmdev writes it, with a warning.
    """
    canonical = render(paper)
    if existing is None or existing == canonical:
        return canonical
    data, _ = yamlio.parse(existing, path=str(path))
    try:
        old = Paper.model_validate(data)
    except ValidationError:
        raise DataError("the file changed on disk and no longer validates; not overwritten (run 'lmdev check')", path=str(path)) from None
    if render(old) == existing:
        return canonical
    from lmdev import roundtrip

    new_data = paper.to_data()
    try:
        text = roundtrip.update(existing, old.to_data(), new_data, list(Paper.model_fields))
        if Paper.model_validate(yamlio.parse(text, path=str(path))[0]).to_data() == new_data:
            return text
    except (ValueError, DataError) as exc:
        log.debug("round-trip of %s failed: %s", path, exc)
    log.warning("%s: could not keep its hand edits while writing it; wrote it as lmdev writes files", path)
    return canonical
