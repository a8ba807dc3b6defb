"""Pydantic models of the two kinds of data file: the taxonomy and a paper.

Models check what a file can check on its own (types, id forms, no repeated tags). Whether a
paper's tags name real taxonomy nodes is a cross-file rule, checked in :mod:`lmdev.check`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from lmdev.errors import InvalidIdError
from lmdev.ids import abs_url, is_slug, normalise_paper_id, try_parse_arxiv_id

Stance = Literal["relies", "supports", "challenges"]
STANCES: tuple[str, ...] = ("relies", "supports", "challenges")
TagSource = Literal["person", "essay", "classifier"]
Kind = Literal["problem", "assumption"]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8(value: Any) -> Any:
    """Refuse lone surrogates: they come from invalid bytes on a command line (Python's
    surrogate escapes) and would make the file unreadable once written. Refuse ``!!binary``
    values too, which pydantic would otherwise decode into text. (A regular expression, not a
    loop over characters: this runs on every text field of every paper read.)"""
    if isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
        raise ValueError("is not valid UTF-8 text (it holds bytes that are not UTF-8)")
    if isinstance(value, (bytes, bytearray)):
        raise ValueError("must be text, not binary data")
    return value


_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\"<>\\^`{|}]+", re.IGNORECASE)
_CITEKEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:.+/-]*")


def _http_url(value: str) -> str:
    """Links end up in HTML, Markdown and BibTeX: only plain http(s) URLs, never ``javascript:``."""
    if not _URL.fullmatch(value):
        raise ValueError(f"must be an http:// or https:// URL without spaces, quotes or braces, not {value!r}")
    return value


def check_citekey(value: str) -> str:
    """``value`` if it can be a paper's citekey; else ValueError saying why."""
    if not _CITEKEY.fullmatch(value):
        raise ValueError(f"a citekey is letters, digits and _:.+/- (no spaces, commas or braces), not {value!r}")
    if try_parse_arxiv_id(value) is not None:  # a citekey works wherever an id does: it must not pose as one
        raise ValueError(f"citekey {value!r} reads as an arXiv id, so it would stand for another paper")
    return value


def _canonical_id(value: str) -> str:
    """A file's id is its name and the key every command finds it by: only the canonical form."""
    try:
        canonical = normalise_paper_id(value)
    except InvalidIdError as exc:
        raise ValueError(exc.message) from None
    if canonical != value:
        raise ValueError(f"not a canonical id (write it without version or prefix): {value!r}")
    return value


Text = Annotated[str, BeforeValidator(_utf8)]
CanonicalId = Annotated[str, AfterValidator(_canonical_id)]
Url = Annotated[str, BeforeValidator(_utf8), AfterValidator(_http_url)]
Citekey = Annotated[str, BeforeValidator(_utf8), AfterValidator(check_citekey)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


# --- taxonomy -------------------------------------------------------------------------------


class Ref(_Strict):
    """Where in the essay a node comes from: a section id and, for numbered lists, the item."""

    section: str
    item: Optional[int] = Field(default=None, ge=1)


class Section(_Strict):
    id: str
    name: str


class FieldNode(_Strict):
    """A field. Its optional ``terms`` and ``against`` say what is in scope for the tracker (the
    classifier's relevance reads them); they are the field's own vocabulary, not a node's."""

    id: str
    name: str
    description: str
    ref: Ref
    gave_rise_to: Optional[str] = None
    terms: list[str] = Field(default_factory=list)
    against: list[str] = Field(default_factory=list)


class Node(_Strict):
    """An assumption or a problem of one field."""

    id: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    field: str
    name: str
    description: str
    ref: Ref
    terms: list[str] = Field(default_factory=list)
    against: list[str] = Field(default_factory=list)


class Work(_Strict):
    """A work the essay cites as an example, with the tags the essay itself gives it."""

    arxiv: Optional[str] = None
    url: Optional[Url] = None
    name: str
    problems: list[str] = Field(default_factory=list)
    assumptions: dict[str, Stance] = Field(default_factory=dict)
    note: Optional[str] = None
    ref: Ref

    @model_validator(mode="after")
    def _one_identifier(self) -> Work:
        if (self.arxiv is None) == (self.url is None):
            raise ValueError("give exactly one of 'arxiv' and 'url'")
        return self


class Decision(_Strict):
    id: str
    ref: Ref
    text: str


class Observation(_Strict):
    """A point the essay makes more than once that bears on how tags are read."""

    id: str
    ref: Ref
    applies_to: list[str] = Field(default_factory=list)
    text: str


class Source(_Strict):
    title: str
    author: str
    year: int
    url: Optional[Url] = None


class TaxonomyFile(_Strict):
    version: Literal[1]
    source: Source
    sections: list[Section]
    fields: list[FieldNode]
    assumptions: list[Node]
    problems: list[Node]
    observations: list[Observation] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    works: list[Work] = Field(default_factory=list)


# --- papers ---------------------------------------------------------------------------------


class ProblemTag(_Strict):
    """A problem a paper attacks. ``by`` says who set it: a person, the essay, or the classifier."""

    id: str
    by: TagSource = "person"
    score: Optional[float] = Field(default=None, ge=0.0, le=1.0)

    @property
    def human(self) -> bool:
        return self.by != "classifier"

    @property
    def reviewed(self) -> bool:
        """Set or confirmed by a person (or the essay); a classifier's tag is only a suggestion."""
        return self.by != "classifier"


class AssumptionTag(ProblemTag):
    """An assumption a paper relies on, supports or challenges."""

    stance: Stance


class Paper(_Strict):
    """One reading: arXiv metadata (or a URL for readings not on arXiv) and its tags."""

    id: CanonicalId
    url: Optional[Url] = None
    version: Optional[int] = Field(default=None, ge=1, le=9999)  # arXiv's versions stay in two digits
    title: Text = Field(min_length=1)
    authors: list[Text] = Field(default_factory=list)
    affiliations: dict[Text, list[Text]] = Field(default_factory=dict)
    abstract: Text = ""
    published: Optional[dt.date] = None
    published_year: Optional[int] = Field(default=None, ge=1000, le=9999)
    updated: Optional[dt.date] = None
    primary_category: Optional[Text] = None
    categories: list[Text] = Field(default_factory=list)
    doi: Optional[Text] = None
    journal_ref: Optional[Text] = None
    comment: Optional[Text] = None
    essay_cited: bool = False
    citekey: Optional[Citekey] = None
    primary: Optional[str] = None
    problems: list[ProblemTag] = Field(default_factory=list)
    assumptions: list[AssumptionTag] = Field(default_factory=list)
    declined: list[str] = Field(default_factory=list)  # tags a person took off: never suggested again
    notes: Optional[Text] = None

    @model_validator(mode="after")
    def _consistent(self) -> Paper:
        if is_slug(self.id) and not self.url:
            raise ValueError("a paper that is not on arXiv needs a 'url'")
        for name in ("problems", "assumptions"):
            ids = [tag.id for tag in getattr(self, name)]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{name} lists {', '.join(repeated)} more than once")
        if len(set(self.declined)) != len(self.declined):
            raise ValueError("declined lists a tag more than once")
        if self.primary is not None and self.primary not in self.problem_ids():
            raise ValueError(f"primary {self.primary!r} is not one of the paper's problems")
        if self.published and self.published_year and self.published.year != self.published_year:
            raise ValueError(f"published_year {self.published_year} contradicts published {self.published}")
        return self

    @property
    def is_arxiv(self) -> bool:
        return not is_slug(self.id)

    @property
    def year(self) -> Optional[int]:
        """Publication year; for arXiv papers without a date, the year their id was issued."""
        if self.published:
            return self.published.year
        if self.published_year:
            return self.published_year
        if not self.is_arxiv:
            return None
        yy = int(self.id.split("/")[-1][:2])
        return (1900 if yy >= 91 else 2000) + yy

    @property
    def dated(self) -> Optional[dt.date]:
        """The date to order papers by: ``published``, else the first of the month an arXiv id
        was issued in (a paper accepted from a listing has no date until a refresh), else the
        first of January of ``published_year``."""
        if self.published:
            return self.published
        if self.is_arxiv:
            number = self.id.split("/")[-1]
            year = self.year
            month = int(number[2:4])
            if year and 1 <= month <= 12:
                return dt.date(year, month, 1)
        if self.published_year:
            return dt.date(self.published_year, 1, 1)
        return None

    @property
    def link(self) -> str:
        return self.url or abs_url(self.id)

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else "unknown author"

    def problem_ids(self) -> list[str]:
        return [tag.id for tag in self.problems]

    def primary_first(self) -> list[ProblemTag]:
        """The problems, the primary first and the rest in file order: as every listing shows them."""
        return sorted(self.problems, key=lambda tag: tag.id != self.primary)

    def assumption_stances(self) -> dict[str, str]:
        return {tag.id: tag.stance for tag in self.assumptions}

    def is_tagged(self) -> bool:
        return bool(self.problems or self.assumptions)

    def suggestions(self) -> list[ProblemTag]:
        """Tags the classifier set that no person has confirmed yet."""
        return [t for t in [*self.problems, *self.assumptions] if not t.reviewed]

    def as_reviewed(self) -> Paper:
        """The paper with a person's and the essay's tags only: what the classifier learns from
        and is measured against (its own suggestions are not evidence)."""
        if not self.suggestions():
            return self
        problems = [t for t in self.problems if t.reviewed]
        primary = self.primary if self.primary in {t.id for t in problems} else None  # nobody named one
        return self.model_copy(update={"problems": problems, "assumptions": [t for t in self.assumptions if t.reviewed], "primary": primary})

    def to_data(self) -> dict[str, Any]:
        """The dict written to YAML: fixed key order, empty and default fields left out."""
        data: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None or value == [] or value == {} or value is False:
                continue
            if name in ("problems", "assumptions"):
                value = [_tag_data(tag) for tag in value]
            data[name] = value
        return data


def _tag_data(tag: ProblemTag) -> dict[str, Any]:
    data: dict[str, Any] = {"id": tag.id}
    if isinstance(tag, AssumptionTag):
        data["stance"] = tag.stance
    data["by"] = tag.by
    if tag.score is not None:
        data["score"] = round(tag.score, 3)
    return data
