"""Reliability battery, part 5: ``kill -9`` at random moments never leaves a broken library.

Twenty kills land on ``add``, ``refresh`` and ``classify --apply`` while they write, in five
libraries at once (each its own lane), against a loopback arXiv. After every kill each file is
whole, ``check`` finds nothing, and no paper that existed before is gone.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from arxiv_server import FakeArxiv
from fakes import atom_entry, atom_feed
from helpers import SHIPPED
from lmdev.check import check_library
from lmdev.store import Library

LANES = 5
KILLS_PER_LANE = 4  # each command gets killed in more than one lane
NEW_IDS = 150
COMMANDS = (
    ["add", "--from", "{ids}", "--assumption", "end-to-end:relies"],
    ["refresh"],
    ["classify", "--all", "--apply", "--min-score", "0.2"],
)


def _lane_library(folder: Path, stored: list[str]) -> Path:
    (folder / "papers").mkdir(parents=True)
    shutil.copy(SHIPPED / "taxonomy.yaml", folder / "taxonomy.yaml")
    for paper_id in stored:
        shutil.copy(SHIPPED / "papers" / f"{paper_id}.yaml", folder / "papers")
    return folder


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_twenty_kill_9s_during_writes_leave_every_file_whole_and_check_green(tmp_path: Path) -> None:
    stored = sorted(p.stem for p in (SHIPPED / "papers").iterdir() if p.stem[:1].isdigit() and "_" not in p.stem)[:60]
    new = {n: [f"25{n + 1:02d}.{i:05d}" for i in range(NEW_IDS)] for n in range(LANES)}
    rng = random.Random(9)
    delays = [[rng.uniform(0.0, 0.15) for _ in range(KILLS_PER_LANE)] for _ in range(LANES)]
    landed: list[str] = []
    problems: list[str] = []

    known = set(stored) | {i for ids in new.values() for i in ids}
    with FakeArxiv() as fake:

        def answer(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
            version = len(fake.starts) % 9 + 1  # every answer differs, so every run writes
            return 200, {}, atom_feed([atom_entry(i, version=version) for i in params["id_list"].split(",") if i in known])

        fake.answer = answer

        def lane(n: int) -> None:
            root = _lane_library(tmp_path / f"lane{n}", stored)
            papers = root / "papers"
            id_file = tmp_path / f"ids{n}.txt"
            id_file.write_text("\n".join(new[n]) + "\n")
            env = {**os.environ, "LMDEV_ARXIV_API": fake.url, "LMDEV_ARXIV_DELAY": "0", "LMDEV_CACHE_DIR": str(tmp_path / f"cache{n}"), "NO_COLOR": "1"}
            before = {p.name for p in papers.iterdir()}
            for k, delay in enumerate(delays[n]):
                args = [a.replace("{ids}", str(id_file)) for a in COMMANDS[(n + k) % len(COMMANDS)]]
                mark = papers.stat().st_mtime_ns
                proc = subprocess.Popen([sys.executable, "-m", "lmdev", "--data-dir", str(root), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                give_up = time.monotonic() + 60
                while proc.poll() is None and papers.stat().st_mtime_ns == mark and time.monotonic() < give_up:
                    time.sleep(0.005)  # until the first write begins (a temporary file appears)
                time.sleep(delay)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    landed.append(args[0])
                proc.wait(timeout=60)
                count, findings = check_library(Library(root))
                names = {p.name for p in papers.iterdir() if not p.name.startswith(".")}
                if findings:
                    problems.append(f"lane {n}, kill {k} ({args[0]}): {[str(f) for f in findings[:3]]}")
                if not before <= names or count != len(names):
                    problems.append(f"lane {n}, kill {k} ({args[0]}): files lost or unreadable")
                before = names

        threads = [threading.Thread(target=lane, args=(n,)) for n in range(LANES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=110)

    assert not any(t.is_alive() for t in threads)
    assert problems == []
    assert len(landed) >= 10, f"only {len(landed)} of the kills landed while a command wrote"
    assert set(landed) == {"add", "refresh", "classify"}
    for n in range(LANES):
        root = tmp_path / f"lane{n}"
        assert len(list((root / "papers").glob("*.yaml"))) >= len(stored)
