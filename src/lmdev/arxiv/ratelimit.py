"""arXiv's terms of use: one connection, at least N seconds between the starts of requests.

The limit holds across every lmdev process on the machine: a lock file in the cache
directory holds the start time of the last request, and a process keeps the lock for the
whole of its request, so two processes never have connections open at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

MARGIN = 0.01  # seconds added to each gap, so network jitter cannot shrink it below the delay at arXiv's end


class Clock(Protocol):
    """Time as the limiter sees it; tests inject a fake one so nothing really sleeps."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _lock(handle: IO[bytes]) -> None:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]


def _unlock(handle: IO[bytes]) -> None:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


class RateLimiter:
    """Spaces request starts at least ``delay`` seconds apart, machine-wide."""

    def __init__(self, lock_path: Path, delay: float, clock: Clock | None = None) -> None:
        self.lock_path = lock_path
        self.delay = delay
        self.clock = clock or SystemClock()

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold the machine-wide slot for one request; yields the time the request starts."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        with os.fdopen(fd, "r+b") as handle:
            _lock(handle)
            try:
                handle.seek(0)
                raw = handle.read().decode("ascii", "ignore").strip()
                last = float(raw) if raw else 0.0
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
                _unlock(handle)
