"""The index's database file: where it lives, opening it (WAL, schema, the fingerprint that
rebuilds it when lmdev changes), telling damage from a busy database, the compact form in
which the stamps of every file are cached, and writing papers' rows with their tag counts.
:mod:`lmdev.index` does the rest."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import re
import sqlite3
import struct
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from lmdev.errors import DataError
from lmdev.indexrows import PAPER_COLUMNS, TAG_COLUMNS, counts, has_words
from lmdev.listing import StatKey
from lmdev.paths import cache_dir

log = logging.getLogger(__name__)

SCHEMA = 12  # 4: reviewed/suggested tags counted apart, primary, citekeys looked up; 5: stamps cached whole; 6: list's lines, in order; 7: suggestions counted from an index; 8: papers without a date ordered by their id's month; 9: the primary problem first in list's lines; 10: each file's content hash, so a touched file is not parsed again; 11: the primary problem's tag row marked, for coverage; 12: the citekey an export gives a paper without one

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS papers (
    name TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER, stamp INTEGER,
    error TEXT, line INTEGER, {", ".join(PAPER_COLUMNS)});
CREATE INDEX IF NOT EXISTS papers_by_year ON papers (year);
CREATE INDEX IF NOT EXISTS papers_by_state ON papers (error, tagged, suggested);
-- list's default order (filters.NEWEST_FIRST) with its lines: piped ``list`` reads this index alone.
CREATE INDEX IF NOT EXISTS papers_newest ON papers (error, published IS NULL, published DESC, id DESC, name, list_line);
CREATE TABLE IF NOT EXISTS bodies (name TEXT PRIMARY KEY, data TEXT);
CREATE TABLE IF NOT EXISTS tags ({", ".join(TAG_COLUMNS)});
CREATE INDEX IF NOT EXISTS tags_by_tag ON tags (tag, kind);
CREATE INDEX IF NOT EXISTS tags_by_name ON tags (name);
CREATE INDEX IF NOT EXISTS tags_by_recency ON tags (tag, year DESC, recency DESC, name);
CREATE TABLE IF NOT EXISTS tag_counts (tag TEXT, year INTEGER, stance TEXT, cited INTEGER, reviewed INTEGER, n INTEGER, PRIMARY KEY (tag, year, stance, cited, reviewed));
CREATE TABLE IF NOT EXISTS pair_counts (problem TEXT, assumption TEXT, stance TEXT, n INTEGER, PRIMARY KEY (problem, assumption, stance));
CREATE INDEX IF NOT EXISTS papers_by_id ON papers (id);
CREATE INDEX IF NOT EXISTS papers_by_doi ON papers (doi);
CREATE INDEX IF NOT EXISTS papers_by_title ON papers (title_key);
CREATE INDEX IF NOT EXISTS papers_by_citekey ON papers (citekey);
CREATE TABLE IF NOT EXISTS clean (name TEXT PRIMARY KEY, stamp INTEGER);
"""

BULK = 5000  # paper files read into an empty index that make a bulk load (see bulk_load)
# The look-up indexes, in the order the schema creates them. A bulk load into an empty index
# builds them once its rows are in: sorting them once costs a fraction of keeping them in step row
# by row (at 100k papers, about 1.5 s against 5). All are then built again in this order: with no
# statistics, SQLite's query planner breaks ties between indexes by the order they were made,
# and a correlated tag look-up must keep going by name (a plan by tag took 80 s at 100k).
SECONDARY = tuple(
    (match.group(1), statement.strip())
    for statement in _DDL.split(";")
    if (match := re.match(r"\s*CREATE INDEX IF NOT EXISTS (\w+) ON", statement))
)
DEFERRED = tuple(name for name, _ in SECONDARY if name != "tags_by_name")  # each batch looks up its files' tag rows by name


def _fingerprint() -> str:
    """The schema number plus the source of every module that decides what a file reads as, so a
    changed model or reader (an upgrade) rebuilds the index instead of trusting old rows."""
    from lmdev import __version__, citekeys, ids, indexrows, models, store, yamlio

    digest = hashlib.sha256(f"lmdev-index-{SCHEMA}-{__version__}".encode())
    for module in (ids, models, store, yamlio, indexrows, citekeys):  # indexrows makes the rows; citekeys their key_base
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            digest.update(module.__name__.encode())
    return digest.hexdigest()[:32]


def index_path(root: Path) -> Path:
    """One index per tracker: named by a hash of the resolved data directory."""
    return cache_dir() / "index" / f"{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]}.sqlite"


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """A damaged or foreign file, as opposed to a busy database or a full disk."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def stamps_header(generation: int, count: int) -> bytes:
    """The start of the cached stamps of a table: the generation they were taken at and their count."""
    return struct.pack("<qq", generation, count)


def stamps_body(stamps: dict[str, int]) -> bytes:
    """The rest of the cached stamps: the stamps as 64-bit integers, then the names (no file name
    holds a newline: :func:`lmdev.listing.entries` lists none). Plain data, read back without
    running anything, unlike pickle or marshal; apart from the header, so that a process can pack
    it before it knows the generation it will be stored at (see :mod:`lmdev.prefetch`)."""
    return array("q", stamps.values()).tobytes() + pack_names(list(stamps))


def generation_of(db: sqlite3.Connection) -> int:
    """The index's generation: it moves on with every write (see :meth:`Index._in_transaction`)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0] or 0) if row else 0


@dataclass
class Stamps:
    """The stamps of a table's rows as columns: names in their stored order, the stamps as an
    array beside them, and the names' packed bytes (reused when the names have not changed)."""

    generation: int
    names: list[str]
    values: array[int]
    packed_names: bytes
    cached: bool

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.names, self.values))


def read_stamps(db: sqlite3.Connection, table: str) -> tuple[int, dict[str, int], bool]:
    """The stamp of every row of ``table``, the generation they were read at, and whether they
    came from the cached copy (see :func:`read_stamp_columns`)."""
    found = read_stamp_columns(db, table)
    return found.generation, found.as_dict(), found.cached


def read_stamp_columns(db: sqlite3.Connection, table: str) -> Stamps:
    """The stamps of ``table``: the cached copy when no write came after it (one value, a few
    tens of milliseconds at 100k rows instead of 150-200 ms for the table). One read transaction."""
    db.execute("BEGIN")
    try:
        row = db.execute("SELECT (SELECT value FROM meta WHERE key = 'generation'), (SELECT value FROM meta WHERE key = ?)", (f"stamps:{table}",)).fetchone()
        generation = int(row[0] or 0)
        cached = unpack_stamps(row[1])
        if cached is not None and cached.generation == generation:
            return cached
        rows = db.execute(f"SELECT name, stamp FROM {table}").fetchall()
        names = [name for name, _ in rows]
        return Stamps(generation, names, array("q", [stamp for _, stamp in rows]), pack_names(names), False)
    finally:
        db.execute("COMMIT")


def pack_names(names: list[str]) -> bytes:
    return "\n".join(names).encode("utf-8", "surrogateescape")


def unpack_stamps(blob: object) -> Optional[Stamps]:
    """Cached stamps (header and body) read back, or None for anything else (a damaged value is ignored)."""
    if not isinstance(blob, bytes) or len(blob) < 16:
        return None
    generation, count = struct.unpack_from("<qq", blob)
    end = 16 + 8 * count
    if count < 0 or len(blob) < end:
        return None
    values = array("q")
    values.frombytes(blob[16:end])
    packed = blob[end:]
    names = packed.decode("utf-8", "surrogateescape").split("\n") if count else []
    if len(names) != count:
        return None
    return Stamps(generation, names, values, packed, True)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Reading files makes many short-lived objects and no cycles worth chasing; the collector
    would otherwise spend a fifth to a third of a bulk read walking them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def drop(path: Path) -> None:
    """Delete the index at ``path`` with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def connect(path: Optional[Path]) -> sqlite3.Connection:
    """A connection to the index at ``path`` (None: in memory) with its schema in place: WAL, so
    readers never wait for a writer, and a rebuild when another lmdev wrote the file."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path) if path else ":memory:", timeout=120, isolation_level=None, check_same_thread=False)
    try:
        if path is not None:
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA journal_size_limit=67108864")  # the WAL shrinks back after a big build
        db.create_function("has_words", 2, has_words, deterministic=True)
        _ensure_schema(db)
        if path is not None:
            _ensure_indexes(db)
    except BaseException:
        db.close()
        raise
    return db


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL. Switching a new file needs the only lock on it, and SQLite does not wait for
    that lock as it waits for others: a second lmdev opening the same new index at the same
    moment tries again for a few seconds instead of giving up on the index."""
    for attempt in range(100):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)


def _ensure_schema(db: sqlite3.Connection) -> None:
    wanted = _fingerprint()
    have = db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if have and db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone() == (wanted,):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone() if have else None
        if row != (wanted,):
            if row is not None:
                log.info("the index was written by another lmdev; rebuilding it")
            for table in ("meta", "papers", "bodies", "tags", "tag_counts", "pair_counts", "clean"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _DDL.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (wanted,))
            # A fresh index starts at a random generation, so that stamps read from the file it
            # replaced can never pass for its own (see lmdev.prefetch).
            db.execute("INSERT INTO meta VALUES ('generation', ?)", (int.from_bytes(os.urandom(6), "big"),))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _ensure_indexes(db: sqlite3.Connection) -> None:
    """Build the look-up indexes a bulk load left out, if it never got to build them (it was
    killed, or is still running: it then keeps them in step for the rest of its rows)."""
    have = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    if any(name not in have for name, _ in SECONDARY):
        log.info("the index lacks some of its look-up tables; building them")
        build_indexes(db)


@contextlib.contextmanager
def bulk_load(db: sqlite3.Connection, files: int) -> Iterator[None]:
    """Around reading ``files`` paper files: when they are many and the index holds no paper yet
    (a first build), the :data:`DEFERRED` indexes are dropped before and every index is built
    again after, in the schema's order."""
    bulk = files >= BULK and db.execute("SELECT 1 FROM papers LIMIT 1").fetchone() is None
    if bulk:
        defer_indexes(db)
    try:
        yield
    finally:
        if bulk:
            build_indexes(db)


def defer_indexes(db: sqlite3.Connection) -> None:
    """Drop the :data:`DEFERRED` indexes before a bulk load (:func:`build_indexes` after it)."""
    _schema_change(db, [f"DROP INDEX IF EXISTS {name}" for name in DEFERRED])


def build_indexes(db: sqlite3.Connection) -> None:
    """Every look-up index, made again in the schema's order (see :data:`SECONDARY`)."""
    _schema_change(db, [*(f"DROP INDEX IF EXISTS {name}" for name, _ in SECONDARY), *(statement for _, statement in SECONDARY)])


def _schema_change(db: sqlite3.Connection, statements: list[str]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def forget_tags(db: sqlite3.Connection, names: list[str], tag_delta: Counter[tuple[Any, ...]], pair_delta: Counter[tuple[Any, ...]]) -> None:
    """Delete these files' tag rows, taking their counts away (and applying ``*_delta``)."""
    old: list[Sequence[Any]] = []
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        old += db.execute(f"SELECT name, kind, tag, stance, year, cited, by FROM tags WHERE name IN ({marks})", chunk).fetchall()
        db.execute(f"DELETE FROM tags WHERE name IN ({marks})", chunk)
    counts(old, -1, tag_delta, pair_delta)
    upsert = "INSERT INTO {t} VALUES ({m}, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n"
    db.executemany(upsert.format(t="tag_counts", m="?, ?, ?, ?, ?"), [(*k, n) for k, n in tag_delta.items() if n])
    db.executemany(upsert.format(t="pair_counts", m="?, ?, ?"), [(*k, n) for k, n in pair_delta.items() if n])


def write_papers(db: sqlite3.Connection, batch: list[tuple[str, StatKey, Any]]) -> None:
    """Store what reading each file of ``batch`` gave (a :class:`Digest` or the error), with its
    stat key, and keep the coverage counts in step; inside the caller's transaction."""
    rows: list[tuple[Any, ...]] = []
    bodies: list[tuple[str, Optional[str]]] = []
    tags: list[tuple[Any, ...]] = []
    blank = (None,) * len(PAPER_COLUMNS)
    for name, key, outcome in batch:
        if isinstance(outcome, DataError):
            rows.append((name, *key, hash(key), outcome.message, outcome.line, *blank))
            bodies.append((name, None))
        else:
            rows.append((name, *key, hash(key), None, None, *outcome.row))
            bodies.append((name, outcome.body))
            tags += outcome.tags
    tag_delta: Counter[tuple[Any, ...]] = Counter()
    pair_delta: Counter[tuple[Any, ...]] = Counter()
    counts(((t[0], t[2], t[3], t[4], t[7], t[8], t[5]) for t in tags), 1, tag_delta, pair_delta)
    forget_tags(db, [name for name, _, _ in batch], tag_delta, pair_delta)
    marks = ", ".join("?" * (8 + len(PAPER_COLUMNS)))
    db.executemany(f"INSERT OR REPLACE INTO papers VALUES ({marks})", rows)
    db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", bodies)
    db.executemany(f"INSERT INTO tags VALUES ({', '.join('?' * len(TAG_COLUMNS))})", tags)
