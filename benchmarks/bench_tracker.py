"""An own tracker's everyday costs: importing BibTeX, and writing into hand-edited paper files.

- `lmdev import` of 2,000 URL entries, and of 500 arXiv entries against a loopback arXiv (no
  spacing), into a new tracker: the whole command, wall time.
- one tag change written into each of 200 shipped paper files, as lmdev writes them (rewritten
  whole) and after a hand edit (a comment and a flow list: written key by key by ruamel.yaml).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from arxiv_server import FakeArxiv  # noqa: E402


def _tracker(tmp: Path) -> Path:
    data = tmp / "data"
    (data / "papers").mkdir(parents=True)
    shutil.copy(REPO / "data" / "taxonomy.yaml", data / "taxonomy.yaml")
    return data


def _import(entries: str, env: dict[str, str], tmp: Path) -> float:
    data = _tracker(tmp)
    bib = tmp / "refs.bib"
    bib.write_text(entries)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lmdev", "--data-dir", str(data), "import", str(bib), "--assumption", "fixed-recipe:relies"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return time.perf_counter() - started


def _writes(hand_edited: bool, count: int = 200) -> float:
    from lmdev.store import Library
    from lmdev.tagging import set_problem

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "data", Path(tmp) / "data")
        lib = Library(Path(tmp) / "data")
        paths = lib.files()[:count]
        if hand_edited:
            for path in paths:
                text = path.read_text()
                path.write_text("# read in week 3\n" + text.replace("problems:\n", "problems:  # what it attacks\n"))
        papers = [lib.read(p).paper for p in paths]
        started = time.perf_counter()
        for paper in papers:
            node = next(n for n in ("integration", "safety", "alignment", "prompting", "efficiency") if n not in paper.problem_ids())
            set_problem(paper, lib.taxonomy, node)
            lib.save(paper)
        return (time.perf_counter() - started) / len(papers)


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LMDEV_CACHE_DIR": str(Path(tmp) / "cache")}
        urls = "".join(f"@article{{key{n}, title={{Study number {n}}}, author={{Doe, Jane and M{{\\\"u}}ller, J.}}, year={{2021}}, url={{https://example.org/{n}}}}}\n" for n in range(2000))
        results["import_2000_url_entries_s"] = round(_import(urls, env, Path(tmp) / "a"), 2)
        ids = [f"2401.{n:05d}" for n in range(500)]
        with FakeArxiv({i: {} for i in ids}) as fake:
            arxiv = "".join(f"@misc{{k{i}, title={{T}}, eprint={{{i}}}, archivePrefix={{arXiv}}}}\n" for i in ids)
            results["import_500_arxiv_entries_s"] = round(_import(arxiv, {**env, "LMDEV_ARXIV_API": fake.url, "LMDEV_ARXIV_DELAY": "0"}, Path(tmp) / "b"), 2)
    results["write_lmdev_file_ms"] = round(_writes(False) * 1000, 2)
    results["write_hand_edited_file_ms"] = round(_writes(True) * 1000, 2)
    return results
