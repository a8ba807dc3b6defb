"""The trained model, cached on disk per library.

The trained model is cached on disk under a fingerprint of the taxonomy, the paper files
(names, sizes, modification times), the record of rejected papers and the shipped background,
so classifying one paper needs no training and no parse of the other papers, and a new
decision retrains the model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lmdev import decisions
from lmdev.classifier import background
from lmdev.classifier.model import MODEL_VERSION, Model
from lmdev.classifier.training import train
from lmdev.errors import LmdevError
from lmdev.paths import cache_dir
from lmdev.store import Library
from lmdev.yamlio import atomic_write


def fingerprint(library: Library) -> str:
    digest = hashlib.sha256(f"lmdev-model-{MODEL_VERSION}".encode())
    digest.update((library.root / "taxonomy.yaml").read_bytes())
    for path in library.files():
        stat = path.lstat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    rejected = decisions.path_for(library.root)
    if rejected.exists():
        digest.update(rejected.read_bytes())
    digest.update(background.version().encode())
    return digest.hexdigest()[:32]


def rejected_records(library: Library) -> list[tuple[str, str, str]]:
    """(id, title, abstract) of each rejection that says what the paper is (older entries may not)."""
    return [(e.rejection.id, e.rejection.title, e.rejection.abstract or "") for e in decisions.load(library.root) if e.rejection.title]


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
    return train_and_cache(library, path)


def train_and_cache(library: Library, path: Path) -> Model:
    """Train on the library and its rejections, and keep the model at ``path`` (replacing others)."""
    readable = [item.paper for item in library.scan()[0]]  # a broken file is the command's to report
    model = train(library.taxonomy, readable, rejected_records(library), fingerprint=path.stem)
    try:
        for old in path.parent.glob("*.json"):
            old.unlink(missing_ok=True)
        atomic_write(path, model.dumps())
    except (OSError, LmdevError):
        pass  # an unwritable cache only costs training time next run
    return model
