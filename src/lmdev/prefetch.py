"""A head start on the index's freshness pass, run in a child process while the CLI starts.

Before a read command answers from the index it stats every paper file (a quarter of a second at
100,000 papers), and before it gets there it spends about as long importing its own modules. On
systems with ``fork`` the command line forks a child as its first step (:func:`start`); the child
lists and stats the paper folder, compares what it found with the stamps the index cached, packs
the new stamps and sends the differences back through a pipe, on the second core, while the
parent imports. The index takes the answer (:func:`take`) and uses it only if it still applies:
the same folder, the same index file, and no write to the index since the child read it (the
index's generation). Anything else, a missing answer included, and the index does the pass itself,
so the head start can make a command faster but never makes it wrong.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import signal
import time
from pathlib import Path
from typing import Any, NamedTuple, Optional

from lmdev.listing import StatKey, stamp_lists, stored_key, temporaries
from lmdev.paths import PAPERS_DIR


class Found(NamedTuple):
    """What the child found: the folder it listed (device and inode), the index it compared with
    and that index's generation, whether the index's cached stamps are these, in this listing's
    order (else the parent keeps the child's, so the next child compares in place), the files to
    read (name order) and the names gone, and the stamps of everything now on disk (left empty
    when the index holds them already)."""

    folder: tuple[int, int]
    index_file: str
    generation: int
    cached: bool
    todo: list[tuple[str, StatKey]]
    gone: list[str]
    files: int
    body: bytes
    temporaries: bool


_pending: Optional[tuple[Path, int, int]] = None  # (paper folder, read end of the pipe, child's pid)
_found: Optional[Found] = None
_used = False


def start(root: Path) -> None:
    """Fork the child that compares ``root``'s paper folder with its index."""
    global _pending
    if _pending is not None or not hasattr(os, "fork") or os.stat not in os.supports_dir_fd:
        return
    folder = root / PAPERS_DIR
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return
    if pid == 0:  # the child: answer, and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(marshal.dumps(_scan(root, folder)))
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    _pending = (folder, read_end, pid)
    atexit.register(_abandon)


def _scan(root: Path, folder: Path) -> Optional[tuple[Any, ...]]:
    """The child's work (see :class:`Found`), as plain data; None when there is no index to compare with."""
    # Imported here, in the child, so that the fork comes as early as it can.
    import sqlite3
    from array import array

    from lmdev.indexdb import Stamps, index_path, pack_names, read_stamp_columns

    index = index_path(root)
    st = os.stat(folder)
    names = os.listdir(folder)
    found, keys = stamp_lists(folder, names)
    try:
        db = sqlite3.connect(f"{index.resolve().as_uri()}?mode=rw", uri=True, timeout=5, isolation_level=None)
        try:
            old: Stamps = read_stamp_columns(db, "papers")
        finally:
            db.close()
    except (sqlite3.Error, OSError, ValueError):
        return None
    values = array("q", map(hash, keys))
    in_order = found == old.names
    if in_order:  # the usual case, a few files edited: compare the stamps in place
        changed = [n for n, (new, was) in enumerate(zip(values, old.values)) if new != was]
        gone: list[str] = []
        packed = old.packed_names
    else:  # files came or went, or the stamps were kept in another order (the parent then keeps ours)
        known = old.as_dict()
        changed = [n for n, name in enumerate(found) if known.pop(name, None) != values[n]]
        gone = list(known)
        packed = pack_names(found)
    now = time.time_ns()
    for n in changed:  # a file read now is remembered so that it is read again while racy
        values[n] = hash(stored_key(keys[n], now))
    todo = sorted((found[n], keys[n]) for n in changed)
    kept = old.cached and in_order
    body = b"" if kept and not changed else values.tobytes() + packed  # the index keeps it only after a change
    return ((st.st_dev, st.st_ino), str(index), old.generation, kept, todo, gone, len(found), body, bool(temporaries(names)))


def pending() -> bool:
    """Whether a child was started and its answer not yet read."""
    return _pending is not None


def _answer() -> Optional[Found]:
    """The child's answer, waited for once (None if there was no child or it failed)."""
    global _pending, _found
    if _pending is not None:
        _, read_end, pid = _pending
        _pending = None
        try:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            os.waitpid(pid, 0)
            raw = marshal.loads(data) if data else None
            _found = Found(*raw) if isinstance(raw, tuple) and len(raw) == 9 else None
        except (OSError, ValueError, EOFError, TypeError):
            _found = None
    return _found


def _matches(found: Found, folder: Path) -> bool:
    try:
        st = os.stat(folder)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == found.folder


def temporaries_seen(folder: Path) -> Optional[bool]:
    """Whether the child's listing of ``folder`` held temporary files (None: no such listing)."""
    if _pending is None and _found is None:
        return None
    found = _answer()
    return found.temporaries if found is not None and _matches(found, folder) else None


def take(folder: Path, index: Path) -> Optional[Found]:
    """The child's answer for ``folder`` compared with ``index``, once per process."""
    global _used
    if _used or (_pending is None and _found is None):
        return None
    found = _answer()
    _used = True
    if found is None or found.index_file != str(index) or not _matches(found, folder):
        return None
    return found


def _abandon() -> None:
    """At exit, a child whose answer nobody took is stopped and reaped."""
    global _pending
    if _pending is None:
        return
    _, read_end, pid = _pending
    _pending = None
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.close(read_end)
        os.waitpid(pid, 0)
