"""arXiv's terms of use: one connection, at least N seconds between the starts of requests.

The limit holds across every lmdev process of the user on the machine, whatever cache each
uses: a lock file in a fixed private folder (:func:`lmdev.paths.rate_lock_path`) holds the
start time of the last request, and a process keeps the lock for the whole of its request
(which has a deadline), so two processes never have connections open at once.
"""

from __future__ import annotations

import math
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from lmdev.errors import ArxivError
from lmdev.locking import lock_handle, open_lock_file, unlock_handle

MARGIN = 0.01  # seconds added to each gap, so network jitter cannot shrink it below the delay at arXiv's end
# How long to wait for another process's slot. A holder keeps it for one request (whose deadline
# is under a minute) and the gap after it; one that holds it for minutes is stopped (Ctrl-Z) or
# stuck, and every lmdev of the user would otherwise wait for it in silence, for ever.
PATIENCE = 300.0
POLL = 0.25  # seconds between looks at a slot another process holds


class Clock(Protocol):
    """Time as the limiter sees it; tests inject a fake one so nothing really sleeps."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _private_folder(folder: Path) -> None:
    """Create the lock's folder (0700); refuse one that another user could have planted."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    if not stat.S_ISDIR(info.st_mode) or not mine:
        raise ArxivError(f"{folder} is not a folder of yours; remove it so lmdev can keep its arXiv rate limit there")


def _last_start(raw: bytes) -> float:
    try:
        value = float(raw.decode("ascii").strip() or 0)
    except (UnicodeDecodeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


class RateLimiter:
    """Spaces request starts at least ``delay`` seconds apart, machine-wide."""

    def __init__(self, lock_path: Path, delay: float, clock: Clock | None = None) -> None:
        self.lock_path = lock_path
        self.delay = delay
        self.clock = clock or SystemClock()

    def _take(self, handle: IO[bytes]) -> None:
        """Lock the slot; when another process holds it, say so once (:data:`lmdev.locking.waiting`)
        and look again until it is free, for :data:`PATIENCE` seconds at most."""
        if lock_handle(handle, blocking=False):
            return
        from lmdev import locking

        if locking.waiting is not None:
            locking.waiting(self.lock_path)
        began = time.monotonic()  # real time: another process's hold is measured as it passes
        while not lock_handle(handle, blocking=False):
            if time.monotonic() - began > PATIENCE:
                raise ArxivError(f"another lmdev has held arXiv's request slot ({self.lock_path}) for over {PATIENCE / 60:.0f} minutes (stopped with Ctrl-Z, or stuck?); end it, or try again later")
            time.sleep(POLL)

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold the machine-wide slot for one request; yields the time the request starts."""
        _private_folder(self.lock_path.parent)
        with open_lock_file(self.lock_path) as handle:
            self._take(handle)
            try:
                handle.seek(0)
                last = _last_start(handle.read(64))
                # A start time in the future (a clock set back) must not block for long.
                due = min(last + self.delay + MARGIN, self.clock.time() + self.delay + MARGIN)
                while (wait := due - self.clock.time()) > 0:
                    self.clock.sleep(wait)
                start = self.clock.time()
                handle.seek(0)
                handle.truncate()
                handle.write(f"{start:.6f}".encode("ascii"))
                handle.flush()
                yield start
            finally:
                unlock_handle(handle)
