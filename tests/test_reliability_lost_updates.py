"""A writer never puts back a copy it read before another writer's change: each re-reads the
paper under the library's lock. Each test makes the other writer act in the gap between a
command's read and its write, where a race with a second process would put it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lmdev import citekeys, watch
from lmdev.models import Paper
from lmdev.store import Library
from lmdev.tagging import set_problem
from watch_fixtures import fill_inbox, make_item

PAPER = "2205.05638"  # T-Few, in the shipped library


def _tag_meanwhile(data: Path, paper_id: str) -> None:
    """What a `lmdev tag PAPER --problem safety --note ...` in another process writes."""
    other = Library(data)

    def change(paper: Paper) -> None:
        set_problem(paper, other.taxonomy, "safety")
        paper.notes = "written meanwhile"

    other.update(paper_id, change)


def _kept(data: Path, paper_id: str) -> dict[str, Any]:
    stored = yaml.safe_load((data / "papers" / f"{paper_id}.yaml").read_text(encoding="utf-8"))
    assert stored["notes"] == "written meanwhile"
    assert "safety" in [p["id"] for p in stored["problems"]]
    return dict(stored)


def test_citekeys_keeps_a_tag_and_a_note_written_after_it_read_the_library(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (data_dir / "papers" / f"{PAPER}.yaml").write_text(
        "".join(line for line in (data_dir / "papers" / f"{PAPER}.yaml").read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("citekey:")),
        encoding="utf-8",
    )
    real = citekeys.assign_citekeys

    def assign_then_tag(papers: Any, taken: set[str]) -> list[Paper]:
        changed = real(papers, taken)
        _tag_meanwhile(data_dir, PAPER)
        return changed

    monkeypatch.setattr(citekeys, "assign_citekeys", assign_then_tag)
    [given] = citekeys.assign_missing(Library(data_dir), [PAPER])
    assert _kept(data_dir, PAPER)["citekey"] == given.citekey


def test_a_watch_noting_a_new_version_keeps_a_tag_written_after_it_listed_the_library(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = Library(data_dir)
    announced = library.get(PAPER).model_copy(update={"version": 9})
    real = Library.update
    once: list[bool] = []

    def tag_then_update(self: Library, paper_id: str, change: Any) -> Any:
        if not once:  # the other writer, just before the version is written
            once.append(True)
            _tag_meanwhile(data_dir, PAPER)
        return real(self, paper_id, change)

    monkeypatch.setattr(Library, "update", tag_then_update)
    report = watch.WatchReport(source="test")
    watch._note_version(library, announced, report)
    assert report.new_versions == [(PAPER, 9)]
    assert _kept(data_dir, PAPER)["version"] == 9


def test_an_accept_keeps_the_file_an_add_wrote_after_it_looked(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`add` takes the library's lock, not the decision lock: its file, with the tags it was
    given, stays; the accept says the paper was added meanwhile."""
    from lmdev import triage

    fill_inbox(data_dir, make_item("2605.90031"))
    real = triage.tagged_paper

    def build_then_add(library: Library, item: Any, change: Any = None) -> Paper:
        paper = real(library, item, change)
        added = paper.model_copy(deep=True)
        set_problem(added, library.taxonomy, "safety")
        added.notes = "added meanwhile"
        Library(data_dir).save(added)
        return paper

    monkeypatch.setattr(triage, "tagged_paper", build_then_add)
    [decided] = triage.accept(Library(data_dir), ["2605.90031"])
    assert decided.action == "unchanged" and "added to the library meanwhile" in decided.detail
    stored = yaml.safe_load((data_dir / "papers" / "2605.90031.yaml").read_text(encoding="utf-8"))
    assert stored["notes"] == "added meanwhile" and "safety" in [p["id"] for p in stored["problems"]]
    assert not (data_dir / "inbox" / "2605.90031.yaml").exists()


def test_an_import_giving_a_stored_paper_its_citekey_keeps_a_note_written_meanwhile(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdev.bibimport import import_bibtex

    path = data_dir / "papers" / f"{PAPER}.yaml"
    path.write_text("".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("citekey:")), encoding="utf-8")
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{tfew2022,\n  title = {Few-Shot Parameter-Efficient Fine-Tuning},\n  eprint = {2205.05638},\n  archivePrefix = {arXiv}\n}\n", encoding="utf-8")
    real = Library.get

    def get_then_tag(self: Library, paper_id: str) -> Paper:
        paper = real(self, paper_id)
        _tag_meanwhile(data_dir, PAPER)
        return paper

    monkeypatch.setattr(Library, "get", get_then_tag)

    def no_client() -> Any:
        raise AssertionError("a paper on file needs no request")

    report = import_bibtex(Library(data_dir), bib, no_client)
    assert [item.action for item in report.items] == ["merged"]
    assert _kept(data_dir, PAPER)["citekey"] == "tfew2022"


def test_citekeys_never_brings_back_a_paper_removed_after_it_read_the_library(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir / "papers" / f"{PAPER}.yaml"
    path.write_text("".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("citekey:")), encoding="utf-8")
    real = citekeys.assign_citekeys

    def assign_then_remove(papers: Any, taken: set[str]) -> list[Paper]:
        changed = real(papers, taken)
        Library(data_dir).remove(PAPER)
        return changed

    monkeypatch.setattr(citekeys, "assign_citekeys", assign_then_remove)
    assert citekeys.assign_missing(Library(data_dir), [PAPER]) == []
    assert not path.exists()


def test_an_import_never_writes_over_a_url_entry_another_command_wrote_meanwhile(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL entry's file name is chosen without the lock; a file written under that name since
    (another import, then a person's note) is kept, and the entry is skipped with the reason."""
    from lmdev import bibimport

    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{blog2024,\n  title = {A Blog Post on Scaling},\n  author = {Doe, Jane},\n  year = {2024},\n  url = {https://example.org/scaling}\n}\n", encoding="utf-8")
    real = bibimport.apply_tag_flags

    def flags_then_other_import(paper: Paper, *args: Any) -> None:
        real(paper, *args)
        other = paper.model_copy(deep=True)
        other.notes = "written meanwhile"
        Library(data_dir).save(other)

    monkeypatch.setattr(bibimport, "apply_tag_flags", flags_then_other_import)

    def no_client() -> Any:
        raise AssertionError("a URL entry needs no request")

    report = bibimport.import_bibtex(Library(data_dir), bib, no_client, assumptions=["fixed-recipe:relies"])
    [item] = report.items
    assert item.action == "skipped" and item.reason is not None and "meanwhile" in item.reason
    [written] = [p for p in (data_dir / "papers").glob("*.yaml") if "A Blog Post on Scaling" in p.read_text(encoding="utf-8")]
    assert yaml.safe_load(written.read_text(encoding="utf-8"))["notes"] == "written meanwhile"
