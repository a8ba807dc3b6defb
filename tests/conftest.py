"""Shared fixtures: a copy of the shipped data in a temporary folder, and a CLI runner."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import SHIPPED, Result, built_once
from lmdev.cli.app import run

pytest_plugins = ("watch_fixtures",)  # the watch tests' model, tracker and loopback feed


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's environment, cache or the network."""
    monkeypatch.delenv("LMDEV_DATA_DIR", raising=False)
    monkeypatch.setenv("LMDEV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LMDEV_RATE_LOCK", str(tmp_path / "rate" / "arxiv-rate.lock"))
    monkeypatch.setenv("LMDEV_ARXIV_API", "http://127.0.0.1:9/unreachable")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A test that would hang (a FIFO read, a server that never finishes) fails instead."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(*_: object) -> None:
        raise TimeoutError("the test hung for 120 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def shipped_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model of the shipped data, trained once per run (a copy of the data keeps the files'
    sizes and times, so it has the same fingerprint); each test copies it into its own cache."""

    def train(cache: Path) -> None:
        from lmdev.classifier.modelcache import model_path, train_and_cache
        from lmdev.store import Library

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LMDEV_CACHE_DIR", str(cache))
            lib = Library(SHIPPED)
            train_and_cache(lib, model_path(lib))

    return built_once(tmp_path_factory, "shipped-cache", train) / "models"


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of the shipped data, built once per run. A copy of the data comes with a copy
    of it, as a user's copied tracker may: its files' stat keys differ but their bytes do not,
    so the first command hashes them instead of parsing 551 files (0.8 s a test)."""

    def build(cache: Path) -> None:
        from lmdev.store import Library

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LMDEV_CACHE_DIR", str(cache))
            lib = Library(SHIPPED)
            lib.index()
            lib.close()

    (built,) = (built_once(tmp_path_factory, "shipped-index", build) / "index").glob("*.sqlite")
    return built


@pytest.fixture
def data_dir(tmp_path: Path, shipped_models: Path, shipped_index: Path) -> Path:
    """A full copy of the shipped data (taxonomy and all papers), its model already cached and
    its index copied along."""
    from lmdev.index import index_path

    target = tmp_path / "data"
    shutil.copytree(SHIPPED, target)
    shutil.copytree(shipped_models, tmp_path / "cache" / "models")
    index = index_path(target)
    index.parent.mkdir(parents=True)
    shutil.copy(shipped_index, index)
    return target


@pytest.fixture
def empty_data_dir(tmp_path: Path) -> Path:
    """The shipped taxonomy with no papers."""
    target = tmp_path / "empty"
    (target / "papers").mkdir(parents=True)
    shutil.copy(SHIPPED / "taxonomy.yaml", target / "taxonomy.yaml")
    return target


@pytest.fixture
def small_dir(empty_data_dir: Path) -> Path:
    """The shipped taxonomy and three of its papers: quick to run commands on."""
    for paper_id in ("2205.14135", "2307.03172", "2005.14165"):
        shutil.copy(SHIPPED / "papers" / f"{paper_id}.yaml", empty_data_dir / "papers")
    return empty_data_dir


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``lmdev`` in-process; returns exit code, stdout and stderr."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
