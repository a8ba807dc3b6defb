"""Parse arXiv's Atom feeds, both the current format and the one used before November 2025.

Parsing is by element name, never by position (the two formats order elements differently),
and goes through defusedxml, so a hostile feed cannot expand entities or load a DTD.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Optional
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from lmdev.errors import ArxivError
from lmdev.ids import parse_arxiv_id
from lmdev.models import Paper

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")
_SPACE = re.compile(r"\s+")


class MalformedFeedError(ArxivError):
    """The body was not the Atom feed arXiv sends (truncated, HTML, garbage)."""


@dataclass
class Feed:
    total: Optional[int]
    papers: list[Paper] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _text(element: Optional[Element]) -> Optional[str]:
    if element is None or element.text is None:
        return None
    value = _SPACE.sub(" ", element.text).strip()
    return value or None


def _date(element: Optional[Element]) -> Optional[dt.date]:
    value = _text(element)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_feed(body: bytes) -> Feed:
    """Turn a response body into papers; error entries become messages, not papers."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except Exception as exc:  # ParseError, and defusedxml's EntitiesForbidden / DTDForbidden
        snippet = body[:60].decode("utf-8", "replace").strip().replace("\n", " ")
        raise MalformedFeedError(f"arXiv sent a response that is not an Atom feed ({type(exc).__name__}): {snippet!r}") from None
    if root.tag != f"{ATOM}feed":
        raise MalformedFeedError(f"arXiv sent XML that is not an Atom feed (root element {root.tag!r})")
    total_text = _text(root.find(f"{OPENSEARCH}totalResults"))
    feed = Feed(total=int(total_text) if total_text and total_text.isdigit() else None)
    for entry in root.iter(f"{ATOM}entry"):
        entry_id = _text(entry.find(f"{ATOM}id")) or ""
        title = _text(entry.find(f"{ATOM}title"))
        if "/api/errors" in entry_id or (title == "Error" and "/abs/" not in entry_id):
            feed.errors.append(_text(entry.find(f"{ATOM}summary")) or "unspecified error")
            continue
        if "/abs/" not in entry_id:
            continue  # the legacy server's broken entry for an id that does not exist
        feed.papers.append(_paper(entry, entry_id, title))
    return feed


def _paper(entry: Element, entry_id: str, title: Optional[str]) -> Paper:
    parsed = parse_arxiv_id(entry_id.split("/abs/", 1)[1])
    authors: list[str] = []
    affiliations: dict[str, list[str]] = {}
    for author in entry.findall(f"{ATOM}author"):
        name = _text(author.find(f"{ATOM}name"))
        if not name:
            continue
        authors.append(name)
        places = [a for a in (_text(x) for x in author.findall(f"{ARXIV}affiliation")) if a]
        if places:
            affiliations[name] = places
    terms = [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
    primary = entry.find(f"{ARXIV}primary_category")
    return Paper(
        id=parsed.base,
        version=parsed.version,
        title=title if title is not None else "(untitled)",
        authors=authors,
        affiliations=affiliations,
        abstract=_text(entry.find(f"{ATOM}summary")) or "",
        published=_date(entry.find(f"{ATOM}published")),
        updated=_date(entry.find(f"{ATOM}updated")),
        primary_category=primary.get("term") if primary is not None else None,
        categories=list(dict.fromkeys(t for t in terms if _CATEGORY.fullmatch(t))),
        doi=_text(entry.find(f"{ARXIV}doi")),
        journal_ref=_text(entry.find(f"{ARXIV}journal_ref")),
        comment=_text(entry.find(f"{ARXIV}comment")),
    )
