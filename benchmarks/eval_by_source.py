"""The temporal split of `lmdev eval`, broken down by where the later papers came from.

    python benchmarks/eval_by_source.py

`lmdev eval` tests the model trained on the papers up to 2023 on every later paper and rejection.
Those come from two sources that differ in difficulty: the curated 2024-2026 corpus (papers
chosen one by one, a few rejections) and whole arXiv listing days triaged by hand (every paper
of the day: near misses such as vision-language work outside the agenda, and borderline
applications). The figures are printed for all of them, and for each source apart. A later
paper or rejection counts as a listing day's when its id is in one of the listing files the
tracker holds decisions of (a day its rejections name in ``date:``; tests/fixtures/listings).
Results go to stdout as JSON and to benchmarks/results-eval-by-source.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from lmdev import decisions  # noqa: E402
from lmdev.classifier import evaluation  # noqa: E402
from lmdev.classifier.fitting import auc  # noqa: E402
from lmdev.classifier.model import Doc  # noqa: E402
from lmdev.classifier.modelcache import rejected_records  # noqa: E402
from lmdev.classifier.training import prior_only, train  # noqa: E402
from lmdev.store import Library  # noqa: E402

LISTINGS = REPO / "tests" / "fixtures" / "listings"


def listing_ids(entries: list[Any]) -> set[str]:
    """Ids of the listing days whose decisions are in the tracker: the days its rejections
    (``entries``, from :func:`lmdev.decisions.load`) name in their ``date:`` (days judged for
    evaluation only, and days nobody judged, are not among them)."""
    days = {str(entry.rejection.date) for entry in entries if entry.rejection.date is not None}
    ids: set[str] = set()
    for day in sorted(LISTINGS.glob("*.jsonl")):
        if day.stem in days:
            ids |= {json.loads(line)["arxiv_id"] for line in day.read_text(encoding="utf-8").splitlines() if line.strip()}
    return ids


def _figures(taxonomy: Any, papers: list[Any], rejected: list[Any], model: Any) -> dict[str, Any]:
    f = evaluation.figures(taxonomy, papers, [model] * len(papers), rejected, [model] * len(rejected))
    return {
        "papers": len(papers),
        "rejections": len(rejected),
        "acc1_primary": round(f.primary_accuracy, 3),
        "acc1_any_problem": round(f.top_problem_accuracy, 3),
        "micro_f1_problems": round(f.summary["problems_micro_f1"], 3),
        "relevance_auc": round(f.relevance_auc, 3) if f.relevance_auc is not None else None,
    }


def _kind(reason: str) -> str:
    """How the judge put it: 'borderline: ...', 'not about language models: ...', 'not LM-centred:
    ...' (vision or generation work with a language model at the edge), or else an application,
    a benchmark, a survey, a classical NLP task."""
    for prefix, kind in (("borderline", "borderline"), ("not about language models", "not about language models"), ("not LM-centred", "not LM-centred")):
        if reason.startswith(prefix):
            return kind
    return "applies, benchmarks, surveys, other"


def _by_kind(entries: list[Any], papers: list[Any], rejected: list[Any], model: Any) -> dict[str, Any]:
    """Relevance AUC of the later papers against each kind of later rejection, and against all
    but the borderline ones."""
    reasons = {entry.rejection.id: entry.rejection.reason for entry in entries}
    positives = [model.triage(Doc.of(p.id, p.title, p.abstract))[0] for p in papers]
    scored = [(_kind(reasons.get(r[0], "")), model.triage(Doc.of(*r))[0]) for r in rejected]
    out: dict[str, Any] = {}
    for kind in ("not about language models", "not LM-centred", "applies, benchmarks, surveys, other", "borderline"):
        negatives = [score for k, score in scored if k == kind]
        out[kind] = {"rejections": len(negatives), "auc": round(auc(positives, negatives), 3) if negatives else None}
    clear = [score for k, score in scored if k != "borderline"]
    out["all but borderline"] = {"rejections": len(clear), "auc": round(auc(positives, clear), 3) if clear else None}
    return out


def run(data: Path = REPO / "data") -> dict[str, Any]:
    lib = Library(data)
    papers = [item.paper for item in lib.scan()[0]]
    rejected = rejected_records(lib)
    entries = decisions.load(data)  # the rejections' days and reasons, read once for both uses
    before, after, rejected_before, rejected_after = evaluation.split_by_year(papers, rejected)
    model = train(lib.taxonomy, before, rejected_before)
    baseline = prior_only(lib.taxonomy)
    listed = listing_ids(entries)
    parts = {
        "all": (after, rejected_after),
        "curated 2024-2026 corpus": ([p for p in after if p.id not in listed], [r for r in rejected_after if r[0] not in listed]),
        "listing days": ([p for p in after if p.id in listed], [r for r in rejected_after if r[0] in listed]),
    }
    return {
        "trained_on": {"papers": len(before), "rejections": len(rejected_before)},
        "relevance_auc_by_kind_of_rejection": _by_kind(entries, after, rejected_after, model),
        "model": {name: _figures(lib.taxonomy, p, r, model) for name, (p, r) in parts.items()},
        "seed_terms_baseline": {name: _figures(lib.taxonomy, p, r, baseline) for name, (p, r) in parts.items()},
    }


if __name__ == "__main__":
    result = run()
    text = json.dumps(result, indent=2)
    (HERE / "results-eval-by-source.json").write_text(text + "\n", encoding="utf-8")
    print(text)
