"""Test helpers shared by the test modules: where things are, and small utilities."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the benchmarks import these helpers without pytest installed
    import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_yaml(path: Path) -> Any:
    """A YAML file's data, parsed with libyaml where it is installed: tests that read every paper
    file would spend 2.5 s on PyYAML's pure-Python parser each time."""
    import yaml

    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def shipped_count() -> int:
    """How many paper files the repository ships (tests derive counts, never hard-code them)."""
    return sum(1 for p in (SHIPPED / "papers").iterdir() if p.suffix in (".yaml", ".yml"))


@dataclass
class Result:
    code: int
    out: str
    err: str


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, to show that a command changed nothing (the library's lock file,
    which any write attempt creates and which holds nothing, aside)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lmdev.lock"}


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder ``build`` fills once per test run, for a costly shared setup (a trained model, an
    installed wheel): under pytest-xdist the workers share it, the first to take the lock builds
    and the others wait. Tests copy from it or only read it."""
    from lmdev.locking import lock_handle, unlock_handle

    shared = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    folder = shared / name
    with open(shared / f"{name}.lock", "a+b") as lock:
        lock_handle(lock)
        try:
            if not (shared / f"{name}.built").exists():
                folder.mkdir(exist_ok=True)
                build(folder)
                (shared / f"{name}.built").touch()
        finally:
            unlock_handle(lock)
    return folder
