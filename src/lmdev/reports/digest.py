"""The digest: what arrived in the inbox over a period, grouped by the problem it most likely
attacks, as Markdown (a weekly pull request), HTML (an email) or an Atom feed (a feed reader).

Everything from a feed is text: HTML and XML output escape it, drop characters XML cannot carry,
and the only links are arXiv abs pages built from validated ids.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote
from xml.etree import ElementTree as ET

from lmdev.doctext import html_text, xml_text
from lmdev.errors import UsageError
from lmdev.inbox import Waiting
from lmdev.reports.markdown import md_text
from lmdev.taxonomy import Taxonomy

ATOM_NS = "http://www.w3.org/2005/Atom"
_SINCE = re.compile(r"(?P<n>\d{1,4})(?P<unit>[dw])")
UNSORTED = "(no problem suggested)"


def parse_since(text: str, today: dt.date) -> dt.date:
    """``7d``, ``2w`` (back from today) or an ISO date."""
    value = text.strip().lower()
    match = _SINCE.fullmatch(value)
    if match:
        days = int(match.group("n")) * (7 if match.group("unit") == "w" else 1)
        return today - dt.timedelta(days=days)
    try:
        since = dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since takes a number of days or weeks (7d, 2w) or a date (2026-02-01), not {text!r}") from None
    if since > today:
        raise UsageError(f"--since {since.isoformat()} is in the future")
    return since


@dataclass
class Group:
    problem: Optional[str]
    name: str
    items: list[Waiting]  # those shown: at most ``--limit``
    count: int  # how many arrived, shown or not

    @property
    def hidden(self) -> int:
        return self.count - len(self.items)


@dataclass
class Digest:
    since: dt.date
    until: dt.date
    groups: list[Group]
    threshold: float = 0.0
    below: int = 0  # papers of the period left out for being less relevant than ``threshold``

    @property
    def total(self) -> int:
        """Papers that arrived in scope, whether or not ``--limit`` shows them."""
        return sum(g.count for g in self.groups)


def build(tax: Taxonomy, items: list[Waiting], since: dt.date, until: dt.date, *, min_relevance: Optional[float] = None, limit: Optional[int] = None) -> Digest:
    """Items seen from ``since`` on, per problem in the taxonomy's order, best first; at most
    ``limit`` per problem. By default only papers in scope (the relevance from which the
    classifier suggests a primary): a digest of every paper of a busy week is noise."""
    from lmdev.classifier.model import RELEVANT
    from lmdev.triage import best_first

    threshold = RELEVANT if min_relevance is None else min_relevance
    period = [i for i in items if i.seen >= since]
    chosen = [i for i in period if i.relevance >= threshold]
    order = [n.id for f in tax.field_order() for n in tax.in_field(f.id, "problem")]
    groups: list[Group] = []
    for problem in [*order, None]:
        members = best_first([i for i in chosen if (i.primary if i.primary in order else None) == problem], problem)
        if members:
            name = tax.nodes[problem].name if problem else UNSORTED
            groups.append(Group(problem, name, members[:limit] if limit else members, len(members)))
    return Digest(since, until, groups, threshold, len(period) - len(chosen))


def _hidden(g: Group) -> str:
    where = f"lmdev inbox --problem {g.problem}" if g.problem else "lmdev inbox"
    return f"{g.hidden} more wait in the inbox ({where})." if g.hidden else ""


def _below(d: Digest) -> str:
    if not d.below:
        return ""
    return f"{d.below} more paper(s) below relevance {d.threshold:.2f} wait in the inbox (lmdev inbox)."


def _link(item: Waiting) -> str:
    return f"https://arxiv.org/abs/{quote(item.id, safe='/.')}"


def _authors(item: Waiting, limit: int = 3) -> str:
    """Up to three names, then "et al", without a final full stop (the caller adds one)."""
    names = item.authors[:limit]
    return ", ".join(names) + (" et al" if len(item.authors) > limit else "") if names else "unknown authors"


def _why(item: Waiting) -> str:
    return item.reasons[0] if item.reasons else ""


def markdown(d: Digest) -> str:
    lines = [f"# Inbox digest, {d.since.isoformat()} to {d.until.isoformat()}", ""]
    if not d.groups:
        return "\n".join([*lines, "Nothing arrived in this period." + (f" {md_text(_below(d))}" if d.below else ""), ""])
    lines += [f"{d.total} paper(s) arrived and wait for a decision, grouped by the problem each most likely attacks; best first.", ""]
    if _below(d):
        lines += [md_text(_below(d)), ""]
    for g in d.groups:
        lines += [f"## {md_text(g.name)}" + (f" (`{g.problem}`)" if g.problem else ""), ""]
        for n, item in enumerate(g.items, 1):
            lines.append(f"{n}. [{md_text(item.title)}]({_link(item)}). {md_text(_authors(item))}. Relevance {item.relevance:.2f}.  ")
            if _why(item):
                lines.append(" " * len(f"{n}. ") + md_text(_why(item)))  # as deep as the number, or item 10 on ends the list
        if g.hidden:
            lines += ["", md_text(_hidden(g))]
        lines.append("")
    return "\n".join(lines)


def inbox_markdown(items: list[Waiting]) -> str:
    """Waiting papers as a numbered Markdown list (``lmdev inbox --format markdown``)."""
    if not items:
        return "The inbox is empty.\n"
    lines = []
    for n, item in enumerate(items, 1):
        problem = f"`{item.primary}`" if item.primary else "no problem"
        lines.append(f"{n}. [{md_text(item.title)}]({_link(item)}): {problem}, relevance {item.relevance:.2f}" + (f". {md_text(_why(item))}" if _why(item) else ""))
    return "\n".join(lines) + "\n"




def html(d: Digest) -> str:
    title = f"Inbox digest, {d.since.isoformat()} to {d.until.isoformat()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html_text(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
        "li{margin-bottom:.5rem}.muted{color:#666}</style>",
        f"</head><body><h1>{html_text(title)}</h1>",
    ]
    if not d.groups:
        parts.append("<p>Nothing arrived in this period.</p>")
    else:
        parts.append(f"<p>{d.total} paper(s) arrived and wait for a decision, grouped by the problem each most likely attacks; best first.</p>")
    if d.below:
        parts.append(f'<p class="muted">{html_text(_below(d))}</p>')
    for g in d.groups:
        parts.append(f"<h2>{html_text(g.name)}" + (f" <code>{html_text(g.problem)}</code>" if g.problem else "") + "</h2><ol>")
        for item in g.items:
            why = f'<br><span class="muted">{html_text(_why(item))}</span>' if _why(item) else ""
            parts.append(f'<li><a href="{html_text(_link(item))}">{html_text(item.title)}</a>. {html_text(_authors(item))}. Relevance {item.relevance:.2f}.{why}</li>')
        parts.append("</ol>")
        if g.hidden:
            parts.append(f'<p class="muted">{html_text(_hidden(g))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"




def atom(d: Digest, tax: Taxonomy, *, abstracts: Optional[Mapping[str, str]] = None, self_url: Optional[str] = None) -> str:
    """A valid Atom 1.0 feed (RFC 4287): one entry per paper, its problems as categories, its
    abstract (from ``abstracts``, by id) in the summary; ``self_url`` is where the feed will be
    published (the link a feed reader subscribes to and RFC 4287 recommends), and then also the
    feed's id, which must differ from every other group's. The feed is a function of the inbox:
    its ``updated`` is its newest entry's (the window's last day when it has none), so a digest
    committed each week changes only when papers do."""
    abstracts = abstracts or {}
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: Optional[str] = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = xml_text(text)
        return element

    newest = max((item.seen for g in d.groups for item in g.items), default=d.until)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", self_url or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'lmdev-digest:' + tax.data.source.title)}")
    sub(feed, "title", f"lmdev inbox: {tax.data.source.title}")
    sub(feed, "subtitle", f"Papers that arrived from {d.since.isoformat()} to {d.until.isoformat()}, by problem")
    sub(feed, "updated", f"{newest.isoformat()}T00:00:00Z")
    if self_url:
        sub(feed, "link", href=self_url, rel="self", type="application/atom+xml")
    sub(sub(feed, "author"), "name", "lmdev")
    sub(feed, "generator", "lmdev")
    for g in d.groups:
        for item in g.items:
            entry = sub(feed, "entry")
            sub(entry, "id", _link(item))
            sub(entry, "title", item.title)
            sub(entry, "updated", f"{item.seen.isoformat()}T00:00:00Z")
            sub(entry, "link", href=_link(item), rel="alternate", type="text/html")
            for name in item.authors[:20]:
                sub(sub(entry, "author"), "name", name)
            for problem in item.problems:
                label = tax.nodes[problem.id].name if problem.id in tax.nodes else problem.id
                sub(entry, "category", term=xml_text(problem.id), label=xml_text(label))
            why = f" Why: {_why(item)}" if _why(item) else ""
            abstract = abstracts.get(item.id, "")
            sub(entry, "summary", f"{g.name}; relevance {item.relevance:.2f}.{why}" + (f"\n\n{abstract}" if abstract else ""), type="text")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
