"""Bulk classification of 100k abstracts, a day's listing (600 papers, start-up included), and
one paper with a warm model cache.

The 100k abstracts are synthesised from the shipped corpus: each record takes a real title
and splices sentences from a few real abstracts, so vocabulary and length match real input.
scikit-learn's TfidfVectorizer + LinearSVC, trained on the shipped tags, predict the same input
in the same run as the reference (run `pip install scikit-learn` first; it is skipped if absent).
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS_SIZE = 100_000


def synthesise(path: Path, n: int = CORPUS_SIZE, seed: int = 0) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from lmdev.store import Library

    papers = [p for p in Library(REPO / "data").papers() if p.abstract]
    sentences = [s for p in papers for s in re.split(r"(?<=\.)\s+", p.abstract) if len(s) > 40]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            title = rng.choice(papers).title
            abstract = " ".join(rng.choice(sentences) for _ in range(rng.randint(5, 9)))
            out.write(json.dumps({"arxiv_id": f"9{i // 100000:01d}{(i // 1000) % 100:02d}.{i % 100000:05d}", "title": title, "abstract": abstract}) + "\n")


def lmdev_env(cache: Path) -> dict[str, str]:
    """The environment of a timed lmdev: a private cache, and bytecode written and read as an
    installed lmdev has it (PYTHONDONTWRITEBYTECODE, set in some sandboxes, would make every run
    compile lmdev's sources again: a quarter of a second of a one-paper run)."""
    env = {**os.environ, "LMDEV_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "lmdev")], env=env, check=False)
    return env


def timed(cmd: list[str], env: dict[str, str], stdout: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of the largest process the command ran."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    with stdout.open("w") as handle:
        proc = subprocess.run(cmd, env=env, stdout=handle, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def sklearn_reference(corpus: Path) -> dict[str, float] | None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return None
    code = f"""
import json, sys, time
sys.path.insert(0, {str(REPO / 'src')!r})
t0 = time.perf_counter()
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC
from lmdev.store import Library
papers = Library(__import__('pathlib').Path({str(REPO / 'data')!r})).papers()
texts = [p.title + '. ' + p.title + '. ' + p.abstract for p in papers]
labels = [p.problem_ids() + list(p.assumption_stances()) for p in papers]
binarizer = MultiLabelBinarizer(); y = binarizer.fit_transform(labels)
vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
clf = OneVsRestClassifier(LinearSVC()).fit(vectorizer.fit_transform(texts), y)
t1 = time.perf_counter()
rows = [json.loads(line) for line in open({str(corpus)!r})]
docs = [r['title'] + '. ' + r['title'] + '. ' + r['abstract'] for r in rows]
t2 = time.perf_counter()
scores = clf.decision_function(vectorizer.transform(docs))
t3 = time.perf_counter()
print(json.dumps({{"import_and_train_s": t1 - t0, "read_s": t2 - t1, "vectorize_and_predict_s": t3 - t2}}))
"""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": proc.stderr[-300:]}  # type: ignore[dict-item]
    return {**{k: round(v, 2) for k, v in json.loads(proc.stdout).items()}, "wall_s": round(wall, 2)}


CPU_CODE = """
import json, os, statistics, sys, time
from pathlib import Path
sys.path.insert(0, {src!r})
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC
from lmdev.classifier import bulk
from lmdev.classifier.modelcache import load_model
from lmdev.classifier.records import parse_record
from lmdev.store import Library
lines = Path({corpus!r}).read_bytes().split(b"\\n")[:{n}]
lib = Library(Path({data!r}))
model = load_model(lib)
papers = lib.papers()
texts = [p.title + '. ' + p.title + '. ' + p.abstract for p in papers]
labels = [p.problem_ids() + list(p.assumption_stances()) for p in papers]
vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
clf = OneVsRestClassifier(LinearSVC()).fit(vectorizer.fit_transform(texts), MultiLabelBinarizer().fit_transform(labels))
def lmdev(fmt):
    start = time.process_time()
    for number, line in enumerate(lines):
        bulk.classify_one(model, parse_record(line, "corpus", number), fmt)
    return (time.process_time() - start) / len(lines) * 1e6
def sklearn():
    start = time.process_time()
    rows = [json.loads(line) for line in lines]
    clf.decision_function(vectorizer.transform([r['title'] + '. ' + r['title'] + '. ' + r['abstract'] for r in rows]))
    return (time.process_time() - start) / len(lines) * 1e6
lmdev("json")  # the stem memo warms up, as it does in a long run
runs = {{"sklearn": [], "text": [], "json": []}}
load = [os.getloadavg()[0]]
for _ in range({rounds}):
    for name in runs:
        runs[name].append(sklearn() if name == "sklearn" else lmdev(name))
load.append(os.getloadavg()[0])
out = {{k + "_us": [round(min(v)), round(statistics.median(v))] for k, v in runs.items()}}
for name in ("text", "json"):
    out[name + "_vs_sklearn"] = round(statistics.median(a / b for a, b in zip(runs[name], runs["sklearn"])), 2)
out["load_1min_before_after"] = [round(x, 2) for x in load]
print(json.dumps(out))
"""


def cpu_per_abstract(corpus: Path, env: dict[str, str], n: int = 2000, rounds: int = 5) -> dict[str, object] | None:
    """CPU microseconds per abstract in one process, the three interleaved round by round
    (scikit-learn vectorise and predict, lmdev text, lmdev JSON): [best, median] of each, and the
    median of the per-round ratios. On a shared host this is steadier than wall-clock ratios of
    commands run one after the other, which the external load can move by a factor of two."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return None
    code = CPU_CODE.format(src=str(REPO / "src"), corpus=str(corpus), data=str(REPO / "data"), n=n, rounds=rounds)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"error": proc.stderr[-300:]}
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def run() -> dict[str, object]:
    lmdev = [sys.executable, "-m", "lmdev", "--data-dir", str(REPO / "data")]
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        env = lmdev_env(tmpdir / "cache")
        corpus = tmpdir / "corpus.jsonl"
        synthesise(corpus)
        cold, _ = timed([*lmdev, "classify", "2307.03172", "--retrain"], env, tmpdir / "one.txt")
        warm = min(timed([*lmdev, "classify", "2307.03172"], env, tmpdir / "one.txt")[0] for _ in range(5))
        day = tmpdir / "day.jsonl"
        synthesise(day, 600, seed=1)
        triage = min(timed([*lmdev, "classify", "--input", str(day)], env, tmpdir / "day.txt")[0] for _ in range(3))
        bulk_text, rss_text = timed([*lmdev, "classify", "--input", str(corpus)], env, tmpdir / "out.txt")
        bulk_json, rss_json = timed([*lmdev, "classify", "--input", str(corpus), "--format", "json"], env, tmpdir / "out.json")
        lines = sum(1 for _ in (tmpdir / "out.txt").open())
        load_bulk = [round(x, 2) for x in os.getloadavg()]
        reference = sklearn_reference(corpus)
        cpu = cpu_per_abstract(corpus, env)
        predict = reference.get("vectorize_and_predict_s") if reference else None
        return {
            "records": CORPUS_SIZE,
            "classified": lines,
            "bulk_text_s": round(bulk_text, 2),
            "bulk_json_s": round(bulk_json, 2),
            "bulk_json_mb": round((tmpdir / "out.json").stat().st_size / 2**20, 1),
            "peak_rss_mib": round(max(rss_text, rss_json), 1),
            "one_paper_cold_s": round(cold, 3),
            "one_paper_warm_s": round(warm, 3),
            "day_of_600_text_s": round(triage, 2),
            "sklearn_reference": reference,
            "json_vs_sklearn": round(bulk_json / predict, 2) if isinstance(predict, float) else None,
            "text_vs_sklearn": round(bulk_text / predict, 2) if isinstance(predict, float) else None,
            "cpu_per_abstract_one_process": cpu,
            "load_average_after_bulk_runs": load_bulk,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
