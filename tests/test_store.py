from pathlib import Path

import pytest

from helpers import SHIPPED, shipped_count
from lmdev.errors import DataError
from lmdev.models import AssumptionTag, Paper
from lmdev.paperfile import render
from lmdev.paths import find_data_dir
from lmdev.store import Library


def test_every_shipped_file_round_trips_to_identical_bytes() -> None:
    lib = Library(SHIPPED)
    loaded, errors = lib.scan()
    assert not errors
    assert len(loaded) == shipped_count()
    for item in loaded:
        assert render(item.paper) == item.text, item.path.name


def test_every_shipped_paper_maps_to_an_assumption() -> None:
    papers = Library(SHIPPED).papers()
    assert all(p.assumptions for p in papers)
    works = Library(SHIPPED).taxonomy.works_by_arxiv()
    cited = {p.id: p for p in papers if p.essay_cited}
    assert set(cited) == set(works)
    for paper in papers:
        # a tag stored as the essay's is one the essay gives that work, and every one it gives is there
        essay_tags = {t.id for t in [*paper.problems, *paper.assumptions] if t.by == "essay"}
        work = works.get(paper.id)
        assert essay_tags == (set(work.problems) | set(work.assumptions) if work else set()), paper.id


def test_save_is_atomic_and_leaves_no_temporary_files(empty_data_dir: Path) -> None:
    lib = Library(empty_data_dir)
    paper = Paper(id="hep-th/9901001", title="An old-style paper", assumptions=[AssumptionTag(id="end-to-end", stance="relies")])
    assert lib.save(paper) is True
    assert [p.name for p in (empty_data_dir / "papers").iterdir()] == ["hep-th_9901001.yaml"]
    assert lib.save(paper) is False
    assert lib.get("hep-th/9901001v2") == paper


def test_url_entries_are_supported(empty_data_dir: Path) -> None:
    lib = Library(empty_data_dir)
    paper = Paper(id="srush-gptworld", url="https://github.com/srush/GPTWorld", title="GPTWorld", assumptions=[AssumptionTag(id="out-of-the-box", stance="relies")])
    lib.save(paper)
    assert lib.get("srush-gptworld").link == "https://github.com/srush/GPTWorld"
    with pytest.raises(ValueError, match="needs a 'url'"):
        Paper(id="no-url-here", title="x")


def test_a_hand_edited_invalid_file_is_reported_with_file_line_and_field(empty_data_dir: Path) -> None:
    path = empty_data_dir / "papers" / "2205.14135.yaml"
    path.write_text("id: '2205.14135'\ntitle: FlashAttention\nauthors: not-a-list\n")
    with pytest.raises(DataError) as info:
        Library(empty_data_dir).read(path)
    assert info.value.line == 3
    assert "authors" in str(info.value) and str(path) in str(info.value)


def test_data_dir_is_found_above_the_working_directory(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_data_dir(cwd=nested) == data_dir
    monkeypatch.setenv("LMDEV_DATA_DIR", str(SHIPPED))
    assert find_data_dir(cwd=nested) == SHIPPED
    with pytest.raises(DataError, match=r"no taxonomy\.yaml"):
        find_data_dir(tmp_path / "a")
