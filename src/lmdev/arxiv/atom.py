"""Parse arXiv's Atom feeds, both the current format and the one used before November 2025.

Parsing is by element name, never by position (the two formats order elements differently),
and goes through defusedxml, so a hostile feed cannot expand entities or load a DTD. An entry
with a malformed id is skipped with a warning; one with fields far beyond what arXiv allows (a
megabyte of abstract) is rejected before anything is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Optional
from xml.etree.ElementTree import Element

from pydantic import ValidationError

from lmdev.arxiv.feedxml import CATEGORY as _CATEGORY
from lmdev.arxiv.feedxml import MalformedFeedError as MalformedFeedError  # where callers have always found it
from lmdev.arxiv.feedxml import parse_xml
from lmdev.arxiv.feedxml import text as _text
from lmdev.errors import InvalidIdError
from lmdev.ids import ArxivId, parse_arxiv_id
from lmdev.models import Paper

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

# Far beyond anything arXiv accepts (abstracts stop at 1,920 characters), yet small enough that
# a paper file stays well under the 1 MB lmdev reads back.
LIMITS = {"title": 2_000, "abstract": 20_000, "comment": 2_000, "journal_ref": 2_000, "doi": 500, "author": 500}
MAX_AUTHORS = 5_000

log = logging.getLogger(__name__)


@dataclass
class Feed:
    """Papers, arXiv's error entries, and entries refused by id (why) or skipped (no usable id)."""

    total: Optional[int]
    papers: list[Paper] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


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
    root = parse_xml(body, "arXiv sent a response that is not an Atom feed")
    if root.tag != f"{ATOM}feed":
        raise MalformedFeedError(f"arXiv sent XML that is not an Atom feed (root element {root.tag!r})")
    total_text = _text(root.find(f"{OPENSEARCH}totalResults"))
    feed = Feed(total=int(total_text) if total_text and re.fullmatch(r"[0-9]{1,12}", total_text) else None)
    for entry in root.iter(f"{ATOM}entry"):
        entry_id = _text(entry.find(f"{ATOM}id")) or ""
        title = _text(entry.find(f"{ATOM}title"))
        if "/api/errors" in entry_id or (title == "Error" and "/abs/" not in entry_id):
            feed.errors.append(_text(entry.find(f"{ATOM}summary")) or "unspecified error")
            continue
        if "/abs/" not in entry_id:
            continue  # the legacy server's broken entry for an id that does not exist
        try:
            parsed = parse_arxiv_id(entry_id.split("/abs/", 1)[1])
        except InvalidIdError:
            log.warning("arXiv sent an entry with a malformed id %r; skipped it", entry_id[:200])
            feed.skipped.append(entry_id[:200])
            continue
        try:
            feed.papers.append(_paper(entry, parsed, title))
        except ValidationError as exc:
            feed.rejected[parsed.base] = f"arXiv sent a {'.'.join(str(p) for p in exc.errors()[0]['loc'])} field that is not valid; not stored"
        except ValueError as exc:
            feed.rejected[parsed.base] = f"arXiv sent {exc}; not stored"
    return feed


def _bounded(name: str, value: Optional[str]) -> Optional[str]:
    if value is not None and len(value) > LIMITS[name]:
        raise ValueError(f"a {name} field of {len(value):,} characters (more than {LIMITS[name]:,})")
    return value


def _paper(entry: Element, parsed: ArxivId, title: Optional[str]) -> Paper:
    authors: list[str] = []
    affiliations: dict[str, list[str]] = {}
    for author in entry.findall(f"{ATOM}author"):
        name = _bounded("author", _text(author.find(f"{ATOM}name")))
        if not name:
            continue
        authors.append(name)
        if len(authors) > MAX_AUTHORS:
            raise ValueError(f"more than {MAX_AUTHORS:,} authors")
        places = [a for a in (_bounded("author", _text(x)) for x in author.findall(f"{ARXIV}affiliation")) if a][:20]
        if places:
            affiliations[name] = places
    terms = [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
    primary = entry.find(f"{ARXIV}primary_category")
    return Paper(
        id=parsed.base,
        version=parsed.version,
        title=_bounded("title", title) or "(untitled)",
        authors=authors,
        affiliations=affiliations,
        abstract=_bounded("abstract", _text(entry.find(f"{ATOM}summary"))) or "",
        published=_date(entry.find(f"{ATOM}published")),
        updated=_date(entry.find(f"{ATOM}updated")),
        primary_category=primary.get("term") if primary is not None and _CATEGORY.fullmatch(primary.get("term") or "") else None,
        categories=list(dict.fromkeys(t for t in terms if len(t) < 100 and _CATEGORY.fullmatch(t)))[:100],
        doi=_bounded("doi", _text(entry.find(f"{ARXIV}doi"))),
        journal_ref=_bounded("journal_ref", _text(entry.find(f"{ARXIV}journal_ref"))),
        comment=_bounded("comment", _text(entry.find(f"{ARXIV}comment"))),
    )
