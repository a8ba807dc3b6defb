"""Deciding on waiting papers: accept, reject, the inbox's order, and decisions that merge."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, snapshot
from lmdev import decisions
from watch_fixtures import fill_inbox, make_item


def inbox_ids(data: Path) -> set[str]:
    folder = data / "inbox"
    return {p.stem for p in folder.glob("*.yaml")} if folder.exists() else set()


def test_accept_keeps_the_suggested_tags_as_a_persons(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90001", problems=[("efficiency", 0.9), ("prompting", 0.6)], assumptions=[("cost-irrelevant", "challenges", 0.8)]))
    result = cli("--data-dir", str(data_dir), "accept", "arXiv:2605.90001v1")
    assert result.code == 0, result.err
    paper = yaml.safe_load((data_dir / "papers" / "2605.90001.yaml").read_text())
    assert paper["primary"] == "efficiency"
    assert paper["problems"] == [{"id": "efficiency", "by": "person"}, {"id": "prompting", "by": "person"}]
    assert paper["assumptions"] == [{"id": "cost-irrelevant", "stance": "challenges", "by": "person"}]
    assert paper["title"] == "A study numbered 2605.90001" and paper["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert "2605.90001" not in inbox_ids(data_dir)
    assert "accepted   2605.90001" in result.err
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_accept_keeps_an_unconfident_assumption_as_the_classifiers_suggestion(cli, data_dir: Path) -> None:
    item = make_item("2605.90003")
    item.assumptions[0].score, item.assumptions[0].suggested = 0.093, False  # none cleared its threshold
    fill_inbox(data_dir, item)
    assert "suggested: false" in (data_dir / "inbox" / "2605.90003.yaml").read_text()
    result = cli("--data-dir", str(data_dir), "accept", "2605.90003")
    assert result.code == 0, result.err
    paper = yaml.safe_load((data_dir / "papers" / "2605.90003.yaml").read_text())
    assert paper["problems"] == [{"id": "prompting", "by": "person"}]
    assert paper["assumptions"] == [{"id": "out-of-the-box", "stance": "relies", "by": "classifier", "score": 0.093}]
    assert "a suggestion to confirm" in result.err
    assert "2605.90003" in cli("--data-dir", str(data_dir), "list", "--unreviewed").out
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_a_paper_whose_inbox_file_is_broken_can_still_be_rejected(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90004"))
    (data_dir / "inbox" / "2605.90004.yaml").write_text("id: [unclosed\n")
    assert cli("--data-dir", str(data_dir), "accept", "2605.90004").code == 1  # nothing to build a paper from
    result = cli("--data-dir", str(data_dir), "reject", "2605.90004", "--reason", "not about language models")
    assert result.code == 0, result.err
    assert "did not validate: recorded without title" in result.err
    assert "2605.90004" not in inbox_ids(data_dir)
    assert "2605.90004" in decisions.rejected_ids(data_dir)
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_accept_with_tags_replaces_the_suggestions_of_their_kind(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90001"), make_item("2605.90002"))
    result = cli("--data-dir", str(data_dir), "accept", "2605.90001", "--problem", "safety", "--problem", "alignment", "--format", "json")
    assert json.loads(result.out)[0]["action"] == "accepted"
    paper = yaml.safe_load((data_dir / "papers" / "2605.90001.yaml").read_text())
    assert paper["primary"] == "safety" and [p["id"] for p in paper["problems"]] == ["safety", "alignment"]
    assert paper["assumptions"] == [{"id": "out-of-the-box", "stance": "relies", "by": "person"}]
    chosen = cli("--data-dir", str(data_dir), "accept", "2605.90002", "--primary", "efficiency", "--assumption", "more-compute:supports")
    assert "efficiency, prompting; more-compute:supports" in chosen.err  # the primary named first
    paper = yaml.safe_load((data_dir / "papers" / "2605.90002.yaml").read_text())
    assert paper["primary"] == "efficiency" and {p["id"] for p in paper["problems"]} == {"prompting", "efficiency"}
    assert paper["assumptions"] == [{"id": "more-compute", "stance": "supports", "by": "person"}]


def test_accept_refuses_bad_tags_and_ids_before_writing_anything(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90001"))
    before = snapshot(data_dir)
    for args in (["--problem", "speed"], ["--assumption", "fixed-recipe:loves"], ["--primary", "fixed-recipe"]):
        result = cli("--data-dir", str(data_dir), "accept", "2605.90001", *args)
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert cli("--data-dir", str(data_dir), "accept", "2605.90001", "../../etc/passwd").code == 2
    assert snapshot(data_dir) == before


def test_contradictory_stances_are_a_usage_error_in_accept_add_and_tag(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90001"))
    before = snapshot(data_dir)
    twice = ["--assumption", "fixed-recipe:relies", "--assumption", "fixed-recipe:challenges"]
    for args in (["accept", "2605.90001", *twice], ["tag", "2205.14135", *twice]):
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 2 and "an assumption takes one stance: fixed-recipe (challenges and relies)" in result.err, result.err
    assert snapshot(data_dir) == before


def test_accept_never_writes_a_paper_that_maps_to_no_assumption(cli, data_dir: Path) -> None:
    """check refuses such a paper: accepting an inbox entry with no assumption suggested fails
    and says how to give one, and the entry stays waiting."""
    fill_inbox(data_dir, make_item("2605.90001", assumptions=()))
    result = cli("--data-dir", str(data_dir), "accept", "2605.90001")
    assert result.code == 1 and "no assumption suggested for it; give one: lmdev accept 2605.90001 --assumption ID:STANCE" in result.err
    assert not (data_dir / "papers" / "2605.90001.yaml").exists() and inbox_ids(data_dir) == {"2605.90001"}
    assert cli("--data-dir", str(data_dir), "accept", "2605.90001", "--assumption", "fixed-recipe:relies").code == 0
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_check_names_an_inbox_file_that_suggests_a_tag_the_taxonomy_lacks(cli, data_dir: Path) -> None:
    """A node renamed while papers wait: check says which file, and what mends it."""
    fill_inbox(data_dir, make_item("2605.90001", problems=[("reasoning", 0.9)], assumptions=[("old-assumption", "relies", 0.8)]))
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    line = next(x for x in (result.out + result.err).splitlines() if "2605.90001.yaml" in x)
    assert "'reasoning', 'old-assumption', which the taxonomy does not have" in line and "lmdev rescore" in line
    assert cli("--data-dir", str(data_dir), "check", "--changed").code == 1


def test_accept_reports_each_id_and_goes_on(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90001"), make_item("2205.14135"))
    decisions.record(data_dir, [decisions.Rejection("2605.90003", "out of scope")])
    result = cli("--data-dir", str(data_dir), "accept", "2401.00009", "2205.14135", "2605.90003", "2605.90001")
    assert result.code == 1
    assert "failed     2401.00009: not in the inbox" in result.err
    assert "unchanged  2205.14135" in result.err and "already in the library" in result.err
    assert "rejected earlier" in result.err
    assert (data_dir / "papers" / "2605.90001.yaml").exists()
    assert inbox_ids(data_dir) == set()


def test_one_id_that_cannot_be_accepted_gets_one_line(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "accept", "2401.00009")
    assert result.code == 1
    assert result.err.splitlines() == [f"failed     2401.00009: not in the inbox ({data_dir / 'inbox'})"]


def test_reject_records_title_abstract_and_listing_day_and_the_paper_never_returns(cli, data_dir: Path, serve) -> None:
    item = make_item("2605.90001", title="Segmenting 3D point clouds", seen="2026-05-14", listed="2026-05-12")
    fill_inbox(data_dir, item)
    result = cli("--data-dir", str(data_dir), "reject", "2605.90001", "--reason", "not about language models: 3D segmentation")
    assert result.code == 0, result.err
    entry = {e.rejection.id: e.rejection for e in decisions.load(data_dir)}["2605.90001"]
    assert entry.reason == "not about language models: 3D segmentation"
    assert entry.title == item.title and entry.abstract == item.abstract and entry.date.isoformat() == "2026-05-12"
    assert inbox_ids(data_dir) == set()
    serve([{"arxiv_id": "2605.90001", "title": item.title, "abstract": item.abstract, "authors": item.authors, "categories": ["cs.CV"], "primary_category": "cs.CV", "listing_date": "2026-05-20"}])
    again = cli("--data-dir", str(data_dir), "watch")
    assert "0 new in the inbox, 1 already known" in again.err
    assert inbox_ids(data_dir) == set()
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_reject_without_an_inbox_entry_in_the_library_and_with_bad_reasons(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "reject", "2401.00009")
    assert result.code == 0 and "recorded without title" in result.err
    assert {e.rejection.id: e.rejection.reason for e in decisions.load(data_dir)}["2401.00009"] == "out of scope"
    assert "unchanged" in cli("--data-dir", str(data_dir), "reject", "2401.00009").err
    in_library = cli("--data-dir", str(data_dir), "reject", "2205.14135")
    assert in_library.code == 1 and "in the library" in in_library.err
    before = snapshot(data_dir)
    assert cli("--data-dir", str(data_dir), "reject", "2401.00010", "--reason", "x" * 400).code == 2
    assert cli("--data-dir", str(data_dir), "reject", "2401.00010", "--reason", "  ").code == 2
    assert cli("--data-dir", str(data_dir), "reject", "not-an-id!").code == 2
    assert cli("--data-dir", str(data_dir), "reject", "2401.00010", "--reason", "").code == 2  # not the default in silence
    slug = cli("--data-dir", str(data_dir), "reject", "notanid")  # a slug no watch could bring: a typo
    assert slug.code == 1 and "nothing to reject" in slug.err
    assert snapshot(data_dir) == before


def test_many_rejections_at_once_keep_every_line(data_dir: Path, tmp_path: Path) -> None:
    ids = [f"2605.9{n:04d}" for n in range(8)]
    fill_inbox(data_dir, *(make_item(i) for i in ids))
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache")}
    procs = [
        subprocess.Popen([sys.executable, "-m", "lmdev", "--data-dir", str(data_dir), cmd, i], env=env, cwd=REPO, stderr=subprocess.PIPE, text=True)
        for n, i in enumerate(ids)
        for cmd in (("reject" if n % 2 else "accept"),)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    rejected = {e.rejection.id for e in decisions.load(data_dir)}
    assert {i for n, i in enumerate(ids) if n % 2} <= rejected
    assert all((data_dir / "papers" / f"{i}.yaml").exists() for n, i in enumerate(ids) if not n % 2)
    assert inbox_ids(data_dir) == set()


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def _two_clones(data_dir: Path, tmp_path: Path, waiting: int) -> tuple[Path, Path, Path]:
    """A tracker with ``waiting`` papers in its inbox, committed, and two people's clones of it."""
    origin = tmp_path / "origin"
    shutil.copytree(data_dir, origin / "data")
    shutil.copy(REPO / ".gitattributes", origin / ".gitattributes")
    fill_inbox(origin / "data", *(make_item(f"2605.9000{n}") for n in range(1, waiting + 1)))
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", "-A")
    _git(origin, "commit", "-qm", "inbox")
    a, b = tmp_path / "a", tmp_path / "b"
    for clone in (a, b):
        _git(tmp_path, "clone", "-q", str(origin), str(clone))
    return origin, a, b


def test_two_people_triaging_on_two_machines_merge_without_losing_a_decision(cli, data_dir: Path, tmp_path: Path) -> None:
    _, a, b = _two_clones(data_dir, tmp_path, 6)
    assert cli("--data-dir", str(a / "data"), "accept", "2605.90001", "2605.90002").code == 0
    assert cli("--data-dir", str(a / "data"), "reject", "2605.90003", "--reason", "applies an LLM to a domain").code == 0
    assert cli("--data-dir", str(b / "data"), "reject", "2605.90004", "2605.90005", "--reason", "not about language models").code == 0
    assert cli("--data-dir", str(b / "data"), "accept", "2605.90006").code == 0
    for clone, who in ((a, "a"), (b, "b")):
        _git(clone, "add", "-A")
        _git(clone, "commit", "-qm", f"triage by {who}")
    _git(a, "pull", "-q", "--no-rebase", "--no-edit", str(b), "main")
    rejected = {e.rejection.id for e in decisions.load(a / "data")}
    assert {"2605.90003", "2605.90004", "2605.90005"} <= rejected
    assert all((a / "data" / "papers" / f"2605.9000{n}.yaml").exists() for n in (1, 2, 6))
    assert inbox_ids(a / "data") == set()
    assert cli("--data-dir", str(a / "data"), "check").code == 0


def test_a_clash_of_two_peoples_decisions_after_a_merge_is_named_and_settled_offline(cli, data_dir: Path, tmp_path: Path) -> None:
    """One accepted a paper and the other rejected it; both rejected another; a stale inbox file
    came back with the merge. check names the clash with the commands that settle it, accept
    settles it without arXiv, the duplicate rejection counts once, and the stale file goes."""
    from lmdev.classifier.modelcache import rejected_records
    from lmdev.store import Library

    origin, a, b = _two_clones(data_dir, tmp_path, 4)
    assert cli("--data-dir", str(a / "data"), "accept", "2605.90001").code == 0
    assert cli("--data-dir", str(a / "data"), "reject", "2605.90002", "--reason", "a domain").code == 0
    assert cli("--data-dir", str(b / "data"), "reject", "2605.90001", "2605.90002", "--reason", "not about language models").code == 0
    for clone, who in ((a, "a"), (b, "b")):
        _git(clone, "add", "-A")
        _git(clone, "commit", "-qm", f"triage by {who}")
    _git(a, "pull", "-q", "--no-rebase", "--no-edit", str(b), "main")
    data = a / "data"
    check = cli("--data-dir", str(data), "check")
    assert check.code == 1 and "2605.90001 is rejected here but kept in the library" in check.out and "lmdev accept 2605.90001 keeps it" in check.out
    assert [r[0] for r in rejected_records(Library(data))].count("2605.90002") == 1, "rejected twice, one negative example"
    refused = cli("--data-dir", str(data), "reject", "2605.90001", "--reason", "again")
    assert refused.code == 1 and "lmdev remove 2605.90001" in refused.err
    shutil.copy(origin / "data" / "inbox" / "2605.90002.yaml", data / "inbox" / "2605.90002.yaml")  # stale, decided already
    kept = cli("--data-dir", str(data), "accept", "2605.90001")
    assert kept.code == 0, kept.err
    assert "2605.90001" not in {e.rejection.id for e in decisions.load(data)}
    assert not (data / "inbox" / "2605.90002.yaml").exists(), "a decision removes the files of papers decided elsewhere"
    assert cli("--data-dir", str(data), "check").code == 0


def test_a_merge_conflict_left_in_a_paper_file_is_named_as_one(cli, small_dir: Path) -> None:
    path = small_dir / "papers" / "2205.14135.yaml"
    text = path.read_text()
    path.write_text(text.replace("problems:\n", "problems:\n<<<<<<< HEAD\n- id: scaling\n  by: person\n=======\n- id: safety\n  by: person\n>>>>>>> theirs\n", 1))
    result = cli("--data-dir", str(small_dir), "check")
    assert result.code == 1 and "unresolved merge conflict" in result.out and "Traceback" not in result.err


def test_decisions_retrain_the_model(cli, data_dir: Path) -> None:
    from lmdev.classifier.modelcache import fingerprint
    from lmdev.store import Library

    fill_inbox(data_dir, make_item("2605.90001"), make_item("2605.90002"))
    lib = Library(data_dir)
    start = fingerprint(lib)
    cli("--data-dir", str(data_dir), "accept", "2605.90001")
    accepted = fingerprint(lib)
    cli("--data-dir", str(data_dir), "reject", "2605.90002")
    assert len({start, accepted, fingerprint(lib)}) == 3


def test_inbox_filters_orders_and_formats(cli, data_dir: Path) -> None:
    fill_inbox(
        data_dir,
        make_item("2605.90001", relevance=0.9, problems=[("prompting", 0.9)]),
        make_item("2605.90002", relevance=0.9, problems=[("efficiency", 0.95), ("safety", 0.5)]),
        make_item("2605.90003", relevance=0.4, problems=[("safety", 0.4)]),
        make_item("2605.90004", relevance=0.7, problems=[("objective", 0.7)], assumptions=[("fixed-recipe", "challenges", 0.7)]),
        make_item("2605.90005", relevance=0.3, problems=[("objective", 0.9)], assumptions=[("fixed-recipe", "challenges", 0.9)]),
        make_item("2205.14135", relevance=0.99),
    )

    def ids(*args: str) -> list[str]:
        result = cli("--data-dir", str(data_dir), "inbox", "--format", "json", *args)
        assert result.code == 0, result.err
        return [i["id"] for i in json.loads(result.out)]

    assert ids() == ["2605.90002", "2605.90001", "2605.90004", "2605.90003", "2605.90005"]
    assert ids("--problem", "safety") == ["2605.90002", "2605.90003"]
    assert ids("--min-relevance", "0.8") == ["2605.90002", "2605.90001"]
    assert ids("--limit", "1") == ["2605.90002"]
    from lmdev.store import Library
    from lmdev.triage import gap_weights

    weights = gap_weights(Library(data_dir))
    assert weights["objective"] > weights["prompting"] and weights["objective"] > weights["efficiency"]
    by_gaps = ids("--sort", "gaps")
    assert by_gaps[0] == "2605.90004"
    # An out-of-scope paper never jumps the queue, whatever gap it would fill.
    assert by_gaps[-2:] == ["2605.90003", "2605.90005"]
    markdown = cli("--data-dir", str(data_dir), "inbox", "--format", "markdown").out
    assert markdown.startswith("1. [A study numbered 2605.90002](https://arxiv.org/abs/2605.90002): `efficiency`, relevance 0.90")
    assert cli("--data-dir", str(data_dir), "inbox", "--problem", "fixed-recipe").code == 2
    assert cli("--data-dir", str(data_dir), "inbox", "--min-relevance", "2").code == 2


def test_an_empty_inbox_says_so(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "inbox")
    assert result.code == 0 and "the inbox is empty" in result.err
    assert json.loads(cli("--data-dir", str(data_dir), "inbox", "--format", "json").out) == []


def test_an_inbox_listing_says_why_it_shows_nothing(cli, data_dir: Path) -> None:
    """Filters that match nothing are not an empty inbox, nor is an inbox whose only file is broken."""
    fill_inbox(data_dir, make_item("2605.90001", problems=[("efficiency", 0.9)]))
    result = cli("--data-dir", str(data_dir), "inbox", "--min-relevance", "1")
    assert result.code == 0 and "no waiting paper matches" in result.err and "empty" not in result.err
    (data_dir / "inbox" / "2605.90001.yaml").write_text("title: [\n")
    broken = cli("--data-dir", str(data_dir), "inbox")
    assert broken.code == 1 and "no readable paper waits in the inbox (1 file(s) skipped, named above)" in broken.err
    assert broken.err.count("2605.90001.yaml") == 1


def test_review_needs_a_terminal(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "review", "--inbox")
    assert result.code == 2 and "lmdev accept" in result.err


def test_decided_ids_reads_the_record_fast_and_falls_back_for_hand_edited_lines(data_dir: Path) -> None:
    from lmdev.store import Library
    from lmdev.triage import decided_ids

    lib = Library(data_dir)
    full = lib.ids() | decisions.rejected_ids(data_dir)
    assert decided_ids(lib) == full
    path = decisions.path_for(data_dir)
    path.write_text(path.read_text() + "- {reason: 'hand-written, id second', id: '2401.00077'}\n- {id: hep-th/9901001, reason: old style}\n")
    assert decided_ids(lib) == full | {"2401.00077", "hep-th/9901001"}


def test_decided_among_waiting_papers_is_the_same_as_decided_overall(data_dir: Path) -> None:
    """The inbox looks its own papers up by file name instead of listing the library."""
    from lmdev.store import Library
    from lmdev.triage import decided_ids

    lib = Library(data_dir)
    shutil.copy(lib.path_for("2205.14135"), lib.papers_dir / "2205.14135.yml")
    (lib.papers_dir / "2205.14135.yaml").unlink()  # a paper stored as .yml is found too
    asked = [*sorted(lib.ids())[::7], "2205.14135", "2699.00001", "hep-th/9901001", "Not An Id"]
    assert decided_ids(lib, among=asked) & set(asked) == decided_ids(lib) & set(asked)


def test_a_broken_paper_file_does_not_stop_the_gap_sort(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90001", relevance=0.9, problems=[("prompting", 0.9)]))
    broken = sorted((data_dir / "papers").glob("*.yaml"))[0]
    broken.write_text("title: [unclosed\n")
    result = cli("--data-dir", str(data_dir), "inbox", "--sort", "gaps", "--format", "json")
    assert [i["id"] for i in json.loads(result.out)] == ["2605.90001"]
    assert result.code == 1 and broken.name in result.err and "Traceback" not in result.err


def test_show_answers_for_a_waiting_paper_and_a_rejected_one(cli, data_dir: Path) -> None:
    """``show`` takes any id a command printed: a paper in the inbox shows the classifier's
    suggestions, why, and how to decide; a rejected one shows the reason on record."""
    run = lambda *args: cli("--data-dir", str(data_dir), *args)  # noqa: E731
    fill_inbox(data_dir, make_item("2605.90011", relevance=0.93, problems=[("efficiency", 0.91), ("prompting", 0.62)], assumptions=[("cost-irrelevant", "challenges", 0.8)]), make_item("2605.90012"))
    shown = run("show", "arXiv:2605.90011v1")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == "A study numbered 2605.90011" and "waiting in the inbox" in shown.out and "relevance 0.93" in shown.out
    problems = lines[lines.index("suggested problems") + 1 : lines.index("suggested assumptions")]
    assert problems[0].split()[:2] == ["efficiency", "primary"] and problems[1].split()[0] == "prompting"
    assert "terms: prompting (+0.30) for 2605.90011" in shown.out and "lmdev accept 2605.90011" in shown.out
    assert "We study prompting for paper 2605.90011." in shown.out
    data = json.loads(run("show", "2605.90011", "--format", "json").out)
    assert data["status"] == "inbox" and data["relevance"] == 0.93 and data["primary"] == "efficiency"
    assert data["link"] == "https://arxiv.org/abs/2605.90011"  # as a library paper's JSON has it
    assert [p["id"] for p in data["problems"]] == ["efficiency", "prompting"] and data["abstract"].startswith("We study")

    assert run("reject", "2605.90012", "--reason", "borderline: a domain benchmark").code == 0
    rejected = run("show", "2605.90012")
    assert rejected.code == 0, rejected.err
    assert "A study numbered 2605.90012" in rejected.out and "rejected (dated 2026-02-21): borderline: a domain benchmark" in rejected.out
    data = json.loads(run("show", "2605.90012", "--format", "json").out)
    assert data == {"status": "rejected", "id": "2605.90012", "reason": "borderline: a domain benchmark", "date": "2026-02-21", "title": "A study numbered 2605.90012", "abstract": "We study prompting for paper 2605.90012.", "link": "https://arxiv.org/abs/2605.90012"}
    # a paper in the library is shown as before, without a status
    assert "status" not in json.loads(run("show", "2205.14135", "--format", "json").out)

    # open, like show, finds both: the page of a waiting paper and of a rejected one
    assert run("open", "2605.90011", "--print").out == "https://arxiv.org/abs/2605.90011\n"
    assert run("open", "2605.90012", "--print").out == "https://arxiv.org/abs/2605.90012\n"
    assert "not in the library" not in run("open", "2605.90012", "--print").err

    missing = run("show", "2605.90013")
    assert missing.code == 1 and missing.out == ""
    assert missing.err.strip().splitlines() == [f"lmdev: error: no paper '2605.90013' in {data_dir / 'papers'}, the inbox or rejected.yaml"]


def test_show_of_a_broken_or_hostile_inbox_file_names_it_in_one_line(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90014"), make_item("2605.90015", title="Evil \x1b]0;pwned\x07 title \u202e"))
    shown = cli("--data-dir", str(data_dir), "show", "2605.90015")
    assert shown.code == 0, shown.err
    assert "\x1b" not in shown.out and "\x07" not in shown.out and "\u202e" not in shown.out and "Evil" in shown.out
    (data_dir / "inbox" / "2605.90014.yaml").write_text("id: [unclosed\n")
    broken = cli("--data-dir", str(data_dir), "show", "2605.90014")
    assert broken.code == 1 and "Traceback" not in broken.err
    [line] = broken.err.strip().splitlines()
    assert "2605.90014.yaml" in line
    # its page needs nothing from the file: open gives it all the same
    opened = cli("--data-dir", str(data_dir), "open", "2605.90014", "--print")
    assert opened.code == 0 and opened.out == "https://arxiv.org/abs/2605.90014\n" and opened.err == ""


def test_a_command_that_needs_a_stored_paper_says_when_the_id_waits_in_the_inbox(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90016"))
    for args in (["tag", "2605.90016", "--problem", "efficiency"], ["classify", "2605.90016", "--apply"], ["tag", "2605.90017", "--problem", "efficiency"]):
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 1 and len(result.err.strip().splitlines()) == 1
        waiting = args[1] == "2605.90016"
        assert ("waits in the inbox" in result.err and "lmdev accept 2605.90016" in result.err) is waiting, result.err
    assert not (data_dir / "papers" / "2605.90016.yaml").exists()


@pytest.mark.parametrize("decision", ["accept", "reject"])
@pytest.mark.parametrize("moment", ["after the library was looked in", "as the inbox file is read"])
def test_show_finds_a_paper_decided_while_it_looks(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decision: str, moment: str) -> None:
    """A paper accepted or rejected while ``show`` looks for it moves from the inbox to the
    library or the record; the look-up finds it in one place or the other, never nowhere."""
    from lmdev.decisions import Rejection
    from lmdev.inbox import Inbox
    from lmdev.models import Paper
    from lmdev.store import Library
    from lmdev.triage import accept, lookup, reject

    monkeypatch.setenv("LMDEV_CACHE_DIR", str(tmp_path / "cache"))
    fill_inbox(data_dir, make_item("2605.90031"))
    pending = [True]

    def decide() -> None:
        if pending.pop() if pending else False:
            library = Library(data_dir)
            reject(library, ["2605.90031"], "out of scope") if decision == "reject" else accept(library, ["2605.90031"])

    if moment == "as the inbox file is read":
        read = Inbox.read
        monkeypatch.setattr(Inbox, "read", lambda self, path: (decide(), read(self, path))[1])
    else:
        get = Library.get

        def get_then_decide(self: Library, paper_id: str) -> Paper:
            try:
                return get(self, paper_id)
            finally:
                decide()

        monkeypatch.setattr(Library, "get", get_then_decide)
    found = lookup(Library(data_dir), "2605.90031")
    assert not pending and isinstance(found, Rejection if decision == "reject" else Paper)


def test_an_accept_and_a_reject_of_the_same_paper_at_once_leave_one_decision(data_dir: Path, tmp_path: Path) -> None:
    """Each command reads what is decided under the decision lock, not as it listed the folder at
    start-up: one of the two wins, the other fails, and the data stays valid."""
    ids = [f"2605.9{n:04d}" for n in range(6)]
    fill_inbox(data_dir, *(make_item(i) for i in ids))
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache")}
    codes: dict[str, list[int]] = {}
    for i in ids:
        procs = [subprocess.Popen([sys.executable, "-m", "lmdev", "--data-dir", str(data_dir), *args], env=env, cwd=REPO, stderr=subprocess.PIPE, text=True) for args in (("accept", i), ("reject", i, "--reason", "off topic"))]
        codes[i] = [proc.wait(timeout=120) for proc in procs]
        for proc in procs:
            assert proc.stderr is not None
            proc.stderr.close()
    rejected = {e.rejection.id for e in decisions.load(data_dir)}
    for i, (accepted, rejected_code) in codes.items():
        stored = (data_dir / "papers" / f"{i}.yaml").exists()
        assert stored != (i in rejected), i
        assert sorted((accepted, rejected_code)) == [0, 1], (i, accepted, rejected_code)
        assert (accepted == 0) == stored, i
    assert inbox_ids(data_dir) == set()
    result = subprocess.run([sys.executable, "-m", "lmdev", "--data-dir", str(data_dir), "check"], env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_accepting_a_library_paper_again_with_tags_says_they_were_not_applied(cli, data_dir: Path) -> None:
    fill_inbox(data_dir, make_item("2605.90021"))
    assert cli("--data-dir", str(data_dir), "accept", "2605.90021").code == 0
    before = (data_dir / "papers" / "2605.90021.yaml").read_text()
    again = cli("--data-dir", str(data_dir), "accept", "2605.90021")
    assert again.code == 0 and "already in the library" in again.err  # nothing asked, nothing to say
    tagged = cli("--data-dir", str(data_dir), "accept", "2605.90021", "--problem", "safety")
    assert tagged.code == 1
    assert "failed     2605.90021: already in the library; the tags given were not applied (lmdev tag 2605.90021" in tagged.err
    assert (data_dir / "papers" / "2605.90021.yaml").read_text() == before


def test_decisions_from_processes_with_different_cache_directories_take_the_same_lock(data_dir: Path, tmp_path: Path) -> None:
    """A scheduled job and a person deciding in one checkout need not share a cache directory:
    the lock is in the data directory, so no rejection is lost."""
    ids = [f"2605.9{n:04d}" for n in range(8)]
    fill_inbox(data_dir, *(make_item(i) for i in ids))
    procs = [
        subprocess.Popen([sys.executable, "-m", "lmdev", "--data-dir", str(data_dir), "reject", i, "--reason", "off topic"], env={**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / f"cache-{n}")}, cwd=REPO, stderr=subprocess.PIPE, text=True)
        for n, i in enumerate(ids)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert set(ids) <= {e.rejection.id for e in decisions.load(data_dir)}
    assert (data_dir / "inbox" / ".lmdev.lock").exists() and inbox_ids(data_dir) == set()


def test_classify_apply_after_accept_never_leaves_a_paper_without_an_assumption(cli, data_dir: Path) -> None:
    """accept keeps an unconfident assumption as the classifier's suggestion; applying the
    classifier again may not take the paper's only assumption away (check would then fail)."""
    item = make_item("2605.90051")
    item.assumptions[0].score, item.assumptions[0].suggested = 0.093, False
    fill_inbox(data_dir, item)
    assert cli("--data-dir", str(data_dir), "accept", "2605.90051").code == 0
    from lmdev.classifier.apply import apply_suggestions
    from lmdev.classifier.model import Result, Suggestion
    from lmdev.store import Library

    library = Library(data_dir)
    paper = library.get("2605.90051")
    nothing = Result(paper.id, [Suggestion("prompting", "problem", 0.7, True)], [Suggestion("fixed-recipe", "assumption", 0.2, False, stance="supports"), Suggestion("out-of-the-box", "assumption", 0.1, False, stance="relies")])
    applied = apply_suggestions(paper, nothing, library)
    assert [(t.id, t.stance, t.by) for t in paper.assumptions] == [("fixed-recipe", "supports", "classifier")]
    assert applied.added == ["fixed-recipe:supports"] and applied.removed == ["out-of-the-box"]
    assert applied.kept == "fixed-recipe:supports", "what the printout must name: a tag it never showed as suggested"
    assert cli("--data-dir", str(data_dir), "classify", "2605.90051", "--apply").code == 0
    assert yaml.safe_load((data_dir / "papers" / "2605.90051.yaml").read_text())["assumptions"]
    assert cli("--data-dir", str(data_dir), "check").code == 0


def test_an_inbox_file_holding_another_id_fails_its_paper_alone(cli, data_dir: Path) -> None:
    """A file's name is how every command finds its paper: one whose id differs is named as
    such by show and accept, and the other papers of the same accept go in."""
    fill_inbox(data_dir, make_item("2605.90081"), make_item("2605.90083"))
    path = data_dir / "inbox" / "2605.90081.yaml"
    path.write_text(path.read_text().replace("2605.90081", "2605.90082"))
    shown = cli("--data-dir", str(data_dir), "show", "2605.90081")
    assert shown.code == 1 and "file name does not match id '2605.90082'" in shown.err
    result = cli("--data-dir", str(data_dir), "accept", "2605.90081", "2605.90083")
    assert result.code == 1
    assert "failed     2605.90081:" in result.err and "file name does not match" in result.err
    assert "accepted   2605.90083" in result.err
    assert (data_dir / "papers" / "2605.90083.yaml").exists() and not (data_dir / "papers" / "2605.90082.yaml").exists()


def test_a_decision_waiting_for_another_lmdev_says_so(cli, data_dir: Path) -> None:
    """While another process holds the decision lock (a review elsewhere), accept waits for it,
    and says what it waits for instead of hanging without a word."""
    fill_inbox(data_dir, make_item("2605.90001"))
    lock = data_dir / "inbox" / ".lmdev.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(1.5)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = cli("--data-dir", str(data_dir), "accept", "2605.90001")
    finally:
        holder.wait(timeout=30)
    assert result.code == 0, result.err
    assert "waiting for another lmdev to finish with" in result.err and ".lmdev.lock" in result.err
    assert (data_dir / "papers" / "2605.90001.yaml").exists()
