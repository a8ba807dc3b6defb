"""The inbox's files: one per waiting paper, read fast through an index, checked by `lmdev check`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from lmdev.errors import DataError
from lmdev.inbox import Inbox, render
from watch_fixtures import fill_inbox, make_item

HOSTILE = "\x1b[31mRed\x1b[0m: a 'quoted' \"title\" # not a comment\u2028line\x85next – ünïcödé 🙂 !!python/object:os.system"


def test_an_item_survives_the_round_trip_whatever_its_text(empty_data_dir: Path) -> None:
    item = make_item("2602.16001", title=HOSTILE, abstract="- looks like a list\n---\n... and a document end: yes", authors=["O'Brien, Jr.", "&anchor *alias"])
    inbox = Inbox(empty_data_dir)
    assert inbox.add([item]) == [item]
    path = inbox.path_for("2602.16001")
    assert inbox.read(path) == item
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["title"] == HOSTILE
    assert render(item) == path.read_text(encoding="utf-8")


def test_any_text_reads_back_exactly(empty_data_dir: Path) -> None:
    rng = random.Random(12)
    alphabet = [chr(c) for c in [*range(0, 0x250), 0x85, 0xA0, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF, 0x1F642, 0x10FFFF]]
    inbox = Inbox(empty_data_dir)
    for n in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        item = make_item(f"2602.{n + 1:05d}", title=text, abstract=text * 2, authors=[text], reasons=[text], relevance=rng.random())
        assert inbox.add([item]) == [item]
        data = yaml.safe_load(inbox.path_for(item.id).read_text(encoding="utf-8"))
        assert data["title"] == text and data["authors"] == [text], repr(text)
        back = inbox.get(item.id)
        assert (back.title, back.abstract, back.reasons) == (text, text * 2, [text])


def test_adding_never_replaces_a_waiting_paper_but_replaces_an_unreadable_file(empty_data_dir: Path) -> None:
    inbox = Inbox(empty_data_dir)
    fill_inbox(empty_data_dir, make_item("2602.16001", relevance=0.2))
    assert inbox.add([make_item("2602.16001", relevance=0.9)]) == []
    assert inbox.get("2602.16001").relevance == 0.2
    inbox.path_for("2602.16002").write_text("")  # what a crash can leave behind
    assert [i.id for i in inbox.add([make_item("2602.16002")])] == ["2602.16002"]
    assert inbox.get("2602.16002").id == "2602.16002"


def test_waiting_reads_changes_through_the_index(empty_data_dir: Path) -> None:
    inbox = Inbox(empty_data_dir)
    fill_inbox(empty_data_dir, *(make_item(f"2602.{n:05d}") for n in range(1, 6)))
    first, errors = inbox.waiting()
    assert errors == [] and len(first) == 5
    path = inbox.path_for("2602.00002")
    path.write_text(path.read_text().replace("relevance: 0.5", "relevance: 0.75"))
    inbox.path_for("2602.00003").unlink()
    (inbox.dir / "2602.00009.yaml").write_text("id: '2602.00009'\ntitle: [unclosed\n")
    second, errors = inbox.waiting(decided={"2602.00004"})
    assert {i.id: i.relevance for i in second} == {"2602.00001": 0.5, "2602.00002": 0.75, "2602.00005": 0.5}
    assert len(errors) == 1 and errors[0].path.endswith("2602.00009.yaml") and errors[0].line == 2


def test_a_damaged_index_is_rebuilt(empty_data_dir: Path, tmp_path: Path) -> None:
    inbox = Inbox(empty_data_dir)
    fill_inbox(empty_data_dir, make_item("2602.16001"))
    inbox.waiting()
    stat = inbox.path_for("2602.16001").stat()
    key = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    rows = [["../evil", "T", 0.5, None, [], [], [], [], None, None, "2026-01-01"], ["2602.16001", "T", 7, None, [], [], [], [], None, None, "2026-01-01"], ["2602.16001"], "junk"]
    for row in [*rows, None]:
        for index in (tmp_path / "cache" / "inbox").glob("*.json"):
            index.write_text(json.dumps({"version": 2, "files": {"2602.16001.yaml": [*key, row]}}) if row is not None else "not json")
        items, errors = inbox.waiting()
        assert [(i.id, i.relevance) for i in items] == [("2602.16001", 0.5)] and errors == [], row


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("id: '2602.16001'\ntitle: T\nseen: 2026-02-21\nrelevance: 1.5\n", "relevance"),
        ("id: '2602.16001'\ntitle: T\nseen: 2026-02-21\nrelevance: 0.5\nprimary: safety\n", "primary 'safety'"),
        ("id: '2602.16001'\ntitle: T\nseen: 2026-02-21\nrelevance: 0.5\nannounced: withdrawn\n", "announced"),
        ("id: '2602.16001'\ntitle: T\nseen: 2026-02-21\nrelevance: 0.5\nnotes: hand-written\n", "notes"),
        ("- a list\n", "mapping"),
        ("id: 2602.16001v2\ntitle: T\nseen: 2026-02-21\nrelevance: 0.5\n", "canonical"),
    ],
)
def test_a_bad_inbox_file_is_named_with_its_line(empty_data_dir: Path, text: str, says: str) -> None:
    inbox = Inbox(empty_data_dir)
    inbox.dir.mkdir()
    path = inbox.dir / "2602.16001.yaml"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        inbox.read(path)
    assert says in info.value.message and info.value.path == str(path)


def test_a_huge_inbox_file_is_refused_and_never_written(empty_data_dir: Path) -> None:
    """One made by hand or by a merge is refused when read; lmdev itself never writes one."""
    inbox = Inbox(empty_data_dir)
    huge = make_item("2602.16001", abstract="x" * 300_000)
    refused: list[str] = []
    assert inbox.add([huge], refused=refused) == [] and not inbox.path_for("2602.16001").exists()
    assert len(refused) == 1 and refused[0].startswith("2602.16001: its inbox file would be")
    inbox.dir.mkdir(parents=True, exist_ok=True)
    inbox.path_for("2602.16001").write_text(render(huge), encoding="utf-8")
    with pytest.raises(DataError, match="larger than"):
        inbox.get("2602.16001")


def test_a_file_whose_name_is_not_its_id_is_an_error(empty_data_dir: Path) -> None:
    inbox = Inbox(empty_data_dir)
    fill_inbox(empty_data_dir, make_item("2602.16001"))
    inbox.path_for("2602.16001").rename(inbox.dir / "2602.16002.yaml")
    items, errors = inbox.scan()
    assert items == [] and "does not match id" in errors[0].message


def test_check_names_bad_inbox_files_and_passes_a_clean_inbox(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90001"))
    assert cli("--data-dir", str(data_dir), "check").code == 0
    (data_dir / "inbox" / "2605.90002.yaml").write_text("id: '2605.90002'\ntitle: T\nseen: someday\nrelevance: 0.5\n")
    result = cli("--data-dir", str(data_dir), "check", "--format", "json")
    assert result.code == 1
    finding = json.loads(result.out)["findings"][0]
    assert finding["path"].endswith("inbox/2605.90002.yaml") and finding["line"] == 3 and "seen" in finding["message"]


def test_prune_removes_what_was_decided_elsewhere(empty_data_dir: Path) -> None:
    inbox = Inbox(empty_data_dir)
    fill_inbox(empty_data_dir, make_item("2602.16001"), make_item("2602.16002"))
    assert inbox.prune({"2602.16002", "2401.00001"}) == ["2602.16002"]
    assert inbox.ids() == {"2602.16001"}


def test_inbox_text_follows_the_paper_files_rules(cli, data_dir: Path) -> None:
    """Binary values and bytes that are not UTF-8 are refused in an inbox file as in a paper file,
    so a paper that waits can always be accepted."""
    fill_inbox(data_dir, make_item("2605.90001"))
    path = data_dir / "inbox" / "2605.90001.yaml"
    text = path.read_text()
    assert '\ntitle: "A study numbered 2605.90001"\n' in text
    path.write_text(text.replace('title: "A study numbered 2605.90001"', "title: !!binary aGVsbG8=", 1))
    result = cli("--data-dir", str(data_dir), "check", "--format", "json")
    assert result.code == 1
    finding = json.loads(result.out)["findings"][0]
    assert finding["path"].endswith("inbox/2605.90001.yaml") and "title" in finding["message"]
