"""The head start (lmdev.prefetch): the index's freshness pass done by a child process while the
command starts. It must make commands faster and never wrong: a file edited, added, deleted or
renamed behind lmdev's back is seen, and an answer that no longer applies is not used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers import shipped_count
from lmdev import prefetch
from lmdev.index import Index
from lmdev.store import Library

AHEAD = "compared with the paper files ahead of time"


def _lmdev(data_dir: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point in a fresh process, as a user runs it (the head start happens only there)."""
    env = {**os.environ, "LMDEV_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "lmdev", "-v", "--data-dir", str(data_dir), *args], env=env, capture_output=True, text=True, timeout=300)


def _ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line.split("\t")[0] for line in result.stdout.splitlines()]


def test_changes_behind_lmdevs_back_are_seen_through_the_head_start(data_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _lmdev(data_dir, cache, "list")
    assert len(_ids(first)) == shipped_count()
    papers = sorted((data_dir / "papers").iterdir())
    edited, deleted, renamed = papers[3], papers[4], papers[5]
    data = yaml.safe_load(edited.read_text())
    edited.write_text(edited.read_text().replace(data["title"], "Retitled behind its back", 1))  # in place, as some editors save
    gone_id = yaml.safe_load(deleted.read_text())["id"]
    deleted.unlink()
    copy = yaml.safe_load(papers[6].read_text())
    copy["id"] = "2501.99998"
    copy["title"] = "A paper added behind lmdev's back"
    (data_dir / "papers" / "2501.99998.yaml").write_text(yaml.safe_dump(copy))
    renamed.rename(renamed.with_suffix(".yml"))

    again = _lmdev(data_dir, cache, "list")
    ids = _ids(again)
    assert AHEAD in again.stderr  # the head start answered, and what it said was right:
    assert len(ids) == shipped_count() and "2501.99998" in ids and gone_id not in ids
    assert "Retitled behind its back" in again.stdout and "A paper added behind lmdev's back" in again.stdout
    third = _lmdev(data_dir, cache, "coverage", "--format", "json")
    assert third.returncode == 0 and AHEAD in third.stderr and json.loads(third.stdout)["papers"] == shipped_count()


def test_a_stale_temporary_file_is_still_tidied_away(data_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _ids(_lmdev(data_dir, cache, "list"))
    stale = data_dir / "papers" / ".2205.14135.yaml.k3j4h5.tmp"
    stale.write_text("half a paper")
    result = _lmdev(data_dir, cache, "list")
    assert len(_ids(result)) == shipped_count() and not stale.exists()


def _answer_now(data_dir: Path) -> None:
    """Run the child's comparison in this process and leave its answer where the index takes it."""
    raw = prefetch._scan(data_dir, data_dir / "papers")
    assert raw is not None
    prefetch._found, prefetch._used = prefetch.Found(*raw), False


@pytest.fixture
def indexed(data_dir: Path) -> Iterator[Path]:
    Library(data_dir).index().close()
    yield data_dir
    prefetch._found, prefetch._used = None, False


def test_an_answer_given_before_another_process_wrote_the_index_is_not_used(indexed: Path) -> None:
    papers = sorted((indexed / "papers").iterdir())
    _answer_now(indexed)
    papers[0].write_text(papers[0].read_text().replace("title: ", "title: Changed later ", 1))
    Library(indexed).index().close()  # another lmdev brings the index up to date: its generation moves on
    papers[1].write_text(papers[1].read_text().replace("title: ", "title: Changed last ", 1))
    index = Library(indexed).index()  # the answer predates both; only a pass of its own sees the second edit
    titles = [p.title for p in index.papers()]
    index.close()
    assert prefetch._used and sum(t.startswith("Changed ") for t in titles) == 2


def test_an_answer_about_another_folder_or_index_is_not_used(indexed: Path) -> None:
    index = Index(Library(indexed))
    _answer_now(indexed)
    assert prefetch.take(indexed / "papers", index.path) is not None
    for wrong in ({"folder": (0, 0)}, {"index_file": str(index.path) + ".other"}):
        _answer_now(indexed)
        assert prefetch._found is not None
        prefetch._found = prefetch._found._replace(**wrong)
        assert prefetch.take(indexed / "papers", index.path) is None
    index.close()


def test_without_a_child_the_index_does_its_own_pass(indexed: Path) -> None:
    assert prefetch.take(indexed / "papers", Index(Library(indexed)).path) is None


def test_the_stamps_are_kept_in_the_folders_listing_order_so_the_next_child_compares_in_place(indexed: Path) -> None:
    import sqlite3

    from lmdev.indexdb import index_path, read_stamp_columns
    from lmdev.listing import entries

    def cached_names() -> list[str]:
        db = sqlite3.connect(index_path(indexed))
        try:
            stamps = read_stamp_columns(db, "papers")
        finally:
            db.close()
        assert stamps.cached
        return stamps.names

    listed = [name for name, _ in entries(indexed / "papers")]
    assert cached_names() == listed  # the index's own pass keeps them in that order
    raw = prefetch._scan(indexed, indexed / "papers")
    assert raw is not None and prefetch.Found(*raw).cached  # in order: compared in place
    # Stamps cached in another order (as an older lmdev kept them): the answer says so, the command
    # stores the child's, and the child after it compares in place again.
    db = sqlite3.connect(index_path(indexed))
    db.execute("DELETE FROM meta WHERE key = 'stamps:papers'")
    db.commit()
    db.close()
    index = Index(Library(indexed))
    index.refresh(sorted(entries(indexed / "papers"), reverse=True))
    index.close()
    assert cached_names() == sorted(listed, reverse=True)
    _answer_now(indexed)
    assert prefetch._found is not None and not prefetch._found.cached
    Library(indexed).index().close()
    assert prefetch._used and cached_names() == listed
