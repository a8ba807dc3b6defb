"""Build lmdev's background of ordinary arXiv text (src/lmdev/classifier/background.txt.gz).

    python tools/build_background.py DATA_DIR LISTING.jsonl [LISTING.jsonl ...]

Reads arXiv listing files (JSONL records with arxiv_id, title, abstract) and keeps every paper
that DATA_DIR's tracker has not judged (neither a paper file nor a rejection) and that no day in
benchmarks/judged/ decides, so the background never holds a labelled paper, nor one the triage
benchmark holds out. It stores raw titles and abstracts, so a change of tokenizer needs no rebuild.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from lmdev import decisions
from lmdev.classifier.background import BACKGROUND_FILE, build
from lmdev.store import Library


def main(argv: list[str]) -> None:
    data_dir = Path(argv[0])
    judged = {p.id for p in Library(data_dir).papers()} | decisions.rejected_ids(data_dir)
    for day in (Path(__file__).resolve().parent.parent / "benchmarks" / "judged").glob("*.yaml"):
        judged |= {str(item["id"]) for item in yaml.safe_load(day.read_text(encoding="utf-8"))}
    records = [json.loads(line) for name in argv[1:] for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    source = "arXiv listings " + ", ".join(Path(name).stem for name in argv[1:])
    text = build(records, judged, source)
    with gzip.GzipFile(BACKGROUND_FILE, "wb", mtime=0) as handle:
        handle.write(text.encode("utf-8"))
    print(f"{BACKGROUND_FILE}: {text.count(chr(10)) - 1} papers", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
