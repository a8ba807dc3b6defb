"""Test helpers shared by the test modules: where things are, and small utilities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
