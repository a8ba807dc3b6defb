"""Deciding on waiting papers, and the order in which they are shown.

Accepting turns an inbox item into a paper file whose tags are a person's (the suggested ones,
or those given); rejecting appends it to ``rejected.yaml`` with its title and abstract, so the
classifier can learn from it and no later watch proposes it again. Either way the inbox file
goes. Decisions on one data directory are serialised by a lock in its inbox folder, so two
commands deciding at once never lose a line of ``rejected.yaml``; across machines, the file
layout (one inbox file per paper, a union-merged ``rejected.yaml``) keeps every decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional

from lmdev import decisions
from lmdev.errors import DataError, LmdevError, NotFoundError, UsageError
from lmdev.ids import abs_url, is_slug, normalise_paper_id
from lmdev.inbox import Inbox, InboxItem, Waiting
from lmdev.locking import exclusive
from lmdev.models import Paper
from lmdev.paths import INBOX_DIR
from lmdev.store import LOCK_FILE, Library
from lmdev.tagging import TagChange, parse_assumption_spec, set_assumption, set_primary, set_problem

DEFAULT_REASON = "out of scope"
SORTS = ("best", "gaps")


@dataclass
class Decided:
    """What happened to one id: ``accepted``, ``rejected``, ``unchanged`` (decided already) or ``failed``."""

    id: str
    action: str
    detail: str = ""
    title: Optional[str] = None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "action": self.action, "title": self.title, "detail": self.detail}  # every key, always


def decided_ids(library: Library, among: Optional[Iterable[str]] = None, *, fresh: bool = False) -> set[str]:
    """Ids in the library or in ``rejected.yaml``: what no watch proposes and the inbox ignores.
    With ``among`` (canonical ids), only those of the library's papers are looked for, each by its
    file name, instead of listing a folder of perhaps 100k papers. The record's ids are read
    fast (:func:`decisions.ids_on_record`). ``fresh``: see :meth:`Library.ids`."""
    found = library.ids(fresh=fresh) if among is None else library.present(among)
    return found | decisions.ids_on_record(library.root)


def undecided(library: Library, items: list[Waiting]) -> list[Waiting]:
    """The waiting ``items`` minus papers decided elsewhere (now in the library, or rejected)."""
    decided = decided_ids(library, among=[item.id for item in items])
    return [item for item in items if item.id not in decided]


@contextmanager
def decision_lock(library: Library) -> Iterator[None]:
    """Hold the lock for decisions on this data directory (the inbox, ``rejected.yaml``, and
    which papers the library holds). It lives in the data directory, beside what it guards, so
    every process deciding there takes the same one whatever its cache directory or user (a
    scheduled watch and a person); ``.lmdev.lock`` is what a tracker's .gitignore already leaves
    out."""
    folder = library.root / INBOX_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive(folder / LOCK_FILE):
        yield


def tagged_paper(library: Library, item: InboxItem, change: Optional[TagChange] = None) -> Paper:
    """The paper file an accepted item becomes: every tag a person's, but an assumption the
    classifier only kept because none cleared its threshold, which stays its suggestion (by:
    classifier, with its score) for a person to confirm. Problems and assumptions given in
    ``change`` replace the suggested ones of their kind; ``change.primary`` (else the first
    problem given, else the suggested primary) is the primary."""
    change = change or TagChange()
    tax = library.taxonomy
    paper = item.paper()
    problems = change.problems or [p.id for p in item.problems]
    primary = change.primary or (change.problems[0] if change.problems else item.primary)
    for problem_id in problems:
        set_problem(paper, tax, problem_id)
    if primary:
        set_primary(paper, tax, primary)
    if change.assumptions:
        for spec in change.assumptions:
            set_assumption(paper, tax, *parse_assumption_spec(spec))
    else:
        for tag in item.assumptions:
            if tag.suggested:
                set_assumption(paper, tax, tag.id, tag.stance)
            else:
                set_assumption(paper, tax, tag.id, tag.stance, by="classifier", score=round(tag.score, 3))
    if not paper.assumptions:  # check refuses a paper that maps to no assumption: never write one
        raise UsageError(f"{item.id}: no assumption suggested for it; give one: lmdev accept {item.id} --assumption ID:STANCE (or e in lmdev review)")
    return paper


@dataclass
class _Round:
    """One accept or reject: the ids asked for (each once, in order), and what was decided
    before it, read under the decision lock."""

    wanted: list[str]
    library: Library
    inbox: Inbox
    stored: set[str]
    rejected: set[str]

    def settled(self, paper_id: str, *, accepting: bool) -> Optional[Decided]:
        """The outcome for an id decided before: the same way, unchanged (its inbox file goes);
        the other way, failed. None for an id still to decide."""
        same, other = (self.stored, self.rejected) if accepting else (self.rejected, self.stored)
        if paper_id in same and paper_id in other:  # both, as a merge of two people's decisions can leave it
            if not accepting:
                return Decided(paper_id, "failed", f"it is in the library too (a merge?); lmdev remove {paper_id} drops its paper file and the rejection stands, lmdev accept {paper_id} keeps it")
            decisions.forget(self.library.root, [paper_id])
            self.rejected.discard(paper_id)
            self.inbox.remove(paper_id)
            return Decided(paper_id, "accepted", "kept in the library; its rejection (left by a merge) is withdrawn")
        if paper_id in same:
            self.inbox.remove(paper_id)
            return Decided(paper_id, "unchanged", "already in the library" if accepting else "rejected already")
        if paper_id in other:
            why = f"rejected earlier; lmdev add {paper_id} takes it into the library and withdraws the rejection" if accepting else "it is in the library; remove its paper file first"
            return Decided(paper_id, "failed", why)
        return None


@contextmanager
def _deciding(library: Library, ids: Sequence[str]) -> Iterator[_Round]:
    """Validate the ids, take the decision lock, and read what is decided already."""
    wanted = list(dict.fromkeys(normalise_paper_id(i) for i in ids))
    with decision_lock(library):
        now = _Round(wanted, library, Inbox(library.root), library.ids(fresh=True), decisions.rejected_ids(library.root))
        yield now
        # files of papers decided on another branch and merged in go too, as docs/watch.md says
        now.inbox.prune(now.stored | now.rejected)


def accept(library: Library, ids: Sequence[str], change: Optional[TagChange] = None) -> list[Decided]:
    """Accept waiting papers into the library (paper file first, then the inbox file goes).
    No citekey is given here: two people accepting on two branches could pick the same one, and
    their merge must pass ``check``; ``lmdev citekeys`` (or the next ``tag``) gives them."""
    if change is not None:
        change.validate(library.taxonomy)
    out: list[Decided] = []
    with _deciding(library, ids) as now:
        inbox = now.inbox
        for paper_id in now.wanted:
            settled = now.settled(paper_id, accepting=True)
            if settled is not None and settled.action == "unchanged" and change is not None:
                # the tags asked for would be silently dropped: a paper file is tagged with `tag`
                settled = Decided(paper_id, "failed", f"already in the library; the tags given were not applied (lmdev tag {paper_id} changes them)")
            if settled is not None:
                out.append(settled)
                continue
            try:
                item = inbox.get(paper_id)
            except NotFoundError:
                out.append(Decided(paper_id, "failed", f"not in the inbox ({inbox.dir})"))
                continue
            except DataError as exc:  # one unreadable file fails its paper, not the batch
                out.append(Decided(paper_id, "failed", str(exc)))
                continue
            try:
                paper = tagged_paper(library, item, change)
            except LmdevError as exc:
                out.append(Decided(paper_id, "failed", str(exc)))
                continue
            meanwhile: list[Paper] = []

            def make(stored: Optional[Paper], paper: Paper = paper, meanwhile: list[Paper] = meanwhile) -> Paper:
                # `add` takes the library's lock, not the decision lock: a file it wrote since the
                # look above is kept as it is, never replaced by the inbox's copy
                if stored is not None:
                    meanwhile.append(stored)
                    return stored
                return paper

            try:
                library.upsert(paper_id, make)
            except LmdevError as exc:  # a paper file that cannot be written (a special file there)
                out.append(Decided(paper_id, "failed", str(exc)))
                continue
            inbox.remove(paper_id)
            if meanwhile:
                out.append(Decided(paper_id, "unchanged", "added to the library meanwhile (lmdev add); its file is kept as it is", paper.title))
            else:
                out.append(Decided(paper_id, "accepted", _tags(paper), paper.title))
    return out


def _tags(paper: Paper) -> str:
    problems = ", ".join(t.id for t in paper.primary_first())  # the primary first, as everywhere
    assumptions = ", ".join(f"{t.id}:{t.stance}" + ("" if t.reviewed else " (a suggestion to confirm: lmdev review)") for t in paper.assumptions)
    return "; ".join(x for x in (problems, assumptions) if x)


def reject(library: Library, ids: Sequence[str], reason: Optional[str] = None, *, today: Optional[dt.date] = None) -> list[Decided]:
    """Record waiting papers as out of scope (with title and abstract, dated by their listing day).

    An id that is not in the inbox is recorded too (so no watch proposes it), without title."""
    reason = " ".join((DEFAULT_REASON if reason is None else reason).split())
    if not reason:
        raise UsageError("the reason is empty (leave out --reason for the default, 'out of scope')")
    if len(reason) > decisions.MAX_REASON:
        raise UsageError(f"the reason is longer than {decisions.MAX_REASON} characters")
    today = today or dt.date.today()
    out: list[Decided] = []
    with _deciding(library, ids) as now:
        inbox = now.inbox
        entries: list[tuple[decisions.Rejection, Decided]] = []
        for paper_id in now.wanted:
            settled = now.settled(paper_id, accepting=False)
            if settled is not None:
                out.append(settled)
                continue
            item: Optional[InboxItem] = None
            broken = False
            if inbox.path_for(paper_id).exists():
                try:
                    item = inbox.read(inbox.path_for(paper_id))
                except DataError:
                    broken = True  # rejected all the same: the file goes, the decision stays
            if item is None and not broken and is_slug(paper_id):
                out.append(Decided(paper_id, "failed", "not in the inbox, and not an arXiv id a watch could bring: nothing to reject (a typo?)"))
                continue
            if item is None:
                rejection = decisions.Rejection(paper_id, reason, today)
                where = "its inbox file did not validate" if broken else "not in the inbox"
                decided = Decided(paper_id, "rejected", f"{reason} ({where}: recorded without title)")
            else:
                rejection = decisions.Rejection(paper_id, reason, item.listed or today, item.title, item.abstract or None)
                decided = Decided(paper_id, "rejected", reason, item.title)
            entries.append((rejection, decided))
        decisions.record(library.root, [r for r, _ in entries])
        for rejection, decided in entries:
            inbox.remove(rejection.id)
            out.append(decided)
    order = {pid: n for n, pid in enumerate(now.wanted)}
    return sorted(out, key=lambda d: order[d.id])


# -- finding ----------------------------------------------------------------------------------


def lookup(library: Library, paper_id: str) -> Paper | InboxItem | decisions.Rejection:
    """What the tracker holds for an id: its paper file, else the inbox item waiting for a
    decision, else its rejection on record. Every id a command prints (``inbox``, ``reject``,
    ``digest``) can so be looked at with ``show``."""
    for attempt in range(2):
        try:
            return library.get(paper_id)
        except NotFoundError:
            canonical = normalise_paper_id(library.resolve(paper_id))
        inbox = Inbox(library.root)
        path = inbox.path_for(canonical)
        if path.exists():
            try:
                return inbox.get(canonical)
            except (DataError, NotFoundError):
                if attempt or path.exists():
                    raise
                continue
        rejection = decisions.find(library.root, canonical)
        if rejection is not None:
            return rejection
        # not found, or decided while we looked (the paper went from the inbox to the library or
        # the record after we looked there): one more look settles which
    raise NotFoundError(f"no paper {canonical!r} in {library.papers_dir}, the inbox or {decisions.REJECTED_FILE}")


def page(library: Library, paper_id: str) -> tuple[str, bool]:
    """The page to open for an id, and whether the tracker holds the paper: a stored paper's link,
    else the arXiv page of the id, whatever its inbox file or rejection says (and of any arXiv
    id: one a digest or a colleague mentioned)."""
    try:
        return library.get(paper_id).link, True
    except NotFoundError as missing:
        canonical = normalise_paper_id(library.resolve(paper_id))
        if is_slug(canonical):  # a reading not on arXiv has no page but the one its file gives
            raise missing from None
    known = Inbox(library.root).path_for(canonical).exists() or decisions.find(library.root, canonical) is not None
    return abs_url(canonical), known


# -- ordering ---------------------------------------------------------------------------------


def best_first(items: Iterable[Waiting], problem: Optional[str] = None) -> list[Waiting]:
    """By relevance, then by the score of ``problem`` (or of the top problem), then by id."""
    return sorted(items, key=lambda i: (-round(i.relevance, 6), -i.problem_score(problem), i.id))


def select(items: Iterable[Waiting], *, problem: Optional[str] = None, min_relevance: Optional[float] = None) -> list[Waiting]:
    """Items suggesting ``problem`` (any of their problems) and at least ``min_relevance``."""
    return [
        i for i in items
        if (problem is None or any(p.id == problem for p in i.problems)) and (min_relevance is None or i.relevance >= min_relevance)
    ]


def gap_weights(library: Library, papers: Optional[list[Paper]] = None) -> dict[str, float]:
    """How much the library needs each node, 0 to 1: problems by how few papers they have in the
    last two years (counted back from the newest paper), assumptions by how few papers challenge them."""
    from lmdev.reports.coverage import DEFAULT_RECENT_YEARS

    papers = papers if papers is not None else library.papers()
    years = [p.year for p in papers if p.year]
    since = max(years) - DEFAULT_RECENT_YEARS + 1 if years else 0
    recent: dict[str, int] = {n.id: 0 for n in library.taxonomy.problems}
    challenged: dict[str, int] = {n.id: 0 for n in library.taxonomy.assumptions}
    for paper in papers:
        if (paper.year or 0) >= since:
            for problem_id in paper.problem_ids():
                recent[problem_id] = recent.get(problem_id, 0) + 1
        for tag in paper.assumptions:
            if tag.stance == "challenges":
                challenged[tag.id] = challenged.get(tag.id, 0) + 1
    weights = {node_id: 1.0 / (1.0 + count) for node_id, count in recent.items()}
    weights.update({node_id: 1.0 / (1.0 + count) for node_id, count in challenged.items()})
    return weights


def gap_score(item: Waiting, weights: dict[str, float]) -> float:
    """How much a paper would fill the library's gaps: its relevance times the strongest
    weighted suggestion among its problems and the assumptions it challenges."""
    terms = [weights.get(p.id, 0.0) * p.score for p in item.problems]
    terms += [weights.get(a.id, 0.0) * a.score for a in item.assumptions if a.stance == "challenges"]
    return item.relevance * max(terms, default=0.0)


def ordered(items: Iterable[Waiting], *, sort: str = "best", problem: Optional[str] = None, weights: Optional[dict[str, float]] = None) -> list[Waiting]:
    if sort not in SORTS:
        raise UsageError(f"sort must be one of {', '.join(SORTS)}")
    ranked = best_first(items, problem)
    if sort == "gaps":
        from lmdev.classifier.model import RELEVANT

        table = weights or {}
        # A gap is only worth filling with a paper that is in scope: below the relevance at which
        # a paper's primary is suggested, papers keep their best-first order after the rest.
        ranked.sort(key=lambda i: (i.relevance < RELEVANT, -round(gap_score(i, table), 6) if i.relevance >= RELEVANT else 0.0))
    return ranked

