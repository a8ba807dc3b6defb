"""Changing a paper's tags, with one rule above all: a person's tag is never lost.

Taxonomy ids are validated here so that the CLI, the classifier and ``add`` share one path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from lmdev.citekeys import Assigner
from lmdev.errors import UsageError
from lmdev.models import STANCES, AssumptionTag, Paper, ProblemTag, TagSource
from lmdev.taxonomy import Taxonomy

if TYPE_CHECKING:
    from lmdev.store import Library


def parse_assumption_spec(spec: str, *, default_stance: Optional[str] = None) -> tuple[str, str]:
    """``ID:STANCE`` (or ``ID`` when a default stance is given) into (id, stance)."""
    node_id, _, stance = spec.partition(":")
    stance = stance.strip() or (default_stance or "")
    if not stance:
        raise UsageError(f"give a stance for assumption {node_id!r}: {node_id}:relies, {node_id}:supports or {node_id}:challenges")
    if stance not in STANCES:
        raise UsageError(f"unknown stance {stance!r} in {spec!r} (use relies, supports or challenges)")
    return node_id.strip(), stance


def one_stance_each(specs: list[str]) -> None:
    """Refuse an assumption given twice with different stances ('x:relies x:challenges'): only
    one could be stored, and which one a person meant is theirs to say."""
    stances: dict[str, set[str]] = {}
    for spec in specs:
        node_id, stance = parse_assumption_spec(spec)
        stances.setdefault(node_id, set()).add(stance)
    clash = [f"{node_id} ({' and '.join(sorted(given))})" for node_id, given in stances.items() if len(given) > 1]
    if clash:
        raise UsageError(f"an assumption takes one stance: {', '.join(clash)}; say which")


def set_problem(paper: Paper, taxonomy: Taxonomy, node_id: str, *, by: TagSource = "person", score: Optional[float] = None) -> bool:
    """Add or update a problem tag. A classifier never replaces a person's tag. Returns True if changed."""
    taxonomy.get(node_id, "problem")
    undeclined = by == "person" and _undecline(paper, node_id)
    existing = next((t for t in paper.problems if t.id == node_id), None)
    if existing is not None:
        if existing.human and by != "essay":
            return undeclined  # a person agreeing with the essay's (or their own) tag changes nothing else
        if existing.by == by and existing.score == score:
            return undeclined
        paper.problems = [ProblemTag(id=node_id, by=by, score=score) if t.id == node_id else t for t in paper.problems]
        return True
    paper.problems = [*paper.problems, ProblemTag(id=node_id, by=by, score=score)]
    if paper.primary is None:
        paper.primary = node_id
    return True


def set_primary(paper: Paper, taxonomy: Taxonomy, node_id: str) -> bool:
    """Make ``node_id`` the paper's primary problem (the one it attacks most), tagging it if needed."""
    changed = set_problem(paper, taxonomy, node_id)
    if paper.primary != node_id:
        paper.primary = node_id
        return True
    return changed


def set_assumption(paper: Paper, taxonomy: Taxonomy, node_id: str, stance: str, *, by: TagSource = "person", score: Optional[float] = None) -> bool:
    """Add or update an assumption tag and its stance, under the same rule as :func:`set_problem`."""
    taxonomy.get(node_id, "assumption")
    new = AssumptionTag(id=node_id, stance=stance, by=by, score=score)  # type: ignore[arg-type]
    undeclined = by == "person" and _undecline(paper, node_id)
    existing = next((t for t in paper.assumptions if t.id == node_id), None)
    if existing is not None:
        if by == "classifier" and existing.human:
            return False
        if existing == new or (by == "person" and existing.human and existing.stance == stance):
            return undeclined
        paper.assumptions = [new if t.id == node_id else t for t in paper.assumptions]
        return True
    paper.assumptions = [*paper.assumptions, new]
    return True


def remove_tags(paper: Paper, ids: Iterable[str]) -> list[str]:
    """Remove problem or assumption tags by id; returns the ids that were present."""
    wanted = set(ids)
    removed = [t.id for t in paper.problems if t.id in wanted] + [t.id for t in paper.assumptions if t.id in wanted]
    if paper.primary in wanted:
        paper.primary = None  # cleared first: a primary must always be one of the problems
    paper.problems = [t for t in paper.problems if t.id not in wanted]
    paper.assumptions = [t for t in paper.assumptions if t.id not in wanted]
    if paper.primary is None and paper.problems:
        paper.primary = paper.problems[0].id
    return removed


def decline_tags(paper: Paper, ids: Iterable[str]) -> list[str]:
    """Remove tags as a person. A classifier's suggestion removed so is recorded as declined,
    and applying the classifier's suggestions never puts it back; a person's own tag taken off
    leaves no trace. Returns the ids that were present."""
    wanted = set(ids)
    turned_down = [t.id for t in paper.suggestions() if t.id in wanted and t.id not in paper.declined]
    removed = remove_tags(paper, wanted)
    paper.declined = [*paper.declined, *turned_down]  # suggestions hold an id once
    return removed


def decline_suggestion(paper: Paper, node_id: str) -> bool:
    """Record a suggestion a person turned down before it was ever stored (in a review right
    after ``add``); True if the paper changed."""
    if node_id in paper.declined:
        return False
    paper.declined = [*paper.declined, node_id]
    return True


def _undecline(paper: Paper, node_id: str) -> bool:
    """A person tagging what they once declined takes the refusal back; True if it was declined."""
    if node_id not in paper.declined:
        return False
    paper.declined = [i for i in paper.declined if i != node_id]
    return True


def confirm_suggestions(paper: Paper, ids: Optional[Iterable[str]] = None) -> list[str]:
    """Turn the classifier's suggestions (all, or those in ``ids``) into a person's tags."""
    wanted = set(ids) if ids is not None else None
    confirmed: list[str] = []

    def confirm(tag: ProblemTag) -> ProblemTag:
        if tag.reviewed or (wanted is not None and tag.id not in wanted):
            return tag
        confirmed.append(tag.id)
        return tag.model_copy(update={"by": "person", "score": None})

    paper.problems = [confirm(t) for t in paper.problems]
    paper.assumptions = [confirm(t) for t in paper.assumptions]  # type: ignore[misc]
    return confirmed


def apply_tag_flags(paper: Paper, taxonomy: Taxonomy, problems: Iterable[str], assumptions: Iterable[str]) -> bool:
    """Apply ``--problem`` and ``--assumption ID:STANCE`` flags as a person's tags."""
    specs = list(assumptions)
    one_stance_each(specs)
    parsed = [parse_assumption_spec(spec) for spec in specs]
    changed = False
    for node_id in problems:
        changed |= set_problem(paper, taxonomy, node_id)
    for node_id, stance in parsed:
        changed |= set_assumption(paper, taxonomy, node_id, stance)
    return changed


# What arXiv's feed fills in; every other field (url, citekey, notes, tags, essay_cited) is
# only ever set by a person, an import or the essay, and a refresh never touches it.
ARXIV_FIELDS = ("version", "title", "authors", "affiliations", "abstract", "published", "updated", "primary_category", "categories", "doi", "journal_ref", "comment")


def merge_metadata(old: Paper, new: Paper) -> Paper:
    """Fresh arXiv metadata with everything a person wrote kept.

    arXiv's value wins where arXiv gives one; where it gives none (no DOI, no journal
    reference) a value already stored, perhaps set by hand, stays.
    """
    merged = old.model_copy(deep=True)
    for name in ARXIV_FIELDS:
        value = getattr(new, name)
        if value not in (None, "", [], {}):
            setattr(merged, name, value)
    merged.essay_cited = old.essay_cited or new.essay_cited
    return merged


@dataclass
class TagChange:
    """What a person asked to change on one paper: tags to add or remove, and notes."""

    problems: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    note: Optional[str] = None
    primary: Optional[str] = None
    confirm: bool = False

    def __bool__(self) -> bool:
        return bool(self.problems or self.assumptions or self.remove or self.note is not None or self.primary or self.confirm)

    def validate(self, taxonomy: Taxonomy) -> None:
        """Check every id and stance before anything is read or written."""
        for node_id in self.problems:
            taxonomy.get(node_id, "problem")
        for spec in self.assumptions:
            taxonomy.get(parse_assumption_spec(spec)[0], "assumption")
        one_stance_each(self.assumptions)
        for node_id in self.remove:
            taxonomy.get(node_id)
        if self.primary is not None:
            taxonomy.get(self.primary, "problem")
        given = [*self.problems, *(parse_assumption_spec(spec)[0] for spec in self.assumptions), *([self.primary] if self.primary else [])]
        both = [node_id for node_id in dict.fromkeys(given) if node_id in self.remove]
        if both:
            raise UsageError(f"{', '.join(both)}: both given and removed (--remove); say which")

    def apply(self, paper: Paper, taxonomy: Taxonomy) -> list[str]:
        """Change ``paper`` in place; returns the ids asked to be removed that it did not have."""
        apply_tag_flags(paper, taxonomy, self.problems, self.assumptions)
        removed = decline_tags(paper, self.remove)
        if self.confirm:
            confirm_suggestions(paper)
        if self.primary is not None:
            set_primary(paper, taxonomy, self.primary)
        if self.note is not None:
            paper.notes = self.note or None
        return [node_id for node_id in dict.fromkeys(self.remove) if node_id not in removed]


@dataclass
class Tagged:
    paper: Paper
    changed: bool
    not_present: list[str]
    replaced_note: Optional[str] = None  # the note ``--note`` wrote over, to say so


def tag_paper(library: Library, paper_id: str, change: TagChange, *, before_save: Optional[Callable[[Paper], None]] = None) -> Tagged:
    """Apply ``change`` (then ``before_save``) to a paper, re-read and written under the library lock."""
    change.validate(library.taxonomy)
    not_present: list[str] = []
    replaced: list[str] = []
    assign = Assigner(library)

    def edit(paper: Paper) -> None:
        if change.note is not None and paper.notes and paper.notes != change.note:
            replaced[:] = [paper.notes]
        not_present[:] = change.apply(paper, library.taxonomy)
        if before_save is not None:
            before_save(paper)
        assign(paper)

    done = library.update(paper_id, edit)
    return Tagged(done.paper, done.changed, not_present, replaced[0] if replaced else None)
