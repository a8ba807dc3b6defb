"""``lmdev check``: every rule the paper files must keep, reported all at once.

Each finding names the file (and line where known), so CI can annotate a pull request.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from lmdev import yamlio
from lmdev.errors import DataError, UsageError
from lmdev.ids import normalise_paper_id
from lmdev.store import Library, LoadedPaper, normalise_title
from lmdev.text import printable


@dataclass(frozen=True)
class Finding:
    path: str
    line: Optional[int]
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


Rule = Callable[[Library, list[LoadedPaper]], list[Finding]]


def check_library(library: Library, extras: tuple[Rule, ...] = ()) -> tuple[int, list[Finding]]:
    """Check every paper file; returns (files checked, findings). The taxonomy must load first."""
    taxonomy = library.taxonomy
    loaded, errors = library.scan()
    findings = [Finding(e.path or "?", e.line, e.message) for e in errors]
    seen_doi: dict[str, str] = {}
    seen_title: dict[str, str] = {}
    seen_id: dict[str, str] = {}
    seen_citekey: dict[str, str] = {}
    for item in loaded:
        paper, path = item.paper, str(item.path)
        line = _line_finder(item)

        key_id = normalise_paper_id(paper.id)
        if key_id in seen_id:
            findings.append(Finding(path, line("id"), f"id {paper.id!r} is also the id of {seen_id[key_id]}; one paper, one file"))
        else:
            seen_id[key_id] = item.path.name
        if not library.stem_matches(item.path, paper):
            findings.append(Finding(path, line("id"), f"file name does not match id {paper.id!r} (expected {library.path_for(paper.id).name})"))
        for i, tag in enumerate(paper.problems):
            if not taxonomy.has(tag.id, "problem"):
                findings.append(Finding(path, line("problems", i, "id"), f"unknown problem id {tag.id!r}"))
        for i, atag in enumerate(paper.assumptions):
            if not taxonomy.has(atag.id, "assumption"):
                findings.append(Finding(path, line("assumptions", i, "id"), f"unknown assumption id {atag.id!r}"))
        if paper.problems and paper.primary is None:
            findings.append(Finding(path, line("problems"), f"paper {paper.id} names no primary problem (set one with: lmdev tag {paper.id} --primary ID)"))
        if not paper.assumptions:
            findings.append(Finding(path, line("id"), f"paper {paper.id} maps to no assumption (add one with: lmdev tag {paper.id} --assumption ID:STANCE)"))
        keys = [("DOI", paper.doi.lower() if paper.doi else None, seen_doi), ("title", normalise_title(paper.title), seen_title), ("citekey", paper.citekey, seen_citekey)]
        for label, key, seen in keys:
            if not key:
                continue
            if key in seen:
                findings.append(Finding(path, line(label.lower()), f"duplicates {seen[key]} (same {label})" if label != "citekey" else f"citekey {key!r} is also {seen[key]}'s; citekeys must be unique"))
            else:
                seen[key] = Path(path).name
    findings.extend(_rejected_rules(library, seen_id))
    findings.extend(_inbox_rules(library))
    findings.extend(_config_rule(library))
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


def _workflow_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _workflow_property(text: str) -> str:
    return _workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(finding: Finding) -> str:
    """A GitHub Actions workflow command that annotates the file in a pull request.

    Escaped as the workflow-command syntax requires (``%``, CR and LF everywhere; ``:`` and
    ``,`` in properties too), and with other control characters removed, so a file name or a
    message cannot end the command early or start another one.
    """
    line = f",line={finding.line}" if finding.line else ""
    return printable(f"::error file={_workflow_property(finding.path)}{line}::{_workflow_data(finding.message)}")


def _config_rule(library: Library) -> list[Finding]:
    from lmdev.config import load_config

    try:
        load_config(library.root)
    except DataError as exc:
        return [Finding(exc.path or "?", exc.line, exc.message)]
    return []


def limit_to_files(library: Library, findings: list[Finding], files: Iterable[Path]) -> list[Finding]:
    """Only the findings in ``files`` (what pre-commit is committing), so that untracked scratch
    files never fail a commit. What a taxonomy change does to other papers is left to the full
    check that CI runs (the taxonomy itself must load, or nothing is checked at all)."""
    from lmdev.config import CONFIG_FILE
    from lmdev.decisions import REJECTED_FILE
    from lmdev.paths import TAXONOMY_FILE

    root = library.root.resolve()
    papers = library.papers_dir.resolve()
    wanted: set[Path] = set()
    for name in files:
        path = name.resolve()
        if path.parent != papers and path not in (root / TAXONOMY_FILE, root / CONFIG_FILE, root / REJECTED_FILE):
            raise UsageError(f"{name} is not a paper file, taxonomy, config or rejected.yaml of the tracker in {library.root}")
        wanted.add(path)
    return [f for f in findings if Path(f.path).resolve() in wanted]


def optional_rules(min_papers_per_problem: Optional[int] = None, reading_lists: Optional[Path] = None, require_reviewed: bool = False) -> tuple[Rule, ...]:
    """The rules ``check`` adds on request: a coverage floor, reading lists kept current, and
    every classifier suggestion reviewed by a person."""
    rules: list[Rule] = []
    if require_reviewed:
        rules.append(unreviewed_rule)
    if min_papers_per_problem is not None:
        rules.append(coverage_floor_rule(min_papers_per_problem))
    if reading_lists is not None:
        rules.append(stale_lists_rule(reading_lists))
    return tuple(rules)


def unreviewed_rule(library: Library, loaded: list[LoadedPaper]) -> list[Finding]:
    """Every tag the classifier set must have been confirmed (or removed) by a person."""
    findings = []
    for item in loaded:
        line = _line_finder(item)
        for group in ("problems", "assumptions"):
            for i, tag in enumerate(getattr(item.paper, group)):
                if tag.by == "classifier":
                    findings.append(Finding(str(item.path), line(group, i, "by"), f"{group[:-1]} {tag.id!r} is an unreviewed classifier suggestion (lmdev review, or lmdev tag {item.paper.id} --confirm)"))
    return findings


def coverage_floor_rule(min_papers: int) -> Rule:
    """Every problem must have at least ``min_papers`` papers."""

    def run(library: Library, loaded: list[LoadedPaper]) -> list[Finding]:
        from lmdev.reports.coverage import coverage

        cov = coverage(library.taxonomy, [item.paper for item in loaded], min_papers=min_papers)
        path = str(library.root / "taxonomy.yaml")
        return [
            Finding(path, None, f"problem {n.id!r} has {n.papers} paper(s), fewer than --min-papers-per-problem {min_papers}")
            for n in cov.nodes
            if n.kind == "problem" and n.papers < min_papers
        ]

    return run


def stale_lists_rule(folder: Path) -> Rule:
    """The reading lists in ``folder`` must match what the data would generate now."""

    def run(library: Library, loaded: list[LoadedPaper]) -> list[Finding]:
        from lmdev.reports.readinglist import list_files

        expected = list_files(library.taxonomy, [item.paper for item in loaded])
        findings = []
        for name, text in expected.items():
            path = folder / name
            if not os.path.lexists(path):
                findings.append(Finding(str(path), None, f"reading list is missing; run: lmdev reading-list --all --out {folder}"))
                continue
            try:
                stale = yamlio.read_text(path, follow_symlinks=False) != text
            except DataError as exc:
                findings.append(Finding(str(path), None, exc.message))
                continue
            if stale:
                findings.append(Finding(str(path), None, f"reading list is stale; run: lmdev reading-list --all --out {folder}"))
        return findings

    return run


def _rejected_rules(library: Library, library_ids: dict[str, str]) -> list[Finding]:
    """The record of rejected papers parses line by line, and no paper is both kept and rejected."""
    from lmdev import decisions

    entries, errors = decisions.scan(library.root)
    findings = [Finding(e.path or "?", e.line, e.message) for e in errors]
    path = str(decisions.path_for(library.root))
    for entry in entries:
        if entry.rejection.id in library_ids:
            findings.append(Finding(path, entry.line, f"{entry.rejection.id} is rejected here but kept in the library ({library_ids[entry.rejection.id]}); keep one decision"))
    return findings


def _inbox_rules(library: Library) -> list[Finding]:
    """Every inbox file parses and validates. (A waiting paper that was decided elsewhere is not a
    finding: the next command that writes removes it.)"""
    from lmdev.inbox import Inbox

    _, errors = Inbox(library.root).scan()
    return [Finding(e.path or "?", e.line, e.message) for e in errors]
