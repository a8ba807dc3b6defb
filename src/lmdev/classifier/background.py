"""A background of ordinary arXiv text, shipped with lmdev, that relevance is measured against.

The taxonomy says what the tracker is about; the background says what arXiv publishes every
day. The classifier's relevance is calibrated by contrasting the tracker's papers with these,
so that a paper needs more than one vision or robotics word to look relevant. The file holds the
titles and abstracts of about two thousand papers from arXiv's cs.CL and cs.CV daily listings
(with their cross-lists; arXiv metadata is CC0), none of them judged by the shipped tracker, as
JSON lines after a header line. ``tools/build_background.py`` builds it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

BACKGROUND_FILE = Path(__file__).with_name("background.jsonl.gz")


def build(records: Iterable[dict[str, str]], exclude: set[str], source: str) -> str:
    """The background file's text: a JSON header line, then one JSON line per paper."""
    lines = [json.dumps({"id": r["arxiv_id"], "title": r["title"], "abstract": r.get("abstract") or ""}, ensure_ascii=False) for r in records if r["arxiv_id"] not in exclude]
    header = {"papers": len(lines), "source": source}
    return json.dumps(header) + "\n" + "\n".join(lines) + "\n"


@lru_cache(maxsize=2)
def load(path: Path = BACKGROUND_FILE) -> tuple[tuple[str, str, str], ...]:
    """(id, title, abstract) of every background paper."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        handle.readline()
        rows = [json.loads(line) for line in handle if line.strip()]
    return tuple((r["id"], r["title"], r["abstract"]) for r in rows)


def version(path: Path = BACKGROUND_FILE) -> str:
    """The header line: part of the model cache's fingerprint."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return handle.readline().strip()
