"""Every read command on 1k, 10k and 100k-paper libraries, cold and warm, beside a bare parse.

`python benchmarks/bench_scale.py [SIZE ...] [--keep DIR] [--warm-only]` (or `python benchmarks/run.py scale`).

For each size it builds a valid library from the shipped papers (benchmarks/synth.py) with 5,000
papers waiting in its inbox (benchmarks/bench_watch.py's ``fill``), then runs, each as a fresh
process with wall time, CPU time and peak memory (ru_maxrss of that child), and the 1-minute load
average just before it (the machine is shared):

- bare: a plain loop reading every paper file and parsing it with yaml.CSafeLoader (the floor),
  and the same over the paper and inbox files, which are what ``check`` reads;
- cold: every command with no index (the cache directory emptied first);
- warm: every command with the index present and one paper file changed since it was built
  (best of two runs, each after a fresh edit).

--keep DIR keeps the generated libraries in DIR and reuses them on the next run. --warm-only
times only ``check`` cold (it builds the index) and every command warm: at 100k papers a cold
build before every command takes hours on a busy 2-core machine.

lmdev's own modules are compiled to bytecode first and the children may write bytecode, as in an
installed lmdev (a PYTHONDONTWRITEBYTECODE=1 environment would otherwise recompile them on every
run, about 0.15 s of CPU per command).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

BARE = """
import sys, yaml
from pathlib import Path
loader = yaml.CSafeLoader
for folder in sys.argv[1:]:
    for path in sorted(Path(folder).iterdir()):
        yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
"""


def measure(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds, CPU seconds and peak resident memory (MB) of one command run as a child
    process, with the 1-minute load average just before it."""
    load = round(os.getloadavg()[0], 1)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {err.decode()[-500:]}")
    # CPU seconds (user + system, the process and its workers) say more than wall time on a busy host.
    cpu = usage.ru_utime + usage.ru_stime
    return {"s": round(wall, 3), "cpu": round(cpu, 3), "mb": round(usage.ru_maxrss / 1024, 1), "load": load}


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda r: r["s"])


def _edited(text: str) -> str:
    """The same paper with its title changed: one file to re-read."""
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    data["title"] = f"{data['title']} (edited)"
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=100)


def commands(lib: Path, out: Path, paper_id: str) -> dict[str, list[str]]:
    return {
        "check": ["check"],
        "list": ["list"],
        "list --problem --year": ["list", "--problem", "efficiency", "--year", "2025"],
        "list --text": ["list", "--text", "attention"],
        "coverage": ["coverage", "--format", "json"],
        "show": ["show", paper_id],
        "reading-list": ["reading-list", "efficiency"],
        "export bibtex": ["export", "--format", "bibtex"],
        "export json": ["export", "--format", "json"],
        "report": ["report", "--html", str(out / "site")],
        "check --changed": ["check", "--changed"],
        "inbox": ["inbox", "--limit", "20"],
        "inbox --format json": ["inbox", "--format", "json"],
    }


def library(size: int, keep: Path | None, tmp: Path) -> Path:
    root = (keep or tmp) / f"lib{size}"
    papers = root / "papers"
    if papers.is_dir() and sum(1 for _ in papers.iterdir()) == size:
        return root
    shutil.rmtree(root, ignore_errors=True)
    synth.build(size, root)
    return root


def _inbox(root: Path) -> None:
    """5,000 waiting papers, as bench_watch times them."""
    if (root / "inbox").is_dir():
        return
    sys.path.insert(0, str(HERE.parent / "src"))
    import bench_watch

    bench_watch.fill(root, bench_watch.INBOX_SIZE)


def one_size(size: int, keep: Path | None, warm_only: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lmdev-scale-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        lib = library(size, keep, tmp)
        _inbox(lib)
        built = time.perf_counter() - started
        cache = tmp / "cache"
        env = {**os.environ, "LMDEV_CACHE_DIR": str(cache), "NO_COLOR": "1"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        lmdev = [sys.executable, "-m", "lmdev", "--data-dir", str(lib)]
        names = sorted(p.name for p in (lib / "papers").iterdir())
        changed = lib / "papers" / names[len(names) // 2]
        paper_id = changed.stem.replace("_", "/")
        bare = measure([sys.executable, "-c", BARE, str(lib / "papers")], env)
        # check reads the inbox's files too: the same parse over every file it reads
        bare_all = measure([sys.executable, "-c", BARE, str(lib / "papers"), str(lib / "inbox")], env)
        rows: dict[str, Any] = {}
        index_mb = 0.0
        for name, args in commands(lib, tmp, paper_id).items():
            cold: dict[str, Any] = {}
            if not warm_only or name == "check":
                shutil.rmtree(cache, ignore_errors=True)
                cold = measure([*lmdev, *args], env)
            if name == "check --changed":
                measure([*lmdev, "check"], env)  # a clean check to compare against
            text = changed.read_text(encoding="utf-8")
            warm_runs = []
            try:
                for n in range(2):
                    changed.write_text(_edited(text) if n % 2 == 0 else text, encoding="utf-8")
                    warm_runs.append(measure([*lmdev, *args], env))
            finally:
                changed.write_text(text, encoding="utf-8")
            warm = best(warm_runs)
            if (cache / "index").is_dir():
                index_mb = max(index_mb, sum(p.stat().st_size for p in (cache / "index").iterdir()) / 2**20)
            rows[name] = {"cold": cold, "warm": warm, "warm_runs": warm_runs}
            said = f"cold {cold['s']:>7.2f} s ({cold['cpu']:.2f} cpu) {cold['mb']:>5.0f} MB load {cold['load']:<4}" if cold else "cold" + " " * 38
            print(f"  {size:>7,} {name:<22} {said}  warm {warm['s']:>6.2f} s ({warm['cpu']:.2f} cpu) {warm['mb']:>5.0f} MB load {warm['load']}", file=sys.stderr)
        return {"papers": size, "build_s": round(built, 1), "bare_parse": bare, "bare_parse_with_inbox": bare_all, "index_mb": round(index_mb, 1), "commands": rows}


def run(sizes: tuple[int, ...] = (1000, 10000, 100000), keep: Path | None = None, warm_only: bool = False) -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?") if Path("/proc/cpuinfo").exists() else "?"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    compileall.compile_dir(str(HERE.parent / "src" / "lmdev"), quiet=1)
    results = []
    for size in sizes:
        print(f"scale: {size:,} papers", file=sys.stderr)
        results.append(one_size(size, keep, warm_only))
        print(json.dumps(results[-1]), file=sys.stderr)  # each size as soon as it is done
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": sys.version.split()[0], "load_before": load, "load_after": os.getloadavg() if load else None, "sizes": results}


def main(argv: list[str]) -> None:
    if "-h" in argv or "--help" in argv:
        print(__doc__.split("\n\n", 2)[1])
        return
    keep = None
    if "--keep" in argv:
        at = argv.index("--keep")
        if at + 1 >= len(argv):
            raise SystemExit("bench_scale.py: --keep needs a directory")
        keep = Path(argv[at + 1])
        keep.mkdir(parents=True, exist_ok=True)
        argv = argv[:at] + argv[at + 2 :]
    warm_only = "--warm-only" in argv
    argv = [a for a in argv if a != "--warm-only"]
    try:
        sizes = tuple(int(a.replace(",", "").replace("_", "")) for a in argv) or (1000, 10000, 100000)
    except ValueError:
        raise SystemExit(f"bench_scale.py: sizes are whole numbers, got {' '.join(argv)}; see --help") from None
    report = run(sizes, keep, warm_only)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
