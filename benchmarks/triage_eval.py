"""How well `lmdev watch` triages days it never trained on, against a plain keyword filter.

    python benchmarks/triage_eval.py                      # the four held-out days, and pooled
    python benchmarks/triage_eval.py --day DAY.jsonl      # any judged day

A day's decisions are the truth: those in benchmarks/judged/DAY.yaml (days judged for evaluation
only, never shipped in data/) or else the library's (accepted papers in data/papers, rejections
in data/rejected.yaml). The tracker is copied without any paper or rejection of the day, so the
model is trained as if the day had never been seen; then the day goes through the real pipeline: a loopback
stand-in of arXiv's listing feed serves it as RSS, `lmdev watch` fills the inbox (one request),
`lmdev inbox --format json` ranks it. Figures, with Wilson 95 % intervals:

- top 20: the share of the inbox's first 20 papers that were accepted (target >= 85 %);
- top 2N: the share of the N accepted papers that rank within the first 2N (target >= 85 %);
- top problem: the share of accepted papers whose top suggested problem is their primary (>= 80 %).

The baseline is what users build by hand: "language model" or "LLM" in title or abstract, in
listing order. Results go to stdout (JSON with --format json) and benchmarks/results-triage.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))

from listing_feed import LISTINGS, FakeFeed, load_day  # noqa: E402

HELD_OUT = [LISTINGS / f"{day}.jsonl" for day in ("2026-02-21", "2026-01-12", "2026-06-29", "2026-04-02")]
JUDGED = HERE / "judged"
KEYWORDS = re.compile(r"language model|\bLLMs?\b", re.IGNORECASE)


def wilson(hits: int, n: int, z: float = 1.96) -> list[float]:
    if n == 0:
        return [0.0, 0.0]
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)]


class BadInput(Exception):
    """A day or its decisions could not be read: one line naming the file, no traceback."""


def truth(data: Path, ids: set[str], day: str = "") -> tuple[dict[str, str], set[str]]:
    """The day's decisions: accepted id -> primary problem, and the rejected ids."""
    import yaml

    from lmdev import decisions
    from lmdev.store import Library

    judged = JUDGED / f"{day}.yaml"
    if day and judged.exists():
        try:
            items = yaml.safe_load(judged.read_text(encoding="utf-8"))
            accepted = {str(d["id"]): d["primary"] for d in items if d["decision"] == "accept"}
            return accepted, {str(d["id"]) for d in items if d["decision"] == "reject"} & ids
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise BadInput(f"{judged}: not a list of decisions ({type(exc).__name__}: {' '.join(str(exc).split())})") from None

    lib = Library(data)
    accepted = {p.id: p.primary or (p.problem_ids() or ["-"])[0] for p in lib.papers() if p.id in ids}
    rejected = {e.rejection.id for e in decisions.load(data)} & ids
    return accepted, rejected


def training_copy(data: Path, ids: set[str], target: Path) -> None:
    """The tracker without any paper or rejection of the day (and without an inbox)."""
    from lmdev import decisions
    from lmdev.ids import id_from_stem

    shutil.copytree(data, target, ignore=shutil.ignore_patterns("inbox"))
    for path in (target / "papers").iterdir():
        if id_from_stem(path.stem) in ids:
            path.unlink()
    rejected = decisions.path_for(target)
    if rejected.exists():
        kept = [line for line in rejected.read_text(encoding="utf-8").split("\n") if not any(f"id: '{i}'" in line or f"id: {i}," in line for i in ids)]
        rejected.write_text("\n".join(kept), encoding="utf-8")
        left = {e.rejection.id for e in decisions.load(target)} & ids
        assert not left, f"rejections of the day left in the training copy: {sorted(left)[:5]}"


def run_pipeline(records: list[dict[str, Any]], data: Path, cache: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    with FakeFeed(records) as feed:
        env = {**os.environ, "LMDEV_ARXIV_RSS": feed.url, "LMDEV_CACHE_DIR": str(cache), "LMDEV_ARXIV_DELAY": "0", "NO_COLOR": "1"}
        env.pop("LMDEV_DATA_DIR", None)
        base = [sys.executable, "-m", "lmdev", "--data-dir", str(data)]
        watched = subprocess.run([*base, "watch", "--format", "json"], env=env, capture_output=True, text=True)
        if watched.returncode not in (0, 1):
            raise SystemExit(f"lmdev watch failed: {watched.stderr}")
        assert len(feed.paths) == 1, f"watch made {len(feed.paths)} requests"
        listed = subprocess.run([*base, "inbox", "--format", "json"], env=env, capture_output=True, text=True, check=True)
    summary = json.loads(watched.stdout)
    for volatile in ("added", "source"):  # every paper again; the loopback's random port
        summary.pop(volatile, None)
    return json.loads(listed.stdout), summary


def figures(ranked: list[str], accepted: dict[str, str], tops: dict[str, str] | None, suggested: dict[str, list[str]] | None = None) -> dict[str, Any]:
    n = len(accepted)
    top20 = ranked[:20]
    hits20 = sum(i in accepted for i in top20)
    within = sum(i in accepted for i in ranked[: 2 * n])
    out: dict[str, Any] = {
        "ranked": len(ranked),
        "top20_accepted": hits20,
        "top20_share": round(hits20 / len(top20), 3) if top20 else 0.0,
        "top20_ci95": wilson(hits20, len(top20)),
        "accepted_within_top_2n": within,
        "top_2n_share": round(within / n, 3) if n else 0.0,
        "top_2n_ci95": wilson(within, n),
    }
    if tops is not None:
        right = sum(tops.get(i) == p for i, p in accepted.items())
        out.update(top_problem_right=right, top_problem_share=round(right / n, 3) if n else 0.0, top_problem_ci95=wilson(right, n))
    if suggested is not None:  # not a target: is the judged primary at least among the suggestions?
        among = sum(p in suggested.get(i, ()) for i, p in accepted.items())
        out.update(primary_suggested=among, primary_suggested_share=round(among / n, 3) if n else 0.0)
    return out


def evaluate(day: Path, data: Path) -> dict[str, Any]:
    try:
        records = load_day(day)
    except (OSError, ValueError) as exc:
        raise BadInput(f"{day}: {getattr(exc, 'strerror', None) or exc}") from None
    ids = {r["arxiv_id"] for r in records}
    accepted, rejected = truth(data, ids, day.stem)
    with tempfile.TemporaryDirectory() as tmp:
        train = Path(tmp) / "data"
        training_copy(data, ids, train)
        inbox, summary = run_pipeline(records, train, Path(tmp) / "cache")
    ranked = [item["id"] for item in inbox]
    tops = {item["id"]: item["primary"] or (item["problems"][0]["id"] if item["problems"] else None) for item in inbox}
    suggested = {item["id"]: [p["id"] for p in item["problems"]] for item in inbox}
    keyword = [r["arxiv_id"] for r in records if KEYWORDS.search(r["title"]) or KEYWORDS.search(r.get("abstract") or "")]
    baseline = figures(keyword, accepted, None)
    baseline.update(precision=round(sum(i in accepted for i in keyword) / len(keyword), 3) if keyword else 0.0, recall=round(sum(i in accepted for i in keyword) / len(accepted), 3) if accepted else 0.0)
    return {
        "day": day.name,
        "papers": len(records),
        "accepted": len(accepted),
        "rejected": len(rejected),
        "unjudged": len(ids - set(accepted) - rejected),
        "base_rate": round(len(accepted) / len(records), 3) if records else 0.0,
        "watch": summary,
        "lmdev": figures(ranked, accepted, tops, suggested),
        "keyword_filter": baseline,
        "floors": floors(inbox, accepted),
        "targets": TARGETS,
    }


TARGETS = {"top20_share": 0.85, "top_2n_share": 0.85, "top_problem_share": 0.80}
FLOORS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)  # relevance floors of `watch --min-relevance`


def floors(inbox: list[dict[str, Any]], accepted: dict[str, str]) -> list[dict[str, Any]]:
    """Per relevance floor, the papers `watch --min-relevance` would keep out of the inbox, and
    how many of them the judges accepted: what a floor saves, and what it costs."""
    return [{"floor": f, "left_out": sum(i["relevance"] < f for i in inbox), "accepted_lost": sum(i["relevance"] < f and i["id"] in accepted for i in inbox)} for f in FLOORS]


def pooled(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The days' figures added up: a top 20 of 20 papers per day, and every accepted paper once."""
    def pool(key: str) -> dict[str, Any]:
        parts = [r[key] for r in results]
        shown = sum(min(20, p["ranked"]) for p in parts)
        n = sum(r["accepted"] for r in results)
        hits, within = sum(p["top20_accepted"] for p in parts), sum(p["accepted_within_top_2n"] for p in parts)
        out: dict[str, Any] = {"top20_accepted": hits, "top20_shown": shown, "top20_share": round(hits / shown, 3) if shown else 0.0, "top20_ci95": wilson(hits, shown), "accepted_within_top_2n": within, "top_2n_share": round(within / n, 3) if n else 0.0, "top_2n_ci95": wilson(within, n)}
        if "top_problem_right" in parts[0]:
            right = sum(p["top_problem_right"] for p in parts)
            out.update(top_problem_right=right, top_problem_share=round(right / n, 3) if n else 0.0, top_problem_ci95=wilson(right, n))
        if "primary_suggested" in parts[0]:
            among = sum(p["primary_suggested"] for p in parts)
            out.update(primary_suggested=among, primary_suggested_share=round(among / n, 3) if n else 0.0)
        return out

    left = [{"floor": f, "left_out": sum(r["floors"][k]["left_out"] for r in results), "accepted_lost": sum(r["floors"][k]["accepted_lost"] for r in results)} for k, f in enumerate(FLOORS)]
    return {"days": [r["day"] for r in results], "papers": sum(r["papers"] for r in results), "accepted": sum(r["accepted"] for r in results), "lmdev": pool("lmdev"), "keyword_filter": pool("keyword_filter"), "floors": left, "targets": TARGETS}


def _text(result: dict[str, Any]) -> str:
    m, k = result["lmdev"], result["keyword_filter"]
    if "days" in result:
        head = f"pooled over {', '.join(result['days'])}: {result['papers']} papers, {result['accepted']} accepted"
    else:
        head = f"{result['day']}: {result['papers']} papers, {result['accepted']} accepted, {result['rejected']} rejected, {result['unjudged']} unjudged (base rate {result['base_rate']:.0%})"
    lines = [
        head,
        f"{'':28} {'lmdev':>16} {'keyword filter':>16}   target",
        f"{'top 20 accepted':28} {m['top20_share']:>15.0%} {k['top20_share']:>16.0%}   >= 85%",
        f"{'accepted within top 2N':28} {m['top_2n_share']:>15.0%} {k['top_2n_share']:>16.0%}   >= 85%",
        f"{'top problem = primary':28} {m['top_problem_share']:>15.0%} {'-':>16}   >= 80%",
        f"{'primary among suggested':28} {m['primary_suggested_share']:>15.0%} {'-':>16}   (not a target)",
    ]
    if "precision" in k:
        lines.append(f"keyword filter: {k['ranked']} matches, precision {k['precision']:.0%}, recall {k['recall']:.0%}")
    lines.append("watch --min-relevance: " + "; ".join(f"{f['floor']:g} leaves out {f['left_out']} ({f['left_out'] / result['papers']:.0%}), {f['accepted_lost']} accepted" for f in result["floors"]))
    return "\n".join(lines)


def run(days: list[Path] | None = None, data: Path = REPO / "data") -> dict[str, Any]:
    """Each day's figures, and (for more than one day) the pooled ones."""
    results = [evaluate(day, data) for day in days or HELD_OUT]
    if len(results) == 1:
        return results[0]
    return {"held_out": results, "pooled": pooled(results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--day", type=Path, action="append", help="a judged listing day (JSONL; repeatable; default: the held-out days)")
    parser.add_argument("--data", type=Path, default=REPO / "data", help="the tracker holding the day's decisions")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--save", default=str(HERE / "results-triage.json"), help="where to keep the JSON result ('' to skip)")
    args = parser.parse_args()
    try:
        result = run(args.day, args.data)
    except BadInput as exc:
        raise SystemExit(f"triage_eval: error: {exc}") from None
    if args.save:
        Path(args.save).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        print("\n\n".join(_text(r) for r in [*result.get("held_out", [result]), *([result["pooled"]] if "pooled" in result else [])]))


if __name__ == "__main__":
    main()
