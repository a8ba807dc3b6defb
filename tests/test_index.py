"""The index: it answers exactly as the YAML files do, and never serves stale data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import SHIPPED, shipped_count, snapshot
from lmdev import prefetch, yamlio
from lmdev.filters import NEWEST_FIRST, OLDEST_FIRST, Selection, newest_first, oldest_first
from lmdev.inbox import Inbox
from lmdev.index import Index, index_path
from lmdev.indexrows import tags_text
from lmdev.paperfile import render
from lmdev.reports import bibtex
from lmdev.reports import export as shapes
from lmdev.reports.coverage import coverage, indexed_coverage
from lmdev.reports.readinglist import indexed_list_files, indexed_reading_list, list_files, reading_list
from lmdev.store import Library
from watch_fixtures import fill_inbox, make_item

SELECTIONS = [
    Selection(),
    Selection(problems=["efficiency"]),
    Selection(problems=["efficiency", "scaling"]),
    Selection(assumptions=["out-of-the-box"], stance="challenges"),
    Selection(assumptions=["fixed-recipe"]),
    Selection(years=(2022, None)),
    Selection(years=(None, 2019)),
    Selection(years=(2023, 2023)),
    Selection(text="attention"),
    Selection(text="LANGUAGE models"),
    Selection(text="rl kv"),
    Selection(text="Ü nonexistent-word"),
    Selection(untagged=True),
    Selection(unreviewed=True),
    Selection(unreviewed=True, problems=["efficiency"]),
    Selection(primary="safety"),
    Selection(primary="efficiency", problems=["integration"], years=(2025, None)),
]


@pytest.fixture
def suggested_dir(data_dir: Path) -> Path:
    """The shipped data with some tags turned into classifier suggestions (with scores), so that
    reviewed and suggested counts, the ``?`` marks and reading-list groups all have cases."""
    lib = Library(data_dir)
    for n, path in enumerate(lib.files()):
        paper = lib.read(path).paper
        if n % 3 == 0 and paper.problems:
            paper.problems[-1].by, paper.problems[-1].score = "classifier", round(0.5 + (n % 7) / 20, 3)
        if n % 5 == 0 and paper.assumptions:
            paper.assumptions[0].by, paper.assumptions[0].score = "classifier", round(0.4 + (n % 11) / 25, 3)
        yamlio.atomic_write(path, render(paper))
    return data_dir


def _yaml_papers(root: Path) -> list:
    loaded, errors = Library(root).scan()
    assert not errors
    return [item.paper for item in loaded]


@pytest.mark.parametrize("suggestions", [False, True])
def test_every_query_equals_the_yaml_only_path_on_the_shipped_data(data_dir: Path, suggestions: bool, request: pytest.FixtureRequest) -> None:
    if suggestions:
        request.getfixturevalue("suggested_dir")
    lib = Library(data_dir)
    papers = _yaml_papers(data_dir)
    index = lib.index()
    assert list(index.papers()) == papers  # primary, by and score included
    assert any(p.suggestions() for p in papers) == suggestions
    for selection in SELECTIONS:
        where, params = selection.sql()
        expected = newest_first(selection.apply(papers))
        assert list(index.summaries(where, params, NEWEST_FIRST)) == [(p.id, p.year, p.title, tags_text(p)) for p in expected], selection
        assert list(shapes.indexed_json(index, where, params, NEWEST_FIRST)) == [shapes.paper_json(p) for p in expected], selection
        chosen = oldest_first(selection.apply(papers))
        taken = [p.citekey for p in papers if p.citekey]
        assert "".join(shapes.export_chunks("bibtex", index, where, params, OLDEST_FIRST)) == bibtex.render(chosen, taken=taken), selection
        assert "".join(shapes.export_chunks("json", index, where, params, OLDEST_FIRST)) == shapes.render_json(chosen), selection
        assert "".join(shapes.export_chunks("csv", index, where, params, OLDEST_FIRST)) == shapes.render_csv(chosen), selection


@pytest.mark.parametrize("suggestions", [False, True])
def test_coverage_and_reading_lists_equal_the_yaml_only_path(data_dir: Path, suggestions: bool, request: pytest.FixtureRequest) -> None:
    if suggestions:
        request.getfixturevalue("suggested_dir")
    lib = Library(data_dir)
    tax = lib.taxonomy
    papers = _yaml_papers(data_dir)
    index = lib.index()
    for min_papers, recent in ((3, 2), (40, 1)):
        slow, fast = coverage(tax, papers, min_papers=min_papers, recent_years=recent), indexed_coverage(tax, index, min_papers=min_papers, recent_years=recent)
        assert fast == slow
        assert json.dumps(fast.to_json()) == json.dumps(slow.to_json())
    assert (slow.unreviewed > 0) == suggestions and (sum(n.suggested for n in slow.nodes) > 0) == suggestions
    for node_id in tax.nodes:
        count, entries = indexed_reading_list(tax, index, node_id)
        expected = reading_list(tax, papers, node_id)
        assert count == (len(expected), sum(not e.reviewed for e in expected))
        assert list(entries) == expected, node_id
    assert dict(indexed_list_files(tax, index)) == list_files(tax, papers)


def test_the_cli_shows_suggestions_from_the_index_as_from_the_files(cli, suggested_dir: Path) -> None:
    papers = _yaml_papers(suggested_dir)
    unreviewed = [p for p in papers if p.suggestions()]
    listed = cli("--data-dir", str(suggested_dir), "list", "--unreviewed")
    assert listed.code == 0 and sorted(line.split("\t")[0] for line in listed.out.splitlines()) == sorted(p.id for p in unreviewed)
    assert all("?" in line.split("\t")[3] for line in listed.out.splitlines())
    check = cli("--data-dir", str(suggested_dir), "check", "--require-reviewed", "--format", "json")
    findings = json.loads(check.out)["findings"]
    assert check.code == 1 and len(findings) == sum(len(p.suggestions()) for p in papers)
    assert all(f["line"] and "unreviewed classifier suggestion" in f["message"] for f in findings)
    shown = cli("--data-dir", str(suggested_dir), "show", unreviewed[0].id, "--format", "json")
    assert json.loads(shown.out)["problems"] == [t.model_dump(mode="json") for t in unreviewed[0].problems]


def _ids(cli, data_dir: Path, code: int = 0) -> list[str]:
    result = cli("--data-dir", str(data_dir), "list")
    assert result.code == code, result.err
    return [line.split("\t")[0] for line in result.out.splitlines()]


def test_edits_additions_deletions_and_renames_behind_lmdevs_back_are_seen(cli, data_dir: Path) -> None:
    papers = data_dir / "papers"
    first = sorted(papers.iterdir())[0]
    assert len(_ids(cli, data_dir)) == shipped_count()
    # An edit of the same size, with the mtime put back: only the ctime and content differ.
    text = first.read_text()
    title = yaml.safe_load(text)["title"]
    swapped = title[::-1] if title[::-1] != title else title.upper()
    before = first.stat()
    first.write_text(text.replace(title, swapped, 1))
    os.utime(first, ns=(before.st_atime_ns, before.st_mtime_ns))
    shown = cli("--data-dir", str(data_dir), "show", first.stem.replace("_", "/"), "--format", "json")
    assert json.loads(shown.out)["title"] == swapped
    assert any(swapped in line for line in cli("--data-dir", str(data_dir), "list").out.splitlines())
    # Deleted, added, renamed.
    gone = sorted(papers.iterdir())[1]
    gone_id = yaml.safe_load(gone.read_text())["id"]
    gone.unlink()
    new = yaml.safe_load(first.read_text())
    new.update(id="2501.99999", title="A paper added behind lmdev's back")
    new.pop("doi", None)
    new.pop("citekey", None)
    (papers / "2501.99999.yaml").write_text(yaml.safe_dump(new))
    ids = _ids(cli, data_dir)
    assert gone_id not in ids and "2501.99999" in ids and len(ids) == shipped_count()
    (papers / "2501.99999.yaml").rename(papers / "2501.99998.yaml")
    # the renamed file still says 2501.99999: left out and named, as a copy made to start a new paper from would be
    assert "2501.99999" not in _ids(cli, data_dir, code=1)
    assert "file name does not match id '2501.99999'" in cli("--data-dir", str(data_dir), "show", "2501.99998").err
    assert cli("--data-dir", str(data_dir), "check").out.count("2501.99998.yaml:") == 1  # and check names the mismatch
    (papers / "2501.99998.yaml").unlink()
    assert len(_ids(cli, data_dir)) == shipped_count() - 1


def test_files_touched_or_copied_with_their_index_are_not_parsed_again_but_edits_and_links_are_seen(cli, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real_read = Library.read

    def counted(self: Library, path: Path):  # type: ignore[no-untyped-def]
        reads.append(path.name)
        return real_read(self, path)

    monkeypatch.setattr(Library, "read", counted)
    index_path(data_dir).unlink()  # data_dir comes with a copy of the shipped data's index (conftest)
    expected = cli("--data-dir", str(data_dir), "list").out
    papers = sorted((data_dir / "papers").iterdir())
    assert len(reads) == len(papers)
    # Every file touched (a checkout, a backup restored): the same answer, nothing parsed.
    reads.clear()
    later = papers[0].stat().st_mtime_ns + 5_000_000_000
    for path in papers:
        os.utime(path, ns=(later, later))
    assert cli("--data-dir", str(data_dir), "list").out == expected and reads == []
    # Touched and one of them edited to the same size with its time put back: that one is read.
    edited = papers[7]
    text = edited.read_text()
    title = yaml.safe_load(text)["title"]
    edited.write_text(text.replace(title, title.swapcase(), 1))
    os.utime(edited, ns=(later, later))
    listed = cli("--data-dir", str(data_dir), "list").out
    assert reads == [edited.name] and title.swapcase() in listed
    # The same bytes behind a symbolic link are still a link, which lmdev refuses.
    reads.clear()
    copy = tmp_path / "elsewhere.yaml"
    shutil.copy(papers[3], copy)
    papers[3].unlink()
    papers[3].symlink_to(copy)
    result = cli("--data-dir", str(data_dir), "list")
    assert result.code == 1 and papers[3].name in result.err and "symbolic link" in result.err
    papers[3].unlink()
    shutil.copy(copy, papers[3])
    # A broken file touched is still named (its row holds the error, no hash), and so is a FIFO.
    good = papers[5].read_bytes()
    papers[5].write_bytes(b"id: [unclosed\n")
    assert cli("--data-dir", str(data_dir), "list").code == 1
    os.utime(papers[5], ns=(later + 1, later + 1))
    result = cli("--data-dir", str(data_dir), "list")
    assert result.code == 1 and papers[5].name in result.err
    papers[5].write_bytes(good)
    if hasattr(os, "mkfifo"):
        papers[6].unlink()
        os.mkfifo(papers[6])
        result = cli("--data-dir", str(data_dir), "list")
        assert result.code == 1 and papers[6].name in result.err and "FIFO" in result.err
        papers[6].unlink()
        shutil.copy(SHIPPED / "papers" / papers[6].name, papers[6])
    # A copy of the tracker with a copy of its index: the copy's first command parses nothing.
    assert cli("--data-dir", str(data_dir), "list").code == 0
    other = tmp_path / "copy"
    shutil.copytree(data_dir, other)
    index_path(other).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(index_path(data_dir), index_path(other))
    reads.clear()
    assert cli("--data-dir", str(other), "list").out == cli("--data-dir", str(data_dir), "list").out and reads == []


def test_an_invalid_file_is_named_by_every_reader_until_it_is_fixed(cli, data_dir: Path) -> None:
    target = sorted((data_dir / "papers").iterdir())[3]
    good = target.read_bytes()
    target.write_bytes(b"id: [unclosed\n")
    for args in (["list"], ["coverage"], ["export", "--format", "csv"], ["reading-list", "efficiency"]):
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 1 and target.name in result.err and "Traceback" not in result.err, args
    assert len(_ids(cli, data_dir, code=1)) == shipped_count() - 1  # the others are still listed
    target.write_bytes(b"\xff\xfe not utf-8")
    assert "not UTF-8" in cli("--data-dir", str(data_dir), "list").err
    target.write_bytes(good)
    assert len(_ids(cli, data_dir)) == shipped_count()


def test_read_commands_leave_the_tracker_untouched_and_the_index_outside_it(cli, data_dir: Path, tmp_path: Path) -> None:
    before = snapshot(data_dir)
    for args in (["list"], ["coverage"], ["show", "2205.14135"], ["reading-list", "efficiency"], ["export", "--format", "bibtex"], ["report", "--html", str(tmp_path / "site")], ["inbox"], ["check"], ["check", "--changed"]):
        assert cli("--data-dir", str(data_dir), *args).code == 0, args
    assert snapshot(data_dir) == before
    path = index_path(data_dir)
    assert path.is_file() and path.is_relative_to(tmp_path / "cache")


def test_the_inbox_sees_an_edit_behind_lmdevs_back(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, *(make_item(f"2602.{n:05d}") for n in range(1, 4)))

    def relevance() -> dict[str, float]:
        result = cli("--data-dir", str(data_dir), "inbox", "--format", "json")
        assert result.code == 0, result.err
        return {row["id"]: row["relevance"] for row in json.loads(result.out)}

    assert relevance() == dict.fromkeys(("2602.00001", "2602.00002", "2602.00003"), 0.5)
    path = Inbox(data_dir).path_for("2602.00002")
    before = path.stat()
    path.write_text(path.read_text().replace("relevance: 0.5", "relevance: 0.7"))  # same size, same inode
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime: only the ctime tells
    assert relevance()["2602.00002"] == 0.7
    Inbox(data_dir).path_for("2602.00003").unlink()
    assert set(relevance()) == {"2602.00001", "2602.00002"}


def test_a_damaged_index_is_rebuilt_with_one_note(cli, data_dir: Path) -> None:
    assert len(_ids(cli, data_dir)) == shipped_count()
    path = index_path(data_dir)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(os.urandom(8192))
    result = cli("--data-dir", str(data_dir), "list")
    assert result.code == 0 and len(result.out.splitlines()) == shipped_count()
    assert result.err.count("was damaged") == 1 and "rebuilding" in result.err
    assert "was damaged" not in cli("--data-dir", str(data_dir), "list").err


def test_a_deleted_or_outdated_index_is_simply_rebuilt(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = cli("--data-dir", str(data_dir), "coverage", "--format", "json").out
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path(data_dir)}{suffix}").unlink(missing_ok=True)
    assert cli("--data-dir", str(data_dir), "coverage", "--format", "json").out == expected
    monkeypatch.setattr("lmdev.indexdb._fingerprint", lambda: "another lmdev")
    result = cli("--data-dir", str(data_dir), "coverage", "--format", "json")
    assert result.out == expected and result.err == ""


def test_an_unwritable_cache_falls_back_to_reading_the_files(cli, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("LMDEV_CACHE_DIR", str(blocker))
    result = cli("--data-dir", str(data_dir), "list")
    assert result.code == 0 and len(result.out.splitlines()) == shipped_count()
    assert "cannot use the index" in result.err


def _consistent(root: Path) -> None:
    """The index holds exactly what a fresh read of the files gives."""
    index = Index(Library(root))
    papers = _yaml_papers(root)
    assert [p.id for p in index.papers()] == [p.id for p in papers]
    tax = Library(root).taxonomy
    assert indexed_coverage(tax, index) == coverage(tax, papers)
    index.close()


def test_processes_updating_the_index_at_once_leave_it_consistent(data_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "lmdev", "--data-dir", str(data_dir)]
    papers = sorted((data_dir / "papers").iterdir())
    runs = [subprocess.Popen([*command, args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for args in ("list", "coverage", "check", "list")]
    # Meanwhile files change under them, as lmdev's writers change them: atomically, under the
    # library's lock (a reader that finds a temporary file while the lock is free takes it for
    # a dead writer's and removes it, so a write outside the lock could lose its file).
    lib = Library(data_dir)
    for path in papers[:20]:
        paper = lib.read(path).paper
        paper.title = "Edited " + paper.title
        with lib.lock():
            yamlio.atomic_write(path, render(paper))
    moved = papers[25].read_bytes()
    papers[25].unlink()
    papers[25].write_bytes(moved)
    for path in papers[30:60]:  # touched, content unchanged: rows kept, keys moved on
        os.utime(path)
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    again = subprocess.run([*command, "list"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("Edited ") == 20
    os.environ["LMDEV_CACHE_DIR"] = env["LMDEV_CACHE_DIR"]
    try:
        _consistent(data_dir)
    finally:
        del os.environ["LMDEV_CACHE_DIR"]


def test_check_changed_reads_only_what_changed_since_the_last_clean_check(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lmdev.listing.RACY_NS", 0)  # the fixture's files are seconds old: trust their stamps
    first = cli("--data-dir", str(data_dir), "check", "--changed")
    assert first.code == 0 and f"checked {shipped_count()} paper files" in first.err  # no clean check yet: all
    assert "checked 0 paper files" in cli("--data-dir", str(data_dir), "check", "--changed").err
    papers = sorted((data_dir / "papers").iterdir())
    broken = papers[5]
    broken.write_text(broken.read_text().replace("stance: relies", "stance: adores", 1).replace("stance: supports", "stance: adores", 1).replace("stance: challenges", "stance: adores", 1))
    copy = yaml.safe_load(papers[0].read_text())
    copy["id"] = "2501.99999"
    (data_dir / "papers" / "2501.99999.yaml").write_text(yaml.safe_dump(copy))
    result = cli("--data-dir", str(data_dir), "check", "--changed")
    assert result.code == 1 and "checked 2 paper files" in result.err
    assert broken.name in result.out and f"duplicates {papers[0].name} (same title)" in result.out
    assert "checked 2 paper files" in cli("--data-dir", str(data_dir), "check", "--changed").err  # still not clean
    (data_dir / "papers" / "2501.99999.yaml").unlink()
    shutil.copy(SHIPPED / "papers" / broken.name, broken)
    assert cli("--data-dir", str(data_dir), "check", "--changed").code == 0
    bad = data_dir / "inbox" / "2602.00009.yaml"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text("id: '2602.00009'\ntitle: [unclosed\n")
    result = cli("--data-dir", str(data_dir), "check", "--changed")
    assert result.code == 1 and "2602.00009.yaml:2" in result.out  # the inbox is checked too, through its own index
    bad.unlink()
    tax = data_dir / "taxonomy.yaml"
    tax.write_text(tax.read_text() + "\n# a comment\n")
    assert f"checked {shipped_count()} paper files" in cli("--data-dir", str(data_dir), "check", "--changed").err


def test_a_missing_libyaml_is_named_once_per_run(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "_Base", yaml.SafeLoader)
    monkeypatch.setattr(yamlio, "_warned_slow", False)
    for path in sorted((data_dir / "papers").iterdir())[10:]:
        path.unlink()
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 0
    assert result.err.count("no libyaml") == 1 and len(result.err.splitlines()) == 2


def test_the_html_report_cuts_long_lists_and_links_the_whole_list(data_dir: Path, tmp_path: Path) -> None:
    from lmdev.reports import html

    lib = Library(data_dir)
    index = lib.index()
    cov = indexed_coverage(lib.taxonomy, index)
    written = html.write_report(lib.taxonomy, cov, index, tmp_path / "site", cut=5)
    page = (tmp_path / "site" / "index.html").read_text()
    longest = max(cov.nodes, key=lambda n: n.papers if n.kind == "problem" else -1)
    full = tmp_path / "site" / "lists" / f"{longest.id}.html"
    assert full in written and f'href="lists/{longest.id}.html"' in page
    assert full.read_text().count("<li>") == longest.papers
    assert page.count("<li><a href=") <= 5 * len(lib.taxonomy.problems)


def test_worker_processes_read_exactly_what_one_process_reads(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    papers = sorted((data_dir / "papers").iterdir())
    exported = cli("--data-dir", str(data_dir), "export", "--format", "json").out
    papers[7].write_text(papers[7].read_text().replace("stance: relies", "stance: adores", 1).replace("stance: supports", "stance: adores", 1).replace("stance: challenges", "stance: adores", 1))
    papers[9].write_text("id: [unclosed\n")
    fill_inbox(data_dir, *(make_item(f"2602.{n:05d}") for n in range(1, 13)))
    (data_dir / "inbox" / "2602.00013.yaml").write_text("id: '2602.00013'\ntitle: [unclosed\n")
    (data_dir / "inbox" / "2602.00001.yaml").rename(data_dir / "inbox" / "2602.00014.yaml")
    one = cli("--data-dir", str(data_dir), "check", "--format", "json")
    monkeypatch.setattr("lmdev.parallel.PARALLEL_MIN", 10)
    monkeypatch.setattr("lmdev.parallel.CHUNK", 7)

    def forget() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index_path(data_dir)}{suffix}").unlink(missing_ok=True)

    forget()
    many = cli("--data-dir", str(data_dir), "check", "--format", "json")
    assert many.out == one.out and json.loads(many.out)["files"] == shipped_count()
    assert len(json.loads(many.out)["findings"]) == 4  # two paper files, two inbox files
    shutil.copy(SHIPPED / "papers" / papers[7].name, papers[7])
    shutil.copy(SHIPPED / "papers" / papers[9].name, papers[9])
    forget()
    assert cli("--data-dir", str(data_dir), "export", "--format", "json").out == exported


def test_cached_stamps_are_used_only_while_no_write_came_after_them(data_dir: Path) -> None:
    import sqlite3

    lib = Library(data_dir)
    lib.index().close()  # builds the index, then caches every file's stamp
    papers = sorted((data_dir / "papers").iterdir())
    # Another process writes a row behind this one's cache (here: a stale read of one file).
    other = Index(lib)
    other.store_one(papers[0].name, (1, 2, 3, 4), lib.read(papers[0]))
    other.close()
    text = papers[0].read_text()
    papers[0].write_text(text.replace("title: ", "title: Changed ", 1))
    index = lib.index()
    assert next(index.papers("name = ?", [papers[0].name])).title.startswith("Changed ")
    index.close()
    # A damaged cached value is ignored: the stamps are read from the table instead.
    db = sqlite3.connect(index_path(data_dir))
    db.execute("UPDATE meta SET value = ? WHERE key = 'stamps:papers'", (b"\x00garbage",))
    db.commit()
    db.close()
    papers[1].write_text(papers[1].read_text().replace("title: ", "title: Also changed ", 1))
    assert [p.id for p in lib.index().papers()] == [p.id for p in _yaml_papers(data_dir)]
    assert next(lib.index().papers("name = ?", [papers[1].name])).title.startswith("Also changed ")


def test_library_ids_from_one_pass_over_the_names_equal_reading_them_one_by_one(empty_data_dir: Path) -> None:
    from lmdev.ids import id_from_stem

    papers = empty_data_dir / "papers"
    names = ["2205.14135.yaml", "2205.14136.yml", "hep-th_9901001.yaml", "some-slug.yaml", ".hidden.yaml", "2213.00001.yaml", "2205.14135v2.yaml", "notes.txt", "Bad Name.yaml", "2205.1413.yaml", ".2205.14135.yaml.x1.tmp", "٢٢٠٥.14135.yaml"]
    for name in names:
        (papers / name).write_text("id: x\n")

    def one_by_one() -> set[str]:
        found = set()
        for name in os.listdir(papers):
            if not name.startswith(".") and name.endswith((".yaml", ".yml")):
                try:
                    found.add(id_from_stem(name.rpartition(".")[0]))
                except Exception:
                    continue
        return found

    lib = Library(empty_data_dir)
    assert lib.ids() == one_by_one() == {"2205.14135", "2205.14136", "hep-th/9901001", "some-slug", "2205.1413"}
    (papers / "line\nbreak.yaml").write_text("id: x\n")  # a hostile name: the slow path, same answer
    assert lib.ids() == one_by_one()


def test_piped_list_reads_its_lines_in_order_from_one_index(data_dir: Path) -> None:
    """At 100k papers sorting and fetching rows costs more than the rest of ``list``: the
    default order and the lines come from one covering index, with no sort."""
    index = Library(data_dir).index()
    plan = " ".join(str(row[-1]) for row in index.query(f"EXPLAIN QUERY PLAN SELECT list_line FROM papers WHERE error IS NULL AND (1) ORDER BY {NEWEST_FIRST}"))
    lines = [line.decode() for batch in index.summary_lines("1", (), NEWEST_FIRST) for line in batch]
    expected = [f"{s.id}\t{s.year or ''}\t{s.title}\t{s.tags}" for s in index.summaries("1", (), NEWEST_FIRST)]
    index.close()
    assert "COVERING INDEX papers_newest" in plan and "TEMP B-TREE" not in plan, plan
    assert lines == expected and len(lines) == shipped_count()


def test_without_stat_relative_to_a_folder_the_same_paper_files_are_listed(empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no ``dir_fd``: the folder is scanned instead, with the same answer (and no head start)."""
    from lmdev import listing

    papers = empty_data_dir / "papers"
    for name in ["2205.14135.yaml", "2205.14136.yml", ".hidden.yaml", "notes.txt", ".2205.14135.yaml.x1.tmp"]:
        (papers / name).write_text("id: x\n")
    (papers / "a-folder.yaml").mkdir()  # not a regular file: listed, so that reading it names it
    fast = sorted(listing.entries(papers))
    assert list(listing.entries(papers / "missing")) == [] and list(listing.entries(papers / "2205.14135.yaml")) == []
    monkeypatch.setattr(os, "supports_dir_fd", set())
    assert sorted(listing.entries(papers)) == fast and [name for name, _ in fast] == ["2205.14135.yaml", "2205.14136.yml", "a-folder.yaml"]
    assert list(listing.entries(papers / "missing")) == []
    prefetch.start(empty_data_dir)
    assert prefetch._pending is None


def _look_up_indexes(root: Path) -> set[str]:
    import sqlite3

    from lmdev.indexdb import SECONDARY

    db = sqlite3.connect(str(index_path(root)))
    try:
        have = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        db.close()
    return {name for name, _ in SECONDARY} - have


def test_a_bulk_build_adds_its_look_up_indexes_after_the_rows_even_with_two_builders_at_once(data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import threading

    from lmdev import indexdb

    monkeypatch.setattr("lmdev.indexdb.BULK", 10)  # the shipped 551 papers count as a bulk build
    deferred: list[int] = []
    real_defer = indexdb.defer_indexes
    monkeypatch.setattr("lmdev.indexdb.defer_indexes", lambda db: (deferred.append(1), real_defer(db))[-1])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path(data_dir)}{suffix}").unlink(missing_ok=True)
    failures: list[BaseException] = []

    def build() -> None:
        try:
            index = Library(data_dir).index()
            assert len(list(index.papers())) == shipped_count()
            index.close()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    builders = [threading.Thread(target=build) for _ in range(2)]
    for t in builders:
        t.start()
    for t in builders:
        t.join(timeout=300)
    assert not failures and deferred
    assert "cannot use the index" not in caplog.text  # both opened the new file, neither fell back
    assert _look_up_indexes(data_dir) == set()
    _consistent(data_dir)
    # The planner, with no statistics, picks among indexes by the order they were made: after the
    # bulk build every query must be planned as on an index built row by row (a tag filter that
    # went by tag instead of by name took 80 s at 100k papers).
    built = indexdb.connect(index_path(data_dir))
    fresh = indexdb.connect(None)
    try:
        for selection in SELECTIONS:
            where, params = selection.sql()
            query = f"EXPLAIN QUERY PLAN SELECT CAST(list_line AS BLOB) FROM papers WHERE error IS NULL AND ({where}) ORDER BY {NEWEST_FIRST}"
            assert [r[3] for r in built.execute(query, params)] == [r[3] for r in fresh.execute(query, params)], selection
    finally:
        built.close()
        fresh.close()


def test_an_index_left_without_its_look_up_indexes_gets_them_back(cli, data_dir: Path) -> None:
    """As after a bulk build killed before its end: the next command builds what is missing."""
    import sqlite3

    from lmdev.indexdb import DEFERRED

    expected = cli("--data-dir", str(data_dir), "list", "--problem", "efficiency", "--year", "2022-").out
    db = sqlite3.connect(str(index_path(data_dir)))
    for name in DEFERRED:
        db.execute(f"DROP INDEX {name}")
    db.commit()
    db.close()
    assert _look_up_indexes(data_dir) == set(DEFERRED)
    result = cli("--data-dir", str(data_dir), "list", "--problem", "efficiency", "--year", "2022-")
    assert result.code == 0 and result.out == expected
    assert _look_up_indexes(data_dir) == set()
