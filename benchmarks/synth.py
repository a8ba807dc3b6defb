"""Synthetic libraries for the scale benchmark: N valid paper files built from the shipped ones.

Each file takes a shipped paper's title, authors and abstract, and gets its own arXiv id (from a
date in 2013-2026), a unique title suffix, and random but valid tags (1-3 problems with a primary,
1-3 assumptions with stances; some tagged by the classifier with a score). No DOI, so the only
duplicates are none; half keep a citekey, half get one at export time.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "data"

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _templates() -> list[dict[str, Any]]:
    out = []
    for path in sorted((SHIPPED / "papers").glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        out.append({k: data[k] for k in ("title", "authors", "abstract", "categories", "primary_category", "comment") if k in data})
    return out


def _taxonomy_ids() -> tuple[list[str], list[str]]:
    tax = yaml.safe_load((SHIPPED / "taxonomy.yaml").read_text(encoding="utf-8"))
    return [p["id"] for p in tax["problems"]], [a["id"] for a in tax["assumptions"]]


def paper(n: int, templates: list[dict[str, Any]], problems: list[str], assumptions: list[str]) -> dict[str, Any]:
    """The n-th synthetic paper: deterministic in n."""
    rng = random.Random(n)
    template = templates[n % len(templates)]
    day = dt.date(2013, 1, 1) + dt.timedelta(days=rng.randrange(0, 14 * 365))
    data: dict[str, Any] = {"id": f"{day:%y%m}.{n % 100_000:05d}" if n < 100_000 else f"{day:%y%m}.{n:06d}"}
    data["title"] = f"{template['title']} (variant {n})"
    data.update({k: v for k, v in template.items() if k != "title"})
    data["published"] = day
    if n % 2:
        data["citekey"] = f"synthetic{n}"
    chosen = rng.sample(problems, rng.randint(1, 3))
    data["primary"] = chosen[0]
    data["problems"] = [_tag(rng, {"id": p}) for p in chosen]
    data["assumptions"] = [_tag(rng, {"id": a, "stance": rng.choice(("relies", "relies", "supports", "challenges"))}) for a in rng.sample(assumptions, rng.randint(1, 3))]
    if rng.random() < 0.05:
        data["notes"] = f"Synthetic note {n}: read against the essay."
    return data


def _tag(rng: random.Random, tag: dict[str, Any]) -> dict[str, Any]:
    if rng.random() < 0.2:
        tag["by"] = "classifier"
        tag["score"] = round(rng.uniform(0.3, 0.99), 3)
    else:
        tag["by"] = "person"
    return tag


def _file_name(paper_id: str) -> str:
    return paper_id.replace("/", "_") + ".yaml"


def _write_range(args: tuple[int, int, str]) -> int:
    start, end, folder = args
    templates = _templates()
    problems, assumptions = _taxonomy_ids()
    out = Path(folder)
    for n in range(start, end):
        data = paper(n, templates, problems, assumptions)
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
        (out / _file_name(data["id"])).write_text(text, encoding="utf-8")
    return end - start


def build(size: int, data_dir: Path, workers: int = 2) -> Path:
    """A data directory at ``data_dir`` with the shipped taxonomy and ``size`` synthetic papers."""
    papers = data_dir / "papers"
    papers.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHIPPED / "taxonomy.yaml", data_dir / "taxonomy.yaml")
    step = max(1, -(-size // (workers * 8)))
    chunks = [(s, min(size, s + step), str(papers)) for s in range(0, size, step)]
    if workers > 1 and size > 2000:
        with multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn").Pool(workers) as pool:
            pool.map(_write_range, chunks)
    else:
        for chunk in chunks:
            _write_range(chunk)
    return data_dir


if __name__ == "__main__":
    build(int(sys.argv[1]), Path(sys.argv[2]))
