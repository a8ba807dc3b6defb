"""Hand edits are sacred: written files keep a person's formatting, and reading never writes."""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from arxiv_server import FakeArxiv
from helpers import SHIPPED, load_yaml
from lmdev.paperfile import render
from lmdev.store import Library

FLASH = "2205.14135"


def _hand_edit(path: Path) -> str:
    """What a person might do to a shipped file: a header comment, a comment on a key, a flow list,
    a quoted title, an end-of-line comment on a tag."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    data = yaml.safe_load(text)
    out = ["# Read in week 3 of the reading group.\n"]
    in_categories = False
    for n, line in enumerate(lines):
        if in_categories and line.startswith("- "):
            continue
        in_categories = False
        if line.startswith("title: ") and not lines[n + 1].startswith(" "):
            line = "title: " + json.dumps(data["title"], ensure_ascii=False) + "\n"
        elif line == "problems:\n":
            line = "problems:  # what it attacks\n"
        elif line == "categories:\n":
            line = "categories: [" + ", ".join(json.dumps(c) for c in data["categories"]) + "]\n"
            in_categories = True
        elif line == "  by: essay\n" and "# the essay says so" not in "".join(out):
            line = "  by: essay  # the essay says so\n"
        out.append(line)
    edited = "".join(out)
    path.write_text(edited)
    return edited


def _diff(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0) if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_tag_keeps_comments_flow_lists_and_quoting_of_a_hand_edited_file(cli, data_dir: Path) -> None:
    path = data_dir / "papers" / f"{FLASH}.yaml"
    edited = _hand_edit(path)
    assert yaml.safe_load(edited)["categories"], "the edit is still a valid paper file"
    result = cli("--data-dir", str(data_dir), "tag", FLASH, "--problem", "scaling", "--note", "IO-aware exact attention")
    assert result.code == 0, result.err
    after = path.read_text()
    assert _diff(edited, after) == ["+- id: scaling", "+  by: person", "+notes: IO-aware exact attention"]
    result = cli("--data-dir", str(data_dir), "tag", FLASH, "--remove", "scaling", "--note", "")
    assert path.read_text() == edited, "undoing the change gives back the person's file byte for byte"


def test_a_comment_survives_tag_refresh_and_classify_apply(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir / "papers" / "2307.03172.yaml"
    text = path.read_text().replace("assumptions:\n", "assumptions:  # argued over on 2024-03-01\n")
    path.write_text("# keep me\n" + text)
    assert cli("--data-dir", str(data_dir), "tag", "2307.03172", "--assumption", "cost-irrelevant:challenges").code == 0
    with FakeArxiv({"2307.03172": {"version": 3, "title": "Lost in the Middle: How Language Models Use Long Contexts", "journal_ref": "TACL 2024"}}) as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        refreshed = cli("--data-dir", str(data_dir), "refresh", "2307.03172")
    assert refreshed.code == 0, refreshed.err
    applied = cli("--data-dir", str(data_dir), "classify", "2307.03172", "--apply", "--min-score", "0.01")
    assert applied.code == 0, applied.err
    assert "could not keep" not in refreshed.err + applied.err, refreshed.err + applied.err
    after = path.read_text()
    assert after.startswith("# keep me\n") and "assumptions:  # argued over on 2024-03-01\n" in after
    data = yaml.safe_load(after)
    assert data["version"] == 3 and data["journal_ref"] == "TACL 2024"
    assert {"id": "cost-irrelevant", "stance": "challenges", "by": "person"} in data["assumptions"]
    assert any(t["by"] == "classifier" for t in data["problems"] + data["assumptions"]), "classify --apply wrote into the edited file"
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_a_file_lmdev_wrote_stays_exactly_as_lmdev_writes_it(cli, data_dir: Path) -> None:
    path = data_dir / "papers" / f"{FLASH}.yaml"
    assert cli("--data-dir", str(data_dir), "tag", FLASH, "--problem", "scaling").code == 0
    assert path.read_text() == render(Library(data_dir).get(FLASH))


@pytest.mark.parametrize("name", sorted(p.name for p in (SHIPPED / "papers").glob("*.yaml"))[::90])
def test_hand_edited_shipped_files_take_a_tag_and_keep_every_other_line(cli, data_dir: Path, name: str) -> None:
    path = data_dir / "papers" / name
    edited = _hand_edit(path)
    paper_id = Library(data_dir).read(path).paper.id
    node = next(n for n in ("integration", "safety", "alignment") if n not in yaml.safe_load(edited).get("problems", []) and all(t["id"] != n for t in yaml.safe_load(edited).get("problems", [])))
    assert cli("--data-dir", str(data_dir), "tag", paper_id, "--problem", node).code == 0
    removed = [line for line in _diff(edited, path.read_text()) if line.startswith("-")]
    assert removed == [], removed
    assert cli("--data-dir", str(data_dir), "check", str(path)).code == 0


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes() if path.is_file() else b"/")
    return digest.hexdigest()


def _without_citekeys(paths: list[Path]) -> list[Path]:
    """Take the stored citekey out of these paper files, as a hand-written file would lack one."""
    for path in paths:
        path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if not line.startswith("citekey:")))
    return paths


READ_COMMANDS = [
    ["export", "--format", "bibtex"],
    ["export", "--format", "json"],
    ["export", "--format", "csv", "--problem", "efficiency"],
    ["reading-list", "efficiency"],
    ["reading-list", "efficiency", "--format", "bibtex"],
    ["reading-list", "--all", "--format", "json"],
    ["coverage"],
    ["coverage", "--format", "json"],
    ["coverage", "--format", "markdown"],
    ["list"],
    ["list", "--format", "json", "--unreviewed"],
    ["show", FLASH],
    ["show", "liu2022shot", "--format", "json"],
    ["taxonomy", "--diff"],
    ["check", "--require-reviewed"],
]


def test_read_commands_leave_every_file_of_the_tracker_byte_identical(cli, data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "config.yaml").write_text("# ours\ncoverage:\n  min_papers: 2\n")
    _without_citekeys(sorted((data_dir / "papers").glob("*.yaml"))[::20])
    before = _tree_hash(data_dir)
    for args in READ_COMMANDS:
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 0, (args, result.err)
        assert _tree_hash(data_dir) == before, args
    assert cli("--data-dir", str(data_dir), "report", "--html", str(tmp_path / "site")).code == 0
    assert _tree_hash(data_dir) == before


def test_citekeys_are_assigned_when_asked_and_never_change(cli, empty_data_dir: Path) -> None:
    import shutil

    shipped = sorted((SHIPPED / "papers").glob("*.yaml"))
    for path in shipped[:80]:
        shutil.copy(path, empty_data_dir / "papers" / path.name)
    _without_citekeys(sorted((empty_data_dir / "papers").glob("*.yaml"))[::2])
    data_dir = empty_data_dir
    missing = sorted(p.stem for p in (data_dir / "papers").glob("*.yaml") if "\ncitekey:" not in p.read_text())
    stored = {p.name: load_yaml(p).get("citekey") for p in (data_dir / "papers").glob("*.yaml")}
    one = cli("--data-dir", str(data_dir), "citekeys", missing[0], "--format", "json")
    assert one.code == 0 and [row["id"] for row in json.loads(one.out)] == [missing[0]]
    result = cli("--data-dir", str(data_dir), "citekeys")
    assert result.code == 0 and f"citekeys: {len(missing) - 1} assigned" in result.err
    keys = {p.name: load_yaml(p)["citekey"] for p in (data_dir / "papers").glob("*.yaml")}
    assert all(keys[name] == key for name, key in stored.items() if key), "stored keys never change"
    assert len(set(keys.values())) == len(keys), "keys are unique"
    assert cli("--data-dir", str(data_dir), "citekeys").err.strip() == "citekeys: 0 assigned"
    unknown = cli("--data-dir", str(data_dir), "citekeys", "2301.00001")
    assert unknown.code == 1 and "no paper '2301.00001'" in unknown.err
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_tagging_assigns_a_missing_citekey(cli, data_dir: Path) -> None:
    path = _without_citekeys([data_dir / "papers" / "2205.14135.yaml"])[0]
    paper_id = Library(data_dir).read(path).paper.id
    assert cli("--data-dir", str(data_dir), "tag", paper_id, "--note", "worth a look").code == 0
    key = yaml.safe_load(path.read_text())["citekey"]
    assert key and json.loads(cli("--data-dir", str(data_dir), "show", key, "--format", "json").out)["id"] == paper_id


def test_a_citekey_names_a_paper_wherever_an_id_does(cli, data_dir: Path) -> None:
    assert json.loads(cli("--data-dir", str(data_dir), "show", "liu2022shot", "--format", "json").out)["id"] == "2205.05638"
    path = data_dir / "papers" / "2205.05638.yaml"
    path.write_text(path.read_text().replace("citekey: liu2022shot", "citekey: 'Liu:2022'  # from our .bib"))
    assert json.loads(cli("--data-dir", str(data_dir), "show", "Liu:2022", "--format", "json").out)["id"] == "2205.05638"
    unknown = cli("--data-dir", str(data_dir), "show", "Nobody:1999")
    assert unknown.code == 2 and "citekey" in unknown.err
    assert cli("--data-dir", str(data_dir), "show", "nobody1999").code == 1
    tagged = cli("--data-dir", str(data_dir), "tag", "Liu:2022", "--note", "read for Tuesday")
    assert tagged.code == 0, tagged.err
    assert "notes: read for Tuesday" in path.read_text()



def test_open_hands_the_link_to_the_browser_or_prints_it(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert cli("--data-dir", str(data_dir), "open", "liu2022shot").code == 0
    assert opened == ["https://arxiv.org/abs/2205.05638"]
    printed = cli("--data-dir", str(data_dir), "open", FLASH, "--print")
    assert printed.out == f"https://arxiv.org/abs/{FLASH}\n" and len(opened) == 1
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    none = cli("--data-dir", str(data_dir), "open", FLASH)
    assert none.code == 1 and none.out.strip() == f"https://arxiv.org/abs/{FLASH}" and "no browser" in none.err
    # any arXiv id has a page, known to the tracker or not (say, one a digest mentioned)
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    elsewhere = cli("--data-dir", str(data_dir), "open", "2401.99999")
    assert elsewhere.code == 0 and opened[-1] == "https://arxiv.org/abs/2401.99999"
    assert "2401.99999 is not in the library, the inbox or rejected.yaml" in elsewhere.err
    unknown = cli("--data-dir", str(data_dir), "open", "no-such-reading")  # a slug's page is in its file
    assert unknown.code == 1 and "no paper 'no-such-reading'" in unknown.err and opened[-1].endswith("2401.99999")


def test_remove_deletes_only_with_consent(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir / "papers" / f"{FLASH}.yaml"
    refused = cli("--data-dir", str(data_dir), "remove", FLASH)
    assert refused.code == 2 and "--yes" in refused.err and path.exists()
    monkeypatch.setattr("lmdev.cli.papers_cmds.is_interactive", lambda: True)
    monkeypatch.setattr("lmdev.cli.review.read_key", iter(["x", "n"]).__next__)
    assert cli("--data-dir", str(data_dir), "remove", FLASH).code == 0 and path.exists()
    monkeypatch.setattr("lmdev.cli.review.read_key", iter(["y"]).__next__)
    assert cli("--data-dir", str(data_dir), "remove", FLASH).code == 0 and not path.exists()
    assert cli("--data-dir", str(data_dir), "remove", "liu2022shot", "--yes").code == 0
    assert not (data_dir / "papers" / "2205.05638.yaml").exists()
    assert cli("--data-dir", str(data_dir), "remove", FLASH, "--yes").code == 1


def test_a_file_with_windows_line_endings_keeps_them_after_an_edit(cli, data_dir: Path) -> None:
    path = data_dir / "papers" / "2205.05638.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert cli("--data-dir", str(data_dir), "tag", "2205.05638", "--note", "read for Tuesday").code == 0
    raw = path.read_bytes()
    assert b"read for Tuesday" in raw and raw.count(b"\r\n") == raw.count(b"\n")
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_a_hand_written_file_gains_only_what_changed(cli, data_dir: Path) -> None:
    """A reading off arXiv written by hand, with no abstract: a tag adds its lines, not the keys
    the file left out ("abstract: ''")."""
    path = data_dir / "papers" / "srush-gptworld.yaml"
    written = "id: srush-gptworld  # by hand\nurl: https://github.com/srush/GPTWorld\ntitle: GPTWorld\nassumptions: [{id: out-of-the-box, stance: relies, by: person}]\n"
    path.write_text(written)
    assert cli("--data-dir", str(data_dir), "check").code == 0
    result = cli("--data-dir", str(data_dir), "tag", "srush-gptworld", "--primary", "prompting")
    assert result.code == 0, result.err
    after = path.read_text()
    assert "abstract" not in after and "# by hand" in after
    assert set(_diff(written, after)) == {"+problems:", "+- id: prompting", "+  by: person", "+primary: prompting", "+citekey: anonndgptworld"}


def test_a_citekey_two_branches_gave_two_papers_is_named_with_its_mend(cli, data_dir: Path) -> None:
    """A merge can bring one key for two papers (each branch gave its new paper the next free
    one); check says which file, and the mend it names works."""
    import re

    flash = data_dir / "papers" / f"{FLASH}.yaml"
    key = yaml.safe_load(flash.read_text())["citekey"]
    other = data_dir / "papers" / "2211.17192.yaml"
    other.write_text(re.sub(r"(?m)^citekey: .*$", f"citekey: {key}", other.read_text()))
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    line = next(x for x in (result.out + result.err).splitlines() if "citekeys must be unique" in x)
    named = re.search(r"run lmdev citekeys (\S+) for a new one", line).group(1)
    loser = data_dir / "papers" / f"{named}.yaml"
    loser.write_text(re.sub(r"(?m)^citekey: .*\n", "", loser.read_text()))
    assert cli("--data-dir", str(data_dir), "citekeys", named).code == 0
    assert cli("--data-dir", str(data_dir), "check").code == 0
    assert yaml.safe_load(flash.read_text())["citekey"] == key or yaml.safe_load(other.read_text())["citekey"] == key
