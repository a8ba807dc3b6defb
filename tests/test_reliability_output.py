"""Reliability battery, part 4: what lmdev prints or writes can never be turned against its reader.

Terminal control sequences and rich markup in data are shown as text, links in HTML and
Markdown are http(s) only, BibTeX and CSV cells cannot break out, GitHub annotations are escaped,
``--out`` never writes through a link, and bulk input errors are named and survived.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from arxiv_server import FakeArxiv
from fakes import atom_entry, atom_feed
from helpers import SHIPPED, Result
from lmdev.models import AssumptionTag, Paper, ProblemTag
from lmdev.store import Library

GOOD = ["2205.14135", "2307.03172"]
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _hostile(small_dir: Path, text: str, paper_id: str = "2401.00009", **fields: object) -> Paper:
    paper = Paper(
        id=paper_id,
        title=f"Title {text} end",
        authors=[f"Ada {text} Lovelace", "Grace Hopper"],
        abstract=f"An abstract about attention {text} and prompting.",
        notes=f"note {text}",
        comment=f"comment {text}",
        journal_ref=f"Journal {text}",
        doi=f"10.1/{text}",
        primary_category="cs.CL",
        published="2023-05-01",  # type: ignore[arg-type]
        problems=[ProblemTag(id="efficiency")],
        assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")],
        **fields,  # type: ignore[arg-type]
    )
    Library(small_dir).save(paper)
    return paper


# --- terminal control sequences ----------------------------------------------------------------

CONTROLS = "\x1b[2J\x1b[H\x1b]0;pwned\x07\x9b31m\x00\x08\r\x7f\x85"

SURFACES: dict[str, list[str]] = {
    "list-piped": ["list"],
    "list-json": ["list", "--format", "json"],
    "show": ["show", "2401.00009"],
    "show-json": ["show", "2401.00009", "--format", "json"],
    "export-csv": ["export", "--format", "csv"],
    "export-bibtex": ["export", "--format", "bibtex"],
    "export-json": ["export", "--format", "json"],
    "reading-list-md": ["reading-list", "efficiency"],
    "reading-list-json": ["reading-list", "efficiency", "--format", "json"],
    "reading-list-bibtex": ["reading-list", "efficiency", "--format", "bibtex"],
    "classify-text": ["classify", "2401.00009", "--min-score", "0.01"],
    "classify-json": ["classify", "2401.00009", "--format", "json"],
    "tag": ["tag", "2401.00009", "--note", "plain note"],
    "check": ["check"],
    "check-github": ["check", "--format", "github"],
    "check-json": ["check", "--format", "json"],
}


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_control_characters_in_any_field_never_reach_the_terminal_raw(cli, small_dir: Path, surface: str) -> None:
    _hostile(small_dir, CONTROLS)
    if surface.startswith("check"):  # findings quote file names, which may hold anything
        (small_dir / "papers" / "2401.00010\x1b]0;x\x07.yaml").write_text("id: '2401.00010'\ntitle: x\nrating: 5\n")
    result = cli("--data-dir", str(small_dir), *SURFACES[surface])
    assert "Traceback" not in result.err
    assert not RAW_CONTROL.search(result.out), repr(RAW_CONTROL.findall(result.out))
    assert not RAW_CONTROL.search(result.err), repr(RAW_CONTROL.findall(result.err))


DOCUMENT_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
DOCUMENTS: dict[str, list[str]] = {
    "digest-markdown": ["digest", "--since", "30d", "--min-relevance", "0"],
    "digest-html": ["digest", "--since", "30d", "--min-relevance", "0", "--format", "html"],
    "digest-atom": ["digest", "--since", "30d", "--min-relevance", "0", "--format", "atom"],
    "inbox-markdown": ["inbox", "--format", "markdown"],
    "export-csv": ["export", "--format", "csv"],
    "export-bibtex": ["export", "--format", "bibtex"],
    "reading-list-md": ["reading-list", "efficiency"],
    "report-html": ["report", "--html"],
}


@pytest.mark.parametrize("surface", sorted(DOCUMENTS))
def test_documents_for_people_carry_no_control_bidi_or_separator_character(cli, small_dir: Path, tmp_path: Path, surface: str) -> None:
    """Markdown for a pull request, HTML for an email, a feed, a report: whatever a title or an
    author holds, none of them carries a character that acts instead of showing."""
    import datetime as dt

    from watch_fixtures import fill_inbox, make_item

    hostile = CONTROLS + "\u202e\u2066\u2028\u2029"
    _hostile(small_dir, hostile)
    item = make_item("2606.99999", title=f"Evil {hostile} title", seen=dt.date.today().isoformat())
    item.authors = [f"Ada {hostile}"]
    fill_inbox(small_dir, item)
    args = DOCUMENTS[surface]
    if surface == "report-html":
        args = [*args, str(tmp_path / "site")]
    result = cli("--data-dir", str(small_dir), *args)
    assert "Traceback" not in result.err
    texts = [result.out] + [p.read_text() for p in (tmp_path / "site").rglob("*.html")] if surface == "report-html" else [result.out]
    assert any("Evil" in t or "Title" in t for t in texts), result.err
    for text in texts:
        assert not DOCUMENT_UNSAFE.search(text), repr(DOCUMENT_UNSAFE.findall(text)[:5])


@pytest.mark.parametrize("surface", ["digest-html", "digest-atom", "report-html"])
def test_html_and_atom_leave_out_what_xml_cannot_carry(cli, small_dir: Path, tmp_path: Path, surface: str) -> None:
    """U+FFFE and U+FFFF are printable to Python yet no XML may hold them, and an HTML parser
    reports them as errors: the report and the digest drop them, as the feed always did."""
    import datetime as dt

    from watch_fixtures import fill_inbox, make_item

    _hostile(small_dir, "odd \ufffe\uffff")
    fill_inbox(small_dir, make_item("2606.99999", title="Evil \ufffe title", seen=dt.date.today().isoformat()))
    args = DOCUMENTS[surface] + ([str(tmp_path / "site")] if surface == "report-html" else [])
    result = cli("--data-dir", str(small_dir), *args)
    assert result.code == 0, result.err
    texts = [p.read_text() for p in (tmp_path / "site").rglob("*.html")] if surface == "report-html" else [result.out]
    assert any("Evil" in t or "Title" in t for t in texts)
    assert not any("\ufffe" in t or "\uffff" in t for t in texts)


def test_a_file_name_with_a_line_break_is_named_on_one_line(cli, small_dir: Path) -> None:
    """A CI log reads each stderr line as a finding; a crafted name must not forge another."""
    (small_dir / "papers" / "evil\n::error file=README.md,line=1::INJECTED.yaml").write_text("id: '2401.00010'\n")
    for args in (["list"], ["coverage"], ["export", "--format", "json"]):
        result = cli("--data-dir", str(small_dir), *args)
        assert result.code == 1
        assert not any(line.startswith("::") for line in result.err.splitlines()), result.err


@pytest.mark.parametrize("surface", ["list-json", "show-json", "export-json", "classify-json", "check-json"])
def test_json_output_escapes_controls_yet_keeps_the_exact_text(cli, small_dir: Path, surface: str) -> None:
    _hostile(small_dir, CONTROLS)
    result = cli("--data-dir", str(small_dir), *SURFACES[surface])
    data = json.loads(result.out)
    if surface in ("list-json", "export-json", "show-json"):
        papers = data if isinstance(data, list) else [data]
        assert any(p["title"] == f"Title {CONTROLS} end" for p in papers)


def test_a_servers_error_page_with_controls_is_shown_escaped(cli, empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeArxiv() as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        monkeypatch.setattr("lmdev.arxiv.ratelimit.SystemClock.sleep", lambda self, s: None)
        fake.answer = lambda params: (400, {}, b"\x1b[2J\x1b]0;owned\x07Bad \x9b31mrequest")
        for args in (["search", "ti:x"], ["add", "2401.00001"], ["-v", "add", "2401.00002"]):
            result = cli("--data-dir", str(empty_data_dir), *args)
            assert result.code == 1 and "Bad" in result.err
            assert not RAW_CONTROL.search(result.err) and not RAW_CONTROL.search(result.out)
        fake.answer = lambda params: (200, {}, atom_feed([atom_entry("2401.00003", title="Evil \x9b31m title \x85 \x7f")]))  # XML allows no C0
        for args in (["search", "ti:x"], ["search", "ti:x", "--format", "json"], ["add", "2401.00003"]):
            result = cli("--data-dir", str(empty_data_dir), *args)
            assert "Evil" in result.out + result.err
            assert not RAW_CONTROL.search(result.err) and not RAW_CONTROL.search(result.out)


# --- rich markup -------------------------------------------------------------------------------

MARKUP = ["[/x]", "[mask]", "[bold red]alarm[/]", "[link=https://evil.example]click[/link]", ":smile:", "ends in a backslash \\", "\\[escaped]", "[/]", "[red"]


def _on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


@pytest.mark.parametrize("text", MARKUP)
@pytest.mark.parametrize("surface", ["list-table", "show", "classify-terminal"])
def test_text_is_never_taken_as_rich_markup(cli, small_dir: Path, monkeypatch: pytest.MonkeyPatch, text: str, surface: str) -> None:
    _hostile(small_dir, text)
    _on_a_terminal(monkeypatch)
    args = {"list-table": ["list", "--problem", "efficiency"], "show": ["show", "2401.00009"], "classify-terminal": ["classify", "2401.00009"]}[surface]
    result = cli("--data-dir", str(small_dir), *args)
    assert result.code == 0, result.err
    flat = " ".join(result.out.split())
    assert f"Title {text} end" in flat, flat[:500]


@pytest.mark.parametrize("text", MARKUP[:4])
def test_search_hits_are_never_taken_as_markup(cli, empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    with FakeArxiv(search=lambda params: atom_feed([atom_entry("2401.00003", title=f"Hit {text} end")])) as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        monkeypatch.setattr("lmdev.arxiv.ratelimit.SystemClock.sleep", lambda self, s: None)
        result = cli("--data-dir", str(empty_data_dir), "search", "ti:x")
    assert result.code == 0, result.err
    assert f"Hit {text} end" in " ".join(result.out.split())


# --- links in HTML and Markdown ----------------------------------------------------------------

INJECTED_TITLES = [
    "x](javascript:alert(1)) [y",
    "<javascript:alert(1)>",
    "[a](data:text/html;base64,PHNjcmlwdD4=)",
    "<a href='javascript:alert(1)'>y</a>",
    "<script>alert(1)</script>",
    "[x]: javascript:alert(1)",
    "![img](javascript:alert(1))",
]


@pytest.mark.parametrize("title", INJECTED_TITLES)
def test_markdown_and_html_never_carry_a_link_that_is_not_http(cli, small_dir: Path, tmp_path: Path, title: str) -> None:
    _hostile(small_dir, title)
    markdown = cli("--data-dir", str(small_dir), "reading-list", "efficiency").out
    assert "2401.00009" in markdown
    unescaped = r"(?<!\\)"
    assert not re.search(unescaped + r"\]\(\s*(javascript|data|vbscript|file):", markdown, re.I), markdown
    assert not re.search(unescaped + r"<(javascript:|data:|script|a )", markdown, re.I), markdown
    assert cli("--data-dir", str(small_dir), "report", "--html", str(tmp_path / "site")).code == 0
    html = (tmp_path / "site" / "index.html").read_text()
    hrefs = re.findall(r"href=\"([^\"]*)\"", html)
    assert hrefs and all(h.startswith(("http://", "https://", "#")) for h in hrefs), hrefs
    assert "<script" not in html.lower()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd", "https://x.org/\" onmouseover=\"alert(1)", "https://x.org/a b"])
def test_a_link_that_is_not_plain_http_is_refused_by_the_model(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        Paper(id="some-reading", url=url, title="x")


# --- BibTeX ------------------------------------------------------------------------------------

BIBTEX_ATTACKS = [
    "}, note = {pwned",
    "$\\input{/etc/passwd}$",
    "$\\write18{rm -rf /}$",
    "\\input{/etc/passwd}",
    "\\immediate\\write18{ls}",
    "$\\} \\{$ closes the field",
    "$x}$",
    "{",
    "}",
    "@misc{evil, title={x}}",
    "$\\csname input\\endcsname{x}$",
    "$\\def\\x{y}$",
    "% a comment",
    "back\\\\slash",
]
DANGEROUS = re.compile(r"\\(input|write18|immediate|csname|def|include|openout|read|catcode)(?![a-z])")


@pytest.mark.parametrize("attack", BIBTEX_ATTACKS)
def test_bibtex_values_cannot_close_their_field_or_run_tex(cli, small_dir: Path, attack: str) -> None:
    import bibtexparser
    from pybtex.database import parse_string

    _hostile(small_dir, attack)
    out = cli("--data-dir", str(small_dir), "export", "--format", "bibtex", "--text", "abstract about attention").out
    assert not DANGEROUS.search(out.replace("\\textbackslash{}", "")), out
    parsed = bibtexparser.parse_string(out)
    assert len(parsed.entries) == 1 and not parsed.failed_blocks, out
    assert {f.key for f in parsed.entries[0].fields} <= {"title", "author", "year", "journal", "eprint", "archivePrefix", "primaryClass", "doi", "url"}
    [entry] = parse_string(out, "bibtex").entries.values()
    assert "pwned" not in entry.fields.get("note", "")


def test_safe_math_in_titles_is_kept(empty_data_dir: Path) -> None:
    from lmdev.reports.bibtex import escape

    assert escape("H$_2$O and $\\alpha$-entmax with $\\mathcal{O}(n^{2})$") == "H$_2$O and $\\alpha$-entmax with $\\mathcal{O}(n^{2})$"
    assert escape("$\\input{x}$") == "\\$\\textbackslash{}input\\{x\\}\\$"


# --- CSV ---------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cli, small_dir: Path, formula: str) -> None:
    import csv
    import io

    paper = Paper(id="2401.00009", title=formula, authors=[formula], journal_ref=formula, doi=formula, assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")])
    Library(small_dir).save(paper)
    out = cli("--data-dir", str(small_dir), "export", "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(out)))
    row = next(r for r in rows if r["id"] == "2401.00009")
    for column in ("title", "authors", "journal_ref", "doi"):
        assert row[column].startswith("'"), row
        assert row[column][1:].strip() == formula.strip()


# --- GitHub annotations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message", "expected"),
    [
        ("papers/a,b.yaml", "bad", "::error file=papers/a%2Cb.yaml,line=3::bad"),
        ("C:/data/x.yaml", "bad", "::error file=C%3A/data/x.yaml,line=3::bad"),
        ("papers/100%.yaml", "50% done", "::error file=papers/100%25.yaml,line=3::50%25 done"),
        ("papers/x\ny.yaml", "two\r\nlines", "::error file=papers/x%0Ay.yaml,line=3::two%0D%0Alines"),
        ("papers/x.yaml", "::error file=evil::injected", "::error file=papers/x.yaml,line=3::::error file=evil::injected"),
    ],
)
def test_github_annotations_escape_what_the_workflow_command_syntax_requires(path: str, message: str, expected: str) -> None:
    from lmdev.check import Finding, github_annotation

    assert github_annotation(Finding(path, 3, message)) == expected


def test_github_annotation_for_a_data_dir_with_commas_and_colons(cli, tmp_path: Path) -> None:
    odd = tmp_path / "a,b:c%d"
    shutil.copytree(SHIPPED, odd)
    (odd / "papers" / "2401.00009.yaml").write_text("id: '2401.00009'\ntitle: [unclosed\n")
    result = cli("--data-dir", str(odd), "check", "--format", "github")
    [line] = [line for line in result.out.splitlines() if "2401.00009" in line]
    assert line.startswith("::error file=") and "a%2Cb%3Ac%25d" in line and re.search(r"\.yaml,line=[0-9]+::invalid YAML", line)


# --- --out never writes through a link or into a special file ----------------------------------


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    return victim


OUT_KINDS: dict[str, Callable[[Path, Path], None]] = {
    "symlink": lambda path, tmp: os.symlink(_victim(tmp), path),
    "dangling-symlink": lambda path, tmp: os.symlink(tmp / "nowhere" / "x", path),
    "fifo": lambda path, tmp: os.mkfifo(path),
    "directory": lambda path, tmp: path.mkdir(),
}


@pytest.mark.parametrize("kind", sorted(OUT_KINDS))
@pytest.mark.parametrize("command", ["export", "reading-list", "report"])
def test_out_refuses_to_replace_links_and_special_files(cli, small_dir: Path, tmp_path: Path, kind: str, command: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = {"export": folder / "lmd.bib", "reading-list": folder / "efficiency.md", "report": folder / "index.html"}[command]
    OUT_KINDS[kind](target, tmp_path)
    args = {"export": ["export", "--format", "bibtex", "--out", str(target)], "reading-list": ["reading-list", "--all", "--out", str(folder)], "report": ["report", "--html", str(folder)]}[command]
    result: Result = cli("--data-dir", str(small_dir), *args)
    assert result.code == 1 and "refusing to replace" in result.err and target.name in result.err
    assert os.path.lexists(target) and (target.is_symlink() or not target.is_file())
    if kind == "symlink":
        assert (tmp_path / "victim.txt").read_text() == "precious"


# --- classify --input and add --from with hostile input ----------------------------------------


def _record(n: int) -> str:
    return json.dumps({"arxiv_id": f"2501.{n:05d}", "title": "Faster inference with quantization", "abstract": "We reduce latency of decoding."})


BAD_LINES = {
    "invalid-utf8": b'{"arxiv_id": "2501.99999", "title": "caf\xe9"}',
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "huge-line": b'{"arxiv_id": "2501.99999", "title": "' + b"x" * 3_000_000 + b'"}',
    "huge-number": b'{"arxiv_id": "2501.99999", "title": "x", "n": ' + b"9" * 10_000 + b"}",
    "nul-bytes": b"\x00" * 100,
    "not-an-object": b"[1, 2, 3]",
}


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "workers"])
@pytest.mark.parametrize("bad", sorted(BAD_LINES))
def test_classify_input_names_the_bad_line_and_goes_on(cli, small_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, parallel: bool) -> None:
    from lmdev.classifier import bulk

    if parallel:
        monkeypatch.setattr(bulk, "PARALLEL_FROM", 2)
        monkeypatch.setattr(bulk, "CHUNK", 2)
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([_record(1).encode(), _record(2).encode(), BAD_LINES[bad], _record(4).encode(), b""]))
    result = cli("--data-dir", str(small_dir), "classify", "--input", str(source), "--format", "json", "--workers", "2")
    assert result.code == 1 and "Traceback" not in result.err
    assert f"{source}:3" in result.err
    assert [r["id"] for r in json.loads(result.out)] == ["2501.00001", "2501.00002", "2501.00004"]


def test_a_fatal_error_mid_stream_never_leaves_json_that_looks_complete(cli, small_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdev.classifier import bulk

    source = tmp_path / "in.jsonl"
    source.write_text("".join(_record(n) + "\n" for n in range(1, 6)))
    real = bulk.classify_one
    calls: list[int] = []

    def failing(*args: object) -> str:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk, "classify_one", failing)
    result = cli("--data-dir", str(small_dir), "classify", "--input", str(source), "--format", "json")
    assert result.code == 1 and "incomplete" in result.err
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.out)
    assert not result.out.rstrip().endswith("]")


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_classify_input_refuses_a_stream_that_never_ends(cli, small_dir: Path, tmp_path: Path, source: str) -> None:
    if source == "fifo":
        os.mkfifo(tmp_path / "fifo")
        source = str(tmp_path / "fifo")
    result = cli("--data-dir", str(small_dir), "classify", "--input", source)
    assert result.code == 2 and "regular file" in result.err


def test_add_from_a_file_that_never_ends_stops_at_a_sane_size(cli, empty_data_dir: Path) -> None:
    result = cli("--data-dir", str(empty_data_dir), "add", "--from", "/dev/zero")
    assert result.code == 1 and "larger than 10 MiB" in result.err and "/dev/zero" in result.err


def test_ctrl_c_says_it_was_interrupted_and_exits_130(cli, small_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("lmdev.store.Library.index", interrupt)
    result = cli("--data-dir", str(small_dir), "list")
    assert result.code == 130 and result.err.strip() == "lmdev: interrupted"


def test_an_error_line_stays_short_and_names_the_file_not_its_temporary(cli, small_dir: Path) -> None:
    from lmdev.cli.app import _describe

    long_id = "2301." + "1" * 100_000
    result = cli("--data-dir", str(small_dir), "show", long_id)
    assert result.code == 2 and len(result.err) < 450 and result.err.count("\n") == 1
    failed = _describe(PermissionError(30, "Read-only file system", str(small_dir / ".rejected.yaml.cwi1ibov.tmp")))
    assert failed == f"{small_dir / 'rejected.yaml'}: Read-only file system"
