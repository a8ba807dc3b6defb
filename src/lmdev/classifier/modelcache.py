"""The trained model, cached on disk per library.

The trained model is cached on disk under a fingerprint of the taxonomy, the paper files
(names, sizes, modification times), the record of rejected papers and the shipped background,
so classifying one paper needs no training and no parse of the other papers, and a new
decision retrains the model.

Two files per model: the JSON (the model's portable form, what worker processes on platforms
without ``fork`` load) and beside it the built model itself (its lookup tables and the prior's,
as plain dicts, lists and tuples) in ``marshal``'s format, which loads in a few milliseconds
where parsing the JSON and rebuilding the tables (stemming every seed term) took a tenth of a
second of a one-paper ``classify``. ``marshal`` builds data only, never runs code; its format
depends on the Python version, which is in the file's name, and a built model is used only by the
code that built it (a digest of its source is kept with it).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
from pathlib import Path
from typing import Any, Optional

from lmdev import decisions, yamlio
from lmdev import text as text_module
from lmdev.classifier import background
from lmdev.classifier import model as model_module
from lmdev.classifier import prior as prior_module
from lmdev.classifier import scoring as scoring_module
from lmdev.classifier.model import MODEL_VERSION, Model
from lmdev.classifier.prior import Prior
from lmdev.errors import LmdevError
from lmdev.listing import SUFFIXES
from lmdev.paths import cache_dir
from lmdev.store import Library
from lmdev.taxonomy import Taxonomy
from lmdev.yamlio import atomic_write, atomic_write_bytes

BUILT_SUFFIX = f".py{sys.version_info[0]}{sys.version_info[1]}.marshal"


def fingerprint(library: Library) -> str:
    digest = hashlib.sha256(f"lmdev-model-{MODEL_VERSION}".encode())
    # the bounded reader: a FIFO, or a link to /dev/zero, named like either file is refused in
    # one line, not read for ever
    digest.update(yamlio.read_bytes(library.root / "taxonomy.yaml"))
    for name, size, mtime in _paper_files(library.papers_dir):
        digest.update(f"{name}\0{size}\0{mtime}\n".encode())
    rejected = decisions.path_for(library.root)
    if os.path.lexists(rejected):
        digest.update(yamlio.read_bytes(rejected, max_bytes=decisions.MAX_RECORD_BYTES))
    digest.update(background.version().encode())
    return digest.hexdigest()[:32]


def _paper_files(folder: Path) -> list[tuple[str, int, int]]:
    """(name, size, modification time) of every entry :meth:`Library.files` lists, from one
    directory scan (the same entries, without a path object and a stat call of Python's each)."""
    try:
        with os.scandir(folder) as scan:
            entries = [(e.name, e.stat(follow_symlinks=False)) for e in scan if e.name.endswith(SUFFIXES) and not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted((name, info.st_size, info.st_mtime_ns) for name, info in entries)


def rejected_records(library: Library) -> list[tuple[str, str, str]]:
    """(id, title, abstract) of each rejected paper that says what it is (older entries may not),
    once: two people who rejected the same paper leave two lines after a union merge, and the
    paper is still one negative example."""
    seen: set[str] = set()
    out = []
    for e in decisions.load(library.root):
        if e.rejection.title and e.rejection.id not in seen:
            seen.add(e.rejection.id)
            out.append((e.rejection.id, e.rejection.title, e.rejection.abstract or ""))
    return out


def model_path(library: Library) -> Path:
    return cache_dir() / "models" / f"{fingerprint(library)}.json"


def load_model(library: Library, *, retrain: bool = False) -> Model:
    """The model for this library: from the cache when nothing changed, else trained and cached."""
    path = model_path(library)
    if not retrain:
        built = load_built(library.taxonomy, path.with_suffix(BUILT_SUFFIX))
        if built is not None:
            return built
    if not retrain and path.exists():
        try:
            model = Model(library.taxonomy, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is rebuilt below
        else:
            save_built(model, path.with_suffix(BUILT_SUFFIX))
            return model
    return train_and_cache(library, path)


def train_and_cache(library: Library, path: Path) -> Model:
    """Train on the library and its rejections, and keep the model at ``path`` (replacing others)."""
    from lmdev.classifier.training import train  # only here: a warm start never trains

    loaded, unreadable = library.scan()
    model = train(library.taxonomy, [item.paper for item in loaded], rejected_records(library), fingerprint=path.stem)
    # what it was trained without, for a command that reads no other paper to say so
    model.data["unreadable"] = [str(error) for error in unreadable]
    try:
        for old in [*path.parent.glob("*.json"), *path.parent.glob("*.marshal")]:
            old.unlink(missing_ok=True)
        atomic_write(path, model.dumps())
    except (OSError, LmdevError):
        return model  # an unwritable cache only costs training time next run
    save_built(model, path.with_suffix(BUILT_SUFFIX))
    return model


def save_built(model: Model, path: Path) -> None:
    """Keep the built model (every attribute but the taxonomy, the prior's too) for :func:`load_built`.
    Nothing is written if an attribute is not plain data."""
    state: dict[str, Any] = {k: v for k, v in vars(model).items() if k not in ("taxonomy", "prior")}
    state["prior"] = dict(vars(model.prior))
    try:
        blob = marshal.dumps((MODEL_VERSION, _code_digest(), state))
    except ValueError:
        return
    try:
        atomic_write_bytes(path, blob)
    except (OSError, LmdevError):
        pass  # an unwritable cache only costs loading the JSON next run


def _code_digest() -> str:
    """The source of the code that builds the model's tables: a built model kept by other code
    (a new attribute, another stemmer) is not used, where the JSON is rebuilt by the code at hand."""
    digest = hashlib.sha256()
    for module in (model_module, prior_module, scoring_module, text_module):
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            digest.update(module.__name__.encode())
    return digest.hexdigest()[:16]


def load_built(taxonomy: Taxonomy, path: Path) -> Optional[Model]:
    """The model :func:`save_built` kept, or None (missing, damaged, or of another model version)."""
    try:
        version, code, state = marshal.loads(path.read_bytes())
        if version != MODEL_VERSION or code != _code_digest() or not isinstance(state, dict):
            return None
        prior = Prior.__new__(Prior)
        prior.__dict__.update(state.pop("prior"))
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return None
    model = Model.__new__(Model)
    model.__dict__.update(state)
    model.taxonomy = taxonomy
    model.prior = prior
    return model
