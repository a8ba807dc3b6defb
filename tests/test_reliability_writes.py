"""Reliability battery, part 1: no lost updates and no corrupted files, whatever runs at once.

Each test reproduces a way the tracker lost or broke something a person wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from arxiv_server import FakeArxiv
from helpers import REPO, snapshot
from lmdev.errors import DataError
from lmdev.models import AssumptionTag, Paper
from lmdev.paperfile import render
from lmdev.store import Library

PAPER = "2205.14135"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / "papers" / name
    path.write_text(text, encoding="utf-8")
    return path


def _plain_paper(folder: Path, paper_id: str = "2401.00001", **extra: object) -> Path:
    paper = Paper(id=paper_id, title=f"Plain paper {paper_id}", assumptions=[AssumptionTag(id="end-to-end", stance="relies")], **extra)  # type: ignore[arg-type]
    Library(folder).save(paper)
    return Library(folder).path_for(paper_id)


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch):
    with FakeArxiv() as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        yield fake


# --- concurrent writers ----------------------------------------------------------------------


def test_twenty_concurrent_tag_processes_keep_all_twenty_tags(empty_data_dir: Path, tmp_path: Path) -> None:
    path = _plain_paper(empty_data_dir)
    path.write_text(path.read_text().replace("assumptions:\n- id: end-to-end\n  stance: relies\n  by: person\n", ""))
    tax = Library(empty_data_dir).taxonomy
    flags = [["--problem", n.id] for n in tax.problems] + [["--assumption", f"{n.id}:relies"] for n in tax.assumptions]
    assert len(flags) == 20
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "lmdev", "--data-dir", str(empty_data_dir), "tag", "2401.00001", *flag], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for flag in flags]
    codes = [p.wait(timeout=120) for p in procs]
    for p in procs:
        p.communicate()
    paper = Library(empty_data_dir).get("2401.00001")
    assert codes == [0] * 20
    assert len(paper.problems) + len(paper.assumptions) == 20


def test_threads_updating_one_paper_lose_nothing(empty_data_dir: Path) -> None:
    _plain_paper(empty_data_dir)
    lib = Library(empty_data_dir)
    names = [n.id for n in lib.taxonomy.problems]

    def add(node_id: str) -> None:
        from lmdev.tagging import TagChange, tag_paper

        tag_paper(Library(empty_data_dir), "2401.00001", TagChange(problems=[node_id]))

    threads = [threading.Thread(target=add, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(lib.get("2401.00001").problem_ids()) == sorted(names)


@pytest.mark.parametrize("command", ["refresh", "add"])
def test_a_note_written_while_arxiv_answers_survives_refresh_and_add(cli, small_dir: Path, arxiv: FakeArxiv, command: str) -> None:
    """The stored file changes between the start of the command and the answer arriving."""
    from lmdev.tagging import TagChange, tag_paper

    arxiv.papers = {PAPER: {"version": 3}}
    original = arxiv.server.RequestHandlerClass.do_GET  # type: ignore[attr-defined]

    def slow_answer(handler: object) -> None:
        tag_paper(Library(small_dir), PAPER, TagChange(note="written during the refresh", problems=["scaling"]))
        original(handler)

    arxiv.server.RequestHandlerClass.do_GET = slow_answer  # type: ignore[attr-defined]
    result = cli("--data-dir", str(small_dir), command, PAPER)
    assert result.code == 0, result.err
    paper = Library(small_dir).get(PAPER)
    assert paper.notes == "written during the refresh"
    assert "scaling" in paper.problem_ids()
    assert paper.version == 3


def test_a_tag_written_while_classify_runs_survives_apply(cli, small_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdev.classifier import apply
    from lmdev.tagging import TagChange, tag_paper

    real = apply.suggestions_for

    def and_meanwhile(model: object, paper: Paper, **kwargs: object) -> object:
        tag_paper(Library(small_dir), paper.id, TagChange(note=f"meanwhile {paper.id}"))
        return real(model, paper, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(apply, "suggestions_for", and_meanwhile)
    result = cli("--data-dir", str(small_dir), "classify", PAPER, "2307.03172", "--apply")
    assert result.code == 0, result.err
    for paper_id in (PAPER, "2307.03172"):
        assert Library(small_dir).get(paper_id).notes == f"meanwhile {paper_id}"


# --- a file whose name does not match its id -------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["tag", "2401.00002", "--problem", "scaling"],
        ["tag", "2401.00002", "--note", "mine"],
        ["tag", "2401.00002", "--remove", "efficiency"],
        ["add", "2401.00002"],
        ["refresh", "2401.00002"],
        ["classify", "2401.00002", "--apply"],
    ],
    ids=lambda a: "-".join(a[:1] + a[2:3]),
)
def test_a_hand_made_copy_never_makes_a_write_land_in_another_papers_file(cli, small_dir: Path, arxiv: FakeArxiv, args: list[str]) -> None:
    original = small_dir / "papers" / f"{PAPER}.yaml"
    copy = small_dir / "papers" / "2401.00002.yaml"
    copy.write_bytes(original.read_bytes())
    arxiv.papers = {"2401.00002": {}, PAPER: {}}
    before = original.read_bytes()
    result = cli("--data-dir", str(small_dir), *args)
    assert original.read_bytes() == before
    assert result.code == 1, result.err
    assert "2401.00002.yaml" in result.err and PAPER in result.err


# --- invalid UTF-8 on the command line ---------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["tag", PAPER, "--note", "caf\udce9"],
        ["tag", PAPER, "--note", "\udcff\udcfe"],
        ["tag", PAPER, "--problem", "scal\udce9"],
        ["tag", PAPER, "--assumption", "fixed-recipe:reli\udce9s"],
        ["list", "--text", "attention \udce9"],
        ["export", "--format", "json", "--text", "\udc80"],
        ["show", "2205.1413\udce9"],
    ],
    ids=["note-latin1", "note-two-bytes", "problem", "assumption", "list-text", "export-text", "show-id"],
)
def test_invalid_utf8_arguments_are_refused_and_every_file_still_loads(cli, small_dir: Path, args: list[str]) -> None:
    before = snapshot(small_dir)
    result = cli("--data-dir", str(small_dir), *args)
    assert result.code == 2, result.err
    assert "UTF-8" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert snapshot(small_dir) == before
    assert cli("--data-dir", str(small_dir), "check").code == 0


def test_invalid_utf8_from_a_real_shell_is_refused(small_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "lmdev", "--data-dir", str(small_dir), "tag", PAPER, b"--note", b"caf\xe9"], env=env, capture_output=True)  # type: ignore[list-item]
    assert proc.returncode == 2 and b"UTF-8" in proc.stderr
    assert Library(small_dir).get(PAPER).notes is None


def test_the_library_refuses_text_that_cannot_be_written_as_utf8(empty_data_dir: Path) -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        Paper(id="2401.00001", title="caf\udce9")


# --- characters YAML or Python treat specially round-trip ------------------------------------

TRICKY = [
    "a\u0085b",
    "a\u2028b",
    "a\u2029b",
    "line one\nline two\u2028still two",
    "first\n\u0085second",
    "\u0085",
    "ends with NEL\u0085",
    "\ufeffstarts with a BOM",
    "tab\tinside",
    "trailing space ",
    " leading space",
    "two\n\nparagraphs\n",
    "windows\r\nline end",
    "lone\rcarriage return",
    "escape \x1b[31m red",
    "bell\x07",
    "del\x7f",
    "c1 \x9b31m",
    "zero\u200bwidth",
    "rtl \u202eoverride",
    "emoji 😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "yes",
    "null",
    "~",
    "2023-01-02",
    "0x1F",
    "1e3",
    "- dash",
    "key: value",
    "# not a comment",
    "'quoted'",
    '"double"',
    "|",
    ">",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`backtick",
    "[flow]",
    "{flow: map}",
    "---",
    "...",
    "\\backslash\\",
    "x" * 300,
    "long line " * 40 + "\nand a second",
    "   ",
    "\n",
    "\ufffd replacement",
    "\ue000 private use",
]


@pytest.mark.parametrize("text", TRICKY, ids=[f"t{n:02d}" for n in range(len(TRICKY))])
def test_tricky_text_round_trips_exactly_through_a_paper_file(empty_data_dir: Path, text: str) -> None:
    lib = Library(empty_data_dir)
    paper = Paper(id="2401.00001", title="T " + text, authors=["A " + text], abstract=text, notes=text, comment=text, assumptions=[AssumptionTag(id="end-to-end", stance="relies")])
    lib.save(paper)
    path = lib.path_for("2401.00001")
    assert lib.read(path).paper == paper
    assert render(lib.read(path).paper) == path.read_text(encoding="utf-8")
    assert len(path.read_text(encoding="utf-8").splitlines()) == path.read_bytes().count(b"\n")


def test_a_note_with_special_line_breaks_round_trips_through_the_cli(cli, small_dir: Path) -> None:
    note = "first\u2028second\u0085third\u2029fourth"
    assert cli("--data-dir", str(small_dir), "tag", PAPER, "--note", note).code == 0
    shown = json.loads(cli("--data-dir", str(small_dir), "show", PAPER, "--format", "json").out)
    assert shown["notes"] == note
    assert cli("--data-dir", str(small_dir), "check").code == 0


# --- refresh keeps every field a person set ----------------------------------------------------

HAND_SET = {
    "url": "https://example.org/flash",
    "citekey": "dao2022mine",
    "notes": "read in week 3",
    "doi": "10.1234/hand-set",
    "journal_ref": "Hand-set Journal 1 (2022)",
    "comment": "hand-set comment",
    "affiliations": {"Tri Dao": ["Stanford"]},
}


@pytest.mark.parametrize("field", sorted(HAND_SET))
def test_refresh_keeps_a_field_a_person_set_when_arxiv_has_none(cli, small_dir: Path, arxiv: FakeArxiv, field: str) -> None:
    path = small_dir / "papers" / f"{PAPER}.yaml"
    data = yaml.safe_load(path.read_text())
    data[field] = HAND_SET[field]
    path.write_text(render(Paper.model_validate(data)))
    arxiv.papers = {PAPER: {"version": 4}}
    result = cli("--data-dir", str(small_dir), "refresh", PAPER)
    assert result.code == 0, result.err
    after = yaml.safe_load(path.read_text())
    assert after["version"] == 4 and after["title"] == f"A study numbered {PAPER}"
    assert after[field] == data[field]


# --- temporary files from interrupted writes ---------------------------------------------------

TEMP_NAMES = [f".{PAPER}.yaml.k3j9x2qa.tmp", ".2401.00001.yml.abcd1234.tmp", ".hep-th_9901001.yaml.zz_9y8x7.tmp", ".2401.00002.yaml.x\nyz.tmp"]


@pytest.mark.parametrize("name", TEMP_NAMES)
def test_temporary_files_are_ignored_by_check_and_cleaned_up_by_the_next_write(cli, small_dir: Path, name: str) -> None:
    stale = small_dir / "papers" / name
    stale.write_text("id: '2205.14135'\ntitle: half a fi")
    result = cli("--data-dir", str(small_dir), "check")
    assert result.code == 0, result.out + result.err
    assert cli("--data-dir", str(small_dir), "tag", PAPER, "--note", "x").code == 0
    assert not stale.exists()


def test_temporary_files_are_cleaned_up_by_a_read_command_too(cli, small_dir: Path) -> None:
    stale = small_dir / "papers" / TEMP_NAMES[0]
    stale.write_text("half")
    assert cli("--data-dir", str(small_dir), "list").code == 0
    assert not stale.exists()


def test_a_read_command_never_removes_the_temporary_file_of_a_write_in_progress(small_dir: Path, tmp_path: Path) -> None:
    """A writer holds the library's lock from its temporary file to the rename over the paper; a
    command that tidies meanwhile (another terminal's `list`) must leave that file alone, or the
    rename fails and the write is lost. Only a temporary found with the lock free is a dead
    writer's."""
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "lmdev", "--data-dir", str(small_dir), "list"]
    in_progress = small_dir / "papers" / TEMP_NAMES[0]
    with Library(small_dir).lock():
        in_progress.write_text("half")
        assert subprocess.run(command, env=env, capture_output=True, timeout=120).returncode == 0
        assert in_progress.exists()
    assert subprocess.run(command, env=env, capture_output=True, timeout=120).returncode == 0
    assert not in_progress.exists()


@pytest.mark.parametrize("name", [*TEMP_NAMES, ".lmdev.lock"])
def test_the_shipped_gitignore_covers_temporary_and_lock_files(name: str) -> None:
    import fnmatch

    patterns = [line.strip() for line in (REPO / ".gitignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert any(fnmatch.fnmatch(name, p.lstrip("/")) for p in patterns), name


def test_a_paper_too_large_to_read_back_is_never_written(empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdev import yamlio

    monkeypatch.setattr(yamlio, "MAX_FILE_BYTES", 20_000)
    lib = Library(empty_data_dir)
    paper = Paper(id="2401.00001", title="Huge", abstract="word " * 5_000, assumptions=[AssumptionTag(id="end-to-end", stance="relies")])
    with pytest.raises(DataError, match="larger than"):
        lib.save(paper)
    assert not lib.path_for("2401.00001").exists()


def test_a_temporary_file_appearing_after_a_clean_look_is_still_found(cli, small_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean look is remembered by the folder's stat (one stat instead of a listing next time);
    adding a file changes that stat, so the next command looks again."""
    monkeypatch.setattr("lmdev.listing.RACY_NS", 0)  # trust the folder's stat at once
    assert cli("--data-dir", str(small_dir), "show", PAPER).code == 0  # a clean look, remembered
    stale = small_dir / "papers" / TEMP_NAMES[0]
    stale.write_text("half")
    assert cli("--data-dir", str(small_dir), "show", PAPER).code == 0
    assert not stale.exists()


@pytest.mark.parametrize("mark", [b"", b"\xff\xfe not utf-8", b"1 2 3 4" * 100_000, b"../../etc/passwd"])
def test_a_damaged_or_hostile_tidy_mark_only_costs_a_listing(cli, small_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mark: bytes) -> None:
    monkeypatch.setattr("lmdev.listing.RACY_NS", 0)
    assert cli("--data-dir", str(small_dir), "show", PAPER).code == 0  # the mark is written
    marks = list((tmp_path / "cache" / "tidy").iterdir())
    assert len(marks) == 1
    marks[0].write_bytes(mark)
    stale = small_dir / "papers" / TEMP_NAMES[1]
    stale.write_text("half")
    assert cli("--data-dir", str(small_dir), "show", PAPER).code == 0
    assert not stale.exists()
