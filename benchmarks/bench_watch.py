"""How long triage takes after the fetch, and how fast `lmdev inbox` answers on a full inbox.

1. `lmdev watch` in a fresh process on the busiest shared day (2026-05-12, 616 papers) against a
   loopback stand-in of arXiv's listing feed, so the fetch costs next to nothing: parse, drop the
   known papers, classify the rest, write one inbox file each. With the model already in the cache
   (what a second run of the day, or a CI job that caches ~/.cache/lmdev, sees) and cold (the model
   trained first). Target: under 3 s, start-up included.
2. `lmdev inbox` on 5,000 waiting papers (real titles and abstracts from the shared days, with
   made-up ids and scores): the first run after the files changed (every file parsed, the index
   built) and the next (the index read). Target: under 1 s.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))

from bench_classify import lmdev_env  # noqa: E402

from listing_feed import LISTINGS, FakeFeed, load_day  # noqa: E402

BUSIEST = LISTINGS / "2026-05-12.jsonl"
INBOX_SIZE = 5000


CPU: list[float] = []  # CPU seconds (user + system) of each timed process, beside its wall time


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one process (start-up included), and its last line on stderr. Its CPU
    seconds go to ``CPU``: on a shared machine they vary far less than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: {proc.stderr}")
    return wall, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""


def bench_triage(runs: int = 3) -> dict[str, Any]:
    records = load_day(BUSIEST)
    with tempfile.TemporaryDirectory() as tmp, FakeFeed(records) as feed:
        data = Path(tmp) / "data"
        shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("inbox"))
        env = {**lmdev_env(Path(tmp) / "cache"), "LMDEV_ARXIV_RSS": feed.url, "LMDEV_ARXIV_DELAY": "0"}
        env.pop("LMDEV_DATA_DIR", None)
        cmd = [sys.executable, "-m", "lmdev", "--data-dir", str(data), "watch"]
        cold, summary = timed(cmd, env)
        cold_cpu = CPU[-1]
        warm, warm_cpu = [], []
        for _ in range(runs):
            shutil.rmtree(data / "inbox")
            wall, summary = timed(cmd, env)
            warm.append(wall)
            warm_cpu.append(CPU[-1])
        files = len(list((data / "inbox").glob("*.yaml")))
    return {
        "papers": len(records), "inbox_files": files, "requests_per_run": len(feed.paths) // (runs + 1),
        "warm_model_s": [round(w, 2) for w in warm], "warm_best_s": round(min(warm), 2), "warm_best_cpu_s": round(min(warm_cpu), 2),
        "cold_model_s": round(cold, 2), "cold_model_cpu_s": round(cold_cpu, 2), "summary": summary,
    }


def fill(data: Path, n: int, seed: int = 0) -> None:
    from lmdev.inbox import Inbox, InboxItem

    rng = random.Random(seed)
    records = [r for day in sorted(LISTINGS.glob("*.jsonl")) for r in load_day(day)]
    problems = ["architecture", "objective", "optimization", "scaling", "prompting", "efficiency", "alignment", "safety", "integration"]
    assumptions = ["fixed-recipe", "out-of-the-box", "cost-irrelevant", "more-compute"]
    items = []
    for i in range(n):
        r = records[i % len(records)]
        chosen = rng.sample(problems, 2)
        relevance = round(rng.random(), 3)
        items.append(InboxItem.model_validate({
            "id": f"2612.{i + 1:05d}", "title": r["title"], "authors": r["authors"], "abstract": r["abstract"],
            "primary_category": r["primary_category"], "categories": r["categories"], "announced": "new",
            "listed": r["listing_date"], "seen": r["listing_date"], "relevance": relevance, "primary": chosen[0],
            "problems": [{"id": chosen[0], "score": relevance}, {"id": chosen[1], "score": round(relevance / 2, 3)}],
            "assumptions": [{"id": rng.choice(assumptions), "stance": "relies", "score": 0.5}],
            "reasons": [f"terms: {' '.join(r['title'].split()[:3])}"],
        }))
    Inbox(data).add(items)


def bench_inbox(runs: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("inbox"))
        fill(data, INBOX_SIZE)
        env = lmdev_env(Path(tmp) / "cache")
        env.pop("LMDEV_DATA_DIR", None)
        base = [sys.executable, "-m", "lmdev", "--data-dir", str(data), "inbox"]
        first, _ = timed([*base, "--format", "json"], env)
        first_cpu = CPU[-1]
        commands = {"json": ["--format", "json"], "text_top20": ["--limit", "20"], "gaps_top20": ["--sort", "gaps", "--limit", "20"], "help": None}
        wall: dict[str, list[float]] = {k: [] for k in commands}
        cpu: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(runs):
            for name, args in commands.items():
                cmd = [*base, *args] if args is not None else [sys.executable, "-m", "lmdev", "--help"]
                wall[name].append(timed(cmd, env)[0])
                cpu[name].append(CPU[-1])
    return {
        "waiting": INBOX_SIZE,
        "first_run_index_built_s": round(first, 2), "first_run_index_built_cpu_s": round(first_cpu, 2),
        **{f"{k}_best_s": round(min(v), 2) for k, v in wall.items()},
        **{f"{k}_best_cpu_s": round(min(v), 2) for k, v in cpu.items()},
    }


def run() -> dict[str, Any]:
    before = [round(x, 2) for x in os.getloadavg()]
    triage, inbox = bench_triage(), bench_inbox()
    return {"triage_busiest_day": triage, "inbox_5000": inbox, "load_average_before_after": [before, [round(x, 2) for x in os.getloadavg()]]}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
