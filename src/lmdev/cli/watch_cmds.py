"""Keeping up with arXiv: watch, inbox, accept, reject, review (the inbox), digest."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmdev.cli.base import app, examples, library, readable_papers, trained_model
from lmdev.cli.completion import waiting_ids
from lmdev.cli.options import AssumptionTags, FormatOption, ProblemTags, TextOrJson
from lmdev.cli.output import message, note, print_json, progress, write
from lmdev.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from lmdev.inbox import Waiting
    from lmdev.store import Library
    from lmdev.triage import Decided
    from lmdev.watch import WatchReport


class InboxFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class InboxSort(str, Enum):
    best = "best"
    gaps = "gaps"


class DigestFormat(str, Enum):
    markdown = "markdown"
    html = "html"
    atom = "atom"


Ids = Annotated[list[str], typer.Argument(metavar="ID", autocompletion=waiting_ids, help="arXiv ids (any form) of waiting papers.")]
ProblemOnly = Annotated[Optional[str], typer.Option("--problem", "-p", metavar="ID", help="Only papers the classifier ties to this problem.")]
MinRelevance = Annotated[Optional[float], typer.Option("--min-relevance", metavar="X", min=0.0, max=1.0, help="Only papers at least this relevant (0 to 1).")]
Limit = Annotated[Optional[int], typer.Option("--limit", "-n", metavar="N", min=1, help="At most N papers.")]
TEXT_LIMIT = 50


@app.command(epilog=examples(
    "lmdev watch                          today's listing for the tracker's categories (data/config.yaml)",
    "lmdev watch --category cs.CL --category cs.LG",
    "lmdev watch --since 3d               backfill the last three days through the query API",
    "lmdev watch --min-relevance 0.05     leave the least relevant papers out of the inbox",
    "lmdev watch --format json > watch.json",
))
def watch(
    ctx: typer.Context,
    category: Annotated[list[str], typer.Option("--category", "-c", metavar="CAT", help="arXiv category to watch (repeatable; default: watch.categories in data/config.yaml, else cs.CL, cs.LG, cs.AI).")] = [],  # noqa: B006
    since: Annotated[Optional[str], typer.Option("--since", metavar="DATE", help="Backfill papers submitted from DATE (YYYY-MM-DD within the last 31 days, or 3d) through today, through the query API.")] = None,
    min_relevance: Annotated[Optional[float], typer.Option("--min-relevance", metavar="X", min=0.0, max=1.0, help="Leave papers less relevant than X (0 to 1) out of the inbox (default: watch.min_relevance in data/config.yaml, else 0: every paper).")] = None,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Fetch the day's arXiv listing (one request), classify what is new and put it in the inbox."""
    from lmdev.arxiv.client import ArxivClient
    from lmdev.config import load_config
    from lmdev.reports.digest import parse_since
    from lmdev.watch import backfill, backfill_days, check_categories, fetch_listing, triage

    lib = library(ctx)
    config = load_config(lib.root).watch
    categories = check_categories(category or config.categories)
    floor = float(config.min_relevance if min_relevance is None else min_relevance)
    today = dt.date.today()
    days = backfill_days(parse_since(since, today), today) if since else []
    with ArxivClient() as client:
        if days:
            with progress(len(days), "asking the query API", minimum=1) as advance:
                listing = backfill(client, categories, days, on_day=lambda _day, _n: advance(1))
            source = f"query API, {days[0].isoformat()} to {days[-1].isoformat()}"
        else:
            if sys.stderr.isatty():
                message(f"fetching the listing for {'+'.join(categories)} ...")
            source, listing = fetch_listing(client, categories)
        requests = client.requests
    with progress(len(listing.announcements), "triaging") as advance:
        report = triage(lib, listing, source=source, today=today, announced=not days, advance=advance, min_relevance=floor)
    report.requests = requests
    _watch_summary(report, fmt)


def _watch_summary(report: WatchReport, fmt: TextOrJson) -> None:
    if fmt is TextOrJson.json:
        print_json(report.to_json())
    for line in report.skipped:
        note(f"skipped {line}")
    for line in report.trained_without:  # the inbox is still filled: lmdev check fails on the file in CI
        note(f"the classifier was trained without {line}")
    for paper_id, version in report.new_versions:
        message(f"{paper_id}: new version v{version} noted in its paper file (lmdev refresh {paper_id} fetches its new metadata)")
    if not report.fetched and not report.skipped:
        message(f"watch: no announcements in {report.source} (arXiv announces nothing on weekends and holidays; on a weekday, check the categories)")
        return
    day = f" of {report.date.isoformat()}" if report.date else ""
    parts = [f"fetched {report.fetched}{day}", f"{len(report.added)} new in the inbox", f"{report.known} already known"]
    if report.new_versions:
        parts.append(f"{len(report.new_versions)} new version(s) of library papers noted")
    if report.replaced:
        parts.append(f"{report.replaced} replacements of papers not in the library skipped")
    if report.left_out:
        parts.append(f"{report.left_out} below relevance {report.min_relevance:g} left out")
    if report.pruned:
        parts.append(f"{len(report.pruned)} decided elsewhere removed from the inbox")
    message("watch: " + ", ".join(parts) + f" ({report.requests} request{'s' if report.requests != 1 else ''})")
    if report.skipped:
        message(f"watch: {len(report.skipped)} item(s) of the listing could not be read or kept (named above); the rest are in the inbox")
        raise typer.Exit(1)


def _waiting(lib: Library) -> tuple[list[Waiting], int]:
    """The inbox minus papers decided elsewhere, and how many files could not be read (each named
    on stderr; the command exits 1 after its output)."""
    from lmdev.inbox import Inbox
    from lmdev.triage import undecided

    items, errors = Inbox(lib.root).waiting()
    items = undecided(lib, items)
    for error in errors:
        note(f"skipped {error} (lmdev check lists every problem)")
    return items, len(errors)


@app.command(epilog=examples(
    "lmdev inbox                          best first: relevance, then problem score",
    "lmdev inbox --problem efficiency --min-relevance 0.5",
    "lmdev inbox --sort gaps --limit 20   what fills the library's gaps",
    "lmdev inbox --format json > inbox.json",
    "lmdev inbox --format markdown        for a pull request or an issue",
))
def inbox(
    ctx: typer.Context,
    problem: ProblemOnly = None,
    min_relevance: MinRelevance = None,
    limit: Limit = None,
    sort: Annotated[InboxSort, typer.Option("--sort", help="best (relevance, then problem score) or gaps (what fills the library's gaps first).")] = InboxSort.best,
    fmt: Annotated[InboxFormat, typer.Option("--format", "-f", help="text, json (every waiting paper, for scripts) or markdown.")] = InboxFormat.text,
) -> None:
    """The papers waiting for a decision, best first, each with its top problem and why."""
    from lmdev.triage import gap_weights, ordered, select

    lib = library(ctx)
    if problem is not None:
        lib.taxonomy.get(problem, "problem")
    waiting, bad = _waiting(lib)
    items = select(waiting, problem=problem, min_relevance=min_relevance)
    weights = gap_weights(lib, readable_papers(lib)) if sort is InboxSort.gaps else None
    ranked = ordered(items, sort=sort.value, problem=problem, weights=weights)
    shown = ranked[:limit] if limit else ranked
    if fmt is InboxFormat.json:
        _json_lines([item.to_json() for item in shown])
    elif fmt is InboxFormat.markdown:
        from lmdev.reports.digest import inbox_markdown

        write(inbox_markdown(shown))
    elif not shown:
        from lmdev.cli.render_inbox import nothing_shown

        message(nothing_shown(waiting, bad))
    elif sys.stdout.isatty():
        from lmdev.cli.render_inbox import inbox_table

        inbox_table(shown[: limit or TEXT_LIMIT])
        more = len(shown) - len(shown[: limit or TEXT_LIMIT])
        message(f"{len(ranked)} waiting" + (f"; {more} more (--limit N, or pipe the output)" if more else ""))
    else:
        from lmdev.cli.render_inbox import inbox_lines

        sys.stdout.write(inbox_lines(shown))
    if bad:
        raise typer.Exit(1)


def _json_lines(rows: list[dict[str, object]]) -> None:
    """A JSON array with one element per line: the C encoder (indenting falls back to the slow
    pure-Python one), and still a diff and a grep away from readable."""
    encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps would build one per row
    body = ",\n".join([encode(row) for row in rows])
    sys.stdout.write(f"[\n{body}\n]\n" if rows else "[]\n")


def _decided(results: list[Decided], fmt: TextOrJson, verb: str) -> None:
    if fmt is TextOrJson.json:
        print_json([d.to_json() for d in results])
    else:
        for d in results:
            if d.action == "failed":  # one line: the id and why, as add and refresh say it
                message(f"{d.action:<10} {d.id}: {d.detail}")
                continue
            title = f"  {d.title}" if d.title else ""
            message(f"{d.action:<10} {d.id}{title}" + (f"\n           {d.detail}" if d.detail else ""))
    done = sum(d.action in ("accepted", "rejected") for d in results)
    failed = sum(d.action == "failed" for d in results)
    if len(results) > 1 or fmt is TextOrJson.json:  # one paper's line already says it all
        message(f"{verb}: {done} {verb}ed" + (f", {failed} failed" if failed else ""))
    if failed:
        raise typer.Exit(1)


@app.command(epilog=examples(
    "lmdev accept 2605.08840                       with the suggested tags, as a person's",
    "lmdev accept 2605.08840 2605.08513",
    "lmdev accept 2605.08632 --problem efficiency --assumption cost-irrelevant:challenges",
    "lmdev accept 2605.08513 --primary alignment   keep the suggestions, change the primary",
))
def accept(
    ctx: typer.Context,
    ids: Ids,
    problem: ProblemTags = [],  # noqa: B006
    assumption: AssumptionTags = [],  # noqa: B006
    primary: Annotated[Optional[str], typer.Option("--primary", metavar="ID", help="The problem the paper attacks most (default: the first --problem, else the suggested primary).")] = None,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Accept waiting papers into the library; their tags (suggested, or given) become a person's."""
    from lmdev.tagging import TagChange
    from lmdev.triage import accept as accept_papers

    lib = library(ctx)
    change = TagChange(problems=problem, assumptions=assumption, primary=primary) if (problem or assumption or primary) else None
    _decided(accept_papers(lib, ids, change), fmt, "accept")


@app.command(epilog=examples(
    "lmdev rescore                                 after a round of decisions: the inbox ranked by what the model learnt",
    "lmdev rescore --format json",
))
def rescore(ctx: typer.Context, fmt: FormatOption = TextOrJson.text) -> None:
    """Score every waiting paper again with the current model (relevance, problems, assumptions, reasons).

    A paper keeps the scores of the model that was current when it arrived; the model learns from
    every accept and reject since. Only files whose scores changed are written; metadata and dates
    stay as they were.
    """
    from lmdev.inbox import Inbox
    from lmdev.watch import rescore as rescore_inbox

    lib = library(ctx)
    total = len(Inbox(lib.root).files())
    model = trained_model(lib)  # names the paper files it was trained without
    with progress(total, "rescoring") as advance:
        report = rescore_inbox(lib, model=model, advance=advance)
    if fmt is TextOrJson.json:
        print_json(report.to_json())
    for line in report.skipped:
        note(f"skipped {line}")
    message(f"rescore: {report.waiting} waiting paper(s) scored with the current model, {len(report.changed)} changed")
    if report.skipped:
        raise typer.Exit(1)


@app.command(epilog=examples(
    "lmdev reject 2602.16713 --reason 'not about language models: 3D reconstruction'",
    "lmdev reject 2602.16713 2602.16714           (reason: out of scope)",
))
def reject(
    ctx: typer.Context,
    ids: Ids,
    reason: Annotated[Optional[str], typer.Option("--reason", metavar="TEXT", help="Why it is out of scope, in a few words (default: out of scope).")] = None,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Record waiting papers as out of scope: they leave the inbox and are never proposed again."""
    from lmdev.triage import reject as reject_papers

    lib = library(ctx)
    _decided(reject_papers(lib, ids, reason), fmt, "reject")


def _abstracts(lib: Library, ids: list[str]) -> dict[str, str]:
    """The abstracts of waiting papers, from their files (a file that went bad meanwhile gives none)."""
    from lmdev.errors import DataError
    from lmdev.inbox import Inbox

    inbox = Inbox(lib.root)
    found: dict[str, str] = {}
    for paper_id in ids:
        try:
            found[paper_id] = inbox.get(paper_id).abstract
        except (DataError, NotFoundError):
            continue
    return found


@app.command(epilog=examples(
    "lmdev digest                         the last 7 days, as Markdown (a weekly pull request)",
    "lmdev digest --since 2026-02-01 --format html > digest.html",
    "lmdev digest --since 14d --format atom --feed-url https://example.org/inbox.xml > site/inbox.xml",
    "lmdev digest --min-relevance 0.5 --limit 5",
))
def digest(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", metavar="WHEN", help="7d, 2w or a date: papers that arrived since then.")] = "7d",
    fmt: Annotated[DigestFormat, typer.Option("--format", "-f", help="markdown, html (an email) or atom (a feed reader).")] = DigestFormat.markdown,
    min_relevance: Annotated[Optional[float], typer.Option("--min-relevance", metavar="X", min=0.0, max=1.0, help="Only papers at least this relevant (default 0.5, the classifier's in-scope line; 0 for all).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", "-n", metavar="N", min=1, help="At most N papers per problem.")] = None,
    feed_url: Annotated[Optional[str], typer.Option("--feed-url", metavar="URL", help="Where the Atom feed will be published: its self link, which feed readers and validators look for, and its id (without it, every tracker's feed has the same id).")] = None,
) -> None:
    """What arrived in the inbox, grouped by problem: Markdown, HTML or an Atom feed."""
    from lmdev.reports import digest as report

    if feed_url is not None and (fmt is not DigestFormat.atom or not re.fullmatch(r"https?://[^\s<>\"']+", feed_url)):
        raise UsageError("--feed-url takes the http(s) address the Atom feed will be published at, with --format atom")

    lib = library(ctx)
    today = dt.date.today()
    start = report.parse_since(since, today)
    waiting, bad = _waiting(lib)
    built = report.build(lib.taxonomy, waiting, start, today, min_relevance=min_relevance, limit=limit)
    if fmt is DigestFormat.atom:
        abstracts = _abstracts(lib, [item.id for group in built.groups for item in group.items])
        write(report.atom(built, lib.taxonomy, abstracts=abstracts, self_url=feed_url))
    elif fmt is DigestFormat.html:
        write(report.html(built))
    else:
        write(report.markdown(built))
    message(f"digest: {built.total} paper(s) since {start.isoformat()}" + (f" in {len(built.groups)} group(s)" if built.groups else ""))
    if bad:
        raise typer.Exit(1)

