"""One waiting paper: the :class:`InboxItem` model of an inbox file, its text, and the
:class:`Waiting` view that ``lmdev inbox`` lists (everything but the abstract).
"""

from __future__ import annotations

import datetime as dt
import re
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, NamedTuple, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lmdev.errors import DataError
from lmdev.ids import abs_url
from lmdev.models import CanonicalId, Paper, Stance, Text

ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_ID_SHAPE = re.compile(r"\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}")  # a canonical arXiv id, cheaply


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ScoredProblem(_Strict):
    """A problem the classifier suggests, with its calibrated score."""

    id: str
    score: float = Field(ge=0.0, le=1.0)


class ScoredAssumption(ScoredProblem):
    stance: Stance
    # False for the best assumption kept when none cleared its threshold (every paper needs
    # one): accepting the paper keeps it as the classifier's suggestion, not as a person's tag
    suggested: bool = True


class InboxItem(_Strict):
    """A waiting paper: arXiv metadata as announced, when it was seen, and the classifier's view."""

    id: CanonicalId
    version: Optional[int] = Field(default=None, ge=1, le=9999)  # arXiv's versions stay in two digits
    title: Text = Field(min_length=1)
    authors: list[Text] = Field(default_factory=list)
    abstract: Text = ""
    published: Optional[dt.date] = None
    primary_category: Optional[Text] = None
    categories: list[Text] = Field(default_factory=list)
    doi: Optional[Text] = None
    journal_ref: Optional[Text] = None
    comment: Optional[Text] = None
    announced: Optional[str] = None
    listed: Optional[dt.date] = None
    seen: dt.date
    relevance: float = Field(ge=0.0, le=1.0)
    primary: Optional[str] = None
    problems: list[ScoredProblem] = Field(default_factory=list)
    assumptions: list[ScoredAssumption] = Field(default_factory=list)
    reasons: list[Text] = Field(default_factory=list)

    @field_validator("announced")
    @classmethod
    def _announce_type(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in ANNOUNCE_TYPES:
            raise ValueError(f"announced must be one of {', '.join(ANNOUNCE_TYPES)}, not {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> InboxItem:
        ids = [p.id for p in self.problems]
        if self.primary is not None and self.primary not in ids:
            raise ValueError(f"primary {self.primary!r} is not one of the suggested problems")
        return self

    def paper(self) -> Paper:
        """The paper file this item becomes when accepted: its metadata, no tags yet."""
        fields = set(Paper.model_fields) & set(type(self).model_fields) - {"primary", "problems", "assumptions"}
        return Paper(**{name: getattr(self, name) for name in fields})

    def to_data(self) -> dict[str, Any]:
        """The dict written to YAML: fixed key order, empty fields left out."""
        data: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None or value == [] or value == "":
                continue
            if name in ("problems", "assumptions"):
                value = [_scored(tag) for tag in value]
            elif name == "relevance":
                value = round(value, 3)
            data[name] = value
        return data

    def waiting(self) -> Waiting:
        return Waiting(
            self.id, self.title, self.relevance, self.primary,
            tuple(Tag(p.id, p.score) for p in self.problems),
            tuple(Tag(a.id, a.score, a.stance) for a in self.assumptions),
            tuple(self.reasons), tuple(self.authors), self.announced, self.listed, self.seen,
        )


class Tag(NamedTuple):
    """A suggested tag in the inbox's listing view: id, score, and the stance of an assumption."""

    id: str
    score: float
    stance: Optional[str] = None


class Waiting(NamedTuple):
    """A waiting paper as ``lmdev inbox`` lists it: everything but the abstract and the rest of
    the metadata (read the file for those). A named tuple, the cheapest immutable record to
    build: ``inbox`` rebuilds 5,000 of them from its cache on every call (a frozen dataclass cost
    a third of that command's time after start-up)."""

    id: str
    title: str
    relevance: float
    primary: Optional[str]
    problems: tuple[Tag, ...]
    assumptions: tuple[Tag, ...]
    reasons: tuple[str, ...]
    authors: tuple[str, ...]
    announced: Optional[str]
    listed: Optional[dt.date]
    seen: dt.date

    def problem_score(self, problem_id: Optional[str] = None) -> float:
        """The score of ``problem_id`` (0 if not suggested), or of the top problem."""
        if problem_id is None:
            return self.problems[0].score if self.problems else 0.0
        return next((p.score for p in self.problems if p.id == problem_id), 0.0)

    def to_json(self) -> dict[str, Any]:
        """The shape ``lmdev inbox --format json`` prints."""
        return {
            "id": self.id,
            "title": self.title,
            "relevance": round(self.relevance, 3),
            "primary": self.primary,
            "problems": [{"id": p.id, "score": round(p.score, 3)} for p in self.problems],
            "assumptions": [{"id": a.id, "stance": a.stance, "score": round(a.score, 3)} for a in self.assumptions],
            "reasons": list(self.reasons),
            "announced": self.announced,
            "listed": self.listed.isoformat() if self.listed else None,
            "seen": self.seen.isoformat(),
            "link": abs_url(self.id),
        }

    def to_index(self) -> list[Any]:
        return [
            self.id, self.title, self.relevance, self.primary,
            [list(p[:2]) for p in self.problems], [list(a) for a in self.assumptions],
            list(self.reasons), list(self.authors), self.announced,
            self.listed.isoformat() if self.listed else None, self.seen.isoformat(),
        ]

    @classmethod
    def from_index(cls, row: Any, stem: str) -> Optional[Waiting]:
        """Rebuild from :meth:`to_index` for the file named ``stem``; None for anything malformed
        (the file is read instead)."""
        try:
            pid, title, relevance, primary, problems, assumptions, reasons, authors, announced, listed, seen = row
            item = cls(
                pid, title, float(relevance), primary,
                tuple([Tag(str(i), float(sc)) for i, sc in problems]),
                tuple([Tag(str(i), float(sc), str(st)) for i, sc, st in assumptions]),
                tuple(map(str, reasons)), tuple(map(str, authors)), announced,
                _date(listed) if listed else None, _date(seen),
            )
        except (TypeError, ValueError):
            return None
        if not (isinstance(pid, str) and _ID_SHAPE.fullmatch(pid) and pid.replace("/", "_") == stem and isinstance(title, str) and 0.0 <= item.relevance <= 1.0):
            return None
        return item


_DATES: dict[str, dt.date] = {}


def _date(text: str) -> dt.date:
    """``date.fromisoformat``, remembered: an inbox holds thousands of papers from a few days."""
    found = _DATES.get(text)
    if found is None:
        found = _DATES[text] = dt.date.fromisoformat(text)
    return found


def _scored(tag: ScoredProblem) -> dict[str, Any]:
    data: dict[str, Any] = {"id": tag.id}
    if isinstance(tag, ScoredAssumption):
        data["stance"] = tag.stance
    data["score"] = round(tag.score, 3)
    if isinstance(tag, ScoredAssumption) and not tag.suggested:
        data["suggested"] = False
    return data


# Characters a YAML reader refuses raw or reads as line breaks; JSON leaves them raw.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_LISTS = ("authors", "categories", "reasons")


def _scalar(value: Any) -> str:
    """One YAML scalar. Strings are double-quoted with JSON's escapes (a subset of YAML's) plus
    escapes for what YAML reads differently, so any text reads back exactly as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return f"{value:.6f}" if "e" in text or "n" in text else text  # YAML 1.1 reads 1e-05 as text
    if isinstance(value, dt.date):
        return value.isoformat()
    text = encode_basestring(str(value))  # json.dumps(..., ensure_ascii=False), without a new encoder per call
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def render(item: InboxItem) -> str:
    """An inbox file's text: one key per line, lists one entry per line, every string quoted.

    Written directly rather than through a YAML dumper, whose pure-Python representer cost a
    third of a second for a busy day's 600 files; the same item always gives the same bytes.
    """
    lines: list[str] = []
    for key, value in item.to_data().items():
        if key in ("problems", "assumptions"):
            lines.append(f"{key}:")
            lines.extend("- {" + ", ".join(f"{k}: {_scalar(v)}" for k, v in tag.items()) + "}" for tag in value)
        elif key in _LISTS:
            lines.append(f"{key}:")
            lines.extend(f"- {_scalar(v)}" for v in value)
        else:
            lines.append(f"{key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def validate(data: Any, node: Optional[yaml.Node], path: Path) -> InboxItem:
    if not isinstance(data, dict):
        raise DataError("an inbox file must be a mapping of fields", path=str(path), line=1)
    try:
        return InboxItem.model_validate(data)
    except ValidationError as exc:
        from lmdev.validation import data_error

        raise data_error(exc, path=str(path), node=node, data=data, what="item") from None
