"""How long `lmdev add` takes for 10, 100 and 1,000 ids against a loopback arXiv.

The server answers at once, so the wall time is the rate limit (LMDEV_ARXIV_DELAY, 3 s by
default, as arXiv asks) times the number of requests after the first, plus lmdev's own work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from arxiv_server import FakeArxiv  # noqa: E402


def run(sizes: tuple[int, ...] = (10, 100, 1000), delay: float = 3.0) -> list[dict[str, float]]:
    rows = []
    for size in sizes:
        ids = [f"2401.{n:05d}" for n in range(size)]
        with tempfile.TemporaryDirectory() as tmp, FakeArxiv({i: {} for i in ids}) as fake:
            data = Path(tmp) / "data"
            (data / "papers").mkdir(parents=True)
            (data / "taxonomy.yaml").write_bytes((REPO / "data" / "taxonomy.yaml").read_bytes())
            id_file = Path(tmp) / "ids.txt"
            id_file.write_text("\n".join(ids) + "\n")
            env = {**os.environ, "LMDEV_ARXIV_API": fake.url, "LMDEV_ARXIV_DELAY": str(delay), "LMDEV_CACHE_DIR": str(Path(tmp) / "cache")}
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "lmdev", "--data-dir", str(data), "add", "--from", str(id_file), "--assumption", "fixed-recipe:relies"], env=env, capture_output=True, text=True)
            wall = time.perf_counter() - started
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            gaps = [b - a for a, b in zip(fake.starts, fake.starts[1:])]
            rows.append({"ids": size, "requests": len(fake.starts), "wall_s": round(wall, 2), "min_gap_s": round(min(gaps), 3) if gaps else None, "files": len(list((data / "papers").iterdir()))})
    return rows


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
