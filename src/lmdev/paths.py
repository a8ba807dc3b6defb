"""Where lmdev finds things: the data directory, the cache directory, and every ``LMDEV_*`` variable.

Keeping the environment in one module means a variable is named, parsed and validated once,
and a reader can see at a glance everything that changes lmdev's behaviour from outside.
"""

from __future__ import annotations

import logging
import os
import re
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
ENV_RATE_LOCK = "LMDEV_RATE_LOCK"

DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
DEFAULT_ARXIV_RSS = "https://rss.arxiv.org/rss"
DEFAULT_ARXIV_DELAY = 3.0

TAXONOMY_FILE = "taxonomy.yaml"
PAPERS_DIR = "papers"
INBOX_DIR = "inbox"

log = logging.getLogger(__name__)


def find_data_dir(explicit: Optional[Path] = None, cwd: Optional[Path] = None) -> Path:
    """``explicit``, else ``$LMDEV_DATA_DIR``, else the nearest ``data/`` holding a taxonomy."""
    env = os.environ.get(ENV_DATA_DIR)
    chosen = explicit or (Path(env) if env else None)
    if chosen is not None:
        source = "--data-dir" if explicit is not None else ENV_DATA_DIR
        if not chosen.is_dir():
            what = "is not a directory" if chosen.exists() else "does not exist"
            raise DataError(f"the data directory {what} (from {source}); 'lmdev init DIR' starts a tracker", path=str(chosen))
        if not os.path.lexists(chosen / TAXONOMY_FILE):  # one there but not a file is the reader's to name
            raise DataError(f"no {TAXONOMY_FILE} in the data directory (from {source}); 'lmdev init DIR' starts a tracker", path=str(chosen))
        return chosen
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if os.path.lexists(folder / "data" / TAXONOMY_FILE):
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
    """``$LMDEV_ARXIV_API`` (a mirror, or a test server), else arXiv's API; http(s) only."""
    return _http_url(ENV_ARXIV_API, os.environ.get(ENV_ARXIV_API) or DEFAULT_ARXIV_API)


def arxiv_rss_url() -> str:
    """``$LMDEV_ARXIV_RSS`` (a test server), else arXiv's listing feed; http(s) only."""
    return _http_url(ENV_ARXIV_RSS, os.environ.get(ENV_ARXIV_RSS) or DEFAULT_ARXIV_RSS).rstrip("/")


def _http_url(name: str, url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{name} must be an http:// or https:// URL, not {url!r}")
    return url


def arxiv_delay() -> float:
    """Seconds between arXiv requests; arXiv asks for 3. A plain decimal number only (no nan,
    infinities, exponents or negatives); below 3 it warns."""
    raw = os.environ.get(ENV_ARXIV_DELAY)
    if raw is None or not raw.strip():
        return DEFAULT_ARXIV_DELAY
    if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]*)?|\.[0-9]+", raw.strip(), re.ASCII):
        raise UsageError(f"{ENV_ARXIV_DELAY} must be a number of seconds such as 3 or 4.5, not {raw!r}")
    value = float(raw)
    if value < DEFAULT_ARXIV_DELAY:
        log.warning("%s=%s is below the %g s between requests that arXiv asks for; use it only with a mirror or a test server", ENV_ARXIV_DELAY, raw.strip(), DEFAULT_ARXIV_DELAY)
    return value


def rate_lock_path() -> Path:
    """The lock file that spaces arXiv requests across every lmdev process of this user.

    It must not follow ``LMDEV_CACHE_DIR``, or two processes with different caches would ask
    arXiv at once: it lives in a fixed private folder of the temporary directory.
    ``$LMDEV_RATE_LOCK`` moves it, for tests only (so they never share a real user's spacing).
    """
    env = os.environ.get(ENV_RATE_LOCK)
    if env:
        return Path(env)
    owner = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    import tempfile  # here, not at the top: the console script imports this module before it forks (lmdev.prefetch)

    return Path(tempfile.gettempdir()) / f"lmdev-{owner}" / "arxiv-rate.lock"


def debug_enabled() -> bool:
    return os.environ.get(ENV_DEBUG, "").strip().lower() not in ("", "0", "false", "no")
