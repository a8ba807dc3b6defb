"""The record of rejected papers and the primary problem: the tracker's decisions."""

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from helpers import shipped_count
from lmdev import decisions
from lmdev.errors import DataError
from lmdev.store import Library


def test_every_shipped_paper_with_problems_names_a_primary_among_them() -> None:
    from helpers import SHIPPED

    papers = Library(SHIPPED).papers()
    assert len(papers) == shipped_count()
    assert all(p.primary in p.problem_ids() for p in papers if p.problems)


def test_rejections_append_one_line_each_and_skip_known_ids(empty_data_dir: Path) -> None:
    first = decisions.Rejection("2504.17039", "not about language models: air pollution", dt.date(2025, 4, 26), "Dense Air Pollution Estimation")
    assert decisions.record(empty_data_dir, [first]) == [first]
    assert decisions.record(empty_data_dir, [first, decisions.Rejection("2504.17040", "survey: [x] of {y}, with 'quotes': and #hash")]) != []
    text = (empty_data_dir / "rejected.yaml").read_text()
    entries = [line for line in text.splitlines() if line.startswith("- {")]
    assert len(entries) == 2
    loaded = decisions.load(empty_data_dir)
    assert [e.rejection.id for e in loaded] == ["2504.17039", "2504.17040"]
    assert loaded[1].rejection.reason == "survey: [x] of {y}, with 'quotes': and #hash"
    assert loaded[0].rejection == first


def test_a_bad_line_is_named_by_check_with_its_line_and_the_rest_still_counts(cli, data_dir: Path) -> None:
    path = data_dir / "rejected.yaml"
    path.write_text(path.read_text() + "- {id: '2504.99999'}\nnot a list item\n- {id: '2205.14135', reason: kept and rejected}\n")
    result = cli("--data-dir", str(data_dir), "check", "--format", "json")
    assert result.code == 1
    found = {(Path(f["path"]).name, f["message"].split(":")[0]) for f in json.loads(result.out)["findings"]}
    assert ("rejected.yaml", "2504.99999") in found
    assert any("each line must be one entry" in f["message"] for f in json.loads(result.out)["findings"])
    assert any("2205.14135 is rejected here but kept" in f["message"] for f in json.loads(result.out)["findings"])


def test_load_refuses_a_damaged_record_naming_the_line(empty_data_dir: Path) -> None:
    (empty_data_dir / "rejected.yaml").write_text("- {id: '2504.17039', reason: fine}\n- {id: 2504 17039, reason: bad id}\n")
    with pytest.raises(DataError) as info:
        decisions.load(empty_data_dir)
    assert info.value.line == 2


def test_two_branches_rejecting_different_papers_merge_without_conflict(tmp_path: Path) -> None:
    """The shipped .gitattributes gives rejected.yaml git's union merge."""
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    from helpers import REPO

    (repo / ".gitattributes").write_text((REPO / ".gitattributes").read_text())

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    decisions.record(repo / "data", [decisions.Rejection("2504.00001", "first")])
    git("add", "-A")
    git("commit", "-qm", "one")
    git("checkout", "-qb", "alice")
    decisions.record(repo / "data", [decisions.Rejection("2504.00002", "alice's")])
    git("commit", "-qam", "alice")
    git("checkout", "-q", "main")
    decisions.record(repo / "data", [decisions.Rejection("2504.00003", "bob's")])
    git("commit", "-qam", "bob")
    git("merge", "-q", "alice", "-m", "merge")
    assert sorted(e.rejection.id for e in decisions.load(repo / "data")) == ["2504.00001", "2504.00002", "2504.00003"]


def test_tag_primary_sets_it_and_check_wants_one(cli, data_dir: Path) -> None:
    assert cli("--data-dir", str(data_dir), "tag", "2205.05638", "--primary", "efficiency").code == 0
    assert Library(data_dir).get("2205.05638").primary == "efficiency"
    path = data_dir / "papers" / "2205.05638.yaml"
    path.write_text(path.read_text().replace("primary: efficiency\n", ""))
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1 and "names no primary problem" in result.out
    assert cli("--data-dir", str(data_dir), "tag", "2205.05638", "--remove", "prompting").code == 0


def test_find_reads_only_the_lines_that_mention_the_id(empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``show`` looks a rejected paper up in a record that grows by hundreds of lines a day:
    only the lines naming the id are parsed; a hand-written id form, a broken line and a second
    entry for the same id are handled as ``check`` and ``scan`` would."""
    lines = [decisions.Rejection(f"2605.{n:05d}", "out of scope").to_line() for n in range(20_000)]
    lines[7] = "- {id: 'https://arxiv.org/abs/2605.90001v2', reason: 'written by hand', date: 2026-05-12}"
    lines[9] = "- {id: '2605.90002', reason: [broken"
    lines[11] = "- {id: '2605.90003', reason: 'first'}"
    lines[13] = "- {id: '2605.90003', reason: 'second thoughts'}"
    (empty_data_dir / "rejected.yaml").write_text("# decisions\n" + "\n".join(lines) + "\n")
    parsed: list[str] = []
    parse = decisions._parse_line
    monkeypatch.setattr(decisions, "_parse_line", lambda line: (parsed.append(line), parse(line))[1])
    assert decisions.find(empty_data_dir, "2605.90001") == decisions.Rejection("2605.90001", "written by hand", dt.date(2026, 5, 12))
    assert decisions.find(empty_data_dir, "2605.90002") is None  # its only line does not parse
    assert decisions.find(empty_data_dir, "2605.90003") == decisions.Rejection("2605.90003", "second thoughts")
    assert decisions.find(empty_data_dir, "2605.19999") == decisions.Rejection("2605.19999", "out of scope")
    assert decisions.find(empty_data_dir, "2605.99999") is None
    assert len(parsed) == 5  # of 20,001 lines
    assert decisions.find(empty_data_dir.parent / "nowhere", "2605.90001") is None


def test_withdrawing_and_recording_rejections_at_once_lose_no_line(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`add` withdrawing old rejections while `reject` records new ones: both hold the decision
    lock, so every new line is kept and exactly the withdrawn ones are gone."""
    import threading

    from lmdev.ingest import _withdraw
    from lmdev.triage import reject
    from watch_fixtures import fill_inbox, make_item

    monkeypatch.setenv("LMDEV_CACHE_DIR", str(tmp_path / "cache"))
    before = {e.rejection.id for e in decisions.load(data_dir)}
    old = sorted(before)[:15]
    new = [f"2605.9{n:04d}" for n in range(15)]
    fill_inbox(data_dir, *(make_item(i) for i in new))
    library = Library(data_dir)
    threads = [
        threading.Thread(target=lambda: [reject(library, [i], "out of scope") for i in new]),
        threading.Thread(target=lambda: [_withdraw(library, i) for i in old]),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {e.rejection.id for e in decisions.load(data_dir)} == (before - set(old)) | set(new)


def test_a_record_that_an_editor_saved_with_a_byte_order_mark_still_reads(cli, data_dir: Path) -> None:
    path = data_dir / "rejected.yaml"
    before = decisions.rejected_ids(data_dir)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert decisions.rejected_ids(data_dir) == before == decisions.ids_on_record(data_dir)
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 0, result.err
    decisions.record(data_dir, [decisions.Rejection("2605.90041", "off topic")])
    assert decisions.rejected_ids(data_dir) == before | {"2605.90041"}


def test_an_abstract_in_paragraphs_is_recorded_on_one_line_exactly(cli, data_dir: Path) -> None:
    """A hand-edited inbox file may hold an abstract in paragraphs; its rejection stays one line
    of the record (which git merges line by line), and reads back as it was."""
    from watch_fixtures import fill_inbox, make_item

    plain, special = "First paragraph.\n\nSecond paragraph.", "One.\n\n\n\tTwo,\rwith a tab\u2028and a separator."
    fill_inbox(data_dir, make_item("2605.90071", abstract=plain), make_item("2605.90072", abstract=special), make_item("2605.90073"))
    for paper_id in ("2605.90071", "2605.90072", "2605.90073"):
        result = cli("--data-dir", str(data_dir), "reject", paper_id, "--reason", "off topic")
        assert result.code == 0, result.err
    for paper_id, abstract in (("2605.90071", plain), ("2605.90072", special)):
        found = decisions.find(data_dir, paper_id)
        assert found is not None and found.abstract == abstract
    assert cli("--data-dir", str(data_dir), "check").code == 0
