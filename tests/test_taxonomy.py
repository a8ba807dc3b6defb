from pathlib import Path

import pytest

from helpers import REPO, SHIPPED
from lmdev.errors import DataError
from lmdev.reports.markdown import taxonomy_page
from lmdev.taxonomy import load_taxonomy

PUBLIC_IDS = {
    "problem": {"prompting", "efficiency", "alignment", "safety", "integration", "architecture", "objective", "optimization", "scaling"},
    "assumption": {"fixed-recipe", "out-of-the-box", "cost-irrelevant", "more-compute", "end-to-end", "bigger-is-better", "built-in-structure", "learn-from-data", "practice-over-theory"},
}


def test_shipped_taxonomy_has_the_essays_public_ids() -> None:
    tax = load_taxonomy(SHIPPED / "taxonomy.yaml")
    for kind, ids in PUBLIC_IDS.items():
        assert ids <= {n.id for n in tax if n.kind == kind}
    assert [f.id for f in tax.data.fields] == ["statistical-ml", "deep-learning", "lm-development"]
    assert tax.fields["statistical-ml"].gave_rise_to == "deep-learning"
    assert tax.fields["deep-learning"].gave_rise_to == "lm-development"
    assert len(tax.in_field("deep-learning", "assumption")) == 5
    assert len(tax.in_field("deep-learning", "problem")) == 4
    assert len(tax.in_field("lm-development", "assumption")) == 4
    assert len(tax.in_field("lm-development", "problem")) == 5
    for node in tax:
        assert node.node.terms, f"{node.id} has no seed terms"
        assert node.node.description


def test_essay_citations_carry_the_essays_stances() -> None:
    works = load_taxonomy(SHIPPED / "taxonomy.yaml").works_by_arxiv()
    assert works["2005.14165"].assumptions["cost-irrelevant"] == "relies"
    assert works["2201.11903"].problems == ["prompting"]
    assert works["2205.14135"].assumptions["fixed-recipe"] == "relies"
    assert works["2211.17192"].problems == ["efficiency"]
    assert "more-compute" in works["2001.08361"].assumptions
    assert works["2205.05638"].assumptions["out-of-the-box"] == "challenges"


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (SHIPPED / "taxonomy.yaml").read_text()
    assert old in text
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip() == needle.strip())


def test_a_repeated_id_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  - id: efficiency\n", "  - id: prompting\n")
    with pytest.raises(DataError) as info:
        load_taxonomy(path)
    assert "'prompting' is used twice" in str(info.value)
    assert info.value.line is not None and info.value.line > _line_of(path, "- id: prompting")


def test_an_unresolved_reference_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "    field: lm-development\n    name: Running", "    field: lm-dev\n    name: Running")
    with pytest.raises(DataError) as info:
        load_taxonomy(path)
    assert "'lm-dev'" in str(info.value)
    assert info.value.line == _line_of(path, "field: lm-dev")


def test_a_work_naming_an_unknown_problem_is_reported(tmp_path: Path) -> None:
    path = _broken(tmp_path, "problems: [prompting]", "problems: [speed]")
    with pytest.raises(DataError, match="unknown problem 'speed'"):
        load_taxonomy(path)


def test_a_bad_essay_section_is_reported(tmp_path: Path) -> None:
    path = _broken(tmp_path, "ref: {section: some-history, item: 1}", "ref: {section: history, item: 1}")
    with pytest.raises(DataError, match=r"ref\.section 'history'"):
        load_taxonomy(path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "version: 1\n", "version: [1\n")
    with pytest.raises(DataError) as info:
        load_taxonomy(path)
    assert "invalid YAML" in str(info.value) and info.value.line


def test_docs_taxonomy_page_matches_the_data() -> None:
    """docs/taxonomy.md is generated; regenerate with `lmdev taxonomy --format markdown`."""
    page = (REPO / "docs" / "taxonomy.md").read_text()
    assert page == taxonomy_page(load_taxonomy(SHIPPED / "taxonomy.yaml"))
