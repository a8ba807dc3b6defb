"""Coverage, reading lists, exports and the HTML report, checked against the paper files."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from helpers import REPO, SHIPPED, load_yaml, shipped_count


def _raw_papers(data_dir: Path) -> list[dict]:
    return [load_yaml(p) for p in sorted((data_dir / "papers").glob("*.yaml"))]


def test_coverage_counts_equal_those_computed_from_the_files(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "coverage", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    raw = _raw_papers(data_dir)
    papers = Counter(t["id"] for p in raw for t in p.get("problems", []) + p.get("assumptions", []))
    stances = Counter((t["id"], t["stance"]) for p in raw for t in p.get("assumptions", []))
    assert report["papers"] == len(raw) == shipped_count()
    taxonomy = yaml.safe_load((data_dir / "taxonomy.yaml").read_text())
    assert {n["id"] for n in report["nodes"]} == {n["id"] for n in taxonomy["problems"] + taxonomy["assumptions"]}
    primaries = Counter(p.get("primary") for p in raw)
    for node in report["nodes"]:
        assert node["papers"] == papers[node["id"]], node["id"]
        assert node["primary"] == (primaries[node["id"]] if node["kind"] == "problem" else 0), node["id"]
        if node["kind"] == "assumption":
            for stance in ("relies", "supports", "challenges"):
                assert node[stance] == stances[(node["id"], stance)], (node["id"], stance)
    cell = report["matrix"]["efficiency"]["fixed-recipe"]
    expected = Counter(a["stance"] for p in raw if any(t["id"] == "efficiency" for t in p.get("problems", [])) for a in p.get("assumptions", []) if a["id"] == "fixed-recipe")
    assert cell == {s: expected[s] for s in ("relies", "supports", "challenges")}
    gaps = {(g["id"], g["reason"]) for g in report["gaps"]}
    challenged = {a for (a, s) in stances if s == "challenges"}
    for node in taxonomy["assumptions"]:
        assert any(i == node["id"] and "no paper challenges" in r for i, r in gaps) == (node["id"] not in challenged), node["id"]
    for node in taxonomy["problems"]:
        assert any(i == node["id"] and "fewer than 3" in r for i, r in gaps) == (papers[node["id"]] < 3), node["id"]


def test_coverage_table_and_markdown_show_every_problem(cli, data_dir: Path) -> None:
    table = cli("--data-dir", str(data_dir), "coverage")
    markdown = cli("--data-dir", str(data_dir), "coverage", "--format", "markdown")
    for problem in ("prompting", "efficiency", "alignment", "safety", "integration", "architecture", "scaling"):
        assert problem in table.out and f"`{problem}`" in markdown.out
    assert "Gaps" in table.out and "## Gaps" in markdown.out


def test_check_can_require_papers_per_problem(cli, data_dir: Path) -> None:
    counts = Counter(t["id"] for p in _raw_papers(data_dir) for t in p.get("problems", []))
    fewest, least = min(counts.items(), key=lambda item: (item[1], item[0]))
    assert cli("--data-dir", str(data_dir), "check", "--min-papers-per-problem", str(least)).code == 0
    result = cli("--data-dir", str(data_dir), "check", "--min-papers-per-problem", str(least + 1))
    assert result.code == 1 and f"problem {fewest!r} has {least} paper(s)" in result.out


def test_reading_list_holds_exactly_the_tagged_papers_in_the_documented_order(cli, data_dir: Path) -> None:
    raw = {p["id"]: p for p in _raw_papers(data_dir)}
    lists = {}
    for node in ("efficiency", "prompting", "out-of-the-box", "scaling"):
        result = cli("--data-dir", str(data_dir), "reading-list", node, "--format", "json")
        entries = lists[node] = json.loads(result.out)
        tagged = {i for i, p in raw.items() if any(t["id"] == node for t in p.get("problems", []) + p.get("assumptions", []))}
        assert [e["id"] for e in entries] and {e["id"] for e in entries} == tagged and len(entries) == len(tagged)
        cited = [e["essay_cited"] for e in entries]
        assert cited == sorted(cited, reverse=True), "essay citations come first"
    ootb = lists["out-of-the-box"]
    rest = [e for e in ootb if not e["essay_cited"]]
    first_non_challenger = next(i for i, e in enumerate(rest) if e["stance"] != "challenges")
    assert all(e["stance"] != "challenges" for e in rest[first_non_challenger:])
    assert ootb[0]["reason"].startswith("cited by the essay")


def test_reading_lists_written_for_all_problems_and_staleness_is_caught(cli, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lists"
    assert cli("--data-dir", str(data_dir), "reading-list", "--all", "--out", str(out)).code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{p}.md" for p in ("prompting", "efficiency", "alignment", "safety", "integration", "architecture", "objective", "optimization", "scaling")] + ["index.md"])
    assert cli("--data-dir", str(data_dir), "check", "--reading-lists", str(out)).code == 0
    cli("--data-dir", str(data_dir), "tag", "2307.03172", "--problem", "efficiency")
    stale = cli("--data-dir", str(data_dir), "check", "--reading-lists", str(out))
    assert stale.code == 1 and "efficiency.md: reading list is stale" in stale.out


def test_shipped_docs_reading_lists_are_current(cli) -> None:
    result = cli("--data-dir", str(SHIPPED), "check", "--reading-lists", str(REPO / "docs" / "reading-lists"))
    assert result.code == 0, result.out


def test_bibtex_parses_in_pybtex_and_bibtexparser_with_stable_citekeys(cli, data_dir: Path) -> None:
    import bibtexparser
    from pybtex.database import parse_string

    result = cli("--data-dir", str(data_dir), "export", "--format", "bibtex")
    assert result.code == 0, result.err
    pybtex_db = parse_string(result.out, "bibtex")
    assert len(pybtex_db.entries) == shipped_count()
    library = bibtexparser.parse_string(result.out)
    assert len(library.entries) == shipped_count() and not library.failed_blocks
    keys = [e.key for e in library.entries]
    assert len(set(keys)) == shipped_count() and all(k.isascii() for k in keys)
    flash = pybtex_db.entries["dao2022flashattention"]
    assert flash.fields["eprint"] == "2205.14135" and flash.fields["archivePrefix"] == "arXiv" and flash.type == "misc"
    h2o = next(e for e in pybtex_db.entries.values() if e.fields.get("eprint") == "2306.14048")
    assert "$_2$" in h2o.fields["title"]
    stored = {p["id"]: p.get("citekey") for p in _raw_papers(data_dir)}
    assert stored["2205.14135"] == "dao2022flashattention"
    again = cli("--data-dir", str(data_dir), "export", "--format", "bibtex")
    assert again.out == result.out


def test_bibtex_entry_types_escaping_and_clashes(empty_data_dir: Path) -> None:
    from lmdev.models import Paper
    from lmdev.reports.bibtex import assign_citekeys, entry, escape

    assert escape("100% of R&D_costs #1 {x} ~ ^") == r"100\% of R\&D\_costs \#1 \{x\} \textasciitilde{} \textasciicircum{}"
    assert escape("costs $5 and more") == r"costs \$5 and more"
    a = Paper(id="2401.00001", title="Attention Is All You Need", authors=["Ashish Vaswani"], published="2017-06-12", doi="10.1/x")
    b = Paper(id="2401.00002", title="Attention, again", authors=["Ashish Vaswani"], published="2017-07-01")
    c = Paper(id="2401.00003", title="The attention", authors=["Ashísh Väswani"], published="2017-08-01", citekey="kept2017")
    assign_citekeys([a, b, c], {"kept2017"})
    assert (a.citekey, b.citekey, c.citekey) == ("vaswani2017attention", "vaswani2017attentiona", "kept2017")
    assert entry(a).startswith("@article{vaswani2017attention,") and "doi = {10.1/x}" in entry(a)
    assert entry(b).startswith("@misc{")


def test_a_paper_without_a_citekey_gets_the_same_one_whatever_is_exported(cli, data_dir: Path) -> None:
    """Two reading lists' .bib files joined must not give one key to two papers: a key made for
    an export is worked out over the whole library, not over what a filter selected."""
    import re

    from lmdev.models import AssumptionTag, Paper, ProblemTag
    from lmdev.store import Library

    lib = Library(data_dir)
    for paper_id, problem in (("2312.00010", "efficiency"), ("2401.00003", "prompting")):
        lib.save(Paper(id=paper_id, title="Percent signs, again", authors=["Jean-Paul Sartre"], published_year=2024, problems=[ProblemTag(id=problem)], assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")]))

    def keys(*args: str) -> dict[str, str]:
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 0, result.err
        return {eprint: key for key, eprint in re.findall(r"@\w+\{([^,]+),[^@]*?eprint = \{([^}]+)\}", result.out, re.S) if eprint in ("2312.00010", "2401.00003")}

    everything = keys("export", "--format", "bibtex")
    assert sorted(everything.values()) == ["sartre2024percent", "sartre2024percenta"]
    assert keys("export", "--format", "bibtex", "--problem", "prompting") == {"2401.00003": everything["2401.00003"]}
    assert keys("reading-list", "efficiency", "--format", "bibtex") == {"2312.00010": everything["2312.00010"]}


def test_citekeys_read_the_last_first_form_and_stay_short() -> None:
    from lmdev.citekeys import citekey_base
    from lmdev.models import Paper

    assert citekey_base(Paper(id="2401.00001", title="Lone words", authors=["O'Brien, Pat"], published_year=2023)) == "obrien2023lone"
    assert citekey_base(Paper(id="2401.00002", title="Lone words", authors=["Guido van Rossum, Jr."], published_year=2023)) == "rossum2023lone"
    long = citekey_base(Paper(id="2401.00003", title="a" * 3000, authors=["B" * 500], published_year=2024))
    assert long == "b" * 30 + "2024" + "a" * 30


def test_a_note_that_reads_as_markdown_stays_inside_its_reading_list_item(cli, data_dir: Path) -> None:
    """A note is the first line under a list item: '# TODO', '- x', '---' or '1. x' there must
    not end the list (with items numbered 10 and on, a three-space indent already did)."""
    from markdown_it import MarkdownIt

    from lmdev.store import Library

    lib = Library(data_dir)
    notes = {"2205.14135": "# TODO: compare", "2211.17192": "- x", "2208.07339": "---", "2210.02414": "1. x"}
    for paper_id, note in notes.items():
        lib.update(paper_id, lambda p, note=note: setattr(p, "notes", note))
    result = cli("--data-dir", str(data_dir), "reading-list", "efficiency")
    assert result.code == 0, result.err
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(result.out)
    assert html.count("<ol") == 1 and "<h1>TODO" not in html and "<hr" not in html and "<ul>" not in html
    assert "# TODO: compare" in html and "1. x" in html


def test_markdown_text_is_inert_but_math_keeps_its_underscores() -> None:
    from markdown_it import MarkdownIt

    from lmdev.reports.markdown import md_text

    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md_text("H$_2$O: _under_ ~~struck~~ &lt;b&gt; x](javascript:1) | cell"))
    assert "<em>" not in html and "<s>" not in html and "<del>" not in html and "&lt;b&gt;" not in html.replace("&amp;lt;b&amp;gt;", "")
    assert "H$_2$O" in html and "<a" not in html


def test_export_csv_and_json_use_the_list_filters(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "export", "--format", "csv", "--problem", "efficiency", "--year", "2022")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert {r["id"] for r in rows} == {"2205.14135", "2208.07339", "2211.17192", "2205.05638", "2210.02414"}
    raw = {p["id"]: p for p in _raw_papers(data_dir)}
    for row in rows:  # the primary has a column of its own and leads the problems
        assert row["primary"] == raw[row["id"]]["primary"] and row["problems"].split()[0] == row["primary"]
    data = json.loads(cli("--data-dir", str(data_dir), "export", "--format", "json", "--assumption", "out-of-the-box", "--stance", "challenges").out)
    assert "2205.05638" in {p["id"] for p in data}
    assert cli("--data-dir", str(data_dir), "export", "--format", "xml").code == 2


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_html_report_renders_in_headless_chromium(cli, data_dir: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium package (see .ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    site = tmp_path / "site"
    result = cli("--data-dir", str(data_dir), "report", "--html", str(site))
    assert result.code == 0, result.err
    page = (site / "index.html").read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    url = (site / "index.html").as_uri()
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-500:]
    for text in ("where the literature stands", "Problems × assumptions", "Gaps", "Reading lists", "FlashAttention", "no paper challenges it"):
        assert text in dom.stdout
    assert dom.stdout.count("<svg") >= 6
    shot = tmp_path / "shot.png"
    subprocess.run([browser, *flags, "--window-size=1200,1600", f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


def test_report_into_a_file_is_a_usage_error_naming_it(cli, small_dir: Path, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    result = cli("--data-dir", str(small_dir), "report", "--html", str(afile))
    assert result.code == 2 and f"{afile} is a file" in result.err
    assert afile.read_text() == "keep me\n"
