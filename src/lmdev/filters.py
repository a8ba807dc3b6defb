"""Filters shared by ``list`` and ``export``: which papers a command works on."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional

from lmdev.errors import UsageError

if TYPE_CHECKING:
    from lmdev.models import Paper
    from lmdev.taxonomy import Taxonomy

# newest_first and oldest_first as ORDER BY clauses over the index's papers table; the file name
# breaks ties as the stable sorts over file-name order do.
NEWEST_FIRST = "published IS NULL, published DESC, id DESC, name"
OLDEST_FIRST = "year IS NULL, coalesce(year, 0), id, name"


def parse_years(spec: str) -> tuple[Optional[int], Optional[int]]:
    """``2020``, ``2019-2021``, ``2020-`` or ``-2021`` into an inclusive (from, to) range."""
    match = re.fullmatch(r"\s*(\d{4})?\s*(-)?\s*(\d{4})?\s*", spec)
    if not match or not (match.group(1) or match.group(3)) or (match.group(3) and not match.group(2)):
        raise UsageError(f"--year takes YEAR, FROM-TO, FROM- or -TO, not {spec!r}")
    start = int(match.group(1)) if match.group(1) else None
    end = int(match.group(3)) if match.group(3) else (start if not match.group(2) else None)
    if start and end and start > end:
        raise UsageError(f"--year range {spec!r} ends before it starts")
    return start, end


@dataclass
class Selection:
    problems: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    stance: Optional[str] = None
    years: tuple[Optional[int], Optional[int]] = (None, None)
    text: Optional[str] = None
    untagged: bool = False
    unreviewed: bool = False
    primary: Optional[str] = None

    @classmethod
    def parse(
        cls,
        problems: Iterable[str] = (),
        assumptions: Iterable[str] = (),
        stance: Optional[str] = None,
        years: Optional[str] = None,
        text: Optional[str] = None,
        untagged: bool = False,
        unreviewed: bool = False,
        primary: Optional[str] = None,
    ) -> Selection:
        """A selection from command-line values (``years`` as ``parse_years`` takes it)."""
        return cls(list(problems), list(assumptions), stance, parse_years(years) if years else (None, None), text, untagged, unreviewed, primary)

    def validate(self, taxonomy: Taxonomy) -> Selection:
        for p in [*self.problems, *([self.primary] if self.primary is not None else [])]:
            taxonomy.get(p, "problem")
        for a in self.assumptions:
            taxonomy.get(a, "assumption")
        if self.stance and not self.assumptions:
            raise UsageError("--stance goes with --assumption")
        return self

    def matches(self, paper: Paper) -> bool:
        if self.untagged and paper.is_tagged():
            return False
        if self.unreviewed and not paper.suggestions():
            return False
        if self.primary is not None and paper.primary != self.primary:
            return False
        problem_ids = paper.problem_ids()
        if any(p not in problem_ids for p in self.problems):
            return False
        stances = paper.assumption_stances()
        for a in self.assumptions:
            if a not in stances or (self.stance and stances[a] != self.stance):
                return False
        start, end = self.years
        if (start or end) and (paper.year is None or (start and paper.year < start) or (end and paper.year > end)):
            return False
        if self.text:
            haystack = " ".join([paper.id, paper.title, paper.abstract, *paper.authors, paper.notes or ""]).lower()
            if not has_all_words(haystack, self.text.lower().split()):
                return False
        return True

    def apply(self, papers: Iterable[Paper]) -> list[Paper]:
        return [p for p in papers if self.matches(p)]

    def sql(self) -> tuple[str, list[Any]]:
        """:meth:`matches` as a WHERE clause over the index's papers table, with its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.untagged:
            clauses.append("tagged = 0")
        if self.unreviewed:
            clauses.append("suggested > 0")
        if self.primary is not None:
            clauses.append("primary_id = ?")
            params.append(self.primary)
        tag = "EXISTS (SELECT 1 FROM tags t WHERE t.name = papers.name AND t.kind = ? AND t.tag = ?{})"
        for p in self.problems:
            clauses.append(tag.format(""))
            params += ["problem", p]
        for a in self.assumptions:
            clauses.append(tag.format(" AND t.stance = ?" if self.stance else ""))
            params += ["assumption", a, *([self.stance] if self.stance else [])]
        start, end = self.years
        if start or end:
            clauses.append("year IS NOT NULL")
        if start:
            clauses.append("year >= ?")
            params.append(start)
        if end:
            clauses.append("year <= ?")
            params.append(end)
        words = (self.text or "").lower().split()
        if words:
            clauses.append("has_words((SELECT data FROM bodies b WHERE b.name = papers.name), ?)")
            params.append("\n".join(words))
        return " AND ".join(clauses) or "1", params


@lru_cache(maxsize=64)
def _word_starts(words: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r"(?<!\w)" + re.escape(word)) for word in words)


def has_all_words(text: str, words: Sequence[str]) -> bool:
    """Whether each of ``words`` (lowercase) begins a word of ``text`` (lowercased): 'rl' finds
    'RL' and 'RLHF' but not 'world', 'agent' finds 'agents'. A plain substring test first: it
    rules most texts out at C speed."""
    return all(word in text for word in words) and all(pattern.search(text) for pattern in _word_starts(tuple(words)))


def newest_first(papers: Iterable[Paper]) -> list[Paper]:
    """Newest first (by :attr:`Paper.dated`); papers without a date go last, not first."""
    papers = list(papers)
    dated = sorted((p for p in papers if p.dated), key=lambda p: (p.dated, p.id), reverse=True)
    undated = sorted((p for p in papers if not p.dated), key=lambda p: p.id, reverse=True)
    return dated + undated


def oldest_first(papers: Iterable[Paper]) -> list[Paper]:
    """By year, then id (the order of exports); papers without a year go last."""
    return sorted(papers, key=lambda p: (p.year is None, p.year or 0, p.id))
