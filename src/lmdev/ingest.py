"""Adding papers from arXiv and refreshing stored ones, keeping everything a person wrote.

Both are one operation: fetch metadata in batches, merge it into the stored paper (tags,
stances, notes and citekey stay), write each file atomically as soon as its batch arrives.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from lmdev import decisions
from lmdev.citekeys import Assigner
from lmdev.errors import DataError, NotFoundError
from lmdev.ids import ArxivId
from lmdev.models import AssumptionTag, Paper, ProblemTag
from lmdev.store import Library, normalise_title
from lmdev.tagging import apply_tag_flags, merge_metadata, parse_assumption_spec

if TYPE_CHECKING:
    from lmdev.arxiv.client import ArxivClient

TRACKED = ("version", "title", "authors", "abstract", "updated", "primary_category", "categories", "doi", "journal_ref", "comment")


@dataclass
class Outcome:
    """What happened to one id: ``added``, ``updated``, ``unchanged`` or ``failed``."""

    id: str
    action: str
    paper: Optional[Paper] = None
    reason: Optional[str] = None
    changes: list[str] = field(default_factory=list)
    warning: Optional[str] = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"id": self.id, "action": self.action}
        if self.paper is not None:
            data["title"] = self.paper.title
        if self.reason:
            data["reason"] = self.reason
        if self.changes:
            data["changes"] = self.changes
        if self.warning:
            data["warning"] = self.warning
        return data


class DuplicateIndex:
    """The DOIs and titles on file, to warn when a new paper looks like one already there."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._keys: Optional[dict[str, str]] = None

    @staticmethod
    def keys(paper: Paper) -> list[tuple[str, str]]:
        found = [("DOI", paper.doi.lower())] if paper.doi else []
        return found + [("title", normalise_title(paper.title))]

    def warning(self, paper: Paper) -> Optional[str]:
        """A warning if ``paper`` shares a DOI or title with another paper; then remembers it."""
        if self._keys is None:
            loaded, _ = self.library.scan()
            # built after the new paper's file is written: leave it out, or it would match itself
            self._keys = {f"{kind}:{key}": item.paper.id for item in loaded if item.paper.id != paper.id for kind, key in self.keys(item.paper)}
        found = None
        for kind, key in self.keys(paper):
            other = self._keys.get(f"{kind}:{key}")
            if other is not None and other != paper.id and found is None:
                found = f"same {kind} as {other} on file; one of them may be a duplicate (see lmdev show {other})"
            self._keys.setdefault(f"{kind}:{key}", paper.id)
        return found


def metadata_changes(old: Paper, new: Paper) -> list[str]:
    """Human-readable differences in arXiv metadata, for ``refresh`` reports."""
    changes = []
    for name in TRACKED:
        before, after = getattr(old, name), getattr(new, name)
        if before == after or (not before and not after):
            continue
        if name in ("abstract", "authors", "categories", "title") and before and after:
            changes.append(f"{name} changed")
        elif not before:
            changes.append(f"{name} added: {after}")
        elif not after:
            changes.append(f"{name} removed (was {before})")
        else:
            changes.append(f"{name}: {before} → {after}")
    return changes


def sync(
    library: Library,
    client: ArxivClient,
    ids: Sequence[ArxivId],
    *,
    problems: Iterable[str] = (),
    assumptions: Iterable[str] = (),
    only_existing: bool = False,
    before_save: Optional[Callable[[Paper], None]] = None,
    on_outcome: Optional[Callable[[Outcome], None]] = None,
) -> list[Outcome]:
    """Fetch ``ids`` and write their files; returns one outcome per id, in input order.

    Each paper is merged into its file as stored when the answer arrives (re-read under the
    library lock), so a note or tag written while arXiv was answering is kept. A stored file
    that does not validate, or whose name does not match its id, is reported and left alone.
    """
    problems, assumptions = list(problems), list(assumptions)
    taxonomy = library.taxonomy
    for node_id in problems:
        taxonomy.get(node_id, "problem")
    for spec in assumptions:
        taxonomy.get(parse_assumption_spec(spec)[0], "assumption")
    works = taxonomy.works_by_arxiv()
    assign_citekey = Assigner(library)
    duplicates = DuplicateIndex(library)
    outcomes: dict[str, Outcome] = {}
    to_fetch: list[ArxivId] = []

    def record(outcome: Outcome) -> None:
        outcomes[outcome.id] = outcome
        if on_outcome:
            on_outcome(outcome)

    def merged(paper_id: str, fresh: Paper) -> Callable[[Optional[Paper]], Paper]:
        def make(old: Optional[Paper]) -> Paper:
            if old is None and only_existing:
                raise NotFoundError("no longer in the library")
            paper = merge_metadata(old, fresh) if old else fresh.model_copy(deep=True)
            if old is None and paper_id in works:
                work = works[paper_id]
                paper.essay_cited = True
                paper.problems = [ProblemTag(id=p, by="essay") for p in work.problems]
                paper.assumptions = [AssumptionTag(id=a, stance=s, by="essay") for a, s in work.assumptions.items()]
                paper.primary = work.problems[0] if work.problems else None  # the first problem a paper gets is its primary
            apply_tag_flags(paper, taxonomy, problems, assumptions)
            if before_save:
                before_save(paper)
            assign_citekey(paper)
            return paper

        return make

    for arxiv_id in dict.fromkeys(ids):
        try:
            stored = library.stored(arxiv_id.base)
        except DataError as exc:
            record(Outcome(arxiv_id.base, "failed", reason=f"stored file does not validate, left untouched: {exc}"))
            continue
        if stored is None and only_existing:
            record(Outcome(arxiv_id.base, "failed", reason="not in the library"))
            continue
        to_fetch.append(arxiv_id)

    rejected = set() if only_existing else _on_record(library) & {i.base for i in to_fetch}
    for batch in client.fetch_batches(to_fetch):
        for paper_id, fresh in batch.papers.items():
            try:
                done = library.upsert(paper_id, merged(paper_id, fresh))
            except (DataError, NotFoundError) as exc:
                record(Outcome(paper_id, "failed", reason=f"left untouched: {exc}"))
                continue
            action = "added" if done.before is None else ("updated" if done.changed else "unchanged")
            warning = duplicates.warning(done.paper) if done.before is None else None
            if paper_id in rejected:
                withdrawn = _withdraw(library, paper_id)
                warning = "; ".join(w for w in (warning, withdrawn) if w) or None
            record(Outcome(paper_id, action, done.paper, changes=metadata_changes(done.before, done.paper) if done.before else [], warning=warning))
        for paper_id, reason in batch.failed.items():
            record(Outcome(paper_id, "failed", reason=reason))
    order = [i.base for i in dict.fromkeys(ids)]
    return [outcomes[i] for i in order if i in outcomes]


def _on_record(library: Library) -> set[str]:
    """The rejected ids; a bad line of the record is for ``check`` to name, not a reason to
    refuse adding papers."""
    try:
        return decisions.ids_on_record(library.root)
    except DataError:
        return {entry.rejection.id for entry in decisions.scan(library.root)[0]}


def _withdraw(library: Library, paper_id: str) -> Optional[str]:
    """Adding a paper that was rejected (by this reader from the inbox, or by another) is a new
    decision: its rejection leaves the record, so the library and the record agree again."""
    from lmdev.triage import decision_lock

    with decision_lock(library):
        withdrawn = decisions.forget(library.root, [paper_id])
    return "; ".join(f"it had been rejected ({r.reason}); that rejection is withdrawn" for r in withdrawn) or None


MAX_ID_LIST_BYTES = 10 * 1024 * 1024


def read_id_lines(source: str) -> list[tuple[str, str]]:
    """(where, text) for each non-blank, non-comment line of an id list, a file or stdin (``-``).

    Reading stops with an error past ``MAX_ID_LIST_BYTES``, so a file that never ends
    (``/dev/zero``, a pipe left open) cannot exhaust memory.
    """
    name = "<stdin>" if source == "-" else source
    try:
        if source == "-":
            stream = getattr(sys.stdin, "buffer", None)
            raw = stream.read(MAX_ID_LIST_BYTES + 1) if stream is not None else sys.stdin.read(MAX_ID_LIST_BYTES + 1).encode("utf-8", "surrogateescape")
        else:
            with Path(source).open("rb") as handle:
                raw = handle.read(MAX_ID_LIST_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read id list: {exc.strerror or exc}", path=name) from None
    if len(raw) > MAX_ID_LIST_BYTES:
        raise DataError(f"id list is larger than {MAX_ID_LIST_BYTES // 2**20} MiB; split it", path=name)
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"id list is not UTF-8 text (byte {exc.start})", path=name) from None
    found = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if text:
            found.append((f"{name}:{number}", text))
    return found
