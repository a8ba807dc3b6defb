import json
from pathlib import Path

import pytest

from helpers import shipped_count, snapshot

PAPERS = "papers"


def _write(data_dir: Path, name: str, text: str) -> Path:
    path = data_dir / PAPERS / name
    path.write_text(text)
    return path


GOOD = """id: '2401.00001'
title: A Fresh Paper
assumptions:
- id: fixed-recipe
  stance: relies
  by: person
"""


def test_shipped_data_passes(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 0, result.out + result.err
    assert f"checked {shipped_count()} paper files: all good" in result.err


def test_every_kind_of_problem_is_reported_each_naming_its_file(cli, data_dir: Path) -> None:
    _write(data_dir, "2401.00002.yaml", "id: '2401.00002'\ntitle: [unclosed\n")
    _write(data_dir, "2401.00003.yaml", "id: '2401.00003'\ntitle: Wrong types\nauthors: 7\nassumptions: []\n")
    _write(data_dir, "2401.00004.yaml", GOOD.replace("2401.00001", "2401.00004").replace("A Fresh", "Unknown ids").replace("fixed-recipe", "fixed-rcipe") + "problems:\n- id: speed\n  by: person\n")
    _write(data_dir, "2401.00005.yaml", "id: '2401.00005'\ntitle: No assumption at all\nproblems:\n- id: efficiency\n  by: person\n")
    _write(data_dir, "2401.00006.yaml", GOOD.replace("A Fresh Paper", "Misnamed file"))
    _write(data_dir, "2401.00007.yaml", GOOD.replace("2401.00001", "2401.00007").replace("A Fresh Paper", "'FlashAttention: fast and memory-efficient exact attention with IO awareness'"))
    _write(data_dir, "2401.00008.yaml", GOOD.replace("2401.00001", "2401.00008").replace("A Fresh Paper", "Same DOI A") + "doi: 10.1/x\n")
    _write(data_dir, "2401.00009.yaml", GOOD.replace("2401.00001", "2401.00009").replace("A Fresh Paper", "Same DOI B") + "doi: 10.1/X\n")
    _write(data_dir, "2401.00010.yaml", "")
    _write(data_dir, "2401.00011.yaml", GOOD.replace("2401.00001", "2401.00011").replace("A Fresh Paper", "Declined a typo") + "declined: [scaling, scalng, fixed-recipe]\n")
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    lines = result.out.strip().splitlines()
    expect = {
        "2401.00002.yaml": "invalid YAML",
        "2401.00003.yaml": "authors",
        "2401.00004.yaml": "unknown problem id 'speed'",
        "2401.00005.yaml": "maps to no assumption",
        "2401.00006.yaml": "file name does not match id '2401.00001'",
        "2401.00007.yaml": "duplicates 2205.14135.yaml (same title)",
        "2401.00009.yaml": "duplicates 2401.00008.yaml (same DOI)",
        "2401.00010.yaml": "file is empty",
        "2401.00011.yaml": ":7: unknown tag id 'scalng' in declined",
    }
    expect_too = {"2401.00011.yaml": "'fixed-recipe' is both a tag and declined"}
    for name, needle in [*expect.items(), *expect_too.items()]:
        assert any(name in line and needle in line for line in lines), (name, needle, lines)
    assert any("2401.00004.yaml" in line and "unknown assumption id 'fixed-rcipe'" in line for line in lines)
    assert "Traceback" not in result.err


def test_a_duplicate_id_in_a_second_file_is_caught(cli, data_dir: Path) -> None:
    _write(data_dir, "2205.14135.yml", (data_dir / PAPERS / "2205.14135.yaml").read_text())
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    assert "duplicates 2205.14135.yaml" in result.out


def test_github_format_annotates_file_and_line(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(data_dir, "2401.00005.yaml", "id: '2401.00005'\ntitle: No assumption at all\nproblems:\n- id: efficiency\n  by: person\n- id: nope\n  by: person\nassumptions:\n- id: fixed-recipe\n  stance: relies\n")
    result = cli("--data-dir", str(data_dir), "check", "--format", "github")
    assert result.code == 1
    assert f"::error file={data_dir / PAPERS / '2401.00005.yaml'},line=6::unknown problem id 'nope'" in result.out
    monkeypatch.chdir(data_dir.parent)  # a workflow runs at the repository root: annotations need paths from there
    relative = cli("--data-dir", "data", "check", "--format", "github")
    assert f"::error file=data/{PAPERS}/2401.00005.yaml,line=6::unknown problem id 'nope'" in relative.out
    (data_dir / PAPERS / "2401.00006.yaml").symlink_to(data_dir / PAPERS / "2401.00005.yaml")
    linked = cli("--data-dir", "data", "check", "--format", "github")
    assert f"::error file=data/{PAPERS}/2401.00006.yaml" in linked.out, "a link is annotated as itself"


def test_json_format_is_machine_readable(cli, data_dir: Path) -> None:
    _write(data_dir, "2401.00005.yaml", "id: '2401.00005'\ntitle: Lonely\n")
    result = cli("--data-dir", str(data_dir), "check", "--format", "json")
    report = json.loads(result.out)
    assert report["ok"] is False and report["files"] == shipped_count() + 1
    assert report["findings"][0]["path"].endswith("2401.00005.yaml")


def test_broken_input_never_gives_a_traceback_nor_changes_a_file(cli, data_dir: Path) -> None:
    big = _write(data_dir, "2401.00011.yaml", "title: x\n" + "#" * 10_000_000)
    _write(data_dir, "2401.00012.yaml", "\x00\x01binary")
    before = snapshot(data_dir)
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    assert f"{big}: file is 10,000,009 bytes" in result.out
    assert snapshot(data_dir) == before
    for args in (["show", "../x"], ["tag", "../x", "--problem", "efficiency"], ["tag", "2401.00011", "--problem", "efficiency"]):
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code in (1, 2), args
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert "Traceback" not in result.err
    listed = cli("--data-dir", str(data_dir), "list")
    assert listed.code == 1 and "Traceback" not in listed.err
    assert "2401.00011.yaml" in listed.err and "2401.00012.yaml" in listed.err and "2205.14135" in listed.out
    assert snapshot(data_dir) == before


def test_a_broken_taxonomy_stops_every_command_with_one_line(cli, data_dir: Path) -> None:
    (data_dir / "taxonomy.yaml").write_text("version: 1\nsource: {}\n")
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    assert result.err.startswith("lmdev: error: ") and "taxonomy.yaml" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_two_files_with_the_same_id_are_a_finding(cli, data_dir: Path) -> None:
    _write(data_dir, "2401.00001.yaml", GOOD)
    _write(data_dir, "2401.00001.yml", GOOD.replace("A Fresh Paper", "A copy made by hand"))
    result = cli("--data-dir", str(data_dir), "check", "--format", "json")
    assert result.code == 1
    findings = json.loads(result.out)["findings"]
    dup = [f for f in findings if "also the id of" in f["message"]]
    assert len(dup) == 1 and dup[0]["path"].endswith("2401.00001.yml") and "2401.00001.yaml" in dup[0]["message"]


def test_a_paper_file_names_every_bad_field_at_its_own_line(cli, data_dir: Path) -> None:
    text = GOOD.replace("2401.00001", "2401.00012") + "- id: end-to-end\n  stance: maybe\n  by: person\n- id: bigger-is-better\n  stance: sure\n  by: person\n"
    _write(data_dir, "2401.00012.yaml", text.replace("  stance: relies", "  stance: relied"))
    _write(data_dir, "2401.00013.yaml", GOOD.replace("2401.00001", "2401.00013").replace("A Fresh Paper", "Primary elsewhere") + "problems:\n- id: efficiency\n  by: person\nprimary: safety\n")
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    stances = next(line for line in result.out.splitlines() if "2401.00012.yaml" in line)
    assert all(f"assumptions.{i}.stance" in stances for i in range(3)) and "not 'maybe'" in stances and "more" not in stances
    assert "2401.00013.yaml:10: primary: primary 'safety' is not one of the paper's problems" in result.out


def test_check_of_given_files_reports_only_theirs_and_refuses_what_is_not_there(cli, data_dir: Path, tmp_path: Path) -> None:
    """What a pre-commit hook runs: findings in the files being committed only; a file that is
    not there (a typo in a hand-run check) is a usage error, not 'all good'."""
    bad = _write(data_dir, "2401.00014.yaml", "id: '2401.00014'\ntitle: No assumption\n")
    _write(data_dir, "2401.00015.yaml", "id: '2401.00015'\ntitle: Also no assumption\n")
    result = cli("--data-dir", str(data_dir), "check", str(bad))
    assert result.code == 1 and "2401.00014.yaml" in result.out and "2401.00015.yaml" not in result.out
    assert "checked 1 given file(s), against" in result.err
    missing = cli("--data-dir", str(data_dir), "check", str(data_dir / PAPERS / "2401.00016.yaml"))
    assert missing.code == 2 and "2401.00016.yaml: no such file" in missing.err
    outside = tmp_path / "notes.yaml"
    outside.write_text("x: 1\n")
    assert cli("--data-dir", str(data_dir), "check", str(outside)).code == 2


def test_check_file_takes_inbox_files_as_it_takes_paper_files(cli, data_dir: Path) -> None:
    """A commit of the scheduled watch's inbox is checked file by file, as the docs say."""
    from watch_fixtures import fill_inbox, make_item

    fill_inbox(data_dir, make_item("2605.90061"), make_item("2605.90062"))
    good, bad = data_dir / "inbox" / "2605.90061.yaml", data_dir / "inbox" / "2605.90062.yaml"
    bad.write_text(bad.read_text().replace("relevance: ", "relevance: 1.7 #", 1))
    assert cli("--data-dir", str(data_dir), "check", str(good)).code == 0
    result = cli("--data-dir", str(data_dir), "check", str(bad))
    assert result.code == 1 and "2605.90062.yaml" in result.out and "relevance" in result.out and "2605.90061" not in result.out
    stray = data_dir / "inbox" / "notes.txt"
    stray.write_text("scratch\n")
    assert cli("--data-dir", str(data_dir), "check", str(stray)).code == 2


def test_check_falls_back_to_reading_the_files_when_the_index_cannot_be_written(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only cache (an immutable index file) is a note, not a traceback: check reads every
    file as the other commands then do, and its answer is the same."""
    import sqlite3

    from lmdev.index import Index

    assert cli("--data-dir", str(data_dir), "check").code == 0  # warm
    real = Index.refresh

    def read_only(self: Index, *args: object, **kwargs: object) -> object:
        if self.db.execute("PRAGMA database_list").fetchone()[2]:  # a file, not memory
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Index, "refresh", read_only)
    for args in (["check"], ["check", "--changed"]):
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 0, result.err
        assert f"checked {shipped_count()} paper files" in result.err and "all good" in result.err and "Traceback" not in result.err
        assert "cannot use the index" in result.err
    broken = data_dir / "papers" / "2205.14135.yaml"
    broken.write_text(broken.read_text().replace("title:", "titel:", 1))
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1 and "2205.14135.yaml" in result.out


def test_a_taxonomy_that_does_not_load_still_gives_ci_its_annotation_and_json(cli, data_dir: Path) -> None:
    (data_dir / "taxonomy.yaml").write_text("version: 1\nfields: [unclosed\n")
    github = cli("--data-dir", str(data_dir), "check", "--format", "github")
    assert github.code == 1 and github.out.startswith("::error file=") and "taxonomy.yaml,line=2::invalid YAML" in github.out
    as_json = cli("--data-dir", str(data_dir), "check", "--format", "json")
    data = json.loads(as_json.out)
    assert as_json.code == 1 and data["ok"] is False and data["findings"][0]["path"].endswith("taxonomy.yaml") and data["findings"][0]["line"] == 2
    text = cli("--data-dir", str(data_dir), "check")
    assert text.code == 1 and text.out == "" and "taxonomy.yaml:2: invalid YAML" in text.err
