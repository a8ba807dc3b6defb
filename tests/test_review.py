"""Reviewed and suggested tags: counted apart, listed, confirmed, and reviewed one key at a time."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from arxiv_server import FakeArxiv
from helpers import load_yaml, snapshot
from lmdev.store import Library
from lmdev.tagging import set_assumption, set_problem

SUGGESTED = {"2307.03172": [("problem", "efficiency", None), ("assumption", "cost-irrelevant", "relies")], "2205.14135": [("assumption", "more-compute", "supports")], "2201.11903": [("problem", "safety", None)]}


@pytest.fixture
def suggested(data_dir: Path) -> Path:
    """The shipped data plus classifier suggestions on three papers."""
    lib = Library(data_dir)
    for paper_id, tags in SUGGESTED.items():
        paper = lib.get(paper_id)
        for kind, node, stance in tags:
            if kind == "problem":
                set_problem(paper, lib.taxonomy, node, by="classifier", score=0.81)
            else:
                set_assumption(paper, lib.taxonomy, node, stance or "relies", by="classifier", score=0.66)
        lib.save(paper)
    return data_dir


def _raw(data_dir: Path) -> list[dict]:
    return [load_yaml(p) for p in sorted((data_dir / "papers").glob("*.yaml"))]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """Pretend stdin and stdout are a terminal; ``terminal('a', 'q')`` sets the keys pressed and
    returns the list of keys actually read."""
    for module in ("library_cmds", "arxiv_cmds", "review_cmds"):
        monkeypatch.setattr(f"lmdev.cli.{module}.is_interactive", lambda: True)

    def press(*pressed: str) -> list[str]:
        read: list[str] = []
        it = iter(pressed)

        def read_key() -> str:
            key = next(it, "q")
            read.append(key)
            return key

        monkeypatch.setattr("lmdev.cli.review.read_key", read_key)
        return read

    return press


def test_coverage_counts_reviewed_tags_and_suggestions_apart(cli, suggested: Path) -> None:
    report = json.loads(cli("--data-dir", str(suggested), "coverage", "--format", "json").out)
    raw = _raw(suggested)
    tags = [t for p in raw for t in p.get("problems", []) + p.get("assumptions", [])]
    reviewed = Counter(t["id"] for t in tags if t["by"] != "classifier")
    pending = Counter(t["id"] for t in tags if t["by"] == "classifier")
    assert sum(pending.values()) == sum(len(v) for v in SUGGESTED.values())
    for node in report["nodes"]:
        assert node["papers"] == reviewed[node["id"]], node["id"]
        assert node["suggested"] == pending[node["id"]], node["id"]
    assert report["unreviewed"] == len(SUGGESTED)
    table = cli("--data-dir", str(suggested), "coverage").out
    assert "suggested" in table and f"{len(SUGGESTED)} with unreviewed suggestions" in table
    assert "| suggested |" in cli("--data-dir", str(suggested), "coverage", "--format", "markdown").out


def test_reading_lists_put_suggestions_last_and_mark_them(cli, suggested: Path) -> None:
    entries = json.loads(cli("--data-dir", str(suggested), "reading-list", "efficiency", "--format", "json").out)
    assert entries[-1]["id"] == "2307.03172" and entries[-1]["reviewed"] is False
    assert all(e["reviewed"] for e in entries[:-1])
    markdown = cli("--data-dir", str(suggested), "reading-list", "efficiency").out
    [line] = [x for x in markdown.splitlines() if "Lost in the Middle" in x]
    assert "unreviewed suggestion" in line


def test_list_unreviewed_and_the_question_mark(cli, suggested: Path) -> None:
    listed = json.loads(cli("--data-dir", str(suggested), "list", "--unreviewed", "--format", "json").out)
    assert {p["id"] for p in listed} == set(SUGGESTED)
    lines = cli("--data-dir", str(suggested), "list", "--unreviewed").out.splitlines()
    assert any(line.startswith("2307.03172\t") and "efficiency?" in line and "prompting," in line for line in lines)


def test_confirm_turns_suggestions_into_a_persons_tags_and_require_reviewed_gates_on_them(cli, suggested: Path) -> None:
    gate = cli("--data-dir", str(suggested), "check", "--require-reviewed")
    assert gate.code == 1
    assert gate.out.count("unreviewed classifier suggestion") == sum(len(v) for v in SUGGESTED.values())
    assert "2307.03172.yaml:3" in gate.out, "each finding names file and line"
    assert cli("--data-dir", str(suggested), "check").code == 0, "off by default"
    (suggested / "config.yaml").write_text("check:\n  require_reviewed: true\n")
    assert cli("--data-dir", str(suggested), "check").code == 1
    assert cli("--data-dir", str(suggested), "check", "--no-require-reviewed").code == 0
    for paper_id in SUGGESTED:
        assert cli("--data-dir", str(suggested), "tag", paper_id, "--confirm").code == 0
    data = yaml.safe_load((suggested / "papers" / "2307.03172.yaml").read_text())
    assert {"id": "efficiency", "by": "person"} in data["problems"]
    assert {"id": "cost-irrelevant", "stance": "relies", "by": "person"} in data["assumptions"]
    assert cli("--data-dir", str(suggested), "check").code == 0
    assert json.loads(cli("--data-dir", str(suggested), "list", "--unreviewed", "--format", "json").out) == []


def test_review_walks_suggestions_one_key_each_and_q_ends_the_session(cli, suggested: Path, terminal) -> None:
    untouched = snapshot(suggested / "papers")
    read = terminal("n", "\r", "x", "a", "e", "c", "q")
    result = cli("--data-dir", str(suggested), "review")
    assert result.code == 0, result.err
    assert read == ["n", "\r", "x", "a", "e", "c", "q"], "a key not listed asks again; q ends it all"
    assert result.out.count("is not one of") == 3
    first = yaml.safe_load((suggested / "papers" / "2307.03172.yaml").read_text())
    assert {"id": "efficiency", "by": "person"} in first["problems"]
    assert {"id": "cost-irrelevant", "stance": "challenges", "by": "person"} in first["assumptions"]
    after = snapshot(suggested / "papers")
    assert [name for name in after if after[name] != untouched[name]] == ["2307.03172.yaml"], "q on the second paper ends the whole session"
    assert "review: 1 paper(s) changed" in result.err


def test_review_rejects_skips_and_edits_a_problem(cli, suggested: Path, terminal) -> None:
    terminal("r", "s")
    assert cli("--data-dir", str(suggested), "review", "2307.03172").code == 0
    data = yaml.safe_load((suggested / "papers" / "2307.03172.yaml").read_text())
    assert [p["id"] for p in data["problems"]] == ["prompting"]
    assert {"id": "cost-irrelevant", "stance": "relies", "by": "classifier", "score": 0.66} in data["assumptions"]
    lib = Library(suggested)
    problems = [n.id for n in lib.taxonomy.problems if n.id not in ("prompting",)]
    terminal("e", "1")
    assert cli("--data-dir", str(suggested), "review", "wei2022chain").code == 0, "a citekey names a paper"
    data = yaml.safe_load((suggested / "papers" / "2201.11903.yaml").read_text())
    assert data["problems"] == [{"id": "prompting", "by": "essay"}, {"id": problems[0], "by": "person"}]


def test_review_needs_a_terminal(cli, suggested: Path) -> None:
    result = cli("--data-dir", str(suggested), "review")
    assert result.code == 2 and "--confirm" in result.err


def test_the_tag_prompt_never_saves_a_tag_for_a_key_it_does_not_list(cli, data_dir: Path, terminal) -> None:
    from lmdev.models import AssumptionTag, Paper

    lib = Library(data_dir)
    abstract = "Few-shot prompts with chain-of-thought reasoning demonstrations improve in-context learning on math word problems without any fine-tuning."
    lib.save(Paper(id="2501.00002", title="Chain-of-thought prompting for arithmetic", abstract=abstract, assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")]))
    before = snapshot(data_dir)
    read = terminal("n", "y", "q")
    result = cli("--data-dir", str(data_dir), "tag", "2501.00002")
    assert result.code == 0, result.err
    assert "problem prompting" in result.out
    assert read == ["n", "y", "q"]
    assert snapshot(data_dir) == before
    terminal("a", "q")
    assert cli("--data-dir", str(data_dir), "tag", "2501.00002").code == 0
    assert yaml.safe_load((data_dir / "papers" / "2501.00002.yaml").read_text())["problems"][0] == {"id": "prompting", "by": "person"}


def test_adding_many_papers_on_a_terminal_asks_once_whether_to_review(cli, empty_data_dir: Path, terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeArxiv({f"2401.0000{n}": {} for n in range(1, 4)}) as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        read = terminal("n")
        result = cli("--data-dir", str(empty_data_dir), "add", "2401.00001", "2401.00002", "2401.00003")
        assert result.code == 0, result.err
        assert read == ["n"] and "review the classifier's suggestions for the 3 new papers now?" in result.out
        assert "later: lmdev classify --apply, then lmdev review" in result.err


def test_the_html_report_marks_suggestions_and_counts_them_apart(cli, suggested: Path, tmp_path: Path) -> None:
    assert cli("--data-dir", str(suggested), "report", "--html", str(tmp_path / "site")).code == 0
    page = (tmp_path / "site" / "index.html").read_text()
    assert f"{len(SUGGESTED)} with unreviewed classifier suggestions" in page
    assert "(+1 suggested)" in page
    # a long list is cut on the index and given whole on its own page: each suggested problem's
    # paper is marked on the list of that problem, wherever the list is
    for paper_id, tags in SUGGESTED.items():
        for kind, node, _ in tags:
            if kind != "problem":
                continue
            page = tmp_path / "site" / "lists" / f"{node}.html"
            text = page.read_text() if page.exists() else (tmp_path / "site" / "index.html").read_text()
            item = next(li for li in text.split("<li>") if f"abs/{paper_id}" in li)
            assert "unreviewed suggestion</strong>" in item, (paper_id, node)


def test_a_paper_added_from_arxiv_gets_a_citekey(cli, empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeArxiv({"2401.00001": {"title": "Prompting at scale"}}) as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        assert cli("--data-dir", str(empty_data_dir), "add", "2401.00001", "--assumption", "fixed-recipe:relies").code == 0
    assert yaml.safe_load((empty_data_dir / "papers" / "2401.00001.yaml").read_text())["citekey"] == "lovelace2023prompting"


def test_q_in_the_inbox_half_ends_the_whole_review(cli, suggested: Path, terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    from watch_fixtures import fill_inbox, make_item

    fill_inbox(suggested, make_item("2605.90001", relevance=0.9), make_item("2605.90002", relevance=0.8))
    inbox_keys = iter(["s", "q"])
    monkeypatch.setattr("typer.getchar", lambda *a, **k: next(inbox_keys))
    suggestion_keys = terminal()
    before = snapshot(suggested)
    result = cli("--data-dir", str(suggested), "review")
    assert result.code == 0, result.err
    assert next(inbox_keys, None) is None, "the inbox half read both keys"
    assert suggestion_keys == [], "the suggestions half never started"
    assert "paper(s) changed" not in result.err
    assert snapshot(suggested) == before


def test_q_in_the_suggestions_half_ends_the_whole_review(cli, suggested: Path, terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    from watch_fixtures import fill_inbox, make_item

    fill_inbox(suggested, make_item("2605.90001", relevance=0.9))
    inbox_keys = iter(["s"])
    monkeypatch.setattr("typer.getchar", lambda *a, **k: next(inbox_keys))
    suggestion_keys = terminal("q", "a", "a")
    before = snapshot(suggested)
    result = cli("--data-dir", str(suggested), "review")
    assert result.code == 0, result.err
    assert suggestion_keys == ["q"], "q on the first suggestion asks nothing more"
    assert "review: 0 paper(s) changed" in result.err
    assert snapshot(suggested) == before


def test_a_fresh_suggestion_rejected_at_the_prompt_is_never_offered_or_applied_again(cli, data_dir: Path, terminal) -> None:
    from lmdev.classifier.apply import apply_suggestions, suggestions_for
    from lmdev.classifier.modelcache import load_model
    from lmdev.models import AssumptionTag, Paper

    lib = Library(data_dir)
    abstract = "Few-shot prompts with chain-of-thought reasoning demonstrations improve in-context learning on math word problems without any fine-tuning."
    lib.save(Paper(id="2501.00002", title="Chain-of-thought prompting for arithmetic", abstract=abstract, assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")]))
    terminal("r", "q")
    first = cli("--data-dir", str(data_dir), "tag", "2501.00002")
    assert first.code == 0, first.err
    assert yaml.safe_load((data_dir / "papers" / "2501.00002.yaml").read_text())["declined"] == ["prompting"]
    terminal("q")
    again = cli("--data-dir", str(data_dir), "tag", "2501.00002")
    assert "problem prompting" not in again.out
    paper = Library(data_dir).get("2501.00002")
    apply_suggestions(paper, suggestions_for(load_model(lib), paper), lib)
    assert "prompting" not in paper.problem_ids()


def test_ctrl_c_in_a_review_keeps_the_decisions_already_made(cli, suggested: Path, terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal()
    keys = iter(["a"])

    def read_key() -> str:
        key = next(keys, None)
        if key is None:
            raise KeyboardInterrupt
        return key

    monkeypatch.setattr("lmdev.cli.review.read_key", read_key)
    before = yaml.safe_load((suggested / "papers" / "2307.03172.yaml").read_text())
    first = next(t for t in [*before["problems"], *before["assumptions"]] if t["by"] == "classifier")
    result = cli("--data-dir", str(suggested), "review", "2307.03172")
    assert result.code == 130 and "Traceback" not in result.err
    after = yaml.safe_load((suggested / "papers" / "2307.03172.yaml").read_text())
    kept = next(t for t in [*after["problems"], *after["assumptions"]] if t["id"] == first["id"])
    assert kept["by"] == "person", "the suggestion accepted before Ctrl-C is saved"


def test_the_end_of_input_at_any_question_ends_the_review_without_asking_again(cli, suggested: Path, terminal) -> None:
    """Ctrl-D at the stance question cancels that edit, and at the next question quits: input
    that has ended must never be asked again (it answers the same way for ever)."""
    from lmdev.cli.review import EOF_KEY

    before = snapshot(suggested / "papers")
    read = terminal("a", "e", EOF_KEY, EOF_KEY, "a", "a")
    result = cli("--data-dir", str(suggested), "review", "--suggestions")
    assert result.code == 0, result.err
    assert read == ["a", "e", EOF_KEY], "Ctrl-D at the stance question ends the session, as q does"
    assert "x cancel" in result.out
    after = snapshot(suggested / "papers")
    assert [name for name in after if after[name] != before[name]] == ["2307.03172.yaml"], "the first decision is kept, nothing after it"


def test_rejecting_a_paper_s_last_assumption_in_review_warns_as_tag_does(cli, data_dir: Path, terminal) -> None:
    lib = Library(data_dir)
    paper = lib.get("2307.03172")
    paper.assumptions = []
    set_assumption(paper, lib.taxonomy, "cost-irrelevant", "relies", by="classifier", score=0.4)
    lib.save(paper)
    terminal("r", "q")
    result = cli("--data-dir", str(data_dir), "review", "2307.03172", "--suggestions")
    assert "2307.03172 now maps to no assumption, which check refuses: give it one with lmdev tag 2307.03172 --assumption ID:STANCE" in " ".join(result.out.split())


def test_review_of_named_papers_with_inbox_is_a_usage_error(cli, suggested: Path, terminal) -> None:
    result = cli("--data-dir", str(suggested), "review", "2307.03172", "--inbox")
    assert result.code == 2 and "lmdev accept/reject ID" in result.err
