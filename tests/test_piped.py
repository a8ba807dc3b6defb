"""Output read by scripts: piped tables are never cut, list prints tab-separated lines."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from lmdev.models import AssumptionTag, Paper
from lmdev.store import Library


@pytest.mark.parametrize("args", [["coverage"], ["show", "2205.14135"], ["taxonomy"], ["taxonomy", "--diff"], ["list"]])
def test_piped_output_is_never_cut_whatever_the_columns(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    result = cli("--data-dir", str(data_dir), *args)
    assert result.code == 0, result.err
    assert "…" not in result.out


def test_piped_list_is_one_tab_separated_line_per_paper_with_undated_papers_last(cli, data_dir: Path) -> None:
    lib = Library(data_dir)
    lib.save(Paper(id="an-undated-reading", url="https://example.org/r", title="A reading\twith a tab\u2028and a line separator", assumptions=[AssumptionTag(id="fixed-recipe", stance="relies")]))
    lines = cli("--data-dir", str(data_dir), "list").out.splitlines()
    assert len(lines) == len(lib.files())
    assert all(line.count("\t") == 3 for line in lines)
    assert "an-undated-reading\t\tA reading with a tab and a line separator\tfixed-recipe:relies" in lines
    listed = json.loads(cli("--data-dir", str(data_dir), "list", "--format", "json").out)
    papers = [Paper(id=p["id"], title="t", url="https://example.org/r", published=p.get("published"), published_year=p.get("published_year")) for p in listed]
    dated = [p.dated for p in papers]
    assert None not in dated[: dated.count(None) and dated.index(None)], "papers without a date come after every dated one"
    known = [d for d in dated if d]
    assert known == sorted(known, reverse=True), "newest first, an arXiv paper without a date by its id's month"
    assert papers[-1].id == "an-undated-reading"
    # a paper accepted from a listing has no published date yet: its id's month places it
    assert Paper(id="2604.00261", title="t").dated == dt.date(2026, 4, 1)
    assert Paper(id="hep-th/9901001", title="t").dated == dt.date(1999, 1, 1)


@pytest.mark.parametrize("args", [["list"], ["export", "--format", "json"], ["list", "--format", "json"]])
def test_a_reader_that_stops_early_ends_the_command_quietly_with_success(data_dir: Path, tmp_path: Path, args: list[str]) -> None:
    """``lmdev ... | head`` in a ``set -o pipefail`` script: no error, no traceback, exit 0."""
    import os
    import subprocess
    import sys

    for n in range(300):  # enough output to fill the pipe before the reader leaves
        (data_dir / "papers" / f"2501.{n:05d}.yaml").write_text((data_dir / "papers" / "2205.14135.yaml").read_text().replace("2205.14135", f"2501.{n:05d}"))
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "lmdev", "--data-dir", str(data_dir), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(200)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert err.strip() in ("", f"{len(list((data_dir / 'papers').iterdir()))} paper(s)"), err


def test_the_quick_exit_flushes_output_runs_exit_handlers_and_keeps_the_code(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    script = (
        "import atexit, sys, threading, time\n"
        "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
        "from lmdev.cli.launch import leave\n"
        "sys.stdout.write('x' * 100000)\n"  # still in the buffer when leave() is called
        "if sys.argv[1] == 'thread':\n"
        "    threading.Thread(target=lambda: (time.sleep(0.3), print('thread done', file=sys.stderr))).start()\n"
        "leave(3)\n"
    )
    for mode in ("plain", "thread"):
        run = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=60)
        assert run.returncode == 3 and run.stdout == "x" * 100000
        assert "handler ran" in run.stderr
        assert ("thread done" in run.stderr) == (mode == "thread")  # a running thread is waited for
    if Path("/dev/full").exists():  # output that cannot be written is said, not lost in silence
        buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        with open("/dev/full", "w") as disk_full:
            full = subprocess.run([sys.executable, "-c", "import sys\nfrom lmdev.cli.launch import leave\nsys.stdout.write('x' * 1000)\nleave(0)"], stdout=disk_full, stderr=subprocess.PIPE, text=True, timeout=60, env=buffered)
        assert full.returncode == 1 and full.stderr.strip() == "lmdev: error: could not write the output: No space left on device"


@pytest.mark.parametrize("args", [["--help"], ["list"], ["coverage", "--format", "json"], ["tag", "2205.05638", "--note", "closed stdout"]])
def test_a_command_started_with_its_output_closed_says_its_output_was_lost(data_dir: Path, tmp_path: Path, args: list[str]) -> None:
    """``lmdev list >&-`` in a script: the output had nowhere to go, which is an error (exit 1,
    one line), not a success; a command that prints nothing on stdout succeeds as before."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-m", "lmdev", "--data-dir", str(data_dir), *args], stderr=subprocess.PIPE, text=True, env=env, timeout=120, preexec_fn=lambda: os.close(1))
    assert "Traceback" not in run.stderr, run.stderr
    if args[0] == "tag":
        assert run.returncode == 0, run.stderr
    else:
        assert run.returncode == 1 and run.stderr.strip().splitlines()[-1] == "lmdev: error: could not write the output: standard output is closed", run.stderr
