"""A stand-in for arXiv's listing feed: the shared listing days (JSONL) turned into RSS 2.0 with
the real feed's shape, and a loopback server that serves them. Used by tests and benchmarks.

The real feed (https://rss.arxiv.org/rss/cs.CL+cs.LG): a ``<channel>`` with ``title`` and
``pubDate``, then one ``<item>`` per announcement with ``title``, ``link`` (the abs page),
``description`` ("arXiv:ID Announce Type: new Abstract: ..."), ``guid`` (``oai:arXiv.org:IDvN``),
``category`` per category, ``pubDate``, ``arxiv:announce_type`` and ``dc:creator`` ("A, B and C").
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Optional
from xml.sax.saxutils import escape

from loopback import Loopback

LISTINGS = Path(__file__).resolve().parent / "fixtures" / "listings"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def load_day(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _x(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def creators(authors: Sequence[str]) -> str:
    """Authors as the feed writes them: "A, B and C"."""
    names = list(authors)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def rfc822(day: dt.date) -> str:
    return f"{day.strftime('%a, %d %b %Y')} 00:00:00 -0500"


def rss_item(record: dict[str, Any], announce_type: str, *, version: int = 1, day: Optional[dt.date] = None) -> str:
    arxiv_id = record["arxiv_id"]
    categories = "".join(f"\n      <category>{_x(c)}</category>" for c in record.get("categories") or [])
    pub = f"\n      <pubDate>{rfc822(day)}</pubDate>" if day else ""
    return f"""    <item>
      <title>{_x(record["title"])}</title>
      <link>https://arxiv.org/abs/{arxiv_id}</link>
      <description>arXiv:{arxiv_id}v{version} Announce Type: {announce_type}{" "}
Abstract: {_x(record.get("abstract") or "")}</description>
      <guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid>{categories}{pub}
      <arxiv:announce_type>{announce_type}</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>{_x(creators(record.get("authors") or []))}</dc:creator>
    </item>
"""


def rss_document(items: Iterable[str], *, categories: Sequence[str] = ("cs.CL",), day: Optional[dt.date] = None) -> bytes:
    name = "+".join(categories)
    pub = f"\n    <pubDate>{rfc822(day)}</pubDate>\n    <lastBuildDate>{rfc822(day)}</lastBuildDate>" if day else ""
    head = f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>{_x(name)} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{_x(name)}</link>
    <description>{_x(name)} updates on the arXiv.org e-print archive.</description>
    <atom:link href="https://rss.arxiv.org/rss/{_x(name)}" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>{pub}
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
"""
    return (head + "".join(items) + "  </channel>\n</rss>\n").encode("utf-8")


def listing_rss(records: Sequence[dict[str, Any]], categories: Sequence[str] = ("cs.CL", "cs.CV"), *, kinds: Optional[dict[str, str]] = None, versions: Optional[dict[str, int]] = None) -> bytes:
    """A day's records as the feed for ``categories``: ``new`` when the paper's primary category
    is watched, ``cross`` otherwise (or as ``kinds`` says)."""
    days = {r.get("listing_date") for r in records if r.get("listing_date")}
    day = dt.date.fromisoformat(sorted(days)[0]) if days else None
    kinds = kinds or {}
    versions = versions or {}
    items = []
    for record in records:
        kind = kinds.get(record["arxiv_id"]) or ("new" if record.get("primary_category") in categories else "cross")
        items.append(rss_item(record, kind, version=versions.get(record["arxiv_id"], 1), day=day))
    return rss_document(items, categories=categories, day=day)


class FakeFeed(Loopback):
    """A loopback server for ``$LMDEV_ARXIV_RSS``: ``respond(path)`` gives (status, body) for each
    request; by default it serves ``records`` as the listing of the categories in the path."""

    def __init__(self, records: Sequence[dict[str, Any]] = (), respond: Optional[Callable[[str], tuple[int, bytes]]] = None, *, truncate: bool = False) -> None:
        super().__init__("/rss")
        self.records = list(records)
        self.respond = respond
        self.truncate = truncate
        self.paths: list[str] = []

    def reply(self, path: str) -> tuple[int, dict[str, str], bytes]:
        self.paths.append(path)
        if self.respond is not None:
            status, body = self.respond(path)
        else:
            categories = path.rsplit("/", 1)[-1].split("+")
            status, body = 200, listing_rss(self.records, categories)
        length = len(body) * 2 if self.truncate else len(body)
        return status, {"Content-Type": "application/rss+xml; charset=utf-8", "Content-Length": str(length)}, body
