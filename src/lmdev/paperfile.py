"""A paper's file text: the canonical bytes lmdev writes, and the choice, when a file exists,
between rewriting it and changing only what changed so a person's edits survive
(:mod:`lmdev.roundtrip`). Kept apart from the store, which decides where and when to write.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from lmdev import yamlio
from lmdev.errors import DataError
from lmdev.models import Paper

log = logging.getLogger(__name__)

__all__ = ["file_text", "render"]


def render(paper: Paper) -> str:
    """A paper's file text: the same paper always gives the same bytes."""
    return yamlio.dump(paper.to_data())


def file_text(paper: Paper, existing: Optional[str], *, path: Path) -> str:
    """:func:`_file_text`, keeping a file's Windows line endings (``\\r\\n``) throughout: an edit
    must not leave a file half in one convention and half in the other."""
    if existing is None or "\r\n" not in existing:
        return _file_text(paper, existing, path=path)
    return _file_text(paper, existing.replace("\r\n", "\n"), path=path).replace("\n", "\r\n")


def _file_text(paper: Paper, existing: Optional[str], *, path: Path) -> str:
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
