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


def test_no_judged_paper_is_in_the_shipped_data() -> None:
    judged = {str(item["id"]) for day in DAYS for item in yaml.safe_load((JUDGED / f"{day}.yaml").read_text(encoding="utf-8"))}
    shipped = Library(SHIPPED).ids() | {entry.rejection.id for entry in decisions.load(SHIPPED)}
    assert not judged & shipped


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
