"""The listing days judged for evaluation only (benchmarks/judged/) stay usable and held out.

The triage benchmark reads them as the truth for days the model never trained on: a decision
missing, a tag the taxonomy does not know, or a paper of theirs that slipped into data/ would
quietly change what the benchmark measures.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import REPO, SHIPPED
from lmdev import decisions
from lmdev.models import STANCES
from lmdev.store import Library
from lmdev.taxonomy import load_taxonomy

JUDGED = REPO / "benchmarks" / "judged"
LISTINGS = REPO / "tests" / "fixtures" / "listings"
DAYS = sorted(p.stem for p in JUDGED.glob("*.yaml"))


def test_there_are_judged_days() -> None:
    assert len(DAYS) >= 2


@pytest.mark.parametrize("day", DAYS)
def test_every_paper_of_the_day_has_one_valid_decision(day: str) -> None:
    listed = [json.loads(line)["arxiv_id"] for line in (LISTINGS / f"{day}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    judged = yaml.safe_load((JUDGED / f"{day}.yaml").read_text(encoding="utf-8"))
    assert [str(item["id"]) for item in judged] == listed  # each paper once, in listing order
    taxonomy = load_taxonomy(SHIPPED / "taxonomy.yaml")
    problems = {n.id for n in taxonomy if n.kind == "problem"}
    assumptions = {n.id for n in taxonomy if n.kind == "assumption"}
    for item in judged:
        if item["decision"] == "reject":
            assert item["reason"].strip(), item["id"]
            continue
        assert item["decision"] == "accept", item["id"]
        assert item["problems"] and item["primary"] == item["problems"][0], item["id"]
        assert set(item["problems"]) <= problems, item["id"]
        assert item["assumptions"] and set(item["assumptions"]) <= assumptions, item["id"]
        assert set(item["assumptions"].values()) <= set(STANCES), item["id"]


def test_a_judged_paper_is_in_the_shipped_data_only_as_the_same_decision() -> None:
    """A paper of a judged day may already be in the tracker from another source (the 2024-2026
    corpus rejected 2604.00710 before its listing day was judged). The benchmark drops the day's
    ids from the tracker it trains on, so such a paper stays held out; the decisions must agree."""
    judged = {str(item["id"]): item for day in DAYS for item in yaml.safe_load((JUDGED / f"{day}.yaml").read_text(encoding="utf-8"))}
    lib = Library(SHIPPED)
    papers = {p.id: p for p in lib.papers()}
    rejected = {entry.rejection.id for entry in decisions.load(SHIPPED)}
    # any other overlap is a decision to take on purpose: say which, here and in docs/watch.md
    assert set(judged) & (set(papers) | rejected) <= {"2604.00710"}
    for paper_id in set(judged) & set(papers):
        assert judged[paper_id]["decision"] == "accept" and judged[paper_id]["primary"] == papers[paper_id].primary, paper_id
    for paper_id in set(judged) & rejected:
        assert judged[paper_id]["decision"] == "reject", paper_id


def test_the_benchmark_trains_without_any_paper_of_the_day(tmp_path: Path) -> None:
    triage_eval = _triage_eval()
    ids = {"2604.00710", "2201.11903"}
    triage_eval.training_copy(SHIPPED, ids, tmp_path / "data")
    copy = tmp_path / "data"
    assert not ids & (Library(copy).ids() | {entry.rejection.id for entry in decisions.load(copy)})


def _triage_eval() -> Any:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import triage_eval
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return triage_eval


def test_the_benchmark_reads_a_judged_day_as_the_truth() -> None:
    triage_eval = _triage_eval()
    day = DAYS[0]
    ids = {json.loads(line)["arxiv_id"] for line in (LISTINGS / f"{day}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    accepted, rejected = triage_eval.truth(SHIPPED, ids, day)
    judged = yaml.safe_load((JUDGED / f"{day}.yaml").read_text(encoding="utf-8"))
    assert len(accepted) == sum(item["decision"] == "accept" for item in judged)
    assert set(accepted) | rejected == ids


@pytest.mark.parametrize("text", ["- {id: [\n", "", "- {id: '2601.05765'}\n", "just text\n"])
def test_the_benchmark_names_a_malformed_decisions_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    triage_eval = _triage_eval()
    monkeypatch.setattr(triage_eval, "JUDGED", tmp_path)
    (tmp_path / "2026-01-12.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(triage_eval.BadInput, match=re.escape("2026-01-12.yaml: not a list of decisions")):
        triage_eval.truth(SHIPPED, {"2601.05765"}, "2026-01-12")


@pytest.mark.parametrize("text", [None, '{"arxiv_id": "2601.00001", "title": "cut\n'])
def test_the_benchmark_names_a_missing_or_malformed_day(tmp_path: Path, text: str | None) -> None:
    triage_eval = _triage_eval()
    day = tmp_path / "2026-01-01.jsonl"
    if text is not None:
        day.write_text(text, encoding="utf-8")
    with pytest.raises(triage_eval.BadInput, match=re.escape("2026-01-01.jsonl: ")):
        triage_eval.evaluate(day, SHIPPED)
