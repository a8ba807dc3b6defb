"""Commands that talk to arXiv: add, search, refresh."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from lmdev.cli import render
from lmdev.cli.base import app, examples, library, readable_papers, require_file, trained_model
from lmdev.cli.completion import paper_ids
from lmdev.cli.options import OFFLINE_HINT, AssumptionTags, FormatOption, NoCache, Offline, ProblemTags, TextOrJson
from lmdev.cli.output import is_interactive, message, print_json, progress
from lmdev.errors import InvalidIdError, UsageError
from lmdev.ids import ArxivId, parse_arxiv_id

if TYPE_CHECKING:
    from lmdev.arxiv.client import ArxivClient
    from lmdev.ingest import Outcome
    from lmdev.store import Library


class SortBy(str, Enum):
    relevance = "relevance"
    submitted = "submitted"
    updated = "updated"


class Order(str, Enum):
    desc = "desc"
    asc = "asc"


def _client(no_cache: bool, offline: bool) -> ArxivClient:
    from lmdev.arxiv.client import ArxivClient

    return ArxivClient(use_cache=not no_cache, offline=offline, unreachable_hint=OFFLINE_HINT)


def _finish(outcomes: list[Outcome], fmt: TextOrJson, verb: str) -> None:
    if fmt is TextOrJson.json:
        print_json([o.to_json() for o in outcomes])
    counts = {a: sum(o.action == a for o in outcomes) for a in ("added", "updated", "unchanged", "failed")}
    if not outcomes:
        message(f"{verb}: nothing to do")
    elif len(outcomes) > 1 or fmt is TextOrJson.json:  # one paper's line already says it all
        message(f"{verb}: " + ", ".join(f"{n} {a}" for a, n in counts.items() if n))
    if counts["failed"]:
        raise typer.Exit(1)


def _sync(lib: Library, ids: list[ArxivId], fmt: TextOrJson, *, no_cache: bool, offline: bool, verb: str, **kwargs: Any) -> list[Outcome]:
    """Fetch and store with a progress bar; a line per paper on stderr as each lands."""
    from lmdev.arxiv.client import NOT_TRIED
    from lmdev.ingest import sync

    untried = 0
    with _client(no_cache, offline) as client, progress(len(ids), verb) as advance:

        def report(outcome: Outcome) -> None:
            nonlocal untried
            advance(1)
            if outcome.reason == NOT_TRIED:  # once arXiv stopped answering: one line for them all
                untried += 1
            elif fmt is TextOrJson.text:
                message(render.outcome_line(outcome))

        outcomes = sync(lib, client, ids, on_outcome=report, **kwargs)
    if untried and fmt is TextOrJson.text:
        message(f"{verb}: {untried} more paper(s) not tried, since arXiv stopped answering; run the command again later")
    return outcomes


@app.command(epilog=examples(
    "lmdev add 2205.14135",
    "lmdev add https://arxiv.org/abs/2201.11903v6 arXiv:2005.14165 --problem prompting",
    "lmdev add 2205.05638 --assumption out-of-the-box:challenges",
    "lmdev add --from reading-group.txt        (one id or URL per line; # comments)",
    "cat ids.txt | lmdev add --from - --accept-suggestions",
))
def add(
    ctx: typer.Context,
    ids: Annotated[Optional[list[str]], typer.Argument(metavar="ID_OR_URL", help="arXiv ids or URLs, in any form.")] = None,
    from_file: Annotated[Optional[str], typer.Option("--from", metavar="FILE", help="Read ids from FILE, one per line ('-' for stdin).")] = None,
    problem: ProblemTags = [],  # noqa: B006
    assumption: AssumptionTags = [],  # noqa: B006
    accept_suggestions: Annotated[bool, typer.Option("--accept-suggestions", help="Apply the classifier's suggested tags (without prompting).")] = False,
    review: Annotated[Optional[bool], typer.Option("--review/--no-review", help="Review the classifier's suggestions for each new paper (default: on a terminal, unless --accept-suggestions).")] = None,
    no_cache: NoCache = False,
    offline: Offline = False,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Add papers from arXiv (or refresh them if already stored, keeping their tags)."""
    from lmdev.ingest import Outcome, read_id_lines

    lib = library(ctx)
    raw = [(f"argument {n}", text) for n, text in enumerate(ids or [], 1)]
    if from_file:
        require_file(from_file)
        raw += read_id_lines(from_file)
    if not raw:
        raise UsageError("give at least one arXiv id or URL, or --from FILE")
    parsed: list[ArxivId] = []
    bad: list[str] = []
    for where, text in raw:
        try:
            parsed.append(parse_arxiv_id(text))
        except InvalidIdError as exc:
            bad.append(f"{where}: {exc.message}")
    if bad and not from_file:
        raise UsageError(bad[0] if len(bad) == 1 else f"{len(bad)} invalid ids: " + "; ".join(bad))
    for line in bad:
        message(f"skipped    {line}")
    if review and not is_interactive():
        raise UsageError("--review prompts, so it needs a terminal; use --accept-suggestions instead")
    if review is None:
        review = is_interactive() and not accept_suggestions and fmt is TextOrJson.text
    before_save = None
    if accept_suggestions:
        from lmdev.classifier.apply import suggestion_hook

        before_save = suggestion_hook(lib, lambda: trained_model(lib))
    outcomes = _sync(lib, parsed, fmt, no_cache=no_cache, offline=offline, verb="adding", problems=problem, assumptions=assumption, before_save=before_save)
    added = [o.paper for o in outcomes if o.action == "added" and o.paper is not None]
    if review and added:
        from lmdev.cli.review import ask_yes_no, review_new

        if len(added) == 1 or ask_yes_no(f"review the classifier's suggestions for the {len(added)} new papers now?"):
            review_new(lib, added)
        else:
            message("later: lmdev classify --apply, then lmdev review")
    outcomes += [Outcome(line.split(": ", 1)[0], "failed", reason="invalid id") for line in bad]
    _finish(outcomes, fmt, "add")


@app.command(epilog=examples(
    "lmdev refresh                       every stored arXiv paper",
    "lmdev refresh 2205.14135 2201.11903",
    "lmdev refresh --format json",
))
def refresh(
    ctx: typer.Context,
    ids: Annotated[Optional[list[str]], typer.Argument(metavar="ID", autocompletion=paper_ids, help="Stored papers to refresh (default: all arXiv papers).")] = None,
    no_cache: NoCache = False,
    offline: Offline = False,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Update stored papers' arXiv metadata (versions, DOI, journal ref); tags and notes stay."""
    lib = library(ctx)
    parsed = [parse_arxiv_id(lib.resolve(i)) for i in ids] if ids else [parse_arxiv_id(p.id) for p in readable_papers(lib) if p.is_arxiv]
    outcomes = _sync(lib, parsed, fmt, no_cache=no_cache, offline=offline, verb="refreshing", only_existing=True)
    _finish(outcomes, fmt, "refresh")


@app.command(epilog=examples(
    "lmdev search 'ti:\"speculative decoding\"'",
    "lmdev search 'au:raffel AND cat:cs.CL' --max 50 --sort submitted",
    "lmdev search 'abs:\"in-context learning\" AND submittedDate:[202301010000 TO 202312312359]'",
    "lmdev search 'ti:flashattention' --add 1,3      add hits 1 and 3",
    "lmdev search 'ti:flashattention' --add all",
))
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="arXiv query: ti:, au:, abs:, cat:, AND/OR/ANDNOT, submittedDate:[A TO B]. Quote phrases.")],
    max_results: Annotated[int, typer.Option("--max", "-n", metavar="N", min=1, max=10_000, help="How many hits to fetch.")] = 20,
    sort: Annotated[SortBy, typer.Option("--sort", help="relevance, submitted or updated.")] = SortBy.relevance,
    order: Annotated[Order, typer.Option("--order", help="desc or asc.")] = Order.desc,
    add_hits: Annotated[Optional[str], typer.Option("--add", metavar="HITS", help="Add these hits: 'all' or numbers such as 1,3-5.")] = None,
    no_cache: NoCache = False,
    offline: Offline = False,
    fmt: FormatOption = TextOrJson.text,
) -> None:
    """Search arXiv and mark the hits already in the library."""
    lib = library(ctx)
    wanted = _hit_numbers(add_hits, max_results) if add_hits else None  # a typo costs no request
    sort_by = {"relevance": "relevance", "submitted": "submittedDate", "updated": "lastUpdatedDate"}[sort.value]
    with _client(no_cache, offline) as client:
        result = client.search(query, max_results=max_results, sort_by=sort_by, sort_order="descending" if order is Order.desc else "ascending")
    stored = lib.ids()
    if fmt is TextOrJson.json:
        print_json({"total": result.total, "hits": [{"n": n, "in_library": p.id in stored, **p.model_dump(mode="json", exclude_defaults=True)} for n, p in enumerate(result.papers, 1)]})
    else:
        render.search_hits(result.papers, stored)
        message(f"{len(result.papers)} of {result.total if result.total is not None else '?'} hits; ✓ = already in the library")
    if add_hits:
        chosen = [result.papers[i - 1] for i in _pick(wanted, len(result.papers))]
        outcomes = _sync(lib, [parse_arxiv_id(p.id) for p in chosen], TextOrJson.text, no_cache=False, offline=offline, verb="adding")
        _finish(outcomes, TextOrJson.text, "add")


def _hit_numbers(spec: str, most: int) -> Optional[list[int]]:
    """'all' (None) or '1,3-5' as 1-based hit numbers, read before searching: none may be 0 or
    above ``most``, the hits asked for."""
    if spec.strip().lower() == "all":
        return None
    chosen: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise UsageError(f"--add takes 'all' or numbers such as 1,3-5, not {spec!r}")
        first, last = int(lo), int(hi or lo)
        for n in (first, last):
            if not 1 <= n <= most:
                raise UsageError(f"--add: there is no hit {n} (hits are numbered from 1 to at most --max, {most})")
        chosen += range(first, last + 1)
    return list(dict.fromkeys(chosen))


def _pick(wanted: Optional[list[int]], count: int) -> list[int]:
    """The hit numbers asked for (None: all), each checked against the ``count`` arXiv gave."""
    if wanted is None:
        return list(range(1, count + 1))
    for n in wanted:
        if n > count:
            raise UsageError(f"--add: there is no hit {n} (hits are 1 to {count})")
    return wanted
