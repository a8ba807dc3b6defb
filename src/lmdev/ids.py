"""Paper identifiers: arXiv ids in every form users paste, and slugs for non-arXiv readings.

Ids become file names, so everything that reaches the store passes through here first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lmdev.errors import InvalidIdError

# ASCII digits only: ``\d`` would also take fullwidth or Arabic-Indic digits, which look like
# an id, pass int(), and then name a different file.
_NEW = r"(?P<new>[0-9]{2}(?:0[1-9]|1[0-2])\.[0-9]{4,5})"
_OLD = r"(?P<old>[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{3})"
_VERSION = r"(?:v(?P<version>[1-9][0-9]{0,3}))?"
_ID_RE = re.compile(rf"(?:{_NEW}|{_OLD}){_VERSION}", re.ASCII)
_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?",
    re.IGNORECASE | re.ASCII,
)
# arXiv's DataCite DOI, as a DOI, a doi: name or a doi.org link: 10.48550/arXiv.2205.14135
_DOI_RE = re.compile(r"(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.(?P<rest>.+)", re.IGNORECASE | re.ASCII)
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
_SLUG_MAX = 80


@dataclass(frozen=True, order=True)
class ArxivId:
    """A version-less arXiv id plus the version asked for, if any."""

    base: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.base}v{self.version}" if self.version else self.base


def _unwrap(raw: str) -> str:
    """The id part of an abs, pdf or html URL (with or without its scheme), of arXiv's DOI or of
    an ``arXiv:`` form; other text as it is."""
    match = _URL_RE.fullmatch(raw) or _DOI_RE.fullmatch(raw)
    if match:
        return match.group("rest")
    return raw[6:] if raw[:6].lower() == "arxiv:" else raw


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse any accepted form (bare, versioned, ``arXiv:``, abs, pdf or html URL) or raise.

    Raises:
        InvalidIdError: naming the input, before any request is made.
    """
    raw = text.strip()
    candidate = _unwrap(raw)
    found = _ID_RE.fullmatch(candidate)
    if not found:
        raise InvalidIdError(f"not an arXiv id or arXiv URL{why_not_id(candidate)}: {raw!r}")
    new = found.group("new")
    if new and (wrong := _wrong_length(new)):
        raise InvalidIdError(f"not an arXiv id ({wrong}): {raw!r}")
    version = found.group("version")
    return ArxivId(new or found.group("old"), int(version) if version else None)


def _wrong_length(new: str) -> str:
    """Why a new-style id cannot exist, or empty: arXiv numbered papers with four digits from
    April 2007 (0704) to December 2014 and with five since January 2015 (1501), so a digit
    dropped or doubled in a pasted id is caught here, not by an empty answer from arXiv."""
    yymm, number = new.split(".")
    if yymm < "0704":
        return "new-style ids begin in April 2007, 0704"
    digits = 4 if yymm <= "1412" else 5
    if len(number) != digits:
        return f"ids of {yymm} have {digits} digits after the dot"
    return ""


_ID_SHAPE_RE = re.compile(r"(?P<yymm>[0-9]{4})\.[0-9]{4,5}(?:v[0-9]+)?|[a-z-]+(?:\.[A-Z]{2})?/(?P<old>[0-9]{4})[0-9]{3}", re.ASCII)


def why_not_id(text: str) -> str:
    """Why an id-shaped text is refused: an id starts with its year and month, and a typo there
    (``2513.01234``) looks right at a glance. Empty when the shape itself is off."""
    shape = _ID_SHAPE_RE.fullmatch(_unwrap(text.strip()))
    if shape is None:
        return ""
    month = int((shape.group("yymm") or shape.group("old"))[2:])
    if 1 <= month <= 12:
        return ""
    return f" (an id starts with YYMM, and {month:02d} is not a month)"


def try_parse_arxiv_id(text: str) -> ArxivId | None:
    try:
        return parse_arxiv_id(text)
    except InvalidIdError:
        return None


def is_slug(text: str) -> bool:
    """A slug names a reading that is not on arXiv: lowercase words joined by hyphens."""
    return (
        len(text) <= _SLUG_MAX
        and _SLUG_RE.fullmatch(text) is not None
        and any(c.isalpha() for c in text)
    )


def normalise_paper_id(text: str) -> str:
    """The canonical, version-less id under which a paper is stored."""
    parsed = try_parse_arxiv_id(text)
    if parsed is not None:
        return parsed.base
    if is_slug(text.strip()):
        return text.strip()
    raise InvalidIdError(
        f"not an arXiv id, arXiv URL or slug (lowercase words joined by hyphens){why_not_id(text)}: {text.strip()!r}"
    )


def file_stem(paper_id: str) -> str:
    """Map a canonical id to a safe file stem: ``hep-th/9901001`` becomes ``hep-th_9901001``."""
    canonical = normalise_paper_id(paper_id)
    if canonical != paper_id:
        raise InvalidIdError(f"not a canonical paper id: {paper_id!r}")
    return canonical.replace("/", "_")


_NEW_STEM_RE = re.compile(_NEW, re.ASCII)


def id_from_stem(stem: str) -> str:
    """Inverse of :func:`file_stem`; raises for stems no valid id maps to."""
    if _NEW_STEM_RE.fullmatch(stem):  # the common case, a new-style id: its stem is the id (fast for 100k names)
        return stem
    candidate = stem.replace("_", "/", 1) if "_" in stem else stem
    canonical = normalise_paper_id(candidate)
    if canonical.replace("/", "_") != stem:
        raise InvalidIdError(f"file name does not map to a paper id: {stem!r}")
    return canonical


def abs_url(paper_id: str) -> str:
    """The arXiv page of a canonical id."""
    return f"https://arxiv.org/abs/{paper_id}"


def slugify(text: str) -> str:
    """A slug from free text (a URL or title), for readings that are not on arXiv."""
    text = re.sub(r"^https?://(www\.)?", "", text.strip().lower())
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:_SLUG_MAX].strip("-")
    if not is_slug(slug):
        raise InvalidIdError(f"cannot make an id from {text!r}")
    return slug
