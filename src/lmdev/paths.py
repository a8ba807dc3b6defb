"""Where lmdev finds things: the data directory, the cache directory, and every ``LMDEV_*`` variable.

Keeping the environment in one module means a variable is named, parsed and validated once,
and a reader can see at a glance everything that changes lmdev's behaviour from outside.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Optional

from lmdev.errors import DataError, UsageError

ENV_DATA_DIR = "LMDEV_DATA_DIR"
ENV_CACHE_DIR = "LMDEV_CACHE_DIR"
ENV_ARXIV_API = "LMDEV_ARXIV_API"
ENV_ARXIV_RSS = "LMDEV_ARXIV_RSS"
ENV_ARXIV_DELAY = "LMDEV_ARXIV_DELAY"
ENV_DEBUG = "LMDEV_DEBUG"

DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
DEFAULT_ARXIV_RSS = "https://rss.arxiv.org/rss"
DEFAULT_ARXIV_DELAY = 3.0

TAXONOMY_FILE = "taxonomy.yaml"
PAPERS_DIR = "papers"


def find_data_dir(explicit: Optional[Path] = None, cwd: Optional[Path] = None) -> Path:
    """``explicit``, else ``$LMDEV_DATA_DIR``, else the nearest ``data/`` holding a taxonomy."""
    env = os.environ.get(ENV_DATA_DIR)
    chosen = explicit or (Path(env) if env else None)
    if chosen is not None:
        if not (chosen / TAXONOMY_FILE).is_file():
            raise DataError(f"no {TAXONOMY_FILE} in the data directory", path=str(chosen))
        return chosen
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "data" / TAXONOMY_FILE).is_file():
            return folder / "data"
    raise DataError(
        f"no data/{TAXONOMY_FILE} at or above {start}; run 'lmdev init' to start a tracker, "
        f"or pass --data-dir DIR or set {ENV_DATA_DIR}"
    )


def cache_dir() -> Path:
    """``$LMDEV_CACHE_DIR``, else the platform's user cache directory plus ``lmdev``."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lmdev"


def arxiv_api_url() -> str:
    return os.environ.get(ENV_ARXIV_API) or DEFAULT_ARXIV_API


def arxiv_rss_url() -> str:
    return (os.environ.get(ENV_ARXIV_RSS) or DEFAULT_ARXIV_RSS).rstrip("/")


def arxiv_delay() -> float:
    """Seconds between arXiv requests; arXiv asks for 3. Refuses nan, infinities and negatives."""
    raw = os.environ.get(ENV_ARXIV_DELAY)
    if raw is None or not raw.strip():
        return DEFAULT_ARXIV_DELAY
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{ENV_ARXIV_DELAY} must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{ENV_ARXIV_DELAY} must be a finite, non-negative number of seconds, not {raw!r}")
    return value


def debug_enabled() -> bool:
    return os.environ.get(ENV_DEBUG, "").strip().lower() not in ("", "0", "false", "no")
