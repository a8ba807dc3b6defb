"""An on-disk cache of raw arXiv responses, so repeating a command does not ask arXiv again.

arXiv's metadata changes at most once a day, so entries live for a day by default.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Optional

from lmdev.errors import LmdevError
from lmdev.yamlio import atomic_write, read_bytes

MAX_CACHED_BYTES = 50 * 1024 * 1024  # the largest answer the client takes from arXiv (client.MAX_BODY)

DAY = 24 * 3600


class ResponseCache:
    def __init__(self, root: Path, *, ttl: float = DAY) -> None:
        self.root = root / "arxiv"
        self.ttl = ttl

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / f"{digest}.xml"

    def get(self, key: str, *, any_age: bool = False) -> Optional[bytes]:
        path = self._path(key)
        try:
            age = time.time() - path.stat().st_mtime
            if not any_age and not -60 <= age <= self.ttl:  # an answer dated in the future is no fresher for it
                return None
            return read_bytes(path, max_bytes=MAX_CACHED_BYTES)  # bounded: the cache directory is the user's to point anywhere
        except (OSError, LmdevError):
            return None

    def drop(self, key: str) -> Path:
        """Forget an entry (one that does not parse); returns where it was, to name it."""
        path = self._path(key)
        try:
            path.unlink()
        except OSError:
            pass
        return path

    def put(self, key: str, body: bytes) -> None:
        try:
            atomic_write(self._path(key), body.decode("utf-8"))
        except (OSError, UnicodeDecodeError, LmdevError):
            pass  # a cache that cannot be written only costs a request next time
