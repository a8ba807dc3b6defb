"""``lmdev watch``: read a day's arXiv listing against the essay's agenda and fill the inbox.

Three steps, kept apart so each can be tested and timed on its own: fetch the listing (one
request for all categories: ``$LMDEV_ARXIV_RSS/cs.CL+cs.LG+cs.AI``), or backfill past days
through the query API; triage it (drop what the tracker already knows, classify the rest);
write the inbox. Replacements (new versions of older papers) are skipped unless the paper is in
the library, whose file then records the new version number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from lmdev.arxiv.atom import MalformedFeedError
from lmdev.arxiv.rss import Announcement, Listing, parse_listing
from lmdev.errors import DataError, NotFoundError, UsageError
from lmdev.inbox import Inbox, InboxItem, ScoredAssumption, ScoredProblem
from lmdev.models import Paper
from lmdev.paths import arxiv_rss_url
from lmdev.store import Library
from lmdev.triage import decided_ids

if TYPE_CHECKING:
    from lmdev.arxiv.client import ArxivClient
    from lmdev.classifier.model import Model, Result

CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")
MAX_CATEGORIES = 20
MAX_BACKFILL_DAYS = 31
MAX_PROBLEMS = 4
MAX_ASSUMPTIONS = 3
MAX_REASONS = 3


@dataclass
class WatchReport:
    """What a watch did: the counts of its summary line, and the lines worth telling a person."""

    source: str
    date: Optional[dt.date] = None
    fetched: int = 0
    added: list[InboxItem] = field(default_factory=list)
    known: int = 0
    replaced: int = 0
    new_versions: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    requests: int = 0
    min_relevance: float = 0.0
    left_out: int = 0  # classified below min_relevance: not written to the inbox
    trained_without: list[str] = field(default_factory=list)  # paper files that did not read, for the model

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "date": self.date.isoformat() if self.date else None,
            "fetched": self.fetched,
            "new": len(self.added),
            "known": self.known,
            "replacements_skipped": self.replaced,
            "new_versions": [{"id": i, "version": v} for i, v in self.new_versions],
            "skipped": self.skipped,
            "pruned": self.pruned,
            "min_relevance": self.min_relevance,
            "left_out": self.left_out,
            "trained_without": self.trained_without,
            "requests": self.requests,
            "added": [item.waiting().to_json() for item in self.added],
        }


def check_categories(categories: Sequence[str]) -> list[str]:
    """Categories as arXiv writes them (``cs.CL``, ``stat.ML``, ``hep-th``), each once; else a usage error."""
    chosen = list(dict.fromkeys(c.strip() for c in categories if c.strip()))
    if not chosen:
        raise UsageError("give at least one arXiv category, such as cs.CL")
    if len(chosen) > MAX_CATEGORIES:
        raise UsageError(f"at most {MAX_CATEGORIES} categories in one watch, not {len(chosen)}")
    from lmdev.arxiv.categories import category_problem

    for category in chosen:
        if not CATEGORY.fullmatch(category):
            raise UsageError(f"not an arXiv category: {category!r} (for example cs.CL, cs.LG, stat.ML)")
        problem = category_problem(category)
        if problem:
            raise UsageError(problem)
    return chosen


def listing_url(categories: Sequence[str]) -> str:
    return f"{arxiv_rss_url()}/{'+'.join(check_categories(categories))}"


def fetch_listing(client: ArxivClient, categories: Sequence[str]) -> tuple[str, Listing]:
    """The day's listing for every category at once: one request."""
    url = listing_url(categories)
    body = client.get_document(url, context=f"listing {'+'.join(categories)}")
    try:
        return url, parse_listing(body)
    except MalformedFeedError as exc:
        raise MalformedFeedError(f"{url}: {exc.message}", url=url) from None


def backfill_days(since: dt.date, today: dt.date) -> list[dt.date]:
    """The days from ``since`` through ``today``; refuses the future and more than a month."""
    if since > today:
        raise UsageError(f"--since {since.isoformat()} is in the future")
    days = (today - since).days + 1
    if days > MAX_BACKFILL_DAYS:
        raise UsageError(f"--since reaches back {days} days; at most {MAX_BACKFILL_DAYS} (use arXiv's OAI-PMH for bulk harvesting)")
    return [since + dt.timedelta(days=n) for n in range(days)]


def backfill(client: ArxivClient, categories: Sequence[str], days: Sequence[dt.date], *, on_day: Optional[Callable[[dt.date, int], None]] = None) -> Listing:
    """Papers submitted on ``days`` to the categories, one query per day (paged by 100, on the
    same rate limiter as every request), as a listing without announce types."""
    from lmdev.arxiv.client import SEARCH_WINDOW

    chosen = check_categories(categories)
    listing = Listing(title=f"arXiv query API: {', '.join(chosen)}")
    seen: set[str] = set()
    cats = " OR ".join(f"cat:{c}" for c in chosen)
    for day in days:
        stamp = day.strftime("%Y%m%d")
        result = client.search(f"({cats}) AND submittedDate:[{stamp}0000 TO {stamp}2359]", max_results=SEARCH_WINDOW, sort_by="submittedDate", sort_order="ascending")
        for paper in result.papers:
            if paper.id not in seen:
                seen.add(paper.id)
                listing.announcements.append(Announcement(paper, "new"))
        if on_day:
            on_day(day, len(result.papers))
    return listing


def item_for(paper: Paper, result: Result, *, announced: Optional[str], listed: Optional[dt.date], seen: dt.date) -> InboxItem:
    """An inbox item: the paper's metadata and the classifier's suggestions (the suggested
    problems, at least the primary; the suggested assumptions, at least one; the primary's reasons)."""
    problems = [s for s in result.problems if s.suggested][:MAX_PROBLEMS] or result.problems[:1]
    primary = result.primary
    if primary is not None and primary not in [s.id for s in problems]:
        problems = [s for s in result.problems if s.id == primary] + problems[: MAX_PROBLEMS - 1]
    problems.sort(key=lambda s: (s.id != primary, -s.score))
    assumptions = [s for s in result.assumptions if s.suggested][:MAX_ASSUMPTIONS] or result.assumptions[:1]  # the best, unconfident
    reasons = next((s.reasons for s in result.problems if s.id == primary), [])[:MAX_REASONS]
    return InboxItem(
        **{name: getattr(paper, name) for name in ("id", "version", "title", "authors", "abstract", "published", "primary_category", "categories", "doi", "journal_ref", "comment")},
        announced=announced,
        listed=listed,
        seen=seen,
        relevance=min(1.0, max(0.0, result.relevance)),
        primary=primary,
        problems=[ScoredProblem(id=s.id, score=min(1.0, max(0.0, s.score))) for s in problems],
        assumptions=[ScoredAssumption(id=s.id, stance=s.stance or "relies", score=min(1.0, max(0.0, s.score)), suggested=s.suggested) for s in assumptions],  # type: ignore[arg-type]
        reasons=reasons,
    )


def triage(
    library: Library,
    listing: Listing,
    *,
    source: str,
    today: dt.date,
    model: Optional[Model] = None,
    announced: bool = True,
    advance: Optional[Callable[[int], None]] = None,
    min_relevance: float = 0.0,
) -> WatchReport:
    """Put the listing's unknown papers, classified, in the inbox; note new versions of library
    papers. Papers less relevant than ``min_relevance`` are left out of the inbox (counted, not
    recorded: a person never judged them, so the classifier must not learn from them)."""
    report = WatchReport(source=source, date=listing.date, fetched=len(listing.announcements), skipped=list(listing.skipped), min_relevance=min_relevance)
    inbox = Inbox(library.root)
    stored = library.ids()
    decided = decided_ids(library)
    waiting = {item.id for item in inbox.waiting()[0]}  # an unreadable file is classified and written again
    todo: list[Announcement] = []
    versions: list[Paper] = []
    for announcement in listing.announcements:
        paper_id = announcement.paper.id
        if announcement.is_replacement:
            if paper_id in stored:
                versions.append(announcement.paper)
            else:
                report.replaced += 1
        elif paper_id in decided or paper_id in waiting:
            report.known += 1
        else:
            todo.append(announcement)
    items: list[InboxItem] = []
    if advance:
        advance(len(listing.announcements) - len(todo))
    if todo:
        from lmdev.classifier.model import Doc
        from lmdev.classifier.modelcache import load_model

        model = model or load_model(library)
        report.trained_without = list(model.data.get("unreadable", []))
        for announcement in todo:
            paper = announcement.paper
            result = model.classify(Doc.of(paper.id, paper.title, paper.abstract))
            if result.relevance < min_relevance:
                report.left_out += 1
            else:
                items.append(item_for(paper, result, announced=announcement.kind if announced else None, listed=listing.date, seen=today))
            if advance:
                advance(1)
    too_large: list[str] = []
    report.added = inbox.add(items, refused=too_large)
    report.known += len(items) - len(report.added) - len(too_large)
    report.skipped += too_large
    report.pruned = inbox.prune(decided)
    for paper in versions:  # after classifying: a changed paper file means a retrained model
        _note_version(library, paper, report)
    return report


@dataclass
class RescoreReport:
    """What a rescore did: how many papers wait, which of them now read differently, which
    files could not be read."""

    waiting: int = 0
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"waiting": self.waiting, "changed": self.changed, "skipped": self.skipped}


def rescore(library: Library, *, model: Optional[Model] = None, advance: Optional[Callable[[int], None]] = None) -> RescoreReport:
    """Score every waiting paper again with the current model, which has learnt from every
    decision since the paper arrived: its relevance, problems, assumptions and reasons change;
    its metadata and dates do not. Files are written only where something changed, under the
    decision lock, so an accept or reject running meanwhile is never undone."""
    from lmdev.classifier.model import Doc
    from lmdev.classifier.modelcache import load_model
    from lmdev.inbox.item import render
    from lmdev.triage import decision_lock

    inbox = Inbox(library.root)
    report = RescoreReport()
    model = model or load_model(library)
    with decision_lock(library):
        found, errors = inbox.scan()
        decided = decided_ids(library, fresh=True)  # decided on another branch: the next watch removes them
        items = [item for item in found if item.id not in decided]
        report.skipped = [str(error) for error in errors]
        if advance:  # the files that will not be scored: the count the caller's bar began from
            advance(len(errors) + len(found) - len(items))
        report.waiting = len(items)
        fresh: list[InboxItem] = []
        for item in items:
            result = model.classify(Doc.of(item.id, item.title, item.abstract or ""))
            again = item_for(item.paper(), result, announced=item.announced, listed=item.listed, seen=item.seen)
            if render(again) != render(item):
                fresh.append(again)
            if advance:
                advance(1)
        report.changed = [item.id for item in inbox.rewrite(fresh)]
    return report


def _note_version(library: Library, announced: Paper, report: WatchReport) -> None:
    """A library paper has a new version: record its number in the paper file (metadata only;
    ``lmdev refresh`` brings the rest of the new version's metadata). The file is read and
    written under the library's lock, so a tag written meanwhile stays."""
    version = announced.version
    if version is None:
        report.known += 1
        return
    noted = False

    def note(stored: Paper) -> None:
        nonlocal noted
        if version is not None and (stored.version is None or stored.version < version):
            stored.version = version
            noted = True

    try:
        library.update(announced.id, note)
    except NotFoundError:  # removed since the listing was read: nothing to note
        pass
    except DataError as exc:
        report.skipped.append(f"{announced.id}: new version v{version}, but its paper file does not validate ({exc.message})")
        return
    if noted and version is not None:
        report.new_versions.append((announced.id, version))
    else:
        report.known += 1  # noted already: the counts of the summary add up to what was fetched
