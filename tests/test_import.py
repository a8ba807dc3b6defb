"""lmdev import: BibTeX files from Zotero and Better BibTeX become papers, merged with those on file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arxiv_server import FakeArxiv
from helpers import FIXTURES, load_yaml, snapshot
from lmdev.bibimport import arxiv_id_of, parse_bibtex

BIB = FIXTURES / "zotero-export.bib"
ON_ARXIV = {"2205.14135": {"title": "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"}, "2211.17192": {"title": "Fast Inference from Transformers via Speculative Decoding"}, "2205.05638": {"title": "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning"}, "2401.00001": {"title": "A Newer Look at Prompt Sensitivity"}}


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch):
    with FakeArxiv(dict(ON_ARXIV)) as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        yield fake


def _items(result) -> dict[str, dict]:
    return {item["key"]: item for item in json.loads(result.out)}


def test_arxiv_ids_are_found_wherever_zotero_and_better_bibtex_put_them() -> None:
    entries, _ = parse_bibtex(BIB.read_text(), path=str(BIB))
    found = {e.key: (arxiv_id_of(e).base if arxiv_id_of(e) else None) for e in entries}
    assert found["dao_flashattention_2022"] == "2205.14135"  # url, doi, note
    assert found["leviathanFastInferenceTransformers2023"] == "2211.17192"  # eprint + eprinttype
    assert found["Liu:2022"] == "2205.05638"  # journal = arXiv preprint arXiv:...
    assert found["dupe_of_flash"] == "2205.14135"  # eprint with a version
    assert found["srush2023gptworld"] is None and found["mueller2019"] is None


def test_import_fetches_arxiv_entries_keeps_citekeys_and_reports_every_entry(cli, empty_data_dir: Path, arxiv: FakeArxiv) -> None:
    result = cli("--data-dir", str(empty_data_dir), "import", str(BIB), "--assumption", "out-of-the-box:relies", "--format", "json")
    assert result.code == 1, "entries were skipped"
    items = _items(result)
    imported = {k for k, i in items.items() if i["action"] == "imported"}
    assert imported == {"dao_flashattention_2022", "leviathanFastInferenceTransformers2023", "Liu:2022", "newpaper2024", "srush2023gptworld", "mueller2019"}
    assert items["noway1999"]["action"] == "skipped" and "no arXiv id, URL or DOI" in items["noway1999"]["reason"]
    assert items["dupe_of_flash"]["reason"] == "same arXiv paper as entry dao_flashattention_2022"
    assert items["broken"]["action"] == "skipped" and "syntax error" in items["broken"]["reason"] and items["broken"]["line"] == 70
    assert all(set(i) == {"key", "line", "action", "id", "title", "reason"} for i in items.values()), "every key, null where it does not apply"
    assert items["noway1999"]["id"] is None and items["noway1999"]["title"] is None
    assert len(arxiv.queries) == 1 and sorted(arxiv.queries[0]["id_list"].split(",")) == sorted(ON_ARXIV)
    flash = yaml.safe_load((empty_data_dir / "papers" / "2205.14135.yaml").read_text())
    assert flash["title"] == ON_ARXIV["2205.14135"]["title"] and flash["authors"] == ["Ada Lovelace"], "metadata comes from arXiv"
    assert flash["citekey"] == "dao_flashattention_2022"
    assert yaml.safe_load((empty_data_dir / "papers" / "2205.05638.yaml").read_text())["citekey"] == "Liu:2022"
    mueller = yaml.safe_load((empty_data_dir / "papers" / "mueller2019.yaml").read_text())
    assert mueller == {
        "id": "mueller2019",
        "url": "https://doi.org/10.1234/jir.2019.42",
        "title": "Über die Sprachmodelle und ihre Kosten",
        "authors": ["Jörg Müller", "John von Neumann Jr."],
        "abstract": "We estimate the cost of using language models.",
        "published_year": 2019,
        "doi": "10.1234/jir.2019.42",
        "journal_ref": "Journal of Imaginary Results",
        "citekey": "mueller2019",
        "assumptions": [{"id": "out-of-the-box", "stance": "relies", "by": "person"}],
    }
    check = cli("--data-dir", str(empty_data_dir), "check")
    assert check.code == 0, check.out
    coverage = json.loads(cli("--data-dir", str(empty_data_dir), "coverage", "--format", "json").out)
    assert coverage["papers"] == len(imported)
    assert json.loads(cli("--data-dir", str(empty_data_dir), "show", "Liu:2022", "--format", "json").out)["id"] == "2205.05638"


def test_importing_again_merges_everything_and_asks_arxiv_nothing(cli, empty_data_dir: Path, arxiv: FakeArxiv) -> None:
    cli("--data-dir", str(empty_data_dir), "import", str(BIB))
    before, asked = snapshot(empty_data_dir), len(arxiv.queries)
    again = _items(cli("--data-dir", str(empty_data_dir), "import", str(BIB), "--format", "json"))
    assert {k for k, i in again.items() if i["action"] == "merged"} == {"dao_flashattention_2022", "leviathanFastInferenceTransformers2023", "Liu:2022", "newpaper2024", "srush2023gptworld", "mueller2019"}
    assert snapshot(empty_data_dir) == before and len(arxiv.queries) == asked


def test_import_into_a_library_keeps_stored_citekeys_and_matches_by_title_and_doi(cli, data_dir: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    stored = yaml.safe_load((data_dir / "papers" / "2205.05638.yaml").read_text())["citekey"]
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@inproceedings{Liu:2022, title={Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning}, author={Liu, Haokun}, booktitle={NeurIPS}, year={2022}}\n"
        "@misc{lostmiddle, title={Lost in the {Middle}: How Language Models Use Long Contexts}, url={https://aclanthology.org/2024.tacl-1.9}}\n"
    )
    items = _items(cli("--data-dir", str(data_dir), "import", str(bib), "--format", "json"))
    assert items["Liu:2022"]["action"] == "merged" and items["Liu:2022"]["id"] == "2205.05638"
    assert f"citekey {stored} (kept)" in items["Liu:2022"]["reason"]
    assert items["lostmiddle"]["action"] == "merged" and items["lostmiddle"]["id"] == "2307.03172"
    assert arxiv.queries == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfe@article{x, title={y}}", "not UTF-8"),
        (b"@article{x, title={" + b"{" * 200 + b"deep" + b"}" * 200 + b"}, url={https://example.org}}\n", "too many nested braces"),
        (b"@article{../../../etc/passwd, title={Hostile key}, url={https://example.org/x}}\n", "imported"),
        (b"@article{x,\n title = {A},\n title = {B},\n url = {https://example.org/a}}\n", "duplicate title field"),
        (b"@article{x, title={Same key}, url={https://example.org/1}}\n@article{x, title={Same key again}, url={https://example.org/2}}\n", "repeated"),
        (b"@string{conf = {ICML}}\n@inproceedings{s, title = {Macros} # { work}, booktitle = conf, url = {https://example.org/m}}\n", "imported"),
        (b"", "import: no entries"),
    ],
)
def test_malformed_and_hostile_bibtex_is_reported_in_one_line_each(cli, empty_data_dir: Path, tmp_path: Path, content: bytes, words: str) -> None:
    bib = tmp_path / "in.bib"
    bib.write_bytes(content)
    result = cli("--data-dir", str(empty_data_dir), "import", str(bib))
    assert words in result.err, result.err
    assert "Traceback" not in result.err
    for path in (empty_data_dir / "papers").iterdir():
        assert path.parent == empty_data_dir / "papers" and ".." not in path.name
    assert cli("--data-dir", str(empty_data_dir), "check").code in (0, 1)


def test_a_huge_file_is_refused_before_it_is_parsed(cli, empty_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lmdev.bibimport.MAX_BIB_BYTES", 1000)
    bib = tmp_path / "huge.bib"
    bib.write_text("@misc{a, title={x}}\n" * 100)
    result = cli("--data-dir", str(empty_data_dir), "import", str(bib))
    assert result.code == 1 and "larger than" in result.err and len(result.err.strip().splitlines()) == 1


def test_macros_built_to_expand_without_end_are_refused_at_once(cli, empty_data_dir: Path, tmp_path: Path) -> None:
    levels = ["@string{a = \"" + "x" * 100 + "\"}"]
    for name, before in zip("bcdefghij", "abcdefghi"):
        levels.append(f"@string{{{name} = " + " # ".join([before] * 10) + "}")
    bib = tmp_path / "bomb.bib"
    bib.write_text("\n".join(levels) + "\n@misc{k, title = j, url = {https://example.org/k}}\n")
    assert bib.stat().st_size < 1000  # what it would spell out: 10^10 characters
    result = cli("--data-dir", str(empty_data_dir), "import", str(bib))
    assert result.code == 1 and "expand to more than" in result.err and len(result.err.strip().splitlines()) == 1
    assert not list((empty_data_dir / "papers").iterdir())


def test_an_entry_too_large_to_store_is_skipped_and_the_others_import(cli, empty_data_dir: Path, tmp_path: Path) -> None:
    bib = tmp_path / "in.bib"
    bib.write_text(
        "@misc{k0, title={Before}, url={https://example.org/0}}\n"
        f"@misc{{k1, title={{Huge}}, abstract={{{'word ' * 300_000}}}, url={{https://example.org/1}}}}\n"
        "@misc{k2, title={After}, url={https://example.org/2}}\n"
    )
    result = cli("--data-dir", str(empty_data_dir), "import", str(bib), "--format", "json")
    assert result.code == 1, result.err
    items = json.loads(result.out)
    assert {item["key"]: item["action"] for item in items} == {"k0": "imported", "k1": "skipped", "k2": "imported"}
    assert "bytes" in next(i["reason"] for i in items if i["key"] == "k1")


def test_a_citekey_that_reads_as_an_arxiv_id_is_refused(cli, data_dir: Path, tmp_path: Path) -> None:
    path = data_dir / "papers" / "2205.05638.yaml"
    text = path.read_text()
    path.write_text(re.sub(r"(?m)^citekey: .*$", "citekey: '2301.99999'", text) if "citekey:" in text else text + "citekey: '2301.99999'\n")
    checked = cli("--data-dir", str(data_dir), "check")
    assert checked.code == 1 and "reads as an arXiv id" in checked.out
    # an id names that paper, never the one whose citekey spells it
    gone = cli("--data-dir", str(data_dir), "remove", "--yes", "2301.99999")
    assert gone.code == 1 and path.exists()
    path.write_text(text)
    bib = tmp_path / "keys.bib"
    bib.write_text("@misc{hep-th/9901001, title={An old-style id as a key}, url={https://example.org/3}}\n")
    result = cli("--data-dir", str(data_dir), "import", str(bib))
    assert result.code == 0, result.err
    imported = [load_yaml(p) for p in (data_dir / "papers").glob("*.yaml") if "An old-style id" in p.read_text()]
    assert len(imported) == 1 and imported[0]["citekey"] != "hep-th/9901001"


def test_hundreds_of_entries_import_in_one_go(cli, empty_data_dir: Path, tmp_path: Path) -> None:
    bib = tmp_path / "big.bib"
    bib.write_text("".join(f"@article{{key{n}, title={{Study number {n} of prompting}}, author={{Doe, Jane and Roe, R.}}, year={{2021}}, url={{https://example.org/{n}}}}}\n\n" for n in range(300)))
    result = cli("--data-dir", str(empty_data_dir), "import", str(bib))
    assert result.code == 0 and "import: 300 imported" in result.err
    assert len(list((empty_data_dir / "papers").iterdir())) == 300


def test_two_imports_at_once_leave_valid_files_and_no_duplicates(empty_data_dir: Path, tmp_path: Path) -> None:
    bib = tmp_path / "urls.bib"
    bib.write_text("".join(f"@misc{{k{n}, title={{Reading {n}}}, url={{https://example.org/{n}}}, year={{2020}}}}\n" for n in range(150)))
    env = {**os.environ, "LMDEV_DATA_DIR": str(empty_data_dir)}
    procs = [subprocess.Popen([sys.executable, "-m", "lmdev", "import", str(bib)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    files = sorted(p.name for p in (empty_data_dir / "papers").iterdir())
    assert files == sorted(f"k{n}.yaml" for n in range(150))
    check = subprocess.run([sys.executable, "-m", "lmdev", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 1 and "maps to no assumption" in check.stdout and "duplicates" not in check.stdout


def test_add_warns_when_a_new_paper_looks_like_one_on_file(cli, data_dir: Path, arxiv: FakeArxiv) -> None:
    arxiv.papers = {"2401.00002": {"title": "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"}}
    result = cli("--data-dir", str(data_dir), "add", "2401.00002", "--assumption", "fixed-recipe:relies", "--no-review")
    assert result.code == 0
    assert "warning: same title as 2205.14135 on file" in result.err
    assert "duplicates" in cli("--data-dir", str(data_dir), "check").out


def test_an_export_read_back_gives_the_text_it_was_made_from(cli, data_dir: Path, empty_data_dir: Path, tmp_path: Path) -> None:
    """export then import (another tracker, offline): TeX's special characters, braces, math,
    a DOI with underscores and names holding 'and' or a comma all come back as they were."""
    from lmdev.models import AssumptionTag, Paper, ProblemTag
    from lmdev.store import Library

    lib = Library(data_dir)
    hostile = {
        "slug-one": ("Percent 100% & {brace and \\textbf{x} and $\\alpha$ and $x_{1}$ ~tilde^ #1_b", ["Zoë {Brace} Müller", "Some and Other", "Jr., Sammy Davis"], "10.1162/tacl_a_00638"),
        "slug-two": ("Lone $ dollar and $\\input{/etc/passwd}$", ["and", "Ada Lovelace"], None),
    }
    for slug, (title, authors, doi) in hostile.items():
        lib.save(Paper(id=slug, url=f"https://example.org/{slug}", title=title, authors=authors, doi=doi, published_year=2024, problems=[ProblemTag(id="efficiency")], assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")]))
    both = cli("--data-dir", str(data_dir), "export", "--format", "bibtex")
    text = "\n\n".join(e for e in both.out.split("\n\n") if "example.org/slug-" in e)
    assert "doi = {10.1162/tacl_a_00638}" in text and "@misc{" in text and "arXiv preprint" not in text
    (tmp_path / "b.bib").write_text(text)
    result = cli("--data-dir", str(empty_data_dir), "import", str(tmp_path / "b.bib"), "--offline", "--format", "json")
    assert result.code == 0, result.err
    back = {p.title: p for p in Library(empty_data_dir).papers()}
    for title, authors, doi in hostile.values():
        assert title in back, (title, sorted(back))
        assert back[title].authors == authors and back[title].doi == doi
