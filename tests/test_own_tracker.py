"""End to end, as a new user: lmdev built as a wheel, installed into a fresh virtual environment,
run in an empty folder outside this repository (so only the packaged taxonomy can be found),
walking docs/own-tracker.md command by command against a loopback arXiv."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from arxiv_server import FakeArxiv
from helpers import REPO, built_once

PAGE = REPO / "docs" / "own-tracker.md"
ON_ARXIV = {
    "2205.14135": {"title": "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"},
    "2305.14314": {"title": "QLoRA: Efficient Finetuning of Quantized LLMs"},
    "2307.03172": {"title": "Lost in the Middle: How Language Models Use Long Contexts"},
}
REFERENCES = """@misc{dao_flashattention_2022, title = {{FlashAttention}}, url = {http://arxiv.org/abs/2205.14135}, author = {Dao, Tri}, year = {2022}}
@article{liu2023lost, title = {Lost in the Middle}, author = {Liu, Nelson F.}, journal = {arXiv preprint arXiv:2307.03172}, year = {2023}}
@misc{srush2023gptworld, title = {{GPTWorld}: a prompting puzzle}, author = {Rush, Alexander M.}, url = {https://github.com/srush/GPTWorld}, year = {2023}}
"""


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment holding lmdev as built from this checkout into a wheel (not editable),
    built once per run (shared by pytest-xdist's workers).

    The wheel is built without build isolation and installed without dependencies, which come
    from the test environment through a .pth file: nothing is downloaded."""
    pytest.importorskip("setuptools", minversion="70.1")
    return built_once(tmp_path_factory, "installed-wheel", _build_and_install) / "venv"


def _build_and_install(root: Path) -> None:
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(root / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    [wheel] = (root / "dist").glob("lmdev-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True, capture_output=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def _commands(page: str) -> list[str]:
    """The ``$ `` lines of the page's console blocks, in order."""
    blocks = re.findall(r"```console\n(.*?)```", page, flags=re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_the_page_walks_from_init_to_a_green_check(installed: Path, tmp_path: Path) -> None:
    commands = _commands(PAGE.read_text(encoding="utf-8"))
    assert commands[0].startswith("lmdev init") and commands[-1] == "lmdev check"
    work = tmp_path / "empty-folder"
    work.mkdir()
    with FakeArxiv({k: dict(v) for k, v in ON_ARXIV.items()}) as arxiv:
        env = {**os.environ, "PATH": f"{installed / 'bin'}{os.pathsep}{os.environ['PATH']}", "LMDEV_ARXIV_API": arxiv.url, "LMDEV_ARXIV_DELAY": "0"}
        env.pop("PYTHONPATH", None)
        cwd = work
        for command in commands:
            if command.startswith("lmdev import "):
                (cwd / "references.bib").write_text(REFERENCES)
            if command.startswith("cd "):
                cwd = cwd / command[3:].strip()
                continue
            proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, f"$ {command}\n{proc.stdout}\n{proc.stderr}"
        located = subprocess.run([str(installed / "bin" / "python"), "-c", "import lmdev; print(lmdev.__file__)"], capture_output=True, text=True, env=env, check=True).stdout
        assert str(installed) in located and "src/lmdev" not in located, "the wheel's lmdev ran, not this checkout's"
        coverage = json.loads(subprocess.run(["lmdev", "coverage", "--format", "json"], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout)
    assert coverage["papers"] == 4, "FlashAttention and QLoRA added; Lost in the Middle and GPTWorld imported"
    assert (cwd / "data" / "papers" / "srush2023gptworld.yaml").exists()
    assert (cwd / ".github" / "workflows" / "lmdev.yml").exists() and (cwd / ".pre-commit-config.yaml").exists()


def test_the_installed_lmdev_prints_a_completion_script(installed: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(installed / "bin" / "lmdev"), "--show-completion", "bash"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and "_LMDEV_COMPLETE=complete_bash" in proc.stdout


def test_outside_a_tracker_the_installed_lmdev_suggests_init(installed: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(installed / "bin" / "lmdev"), "coverage"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1 and "lmdev init" in proc.stderr and "Traceback" not in proc.stderr

