"""The index: each paper file's parsed fields in an SQLite database in lmdev's cache directory.

Reading and validating 100,000 YAML files takes most of a minute; a command that only lists or
counts should not pay that on every call. The index keeps, per file, what the last reader found
(the validated paper as JSON plus the columns queries filter on, or the error), keyed by the file's
name, size, mtime, ctime and inode. Every command refreshes it first: it stats every file and
re-reads only those whose key changed, so it never serves a stale paper. The YAML files stay the
only source of truth: the index lives outside the tracker, can be deleted at any time, and is
rebuilt (with a note) when it is damaged or was written by a different lmdev.

Tables: ``papers`` and ``tags`` (one row per tag) hold the papers; ``clean`` remembers the files of
the last ``check`` that found nothing, for ``check --changed``. :meth:`Index.sync` is generic
over a table, so another kind of file (inbox entries) can get its own table the same way.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional, Union

from lmdev.errors import DataError, LmdevError
from lmdev.indexdb import bulk_load, connect, drop, forget_tags, gc_paused, generation_of, index_path, is_damage, read_stamps, stamps_body, stamps_header, write_papers
from lmdev.indexrows import Digest, Summary, digest
from lmdev.listing import StatKey, same_content, stored_key

if TYPE_CHECKING:
    from lmdev.models import Paper
    from lmdev.store import Library, LoadedPaper

log = logging.getLogger(__name__)

BATCH = 1000

Listing = Iterable[tuple[str, "StatKey"]]  # (file name, its stat key): a small tuple, not an os.stat_result (100k of those take 80 MB)
Outcome = Union["Digest", DataError]
Visit = Callable[[str, StatKey, Outcome], None]
ProgressFactory = Callable[[int, str], contextlib.AbstractContextManager[Callable[[int], None]]]


class Index:
    """The SQLite index of one library. Use :meth:`Library.index` to get a refreshed one."""

    def __init__(self, library: Library, *, memory: bool = False) -> None:
        self.library = library
        self.path = index_path(library.root)
        self.writes = 0  # write transactions made through this connection
        self.db = connect(None) if memory else self._open()

    # --- opening -----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The file's database; rebuilt (with a note) when damaged, in memory when unusable."""
        try:
            try:
                return connect(self.path)
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
                log.warning("the index %s was damaged (%s); rebuilding it from the paper files", self.path, exc)
                drop(self.path)
                return connect(self.path)
        except (sqlite3.DatabaseError, OSError) as exc:
            log.warning("cannot use the index %s (%s); reading every paper file instead", self.path, exc)
            return connect(None)

    def close(self) -> None:
        self.db.close()

    # --- keeping it fresh --------------------------------------------------------------------

    def refresh(
        self,
        listing: Optional[Listing] = None,
        *,
        examine: Optional[Callable[[LoadedPaper], Any]] = None,
        visit: Optional[Visit] = None,
        reread: Optional[Callable[[str], bool]] = None,
        progress: Optional[ProgressFactory] = None,
    ) -> None:
        """Bring the ``papers`` table up to date with the files on disk.

        Only files whose stat key changed are read, unless ``reread`` says a file must be read
        anyway (``check`` reads every file). ``examine`` runs where each file is read (perhaps a
        worker process) and its plain-data result reaches ``visit`` as the digest's ``extra``.
        """
        lib = self.library

        def read(name: str) -> Digest:
            loaded = lib.read(lib.papers_dir / name)
            return digest(name, loaded, examine(loaded) if examine else None)

        if listing is None and reread is None and self._head_start(read, visit, progress):
            return
        self.sync("papers", lib.entries() if listing is None else listing, read, self._write, visit=visit, reread=reread, progress=progress)

    def _head_start(self, read: Callable[[str], Digest], visit: Optional[Visit], progress: Optional[ProgressFactory]) -> bool:
        """Bring ``papers`` up to date from the answer of the child process the command line
        started (see :mod:`lmdev.prefetch`), if there is one and no write came since it looked."""
        from lmdev.prefetch import take

        found = take(self.library.papers_dir, self.path)
        if found is None or generation_of(self.db) != found.generation:
            return False
        log.info("the index was compared with the paper files ahead of time: %d to read, %d gone", len(found.todo), len(found.gone))
        if found.todo or found.gone or not found.cached:
            writes = self.writes
            if found.gone:
                self._delete("papers", found.gone)
            if found.todo:
                self._read_into("papers", [(name, key, True) for name, key in found.todo], read, self._write, time.time_ns(), {}, visit, progress)
            self._keep_packed("papers", found.files, found.body, found.generation + self.writes - writes)
        return True

    def sync(
        self,
        table: str,
        listing: Listing,
        read: Callable[[str], Any],
        write: Callable[[list[tuple[str, StatKey, Any]]], None],
        *,
        visit: Optional[Visit] = None,
        reread: Optional[Callable[[str], bool]] = None,
        progress: Optional[ProgressFactory] = None,
    ) -> None:
        """The generic refresh: drop rows of vanished files, read changed ones, ``write`` them in batches.

        ``table`` needs the columns name, size, mtime_ns, ctime_ns, ino and stamp (the hash of the
        four before it), which ``write`` fills from each (name, key, outcome) it is given.
        """
        # One integer per file (the hash of its stat key) makes this comparison cheap at 100k files.
        generation, stamps, cached = self._stamps(table)
        known = dict(stamps)
        now = time.time_ns()
        todo: list[tuple[str, StatKey, bool]] = []
        order: list[str] = []
        for name, key in listing:
            order.append(name)
            stale = known.pop(name, None) != hash(key)
            if stale or (reread is not None and reread(name)):
                todo.append((name, key, stale))
        if reread is None:
            todo.sort(key=lambda item: item[0])  # read in name order, as every reader reports
        writes = self.writes
        if known:
            self._delete(table, list(known))
            for name in known:
                del stamps[name]
        if todo:
            self._read_into(table, todo, read, write, now, stamps, visit, progress)
        in_order = list(stamps) == order
        if not in_order and len(stamps) == len(order):  # kept in the listing's order: see lmdev.prefetch
            stamps = {name: stamps[name] for name in order}
        if not (cached and in_order and self.writes == writes):
            self._keep_stamps(table, stamps, generation + self.writes - writes)

    def _read_into(
        self,
        table: str,
        todo: list[tuple[str, StatKey, bool]],
        read: Callable[[str], Any],
        write: Callable[[list[tuple[str, StatKey, Any]]], None],
        now: int,
        stamps: dict[str, int],
        visit: Optional[Visit],
        progress: Optional[ProgressFactory],
    ) -> None:
        """Read the files of ``todo`` (on every core for many), hand each outcome to ``visit`` and
        ``write`` the stale ones in batches, noting their new stamps in ``stamps``."""
        if table == "papers" and visit is None:
            todo = self._unless_same_content(todo, stamps, now, progress)
            if not todo:
                return
        batch: list[tuple[str, StatKey, Any]] = []
        with gc_paused(), (progress(len(todo), f"reading {len(todo):,} paper files") if progress and len(todo) >= BATCH else contextlib.nullcontext(None)) as advance, bulk_load(self.db, len(todo) if table == "papers" else 0):
            from lmdev.parallel import read_all

            outcomes = read_all([name for name, _, _ in todo], read)
            for n, ((name, key, stale), outcome) in enumerate(zip(todo, outcomes), 1):
                if visit is not None:
                    visit(name, key, outcome)
                if stale:
                    key = stored_key(key, now)
                    stamps[name] = hash(key)
                    batch.append((name, key, outcome))
                if len(batch) >= BATCH:
                    self._in_transaction(write, batch)
                    batch = []
                if advance is not None and n % 100 == 0:
                    advance(100)
            if batch:
                self._in_transaction(write, batch)

    def _unless_same_content(self, todo: list[tuple[str, StatKey, bool]], stamps: dict[str, int], now: int, progress: Optional[ProgressFactory]) -> list[tuple[str, StatKey, bool]]:
        """The files of ``todo`` that must be read: a changed stat key whose file still holds the
        bytes its valid row was made from (touched, copied with the index, checked out again)
        only has its key moved on, at the cost of hashing the file instead of parsing it. Files
        of another size than stored are not even hashed; anything that cannot be read as a plain
        file here goes on to the full read, which says what is wrong with it."""
        names = [name for name, _, stale in todo if stale]
        stored: dict[str, tuple[int, bytes]] = {}
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            rows = self.db.execute(f"SELECT name, size, sha FROM papers WHERE name IN ({', '.join('?' * len(chunk))}) AND error IS NULL AND sha IS NOT NULL", chunk)
            stored.update((name, (size, sha)) for name, size, sha in rows)
        if not stored:
            return todo
        same: list[tuple[str, StatKey, bytes]] = []
        rest: list[tuple[str, StatKey, bool]] = []
        folder = self.library.papers_dir
        with progress(len(todo), f"looking at {len(todo):,} changed paper files") if progress and len(stored) >= BATCH else contextlib.nullcontext(None) as advance:
            for n, item in enumerate(todo, 1):
                name, key, stale = item
                old = stored.get(name) if stale else None
                if old is not None and same_content(folder, name, key, old):
                    same.append((name, key, old[1]))
                else:
                    rest.append(item)
                if advance is not None and n % 100 == 0:
                    advance(100)
        if same:
            moved = [(name, stored_key(key, now), sha) for name, key, sha in same]

            def write(_: object) -> None:  # a row another process rewrote meanwhile keeps its own key
                self.db.executemany("UPDATE papers SET size = ?, mtime_ns = ?, ctime_ns = ?, ino = ?, stamp = ? WHERE name = ? AND sha = ?", [(*key, hash(key), name, sha) for name, key, sha in moved])

            self._in_transaction(write, [])
            for name, key, _ in moved:
                stamps[name] = hash(key)
            log.info("%d paper file(s) changed on disk but not in content: not read again", len(same))
        return rest

    def _stamps(self, table: str) -> tuple[int, dict[str, int], bool]:
        return read_stamps(self.db, table)

    def _keep_stamps(self, table: str, stamps: dict[str, int], generation: int) -> None:
        self._keep_packed(table, len(stamps), stamps_body(stamps), generation)

    def _keep_packed(self, table: str, count: int, body: bytes, generation: int) -> None:
        """Cache the stamps of ``table`` (what this process found after its own writes, packed by
        :func:`stamps_body`) for the next command, unless another process wrote since they were
        read (the generation moved on). A copy cached at the same generation is replaced: it holds
        the same stamps, perhaps in another order."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if generation_of(self.db) == generation:
                    self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"stamps:{table}", stamps_header(generation, count) + body))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            log.info("could not cache the index's stamps: %s", exc)

    def _in_transaction(self, write: Callable[[list[tuple[str, StatKey, Any]]], None], batch: list[tuple[str, StatKey, Any]]) -> None:
        """One write, atomic; every write moves the generation on, which voids cached stamps."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            write(batch)
            self.db.execute("INSERT INTO meta VALUES ('generation', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1")
            self.db.execute("COMMIT")
            self.writes += 1
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def _write(self, batch: list[tuple[str, StatKey, Any]]) -> None:
        write_papers(self.db, batch)

    def _delete(self, table: str, names: list[str]) -> None:
        def drop(batch: list[tuple[str, StatKey, Any]]) -> None:
            if table == "papers":
                forget_tags(self.db, [n for n, _, _ in batch], Counter(), Counter())
                self.db.executemany("DELETE FROM bodies WHERE name = ?", [(n,) for n, _, _ in batch])
            self.db.executemany(f"DELETE FROM {table} WHERE name = ?", [(n,) for n, _, _ in batch])

        for start in range(0, len(names), BATCH):
            self._in_transaction(drop, [(n, (0, 0, 0, 0), None) for n in names[start : start + BATCH]])

    # --- reading -----------------------------------------------------------------------------

    def errors(self) -> Iterator[DataError]:
        for name, message, line in self.db.execute("SELECT name, error, line FROM papers INDEXED BY papers_by_state WHERE error IS NOT NULL ORDER BY name"):
            yield DataError(message, path=str(self.library.papers_dir / name), line=line)

    def require_valid(self) -> None:
        """Fail on the first file that does not validate, as every reader of all papers does."""
        first = next(self.errors(), None)
        if first is not None:
            raise DataError(f"{first.message} (run 'lmdev check' for every problem)", path=first.path, line=first.line)

    def query(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, tuple(params))

    def papers(self, where: str = "1", params: Iterable[Any] = (), order: str = "name") -> Iterator[Paper]:
        """Papers rebuilt from their stored JSON, one at a time (no file is read)."""
        from lmdev.models import Paper

        sql = f"SELECT b.data FROM papers JOIN bodies b USING (name) WHERE error IS NULL AND ({where}) ORDER BY {order}"
        for (data,) in self.db.execute(sql, tuple(params)):
            yield Paper.model_validate_json(data)

    def count(self, where: str = "1", params: Iterable[Any] = ()) -> int:
        """How many valid papers a selection (:meth:`papers`'s ``where``) holds."""
        (found,) = self.db.execute(f"SELECT count(*) FROM papers WHERE error IS NULL AND ({where})", tuple(params)).fetchone()
        return int(found)

    def summaries(self, where: str = "1", params: Iterable[Any] = (), order: str = "name") -> Iterator[Summary]:
        """What ``list`` shows of the selected papers, without building them."""
        yield from map(Summary._make, self.db.execute(f"SELECT id, year, title, tags FROM papers WHERE error IS NULL AND ({where}) ORDER BY {order}", tuple(params)))

    def summary_lines(self, where: str = "1", params: Iterable[Any] = (), order: str = "name", size: int = 5000) -> Iterator[list[bytes]]:
        """What piped ``list`` prints of the selected papers, in batches of UTF-8 lines made when
        each file was read (:func:`lmdev.termtext.paper_line`): neither decoded nor built per paper."""
        cursor = self.db.execute(f"SELECT CAST(list_line AS BLOB) FROM papers WHERE error IS NULL AND ({where}) ORDER BY {order}", tuple(params))
        while batch := cursor.fetchmany(size):
            yield [line for (line,) in batch]

    def paper(self, name: str, key: StatKey) -> Optional[Paper]:
        """The stored paper of one file if its row is current, else None (the caller reads the file)."""
        from lmdev.models import Paper

        row = self.db.execute("SELECT size, mtime_ns, ctime_ns, ino, data FROM papers JOIN bodies USING (name) WHERE name = ? AND error IS NULL", (name,)).fetchone()
        if row is None or tuple(row[:4]) != key:
            return None
        return Paper.model_validate_json(row[4])

    def store_one(self, name: str, key: StatKey, loaded: LoadedPaper) -> None:
        key = stored_key(key, time.time_ns())
        try:
            self._in_transaction(self._write, [(name, key, digest(name, loaded))])
        except sqlite3.OperationalError as exc:
            log.info("could not update the index: %s", exc)

    # --- check --changed ---------------------------------------------------------------------

    def clean_stamps(self, taxonomy_key: str) -> dict[str, int]:
        """The stamps of the files of the last clean ``check`` (none when the taxonomy changed since)."""
        if self.db.execute("SELECT value FROM meta WHERE key='clean_taxonomy'").fetchone() != (taxonomy_key,):
            return {}
        return dict(self.db.execute("SELECT name, stamp FROM clean"))

    def owner(self, column: str, value: str, other_than: str = "") -> Optional[str]:
        """The first valid file (by name) whose ``column`` (id, doi, title_key or citekey) is ``value``."""
        assert column in ("id", "doi", "title_key", "citekey")
        row = self.db.execute(f"SELECT name FROM papers WHERE {column} = ? AND name != ? AND error IS NULL ORDER BY name LIMIT 1", (value, other_than)).fetchone()
        return row[0] if row else None

    def mark_clean(self, listing: Listing, taxonomy_key: str, before: dict[str, int]) -> None:
        """Record the files of a check that found nothing (changing only what differs from ``before``)."""
        now = time.time_ns()
        stamps = {name: hash(stored_key(key, now)) for name, key in listing}
        gone = [(name,) for name in before if name not in stamps]
        new = [(name, stamp) for name, stamp in stamps.items() if before.get(name) != stamp]

        def write(_: object) -> None:
            self.db.executemany("DELETE FROM clean WHERE name = ?", gone)
            self.db.executemany("INSERT OR REPLACE INTO clean VALUES (?, ?)", new)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('clean_taxonomy', ?)", (taxonomy_key,))

        try:
            self._in_transaction(write, [])
        except sqlite3.OperationalError as exc:
            log.info("could not record the clean check: %s", exc)


def open_index(library: Library, *, refresh: bool = True, progress: Optional[ProgressFactory] = None) -> Index:
    """The library's index, refreshed against the files on disk. Write errors become a note."""
    index = Index(library)
    if refresh:
        try:
            index.refresh(progress=progress)
        except sqlite3.DatabaseError as exc:
            index = instead(index, exc)
            index.refresh(progress=progress)
    return index


def instead(index: Index, exc: sqlite3.DatabaseError) -> Index:
    """The index to use after ``index`` failed with ``exc`` (closed here): rebuilt when the file
    is damaged, in memory when it cannot be written (a read-only cache), never a traceback; a
    lock held too long by another lmdev is an error of its own."""
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        raise LmdevError(f"the index {index.path} stayed locked by another lmdev: {exc}") from None
    index.close()
    return _rebuilt(index.library, exc) if is_damage(exc) else _in_memory(index.library, exc)


def _in_memory(library: Library, exc: BaseException) -> Index:
    log.warning("cannot use the index %s (%s); reading every paper file instead", index_path(library.root), exc)
    return Index(library, memory=True)


def _rebuilt(library: Library, exc: sqlite3.DatabaseError) -> Index:
    path = index_path(library.root)
    log.warning("the index %s was damaged (%s); rebuilding it from the paper files", path, exc)
    drop(path)
    return Index(library)
