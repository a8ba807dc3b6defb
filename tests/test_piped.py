"""Output read by scripts: piped tables are never cut, list prints tab-separated lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmdev.models import AssumptionTag, Paper
from lmdev.store import Library


@pytest.mark.parametrize("args", [["coverage"], ["show", "2205.14135"], ["taxonomy"], ["taxonomy", "--diff"], ["list"]])
def test_piped_output_is_never_cut_whatever_the_columns(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    result = cli("--data-dir", str(data_dir), *args)
    assert result.code == 0, result.err
    assert "…" not in result.out


def test_piped_list_is_one_tab_separated_line_per_paper_with_undated_papers_last(cli, data_dir: Path) -> None:
    lib = Library(data_dir)
    lib.save(Paper(id="an-undated-reading", url="https://example.org/r", title="A reading\twith a tab\u2028and a line separator", assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")]))
    lines = cli("--data-dir", str(data_dir), "list").out.splitlines()
    assert len(lines) == len(lib.files())
    assert all(line.count("\t") == 3 for line in lines)
    assert "an-undated-reading\t\tA reading with a tab and a line separator\tfixed-recipe:relies" in lines
    papers = json.loads(cli("--data-dir", str(data_dir), "list", "--format", "json").out)
    dated = [bool(p.get("published")) for p in papers]
    assert dated == sorted(dated, reverse=True), "papers without a date come after every dated one"
    published = [p["published"] for p in papers if p.get("published")]
    assert published == sorted(published, reverse=True)
    assert [p["id"] for p in papers].index("an-undated-reading") >= dated.count(True)
