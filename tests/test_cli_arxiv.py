"""End to end: the CLI against a loopback server that answers like arXiv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from arxiv_server import FakeArxiv
from fakes import atom_entry, atom_feed
from helpers import shipped_count, snapshot

DELAY = 0.2


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch):
    with FakeArxiv() as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", str(DELAY))
        yield fake


def test_250_ids_are_added_in_3_spaced_requests(cli, empty_data_dir: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    ids = [f"2401.{n:05d}" for n in range(250)]
    arxiv.papers = {i: {} for i in ids}
    id_file = tmp_path / "ids.txt"
    id_file.write_text("# reading group, week 1\n" + "\n".join(f"https://arxiv.org/abs/{i}v1" for i in ids) + "\n")
    result = cli("--data-dir", str(empty_data_dir), "add", "--from", str(id_file), "--assumption", "out-of-the-box:relies")
    assert result.code == 0, result.err
    assert len(arxiv.starts) == 3
    gaps = [b - a for a, b in zip(arxiv.starts, arxiv.starts[1:])]
    assert all(g >= DELAY for g in gaps), gaps
    assert [int(q["max_results"]) for q in arxiv.queries] == [100, 100, 50]
    assert all(ua.startswith("lmdev/") for ua in arxiv.user_agents)
    files = sorted((empty_data_dir / "papers").iterdir())
    assert len(files) == 250
    paper = yaml.safe_load(files[0].read_text())
    assert paper["assumptions"] == [{"id": "out-of-the-box", "stance": "relies", "by": "person"}]
    assert "add: 250 added" in result.err
    assert cli("--data-dir", str(empty_data_dir), "check").code == 0


def test_adding_says_what_is_added(cli, empty_data_dir: Path, arxiv: FakeArxiv) -> None:
    arxiv.papers = {"2401.00001": {"title": "Prompting at scale"}}
    result = cli("--data-dir", str(empty_data_dir), "add", "arXiv:2401.00001", "--problem", "prompting", "--assumption", "cost-irrelevant:relies")
    assert result.code == 0
    assert "added      2401.00001  Prompting at scale (Lovelace, 2023)" in result.err
    assert result.err.strip().splitlines()[-1].startswith("added      2401.00001"), "one paper: its line says it all, no summary"


def test_adding_two_papers_ends_with_a_summary(cli, empty_data_dir: Path, arxiv: FakeArxiv) -> None:
    arxiv.papers = {"2401.00001": {"title": "Prompting at scale"}, "2401.00002": {"title": "Pruning at scale"}}
    result = cli("--data-dir", str(empty_data_dir), "add", "2401.00001", "2401.00002")
    assert result.code == 0, result.err
    assert result.err.strip().splitlines()[-1] == "add: 2 added"


def test_re_adding_refreshes_metadata_and_keeps_every_tag_and_note(cli, data_dir: Path, arxiv: FakeArxiv) -> None:
    path = data_dir / "papers" / "2205.14135.yaml"
    cli("--data-dir", str(data_dir), "tag", "2205.14135", "--note", "read in week 3", "--problem", "scaling")
    before = yaml.safe_load(path.read_text())
    arxiv.papers = {"2205.14135": {"version": 2, "title": "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", "doi": "10.5555/flash"}}
    result = cli("--data-dir", str(data_dir), "add", "2205.14135")
    assert result.code == 0, result.err
    after = yaml.safe_load(path.read_text())
    assert after["version"] == 2 and after["doi"] == "10.5555/flash"
    for key in ("problems", "assumptions", "notes", "essay_cited"):
        assert after[key] == before[key]
    assert len(list((data_dir / "papers").iterdir())) == shipped_count()


def test_essay_citations_added_afresh_get_the_essays_tags(cli, empty_data_dir: Path, arxiv: FakeArxiv) -> None:
    arxiv.papers = {"2205.05638": {"title": "T-Few"}}
    cli("--data-dir", str(empty_data_dir), "add", "2205.05638")
    paper = yaml.safe_load((empty_data_dir / "papers" / "2205.05638.yaml").read_text())
    assert paper["essay_cited"] is True
    assert {"id": "out-of-the-box", "stance": "challenges", "by": "essay"} in paper["assumptions"]


def test_invalid_ids_are_refused_before_any_request(cli, empty_data_dir: Path, arxiv: FakeArxiv) -> None:
    result = cli("--data-dir", str(empty_data_dir), "add", "2401.00001", "../etc/passwd")
    assert result.code == 2
    assert "'../etc/passwd'" in result.err and len(result.err.strip().splitlines()) == 1
    assert arxiv.starts == []
    assert cli("--data-dir", str(empty_data_dir), "add", "2401.00001", "--problem", "speed").code == 2
    assert arxiv.starts == []


def test_partial_success_is_kept_and_failures_listed(cli, empty_data_dir: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    arxiv.papers = {"2401.00001": {}, "2401.00003": {}}
    ids = tmp_path / "ids.txt"
    ids.write_text("2401.00001\nnot-an-id!\n2401.00002\n2401.00003\n")
    result = cli("--data-dir", str(empty_data_dir), "add", "--from", str(ids), "--format", "json")
    assert result.code == 1
    outcomes = {o["id"]: o for o in json.loads(result.out)}
    assert outcomes["2401.00001"]["action"] == "added" and outcomes["2401.00003"]["action"] == "added"
    assert outcomes["2401.00002"] == {"id": "2401.00002", "action": "failed", "reason": "not found on arXiv"}
    assert f"{ids}:2" in result.err
    assert sorted(p.name for p in (empty_data_dir / "papers").iterdir()) == ["2401.00001.yaml", "2401.00003.yaml"]


def test_a_broken_stored_file_is_never_overwritten(cli, data_dir: Path, arxiv: FakeArxiv) -> None:
    path = data_dir / "papers" / "2205.14135.yaml"
    path.write_text("id: '2205.14135'\ntitle: [hand edit gone wrong\n")
    before = snapshot(data_dir)
    arxiv.papers = {"2205.14135": {}}
    result = cli("--data-dir", str(data_dir), "add", "2205.14135")
    assert result.code == 1 and "left untouched" in result.err
    assert snapshot(data_dir) == before


def test_ids_from_stdin(cli, empty_data_dir: Path, arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    arxiv.papers = {"2401.00001": {}, "hep-th/9901001": {}}
    monkeypatch.setattr("sys.stdin", io.StringIO("2401.00001\nhep-th/9901001v2\n"))
    result = cli("--data-dir", str(empty_data_dir), "add", "--from", "-")
    assert result.code == 0, result.err
    assert sorted(p.name for p in (empty_data_dir / "papers").iterdir()) == ["2401.00001.yaml", "hep-th_9901001.yaml"]


def test_refresh_reports_what_changed_and_keeps_tags(cli, data_dir: Path, arxiv: FakeArxiv) -> None:
    arxiv.papers = {"2205.14135": {"version": 3, "title": "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", "journal_ref": "NeurIPS 2022"}}
    result = cli("--data-dir", str(data_dir), "refresh", "2205.14135", "--format", "json")
    assert result.code == 0, result.err
    [outcome] = json.loads(result.out)
    assert outcome["action"] == "updated"
    assert "version added: 3" in outcome["changes"] and "journal_ref added: NeurIPS 2022" in outcome["changes"]
    paper = yaml.safe_load((data_dir / "papers" / "2205.14135.yaml").read_text())
    assert paper["problems"] == [{"id": "efficiency", "by": "essay"}]
    missing = cli("--data-dir", str(data_dir), "refresh", "2401.99999")
    assert missing.code == 1 and "not in the library" in missing.err


def test_refresh_everything_batches_the_whole_library(cli, data_dir: Path, arxiv: FakeArxiv) -> None:
    stored = [p.stem for p in (data_dir / "papers").iterdir()]
    arxiv.papers = {i: {} for i in stored}
    result = cli("--data-dir", str(data_dir), "refresh")
    assert result.code == 0, result.err
    arxiv_papers = sum(1 for f in (data_dir / "papers").iterdir() if f.name[0].isdigit())
    assert len(arxiv.starts) == -(-arxiv_papers // 100)


def test_search_marks_hits_in_the_library_and_adds_chosen_ones(cli, data_dir: Path, arxiv: FakeArxiv) -> None:
    arxiv.search = lambda params: atom_feed([atom_entry("2205.14135", title="FlashAttention"), atom_entry("2401.00009", title="A new one")], total=2)
    arxiv.papers = {"2401.00009": {"title": "A new one"}}
    result = cli("--data-dir", str(data_dir), "search", 'ti:"flash attention"', "--max", "5", "--sort", "submitted", "--add", "2")
    assert result.code == 0, result.err
    assert arxiv.queries[0]["search_query"] == 'ti:"flash attention"' and arxiv.queries[0]["sortBy"] == "submittedDate"
    assert "✓" in result.out.splitlines()[1]
    assert (data_dir / "papers" / "2401.00009.yaml").exists()
    data = json.loads(cli("--data-dir", str(data_dir), "search", "ti:flash", "--format", "json").out)
    assert [h["in_library"] for h in data["hits"]] == [True, True]
    assert cli("--data-dir", str(data_dir), "search", "ti:flash", "--add", "7").code == 2


@pytest.mark.parametrize("spec", ["x", "0", "1,", "3-x", "25", "1-999999999"])
def test_a_malformed_add_is_refused_before_any_request(cli, data_dir: Path, arxiv: FakeArxiv, spec: str) -> None:
    """A typo in --add (or a hit beyond --max) costs no request: arXiv asks 3 s between them."""
    arxiv.search = lambda params: atom_feed([atom_entry("2401.00009", title="A new one")], total=1)
    result = cli("--data-dir", str(data_dir), "search", "ti:flash", "--max", "20", "--add", spec)
    assert result.code == 2 and "--add" in result.err and len(result.err.strip().splitlines()) == 1
    assert arxiv.queries == []


def test_offline_without_a_cached_answer_fails_clearly(cli, empty_data_dir: Path, arxiv: FakeArxiv) -> None:
    result = cli("--data-dir", str(empty_data_dir), "add", "2401.00001", "--offline")
    assert result.code == 1 and "--offline" in result.err
    assert arxiv.starts == []


def test_adding_a_rejected_paper_withdraws_its_rejection(cli, data_dir: Path, arxiv: FakeArxiv) -> None:
    """A reader who adds a paper the group rejected makes a new decision: the paper joins the
    library, its line leaves rejected.yaml (every other line stays, a bad one too), and check
    is green, where before it failed on a paper both kept and rejected."""
    from lmdev import decisions

    record = data_dir / "rejected.yaml"
    entries = decisions.load(data_dir)
    chosen = entries[3].rejection
    lines = record.read_text().splitlines()
    accepted = cli("--data-dir", str(data_dir), "accept", chosen.id)
    assert accepted.code == 1 and f"lmdev add {chosen.id}" in accepted.err
    record.write_text("\n".join([*lines, "- {id: '2699.00001', reason: [broken"]) + "\n")
    arxiv.papers = {chosen.id: {"title": chosen.title or "A paper"}}
    result = cli("--data-dir", str(data_dir), "add", chosen.id, "--problem", "prompting", "--assumption", "out-of-the-box:relies")
    assert result.code == 0, result.err
    assert f"it had been rejected ({chosen.reason}); that rejection is withdrawn" in result.err
    assert (data_dir / "papers" / f"{chosen.id}.yaml").exists()
    after = record.read_text().splitlines()
    assert after == [line for line in [*lines, "- {id: '2699.00001', reason: [broken"] if f"'{chosen.id}'" not in line]
    assert len(after) == len(lines)  # one line gone, the broken one kept for check to name
    record.write_text("\n".join(after[:-1]) + "\n")
    assert cli("--data-dir", str(data_dir), "check").code == 0
    again = cli("--data-dir", str(data_dir), "add", chosen.id)  # nothing left to withdraw
    assert again.code == 0 and "withdrawn" not in again.err
