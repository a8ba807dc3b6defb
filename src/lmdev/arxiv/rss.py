"""Parse arXiv's daily listing feed (``https://rss.arxiv.org/rss/cs.CL+cs.LG``): RSS 2.0 with the
``arxiv:`` and ``dc:`` namespaces.

Each ``<item>`` is one announcement: its ``arxiv:announce_type`` says whether the paper is new
that day, cross-listed into a watched category, or a new version of an older paper. Authors are
one ``dc:creator`` string ("A, B and C"); the abstract follows "Abstract:" in ``description``; the
id is in ``link`` (the abs page) and ``guid`` (``oai:arXiv.org:ID``). Parsing goes through
defusedxml, so a hostile feed cannot expand entities or load a DTD, and an item that cannot be
read becomes one line in :attr:`Listing.skipped` instead of stopping the rest.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass, field
from typing import Optional
from xml.etree.ElementTree import Element

from pydantic import ValidationError

from lmdev.arxiv.feedxml import CATEGORY as _CATEGORY
from lmdev.arxiv.feedxml import MalformedFeedError, parse_xml
from lmdev.arxiv.feedxml import text as _text
from lmdev.ids import ArxivId, try_parse_arxiv_id
from lmdev.models import Paper

ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_SPACE = re.compile(r"\s+")
_DESCRIPTION = re.compile(r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[a-z-]+)\s*(?:Abstract:\s*)?", re.IGNORECASE)
_OAI = re.compile(r"^oai:arXiv\.org:", re.IGNORECASE)
_LAST_AND = re.compile(r"^and\s+|\s+and\s+")


@dataclass(frozen=True)
class Announcement:
    """One item of a listing: the paper as announced, and how (new, cross, replace, replace-cross)."""

    paper: Paper
    kind: str

    @property
    def is_replacement(self) -> bool:
        return self.kind.startswith("replace")


@dataclass
class Listing:
    """A day's listing: its date (arXiv's, from the channel's ``pubDate``), its announcements in
    feed order (each paper once), and a line for every item that could not be read."""

    title: Optional[str] = None
    date: Optional[dt.date] = None
    announcements: list[Announcement] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _date(value: Optional[str]) -> Optional[dt.date]:
    """The calendar date of an RFC 822 ``pubDate`` in the feed's own time zone (arXiv's day)."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def split_creators(value: Optional[str]) -> list[str]:
    """``"A, B and C"`` (or ``"A, B, C"``) into names; the last " and " separates two names."""
    if not value:
        return []
    parts = [p.strip() for p in value.split(",")]
    if parts:
        parts[-1:] = _LAST_AND.split(parts[-1])
    return [p for p in parts if p]


def parse_listing(body: bytes) -> Listing:
    """Turn a listing feed into announcements.

    Raises:
        MalformedFeedError: the body is not XML, or XML that is not an RSS 2.0 channel.
    """
    root = parse_xml(body, "the listing is not an RSS feed")
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise MalformedFeedError(f"the listing is XML but not an RSS 2.0 feed (root element {root.tag!r})")
    listing = Listing(title=_text(channel.find("title")), date=_date(_text(channel.find("pubDate")) or _text(channel.find("lastBuildDate"))))
    seen: set[str] = set()
    for number, item in enumerate(channel.iter("item"), 1):
        try:
            announcement = _announcement(item)
        except _Skip as skip:
            title = _text(item.find("title"))
            label = f"item {number}" + (f" ({title[:60]!r})" if title else "")
            listing.skipped.append(f"{label}: {skip}")
            continue
        if announcement.paper.id not in seen:
            seen.add(announcement.paper.id)
            listing.announcements.append(announcement)
    return listing


class _Skip(Exception):
    """An item that cannot become an announcement, and why."""


def _item_id(item: Element, described: Optional[str]) -> ArxivId:
    """The id from ``link``, else ``guid``, else the description; the version from wherever it is given."""
    link = _text(item.find("link"))
    guid = _OAI.sub("", _text(item.find("guid")) or "")
    candidates = [c for c in (link, guid, described) if c]
    parsed = [p for p in (try_parse_arxiv_id(c) for c in candidates) if p is not None]
    if not parsed:
        raise _Skip("no arXiv id in its link, guid or description")
    if len({p.base for p in parsed}) > 1:
        raise _Skip(f"its link, guid and description name different papers ({', '.join(sorted({p.base for p in parsed}))})")
    version = next((p.version for p in parsed if p.version), None)
    return ArxivId(parsed[0].base, version)


def _announcement(item: Element) -> Announcement:
    raw_description = item.find("description")
    description = _SPACE.sub(" ", raw_description.text or "").strip() if raw_description is not None else ""
    head = _DESCRIPTION.match(description)
    arxiv_id = _item_id(item, head.group("id") if head else None)
    kind = (_text(item.find(f"{ARXIV}announce_type")) or (head.group("type") if head else "")).lower()
    if kind not in ANNOUNCE_TYPES:
        raise _Skip(f"{arxiv_id.base}: unknown announce type {kind!r}" if kind else f"{arxiv_id.base}: no announce type")
    abstract = description[head.end() :] if head else description.split("Abstract:", 1)[-1].strip()
    title = _text(item.find("title"))
    if not title:
        raise _Skip(f"{arxiv_id.base}: no title")
    terms = [t for t in (_text(c) for c in item.findall("category")) if t and _CATEGORY.fullmatch(t)]
    categories = list(dict.fromkeys(terms))
    try:
        paper = Paper(
            id=arxiv_id.base,
            version=arxiv_id.version,
            title=title,
            authors=split_creators(_text(item.find(f"{DC}creator"))),
            abstract=abstract,
            primary_category=categories[0] if categories else None,
            categories=categories,
            doi=_text(item.find(f"{ARXIV}DOI")),
            journal_ref=_text(item.find(f"{ARXIV}journal_reference")),
        )
    except ValidationError as exc:
        raise _Skip(f"{arxiv_id.base}: {exc.errors()[0]['msg']}") from None
    return Announcement(paper, kind)
