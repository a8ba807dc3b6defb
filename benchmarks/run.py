"""Run every benchmark and print one JSON document: `python benchmarks/run.py [NAME...]`.

Names: arxiv, classify, tracker, watch, triage (the held-out triage evaluation, docs/watch.md), scale. Results are written up, with the machine, in docs/performance.md.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = {"arxiv": "bench_arxiv", "classify": "bench_classify", "tracker": "bench_tracker", "watch": "bench_watch", "triage": "triage_eval", "scale": "bench_scale"}


def main(names: list[str]) -> None:
    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
    }
    for name in names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        print(f"running {name} ...", file=sys.stderr)
        report[name] = module.run()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
