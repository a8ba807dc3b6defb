"""``lmdev check``: every rule the paper files must keep, reported all at once.

Each finding names the file (and line where known), so CI can annotate a pull request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from lmdev import yamlio
from lmdev.store import Library, LoadedPaper, normalise_title


@dataclass(frozen=True)
class Finding:
    path: str
    line: Optional[int]
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


Extra = Callable[[Library, list[LoadedPaper]], list[Finding]]


def check_library(library: Library, extras: tuple[Extra, ...] = ()) -> tuple[int, list[Finding]]:
    """Check every paper file; returns (files checked, findings). The taxonomy must load first."""
    taxonomy = library.taxonomy
    loaded, errors = library.scan()
    findings = [Finding(e.path or "?", e.line, e.message) for e in errors]
    seen_doi: dict[str, str] = {}
    seen_title: dict[str, str] = {}
    for item in loaded:
        paper, path = item.paper, str(item.path)
        line = _line_finder(item)

        if not library.stem_matches(item.path, paper):
            findings.append(Finding(path, line("id"), f"file name does not match id {paper.id!r} (expected {library.path_for(paper.id).name})"))
        for i, tag in enumerate(paper.problems):
            if not taxonomy.has(tag.id, "problem"):
                findings.append(Finding(path, line("problems", i, "id"), f"unknown problem id {tag.id!r}"))
        for i, atag in enumerate(paper.assumptions):
            if not taxonomy.has(atag.id, "assumption"):
                findings.append(Finding(path, line("assumptions", i, "id"), f"unknown assumption id {atag.id!r}"))
        if not paper.assumptions:
            findings.append(Finding(path, line("id"), f"paper {paper.id} maps to no assumption (add one with: lmdev tag {paper.id} --assumption ID:STANCE)"))
        keys = [("DOI", paper.doi.lower() if paper.doi else None, seen_doi), ("title", normalise_title(paper.title), seen_title)]
        for label, key, seen in keys:
            if not key:
                continue
            if key in seen:
                findings.append(Finding(path, line("doi" if label == "DOI" else "title"), f"duplicates {seen[key]} (same {label})"))
            else:
                seen[key] = Path(path).name
    for extra in extras:
        findings.extend(extra(library, loaded))
    return len(loaded) + len(errors), findings


def _line_finder(item: LoadedPaper) -> Callable[..., Optional[int]]:
    """Line numbers in one paper file, parsing its node tree only if a finding needs one."""
    tree: list[Any] = []

    def line(*loc: object) -> Optional[int]:
        if not tree:
            tree.append(yamlio.parse(item.text, path=str(item.path))[1])
        return yamlio.line_of(tree[0], loc)

    return line


def github_annotation(finding: Finding) -> str:
    """A GitHub Actions workflow command that annotates the file in a pull request."""
    message = finding.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    line = f",line={finding.line}" if finding.line else ""
    return f"::error file={finding.path}{line}::{message}"
