"""Exclusive locks on files, between processes (``flock``, or ``msvcrt`` on Windows) and threads.

A lock is reentrant within a process: a writer that already holds the library's lock can call
another function that takes it, and two ``Library`` objects on one folder share one lock rather
than deadlock on two descriptors of the same file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Optional


def lock_handle(handle: IO[bytes], *, blocking: bool = True) -> bool:
    """Lock an open file exclusively; without ``blocking``, return False instead of waiting."""
    try:
        import fcntl

        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            if blocking:
                raise
            return False
        return True


def unlock_handle(handle: IO[bytes]) -> None:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


def open_lock_file(path: Path) -> IO[bytes]:
    """Open (creating it, private to the user) a lock file; never follows a symlink planted there."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    return os.fdopen(fd, "r+b")


# Called (with the lock file) when a lock is held by another process and this one starts to
# wait for it: the command line says so, rather than hang without a word while a review or a
# long import elsewhere holds the tracker.
waiting: Optional[Callable[[Path], None]] = None


class _Held:
    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.handle: Optional[IO[bytes]] = None
        self.depth = 0


_registry: dict[str, _Held] = {}
_registry_lock = threading.Lock()


def _entry(path: Path) -> _Held:
    key = os.path.realpath(path)
    with _registry_lock:
        return _registry.setdefault(key, _Held())


@contextmanager
def exclusive(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the lock file ``path``; yields True when held (always, if ``blocking``).

    The outermost holder in a process takes the file lock; nested holders in the same thread
    only count, and other threads of the process wait on a thread lock first.
    """
    held = _entry(path)
    if not held.thread_lock.acquire(blocking=blocking):
        yield False
        return
    try:
        if held.depth == 0:
            handle = open_lock_file(path)
            try:
                got = lock_handle(handle, blocking=False)
                if not got and blocking:
                    if waiting is not None:
                        waiting(path)
                    got = lock_handle(handle, blocking=True)
            except BaseException:
                handle.close()
                raise
            if not got:
                handle.close()
                yield False
                return
            held.handle = handle
        held.depth += 1
        try:
            yield True
        finally:
            held.depth -= 1
            if held.depth == 0 and held.handle is not None:
                try:
                    unlock_handle(held.handle)
                finally:
                    held.handle.close()
                    held.handle = None
    finally:
        held.thread_lock.release()
