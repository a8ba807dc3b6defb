"""Shell completion: Typer's scripts, plus paper ids and taxonomy ids from the tracker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _lmdev(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lmdev", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=60)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_a_script(shell: str) -> None:
    proc = _lmdev("--show-completion", shell)
    assert proc.returncode == 0 and "_LMDEV_COMPLETE" in proc.stdout and f"complete_{shell}" in proc.stdout


def _complete(words: str, data_dir: Path) -> list[str]:
    env = {"_LMDEV_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)), "LMDEV_DATA_DIR": str(data_dir)}
    proc = _lmdev(env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_commands_options_paper_ids_and_taxonomy_ids_complete(data_dir: Path) -> None:
    assert "import" in _complete("lmdev im", data_dir)
    assert "--unreviewed" in _complete("lmdev list --unre", data_dir)
    assert _complete("lmdev show 2205.1413", data_dir) == ["2205.14135"]
    assert _complete("lmdev list --problem ef", data_dir) == ["efficiency"]
    assert _complete("lmdev tag 2205.14135 --assumption out-of-the-box:c", data_dir) == ["out-of-the-box:challenges"]
    assert "safety" in _complete("lmdev reading-list sa", data_dir)


def test_completion_outside_a_tracker_offers_nothing_and_never_fails(tmp_path: Path) -> None:
    env = {"_LMDEV_COMPLETE": "complete_bash", "COMP_WORDS": "lmdev show 22", "COMP_CWORD": "2"}
    proc = _lmdev(env=env, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "" and proc.stderr == ""
