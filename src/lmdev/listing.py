"""What a paper folder holds: its paper files with their stat keys, and its stale temporaries.

The store, the index and the child process that gives the index a head start
(:mod:`lmdev.prefetch`) all need the same answer to "which files are papers, and did any change",
so it is decided here, in a module light enough to import before anything else.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

SUFFIXES = (".yaml", ".yml")
TEMP_SUFFIX = ".tmp"  # what yamlio.atomic_write appends to a hidden name while it writes

# A file changed this recently may change again within the filesystem's timestamp granularity
# with the same size, so its row is stored as "check again next time" (git's racy-clean rule).
RACY_NS = 2_000_000_000

StatKey = tuple[int, int, int, int]

_HIDDEN_TMP = re.compile(r"^\..*\.tmp$", re.MULTILINE)


def stat_key(st: os.stat_result) -> StatKey:
    """What says a file changed: size, mtime, ctime (an edit that puts the mtime back) and inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def racy(key: StatKey, now: int) -> bool:
    return now - max(key[1], key[2]) < RACY_NS


def stored_key(key: StatKey, now: int) -> StatKey:
    """The key to remember for a file read at ``now``: one that never matches while it is racy."""
    return (-1, *key[1:]) if racy(key, now) else key


def is_paper_name(name: str) -> bool:
    return not name.startswith(".") and name.endswith(SUFFIXES)


def is_temporary(name: str, target_suffixes: tuple[str, ...] = SUFFIXES) -> bool:
    """Whether ``name`` is a temporary file an atomic write left behind for such a target."""
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return False
    target = name[1 : -len(TEMP_SUFFIX)].rpartition(".")[0]
    return target.endswith(target_suffixes)


def temporaries(names: list[str]) -> list[str]:
    """The temporary files among ``names``; one pass of a regular expression in the usual case
    of none, since every command looks (at 100k files too). The pattern reads the names joined
    by line breaks, so a name holding one (a file name may) sends the look name by name."""
    joined = "\n".join(names)
    if joined.count("\n") == len(names) - 1 and not _HIDDEN_TMP.search(joined):
        return []
    return [n for n in names if is_temporary(n)]


def entries(folder: Path, names: list[str] | None = None) -> Iterator[tuple[str, StatKey]]:
    """The paper files of ``folder`` (of ``names``, its listing, when the caller has it), each with
    its stat key (of the entry itself: a link is never followed), in listing order. Entries that
    are not regular files are listed too, so that reading them (which refuses them) lets
    ``check`` name them; temporary and hidden files are left out."""
    if os.stat not in os.supports_dir_fd:  # Windows: scandir, slower but everywhere
        return _scanned(folder)
    return zip(*stamp_lists(folder, names))


def stamp_lists(folder: Path, names: list[str] | None = None) -> tuple[list[str], list[StatKey]]:
    """:func:`entries` as two lists, names and stat keys (where ``os.stat`` takes ``dir_fd``)."""
    found: list[str] = []
    keys: list[StatKey] = []
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return found, keys
    # listdir plus stat relative to the open folder: the cheapest way to stat 100k files. This
    # loop is the head start's critical path (:mod:`lmdev.prefetch`), so it is kept tight: a
    # quarter faster than a generator yielding as it goes.
    add_name, add_key, stat = found.append, keys.append, os.stat
    try:
        for name in os.listdir(fd) if names is None else names:
            if name.startswith(".") or not name.endswith(SUFFIXES):
                continue
            try:
                st = stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # deleted since the listing
            add_name(name)
            add_key((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    finally:
        os.close(fd)
    return found, keys


def content_hash(raw: bytes) -> bytes:
    """What says a file's bytes are those the index read: a file touched, copied or checked out
    again with the same content need not be parsed and validated again."""
    return hashlib.blake2b(raw, digest_size=16).digest()


def same_content(folder: Path, name: str, key: StatKey, stored: tuple[int, bytes]) -> bool:
    """Whether the file ``name`` (whose stat key is now ``key``) still holds the bytes whose
    size and :func:`content_hash` are ``stored``. A size of -1 was stored while the file was racy.
    A file that cannot be read as a plain file here is not the same: its full read says why."""
    from lmdev.errors import DataError
    from lmdev.yamlio import read_bytes

    size, sha = stored
    if size not in (key[0], -1):
        return False
    try:
        return content_hash(read_bytes(folder / name, follow_symlinks=False)) == sha
    except DataError:
        return False


def _scanned(folder: Path) -> Iterator[tuple[str, StatKey]]:
    if not folder.is_dir():
        return
    with os.scandir(folder) as found:
        for entry in found:
            if is_paper_name(entry.name):
                yield entry.name, stat_key(os.lstat(entry.path))


# -- the look for stale temporaries, remembered --------------------------------------------------


def folder_mark(folder: Path) -> Optional[str]:
    """The folder's stat key as text; None while it is too recent to trust (see :func:`racy`).
    Adding a file to a folder changes its mtime, so an unchanged mark means no file was added."""
    try:
        key = stat_key(os.stat(folder))
    except OSError:
        return None
    return None if racy(key, time.time_ns()) else " ".join(map(str, key))


def _mark_path(root: Path) -> Path:
    from lmdev.paths import cache_dir

    return cache_dir() / "tidy" / hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:24]


def remembered_clean(root: Path) -> str:
    """The folder mark at which the tracker at ``root`` last held no temporaries ('' if none)."""
    try:
        with open(_mark_path(root), "rb") as handle:
            return handle.read(200).decode("utf-8")  # a mark is under 100 bytes: anything else never matches
    except (OSError, UnicodeDecodeError):
        return ""


def remember_clean(root: Path, mark: str) -> None:
    """Remember that the paper folder held no temporaries at ``mark`` (only a cache: failures pass)."""
    path = _mark_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(mark, encoding="utf-8")
    except OSError:
        pass
