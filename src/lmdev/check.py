"""``lmdev check``: every rule the paper files must keep, reported all at once.

Each finding names the file (and line where known), so CI can annotate a pull request.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from lmdev import yamlio
from lmdev.doctext import printable
from lmdev.errors import DataError, UsageError
from lmdev.store import Library, LoadedPaper, normalise_title

if TYPE_CHECKING:
    from lmdev.index import Index
    from lmdev.indexrows import Digest


@dataclass(frozen=True)
class Finding:
    path: str
    line: Optional[int]
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


Rule = Callable[[Library, "Index"], list[Finding]]


class _Checker:
    """The per-file rules and the cross-file duplicate rules, fed one file at a time so that no
    paper stays in memory once it has been checked (only its id, DOI, title key and citekey do)."""

    def __init__(self, library: Library, index: Optional[Index] = None) -> None:
        self.library = library
        self.index = index  # with an index, duplicates are looked up in it instead of remembered
        self.taxonomy = library.taxonomy
        self.findings: list[Finding] = []
        self.count = 0
        self.seen: dict[str, dict[str, str]] = {"id": {}, "doi": {}, "title_key": {}, "citekey": {}}

    def visit(self, name: str, stamp: object, outcome: Union[Digest, DataError]) -> None:
        """Take one file's outcome in file order: its own findings, then the duplicate rules."""
        self.count += 1
        if isinstance(outcome, DataError):
            self.findings.append(Finding(outcome.path or "?", outcome.line, outcome.message))
            return
        local, paper_id, doi, title_key, citekey = outcome.extra
        path = self.library.papers_dir / name
        lines = _lazy_lines(path)
        other = self._other(name, "id", paper_id)
        if other:
            self.findings.append(Finding(str(path), lines("id"), f"id {paper_id!r} is also the id of {other}; one paper, one file"))
        self.findings.extend(Finding(*f) for f in local)
        for label, column, key in (("DOI", "doi", doi), ("title", "title_key", title_key)):
            other = self._other(name, column, key) if key else None
            if other:
                self.findings.append(Finding(str(path), lines(label.lower()), f"duplicates {other} (same {label})"))
        other = self._other(name, "citekey", citekey) if citekey else None
        if other:
            self.findings.append(Finding(str(path), lines("citekey"), f"citekey {citekey!r} is also {other}'s; citekeys must be unique (two branches gave it to two papers? the one not yet cited loses it: delete its citekey line and run lmdev citekeys {paper_id} for a new one)"))

    def _other(self, name: str, column: str, key: str) -> Optional[str]:
        """Another file with the same key: one read before this one, or (``--changed``) any in the index."""
        if self.index is not None:
            return self.index.owner(column, key, other_than=name)
        seen = self.seen[column]
        if key in seen:
            return seen[key]
        seen[key] = name
        return None

    def local(self, item: LoadedPaper) -> tuple[list[tuple[str, Optional[int], str]], str, Optional[str], str, Optional[str]]:
        """The rules one file keeps on its own (run where the file is read, perhaps a worker):
        its findings as plain tuples, and the keys the duplicate rules compare."""
        taxonomy, paper, path = self.taxonomy, item.paper, str(item.path)
        line = _line_finder(item)
        found: list[tuple[str, Optional[int], str]] = []
        for i, tag in enumerate(paper.problems):
            if not taxonomy.has(tag.id, "problem"):
                found.append((path, line("problems", i, "id"), f"unknown problem id {tag.id!r}"))
        for i, atag in enumerate(paper.assumptions):
            if not taxonomy.has(atag.id, "assumption"):
                found.append((path, line("assumptions", i, "id"), f"unknown assumption id {atag.id!r}"))
        tagged = set(paper.problem_ids()) | set(paper.assumption_stances())
        for i, node_id in enumerate(paper.declined):
            if node_id not in taxonomy.nodes:
                found.append((path, line("declined", i), f"unknown tag id {node_id!r} in declined"))
            elif node_id in tagged:
                found.append((path, line("declined", i), f"{node_id!r} is both a tag and declined (a merge?); keep one"))
        if paper.problems and paper.primary is None:
            found.append((path, line("problems"), f"paper {paper.id} names no primary problem (set one with: lmdev tag {paper.id} --primary ID)"))
        if not paper.assumptions:
            found.append((path, line("id"), f"paper {paper.id} maps to no assumption (add one with: lmdev tag {paper.id} --assumption ID:STANCE)"))
        return found, paper.id, paper.doi.lower() if paper.doi else None, normalise_title(paper.title), paper.citekey


def check_library(library: Library, extras: tuple[Rule, ...] = (), *, changed: bool = False) -> tuple[int, list[Finding]]:
    """Check the paper files; returns (files checked, findings). The taxonomy must load first.

    By default every file is read and validated (the CI gate); the index is filled on the way,
    so the commands after it start warm. With ``changed``, only files that changed since the last
    check that found nothing are read; the duplicate rules still compare them with every file.
    """
    import sqlite3

    from lmdev.index import Index, instead

    listing = library.listing()
    index = Index(library)
    try:
        try:
            return _check(library, index, listing, extras, changed=changed)
        except sqlite3.DatabaseError as exc:  # a damaged or unwritable index: check without it
            index = instead(index, exc)
            return _check(library, index, listing, extras, changed=False)
    finally:
        index.close()


def _check(library: Library, index: Index, listing: list[tuple[str, tuple[int, int, int, int]]], extras: tuple[Rule, ...], *, changed: bool) -> tuple[int, list[Finding]]:
    from lmdev.indexrows import digest

    clean = index.clean_stamps(_taxonomy_key(library)) if changed else {}
    checker = _Checker(library, index if clean else None)
    if clean:
        index.refresh(listing, progress=library.progress)
        todo = [(name, key) for name, key in listing if clean.get(name) != hash(key)]
        for name, key in todo:
            try:
                loaded = library.read(library.papers_dir / name)
                checker.visit(name, key, digest(name, loaded, checker.local(loaded)))
            except DataError as exc:
                checker.visit(name, key, exc)
    else:
        index.refresh(listing, examine=checker.local, visit=checker.visit, reread=lambda name: True, progress=library.progress)
    findings = checker.findings
    findings.extend(_rejected_rules(library, (lambda i: index.owner("id", i)) if clean else checker.seen["id"].get))
    findings.extend(_inbox_rules(library, changed=changed))
    findings.extend(_config_rule(library))
    for extra in extras:
        findings.extend(extra(library, index))
    if not findings:
        index.mark_clean(listing, _taxonomy_key(library), clean)
    return checker.count, findings


def _taxonomy_key(library: Library) -> str:
    """What a clean check depended on besides the paper files: the taxonomy's bytes."""
    return hashlib.sha256(yamlio.read_bytes(library.root / "taxonomy.yaml")).hexdigest()


def _lazy_lines(path: Path) -> Callable[..., Optional[int]]:
    """Line numbers in a file read again only if a duplicate is found in it (which is rare)."""
    found: list[Callable[..., Optional[int]]] = []

    def line(*loc: object) -> Optional[int]:
        if not found:
            try:
                text = yamlio.read_text(path)
            except DataError:
                return None
            found.append(_line_finder(LoadedPaper(None, path, text)))  # type: ignore[arg-type]
        return found[0](*loc)

    return line


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
    return printable(f"::error file={_workflow_property(_from_workspace(finding.path))}{line}::{_workflow_data(finding.message)}")


def _from_workspace(path: str) -> str:
    """A file's path relative to the working directory (the repository root in a workflow),
    which is how a pull request's annotations find the file; as it is when outside it."""
    try:  # abspath, not resolve: a symbolic link is annotated as itself, not as what it points to
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(os.getcwd())).as_posix()
    except (ValueError, OSError):
        return path


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
    from lmdev.paths import INBOX_DIR, TAXONOMY_FILE

    root = library.root.resolve()
    folders = (library.papers_dir.resolve(), (root / INBOX_DIR).resolve())
    wanted: set[Path] = set()
    for name in files:
        path = name.resolve()
        if not path.is_file():
            raise UsageError(f"{name}: no such file")
        in_folder = path.parent in folders and path.suffix in (".yaml", ".yml")
        if not in_folder and path not in (root / TAXONOMY_FILE, root / CONFIG_FILE, root / REJECTED_FILE):
            raise UsageError(f"{name} is not a paper or inbox file, taxonomy, config or rejected.yaml of the tracker in {library.root}")
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


def unreviewed_rule(library: Library, index: Index) -> list[Finding]:
    """Every tag the classifier set must have been confirmed (or removed) by a person."""
    findings = []
    lines: dict[str, Callable[..., Optional[int]]] = {}
    sql = "SELECT t.name, t.kind, t.pos, t.tag, t.id FROM tags t JOIN papers p USING (name) WHERE t.by = 'classifier' AND p.error IS NULL ORDER BY t.name, t.kind = 'assumption', t.pos"
    for name, kind, pos, tag, paper_id in index.query(sql).fetchall():
        path = library.papers_dir / name
        line = lines.setdefault(name, _lazy_lines(path))
        findings.append(Finding(str(path), line(f"{kind}s", pos, "by"), f"{kind} {tag!r} is an unreviewed classifier suggestion (lmdev review, or lmdev tag {paper_id} --confirm)"))
    return findings


def coverage_floor_rule(min_papers: int) -> Rule:
    """Every problem must have at least ``min_papers`` papers."""

    def run(library: Library, index: Index) -> list[Finding]:
        from lmdev.reports.coverage import indexed_coverage

        cov = indexed_coverage(library.taxonomy, index, min_papers=min_papers)
        path = str(library.root / "taxonomy.yaml")
        return [
            Finding(path, None, f"problem {n.id!r} has {n.papers} paper(s), fewer than --min-papers-per-problem {min_papers}")
            for n in cov.nodes
            if n.kind == "problem" and n.papers < min_papers
        ]

    return run


def stale_lists_rule(folder: Path) -> Rule:
    """The reading lists in ``folder`` must match what the data would generate now."""

    def run(library: Library, index: Index) -> list[Finding]:
        from lmdev.reports.readinglist import indexed_list_files

        findings = []
        for name, text in indexed_list_files(library.taxonomy, index):
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


def _rejected_rules(library: Library, owner: Callable[[str], Optional[str]]) -> list[Finding]:
    """The record of rejected papers parses line by line, and no paper is both kept and rejected."""
    from lmdev import decisions

    entries, errors = decisions.scan(library.root)
    findings = [Finding(e.path or "?", e.line, e.message) for e in errors]
    path = str(decisions.path_for(library.root))
    for entry in entries:
        kept = owner(entry.rejection.id)
        if kept:
            findings.append(Finding(path, entry.line, f"{entry.rejection.id} is rejected here but kept in the library ({kept}); keep one decision (lmdev accept {entry.rejection.id} keeps it, lmdev remove {entry.rejection.id} drops its file)"))
    return findings


def _inbox_rules(library: Library, *, changed: bool = False) -> list[Finding]:
    """Every inbox file parses and validates, and suggests only tags the taxonomy has (a node
    renamed while papers wait would make their accept fail). (A waiting paper that was decided
    elsewhere is not a finding: the next command that writes removes it.) With ``changed``,
    through the inbox's own index, which parses only the files that changed since the last run."""
    from lmdev.ids import file_stem
    from lmdev.inbox import Inbox

    inbox = Inbox(library.root)
    suggested: list[tuple[str, list[str], list[str]]] = []  # path, problems (the primary too), assumptions
    if changed:
        waiting, errors = inbox.waiting()
        suggested = [(str(inbox.path_for(w.id)), [*(t.id for t in w.problems), *([w.primary] if w.primary else [])], [t.id for t in w.assumptions]) for w in waiting]
    else:
        from lmdev.parallel import read_all

        def read(name: str) -> tuple[str, list[str], list[str]]:
            path = inbox.dir / name
            item = inbox.read(path)
            if path.stem != file_stem(item.id):
                raise DataError(f"file name does not match id {item.id!r} (expected {inbox.path_for(item.id).name})", path=str(path), line=1)
            return str(path), [*(t.id for t in item.problems), *([item.primary] if item.primary else [])], [t.id for t in item.assumptions]

        errors = []
        for outcome in read_all([p.name for p in inbox.files()], read):  # on every core, as papers are
            (errors if isinstance(outcome, DataError) else suggested).append(outcome)
    findings = [Finding(e.path or "?", e.line, e.message) for e in errors]
    tax = library.taxonomy
    for path, problems, assumptions in suggested:
        unknown = sorted({i for i in problems if i not in tax.nodes or tax.nodes[i].kind != "problem"}) + sorted({i for i in assumptions if i not in tax.nodes or tax.nodes[i].kind != "assumption"})
        if unknown:
            findings.append(Finding(path, 1, f"suggests {', '.join(map(repr, unknown))}, which the taxonomy does not have (renamed?); lmdev rescore suggests again from the taxonomy as it is"))
    return findings
