"""Reliability battery, part 2: hostile or impossible files in the library.

What a careless colleague or a hostile pull request can put under ``papers/``: links and
special files named like papers, YAML aliases and duplicate keys, values that cannot exist.
``check`` names each with its file (and line), and every other command goes on without it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import pytest

from helpers import SHIPPED, Result, snapshot

GOOD = ["2205.14135", "2307.03172", "2005.14165"]
HOSTILE = "2401.00009.yaml"


def _symlink_to(target: str) -> Callable[[Path, Path], None]:
    def make(path: Path, tmp: Path) -> None:
        os.symlink(target, path)

    return make


def _outside_link(path: Path, tmp: Path) -> None:
    outside = tmp / "outside.yaml"
    outside.write_text((SHIPPED / "papers" / "2205.14135.yaml").read_text().replace("2205.14135", "2401.00009"))
    os.symlink(outside, path)


def _fifo(path: Path, tmp: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(path)


def _directory(path: Path, tmp: Path) -> None:
    path.mkdir()
    (path / "inside.yaml").write_text("id: '2401.00009'\n")


def _socket(path: Path, tmp: Path) -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets on this platform")
    server = socket.socket(socket.AF_UNIX)
    here = os.getcwd()
    os.chdir(path.parent)  # a relative name: the full path may be longer than a socket's 108 bytes
    try:
        server.bind(path.name)
    finally:
        os.chdir(here)
        server.close()


def _zero_device(path: Path, tmp: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except (PermissionError, AttributeError, OSError):
        pytest.skip("cannot make a device node here")


KINDS: dict[str, Callable[[Path, Path], None]] = {
    "symlink-dev-zero": _symlink_to("/dev/zero"),
    "symlink-outside": _outside_link,
    "symlink-dangling": _symlink_to("/nonexistent/lmdev-test"),
    "symlink-to-dir": _symlink_to("/"),
    "fifo": _fifo,
    "directory": _directory,
    "socket": _socket,
    "zero-device": _zero_device,
}

READ_COMMANDS = {
    "list": ["list"],
    "list-json": ["list", "--format", "json"],
    "coverage": ["coverage", "--format", "json"],
    "export-json": ["export", "--format", "json"],
    "export-csv": ["export", "--format", "csv"],
    "export-bibtex": ["export", "--format", "bibtex"],
    "reading-list": ["reading-list", "efficiency", "--format", "json"],
    "classify": ["classify", "--all", "--format", "json"],
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_check_names_a_special_file_named_like_a_paper(cli, small_dir: Path, tmp_path: Path, kind: str) -> None:
    KINDS[kind](small_dir / "papers" / HOSTILE, tmp_path)
    result = cli("--data-dir", str(small_dir), "check", "--format", "json")
    assert result.code == 1, result.err
    findings = json.loads(result.out)["findings"]
    assert [f["path"] for f in findings] == [str(small_dir / "papers" / HOSTILE)]
    assert "regular file" in findings[0]["message"] or "directory" in findings[0]["message"]


@pytest.mark.parametrize("command", sorted(READ_COMMANDS))
@pytest.mark.parametrize("kind", ["symlink-dev-zero", "fifo", "directory", "symlink-outside"])
def test_read_commands_skip_a_special_file_and_go_on(cli, small_dir: Path, tmp_path: Path, kind: str, command: str) -> None:
    KINDS[kind](small_dir / "papers" / HOSTILE, tmp_path)
    result = cli("--data-dir", str(small_dir), *READ_COMMANDS[command])
    assert result.code == 1, result.err
    assert HOSTILE in result.err and "Traceback" not in result.err
    if command not in ("coverage", "reading-list"):
        assert "2307.03172" in result.out


@pytest.mark.parametrize("kind", ["symlink-dev-zero", "fifo"])
def test_looking_up_a_citekey_skips_a_special_file_named_like_a_paper(cli, small_dir: Path, tmp_path: Path, kind: str) -> None:
    """A citekey is looked up in every paper file's citekey line; a FIFO or a link to /dev/zero
    among them would hang that look or fill memory."""
    KINDS[kind](small_dir / "papers" / HOSTILE, tmp_path)
    missing = cli("--data-dir", str(small_dir), "show", "nosuch2020key")
    assert missing.code == 1 and "nosuch2020key" in missing.err and "Traceback" not in missing.err


@pytest.mark.parametrize("kind", ["symlink-dev-zero", "symlink-outside", "fifo", "directory"])
def test_writes_never_go_through_a_special_file(cli, small_dir: Path, tmp_path: Path, kind: str) -> None:
    path = small_dir / "papers" / HOSTILE
    KINDS[kind](path, tmp_path)
    before = snapshot(tmp_path / "outside.yaml") if (tmp_path / "outside.yaml").exists() else None
    result = cli("--data-dir", str(small_dir), "tag", "2401.00009", "--note", "x")
    assert result.code == 1 and HOSTILE in result.err
    assert os.path.lexists(path) and not (path.is_file() and not path.is_symlink())
    if before is not None:
        assert snapshot(tmp_path / "outside.yaml") == before


@pytest.mark.parametrize("name", ["rejected.yaml", "taxonomy.yaml"])
@pytest.mark.parametrize("kind", ["symlink-dev-zero", "fifo"])
@pytest.mark.parametrize("command", [["classify", "2307.03172"], ["classify", "--all"], ["rescore"], ["check"]])
def test_the_tracker_files_the_model_reads_are_never_read_unbounded(cli, small_dir: Path, tmp_path: Path, kind: str, name: str, command: list[str]) -> None:
    """The model cache's fingerprint reads rejected.yaml and taxonomy.yaml too: a FIFO or a link
    to /dev/zero in their place is one line, not a hang or all the memory there is."""
    (small_dir / name).unlink(missing_ok=True)
    KINDS[kind](small_dir / name, tmp_path)
    result = cli("--data-dir", str(small_dir), *command)
    assert result.code == 1
    assert name in result.err and ("FIFO" in result.err or "device" in result.err), result.err
    assert "Traceback" not in result.err


# --- YAML aliases, anchors and duplicate keys --------------------------------------------------

HEAD = "id: '2401.00009'\ntitle: A hostile paper\nassumptions:\n- id: end-to-end\n  stance: relies\n"


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = [HEAD, "affiliations:\n", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"  a{level}: &a{level} [{refs}]\n")
    return "".join(lines)


YAML_TRAPS = {
    "alias-bomb": (_alias_bomb(), 7, "alias"),
    "anchor-and-alias": (HEAD + "abstract: &text Some text\ncomment: *text\n", 6, "anchor"),
    "anchor-only": (HEAD + "abstract: &unused Some text\n", 6, "anchor"),
    "merge-key": (HEAD.replace("- id: end-to-end\n  stance: relies\n", "- &tag {id: end-to-end, stance: relies}\n- <<: *tag\n  id: fixed-recipe\n"), 4, "anchor"),
    "merge-key-inline": (HEAD + "<<: {title: Shadow title, notes: from a merge}\n", 6, "merge keys"),
    "alias-in-list": ("id: '2401.00009'\ntitle: &t A title\nauthors: [*t]\nassumptions: [{id: end-to-end, stance: relies}]\n", 2, "anchor"),
    "duplicate-top-key": (HEAD + "title: A second title\n", 6, "appears twice"),
    "duplicate-id": (HEAD + "id: '2401.00008'\n", 6, "appears twice"),
    "duplicate-in-tag": (HEAD.replace("  stance: relies\n", "  stance: relies\n  stance: challenges\n"), 6, "appears twice"),
    "duplicate-in-flow": ("id: '2401.00009'\ntitle: x\nassumptions: [{id: end-to-end, stance: relies, id: fixed-recipe}]\n", 3, "appears twice"),
    "duplicate-affiliation": (HEAD + "affiliations:\n  Ada: [Here]\n  Ada: [There]\n", 8, "appears twice"),
}


@pytest.mark.parametrize("trap", sorted(YAML_TRAPS))
def test_aliases_anchors_and_duplicate_keys_are_findings_with_a_line(cli, small_dir: Path, trap: str) -> None:
    text, line, words = YAML_TRAPS[trap]
    (small_dir / "papers" / HOSTILE).write_text(text)
    result = cli("--data-dir", str(small_dir), "check", "--format", "json")
    assert result.code == 1
    [finding] = json.loads(result.out)["findings"]
    assert finding["path"].endswith(HOSTILE) and finding["line"] == line and words in finding["message"], finding


def test_an_alias_bomb_that_passed_check_no_longer_exhausts_export(cli, small_dir: Path) -> None:
    (small_dir / "papers" / HOSTILE).write_text(_alias_bomb(levels=12, width=10))
    assert len((small_dir / "papers" / HOSTILE).read_bytes()) < 16_000
    result = cli("--data-dir", str(small_dir), "export", "--format", "json")
    assert result.code == 1 and HOSTILE in result.err
    assert {p["id"] for p in json.loads(result.out)} == set(GOOD)


# --- values that cannot be ---------------------------------------------------------------------

A = "assumptions: [{id: end-to-end, stance: relies}]\n"


def _line(n: int, text: str, words: str, *, tags: str = A) -> tuple[str, int, str]:
    """A paper whose line ``n`` (1 the id, 2 the title, 3 one more field) is ``text``, which
    cannot be: the finding must name that line and say ``words``."""
    lines = ["id: '2401.00009'", "title: x", ""]
    lines[n - 1] = text
    return "\n".join(lines[: max(n, 2)]) + "\n" + tags, n, words


def _tag(tag: str, words: str) -> tuple[str, int, str]:
    """A paper whose one assumption tag, on line 3, cannot be."""
    return _line(3, f"assumptions: [{{{tag}}}]", words, tags="")


IMPOSSIBLE: dict[str, tuple[str, Optional[int], str]] = {
    "month-13": _line(3, "published: 2023-13-45", "2023-13-45"),
    "february-30": _line(3, "updated: 2023-02-30", "2023-02-30"),
    "hour-25": _line(3, "published: 2023-01-01T25:00:00", "not a valid date"),
    "id-with-space": _line(1, "id: '2401.0000 9'", "id"),
    "id-fullwidth-digits": _line(1, "id: '２４０１.０００09'", "id"),
    "id-arabic-indic-digits": _line(1, "id: '٢٤٠١.٠٠٠٠٩'", "id"),
    "id-path-traversal": _line(1, "id: '../../etc/passwd'", "id"),
    "id-as-float": _line(1, "id: 2401.00009", "id"),
    "id-with-version": _line(1, "id: '2401.00009v2'", "canonical"),
    "id-missing": (f"title: x\n{A}", None, "id"),
    "version-zero": _line(3, "version: 0", "version"),
    "score-above-one": _tag("id: end-to-end, stance: relies, by: classifier, score: 7", "score"),
    "unknown-stance": _tag("id: end-to-end, stance: maybe", "stance"),
    "unknown-source": _tag("id: end-to-end, stance: relies, by: robot", "by"),
    "unknown-field": _line(3, "rating: 5", "rating"),
    "empty-title": _line(2, "title: ''", "title"),
    "authors-not-a-list": _line(3, "authors: Ada", "authors"),
    "javascript-url": _line(3, "url: javascript:alert(1)", "url"),
    "data-url": _line(3, "url: 'data:text/html,<script>alert(1)</script>'", "url"),
    "citekey-with-brace": _line(3, "citekey: 'x}, note={y'", "citekey"),
    "python-tag": _line(2, "title: !!python/object/apply:os.system ['true']", "YAML"),
    "binary-title": _line(2, "title: !!binary aGVsbG8=", "title"),
    "top-level-list": ("- id: '2401.00009'\n", 1, "mapping"),
    "top-level-scalar": ("just words\n", 1, "mapping"),
    "two-documents": (f"id: '2401.00009'\ntitle: x\n{A}---\nid: '2401.00008'\n", 4, "YAML"),
    "tab-indent": ("id: '2401.00009'\ntitle: x\nassumptions:\n\t- id: end-to-end\n", 4, "YAML"),
    "deep-nesting": ("id: '2401.00009'\ntitle: x\nnotes: " + "[" * 5000 + "]" * 5000 + "\n", 3, "YAML"),
    "nul-byte": ("id: '2401.00009'\ntitle: x\x00\n", 2, "YAML"),
    "not-utf8": ("id: '2401.00009'\ntitle: caf\udce9\n", None, "UTF-8"),
    "empty": ("", None, "empty"),
    "only-a-comment": ("# nothing here\n", None, "empty"),
    "bom-then-yaml": (f"\ufeffid: '2401.00009'\ntitle: x\n{A}", None, "OK"),
}


@pytest.mark.parametrize("case", sorted(IMPOSSIBLE))
def test_impossible_values_are_one_finding_with_file_and_line_and_the_rest_still_reported(cli, small_dir: Path, case: str) -> None:
    text, line, words = IMPOSSIBLE[case]
    (small_dir / "papers" / HOSTILE).write_bytes(text.encode("utf-8", "surrogateescape"))
    (small_dir / "papers" / "2401.00010.yaml").write_text("id: '2401.00010'\ntitle: [unclosed\n")
    result = cli("--data-dir", str(small_dir), "check", "--format", "json")
    assert "Traceback" not in result.err
    assert result.code == 1, result.err
    findings = json.loads(result.out)["findings"]
    assert any(f["path"].endswith("2401.00010.yaml") for f in findings), findings
    mine = [f for f in findings if f["path"].endswith(HOSTILE)]
    if words == "OK":
        assert mine == []
        return
    assert len(mine) == 1, mine
    assert words in mine[0]["message"], mine[0]
    if line is not None:
        assert mine[0]["line"] == line, mine[0]
    text_out = cli("--data-dir", str(small_dir), "check")
    assert text_out.code == 1 and f"{HOSTILE}:" in text_out.out


def test_the_same_id_in_a_yaml_and_a_yml_file_is_a_finding_and_blocks_writes(cli, small_dir: Path) -> None:
    shutil.copy(small_dir / "papers" / "2205.14135.yaml", small_dir / "papers" / "2205.14135.yml")
    result = cli("--data-dir", str(small_dir), "check", "--format", "json")
    assert result.code == 1
    findings = json.loads(result.out)["findings"]
    assert any(f["path"].endswith("2205.14135.yml") and f["line"] == 1 and "also the id of 2205.14135.yaml" in f["message"] for f in findings), findings
    before = snapshot(small_dir)
    tagged = cli("--data-dir", str(small_dir), "tag", "2205.14135", "--note", "which file?")
    assert tagged.code == 1 and "2205.14135.yml" in tagged.err
    assert snapshot(small_dir) == before


@pytest.mark.parametrize("command", sorted(READ_COMMANDS))
def test_read_commands_with_one_broken_file_name_it_and_go_on(cli, small_dir: Path, command: str) -> None:
    (small_dir / "papers" / HOSTILE).write_text(IMPOSSIBLE["month-13"][0])
    result: Result = cli("--data-dir", str(small_dir), *READ_COMMANDS[command])
    assert result.code == 1
    assert f"{HOSTILE}:3" in result.err and "Traceback" not in result.err
    if command not in ("coverage", "reading-list"):
        assert "2307.03172" in result.out


def test_a_paper_file_is_read_once_and_never_past_its_size(small_dir: Path, tmp_path: Path) -> None:
    from lmdev.errors import DataError
    from lmdev.store import Library

    path = small_dir / "papers" / HOSTILE
    path.write_bytes(b"id: '2401.00009'\n" + b"#" * 2_000_000)
    with pytest.raises(DataError, match="larger than"):
        Library(small_dir).read(path)


@pytest.mark.parametrize("kind", ["fifo", "symlink-dev-zero", "directory"])
def test_check_reading_lists_names_a_special_file_instead_of_reading_it(cli, small_dir: Path, tmp_path: Path, kind: str) -> None:
    lists = tmp_path / "lists"
    assert cli("--data-dir", str(small_dir), "reading-list", "--all", "--out", str(lists)).code == 0
    (lists / "efficiency.md").unlink()
    KINDS[kind](lists / "efficiency.md", tmp_path)
    result = cli("--data-dir", str(small_dir), "check", "--reading-lists", str(lists), "--format", "json")
    assert result.code == 1
    [finding] = json.loads(result.out)["findings"]
    assert finding["path"].endswith("efficiency.md") and ("regular file" in finding["message"] or "directory" in finding["message"])


def test_a_missing_data_directory_or_a_papers_file_is_named_not_read_as_empty(cli, small_dir: Path, tmp_path: Path) -> None:
    missing = cli("--data-dir", str(tmp_path / "nowhere"), "list")
    assert missing.code == 1 and "the data directory does not exist (from --data-dir)" in missing.err
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LMDEV_DATA_DIR", str(tmp_path / "elsewhere"))
        from_env = cli("list")
        assert from_env.code == 1 and "the data directory does not exist (from LMDEV_DATA_DIR)" in from_env.err
        assert "(from --data-dir)" in cli("--data-dir", str(tmp_path / "nowhere"), "list").err  # the option wins
    shutil.rmtree(small_dir / "papers")
    (small_dir / "papers").write_text("not a folder\n")
    for args in (["check"], ["list"], ["coverage"]):
        result = cli("--data-dir", str(small_dir), *args)
        assert result.code == 1 and "papers is not a directory" in result.err, result.err
        assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["list"], ["coverage", "--format", "json"], ["export", "--format", "bibtex"], ["reading-list", "efficiency"]])
def test_a_copy_made_to_start_a_new_paper_is_named_not_counted_twice(cli, small_dir: Path, command: list[str]) -> None:
    """Copying a paper file as a template and not yet changing its id is the commonest hand
    edit: the copy is left out and named (file and line of its id), the original still counts."""
    before = cli("--data-dir", str(small_dir), *command)
    assert before.code == 0, before.err
    shutil.copy(small_dir / "papers" / "2205.14135.yaml", small_dir / "papers" / "2205.14136.yaml")
    after = cli("--data-dir", str(small_dir), *command)
    assert after.code == 1
    assert "2205.14136.yaml:1: file name does not match id '2205.14135' (expected 2205.14135.yaml)" in after.err
    assert after.out == before.out


@pytest.mark.parametrize("kind", ["symlink-dev-zero", "fifo"])
def test_a_special_file_in_the_cache_is_a_miss_not_a_hang(tmp_path: Path, kind: str) -> None:
    """The cache directory is the user's to point anywhere: a cached answer that is a FIFO or a
    link to /dev/zero is read as no answer, and writing one replaces nothing it should not."""
    from lmdev.arxiv.cache import ResponseCache

    cache = ResponseCache(tmp_path)
    cache.put("query", b"<feed/>")
    path = next((tmp_path / "arxiv").rglob("*.xml"))
    path.unlink()
    KINDS[kind](path, tmp_path)
    assert cache.get("query") is None and cache.get("query", any_age=True) is None
    cache.put("query", b"<feed/>")  # refused quietly: the special file stays what it was
    assert os.path.lexists(path)


def test_a_cached_answer_dated_in_the_future_is_not_fresh_for_ever(tmp_path: Path) -> None:
    from lmdev.arxiv.cache import ResponseCache

    cache = ResponseCache(tmp_path)
    cache.put("query", b"<feed/>")
    path = next((tmp_path / "arxiv").rglob("*.xml"))
    assert cache.get("query") == b"<feed/>"
    ahead = path.stat().st_mtime + 365 * 86400
    os.utime(path, (ahead, ahead))
    assert cache.get("query") is None and cache.get("query", any_age=True) == b"<feed/>"
