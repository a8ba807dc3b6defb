"""Coverage: how the tagged literature spreads over the essay's problems and assumptions.

Pure computation over papers and the taxonomy; the CLI, Markdown and HTML renderers all read
the same :class:`Coverage`, so every output agrees with the others and with the files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Optional

from lmdev.models import STANCES, Paper
from lmdev.taxonomy import Taxonomy

if TYPE_CHECKING:
    from lmdev.index import Index

DEFAULT_MIN_PAPERS = 3  # the CLI repeats these two defaults so that --help need not import this module
DEFAULT_RECENT_YEARS = 2


@dataclass
class NodeCoverage:
    id: str
    kind: str
    field: str
    name: str
    papers: int = 0
    relies: int = 0
    supports: int = 0
    challenges: int = 0
    essay_cited: int = 0
    newest_id: Optional[str] = None
    newest_year: Optional[int] = None
    by_year: dict[int, int] = dataclasses.field(default_factory=dict)


@dataclass
class Gap:
    id: str
    kind: str
    reason: str


@dataclass
class Coverage:
    total: int
    untagged: int
    nodes: list[NodeCoverage]
    matrix: dict[str, dict[str, dict[str, int]]]
    years: list[int]
    gaps: list[Gap]

    def node(self, node_id: str) -> NodeCoverage:
        return next(n for n in self.nodes if n.id == node_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "papers": self.total,
            "untagged": self.untagged,
            "nodes": [{**asdict(n), "by_year": {str(y): c for y, c in sorted(n.by_year.items())}} for n in self.nodes],
            "matrix": self.matrix,
            "years": self.years,
            "gaps": [asdict(g) for g in self.gaps],
        }


def _sort_key(paper: Paper) -> tuple[int, str]:
    return (paper.year or 0, paper.published.isoformat() if paper.published else paper.id)


def coverage(tax: Taxonomy, papers: list[Paper], *, min_papers: int = DEFAULT_MIN_PAPERS, recent_years: int = DEFAULT_RECENT_YEARS) -> Coverage:
    """Count papers per node, per stance and per year; the problem x assumption matrix; gaps.

    "Recent" is measured back from the newest paper in the library, so a gap says that a node
    lags the rest of the reading list, whatever today's date.
    """
    nodes = _nodes(tax)
    matrix: dict[str, dict[str, dict[str, int]]] = {p.id: {} for p in tax.problems}
    newest: dict[str, Paper] = {}
    present = [p.year for p in papers if p.year]
    years = list(range(min(present), max(present) + 1)) if present else []
    for paper in papers:
        tags: list[tuple[str, Optional[str]]] = [(t.id, None) for t in paper.problems] + [(t.id, t.stance) for t in paper.assumptions]
        for node_id, stance in tags:
            node = nodes.get(node_id)
            if node is None:
                continue
            node.papers += 1
            node.essay_cited += paper.essay_cited
            if stance:
                setattr(node, stance, getattr(node, stance) + 1)
            if paper.year:
                node.by_year[paper.year] = node.by_year.get(paper.year, 0) + 1
            if node_id not in newest or _sort_key(paper) > _sort_key(newest[node_id]):
                newest[node_id] = paper
        for problem in paper.problems:
            if problem.id not in matrix:
                continue
            for assumption in paper.assumptions:
                cell = matrix[problem.id].setdefault(assumption.id, dict.fromkeys(STANCES, 0))
                cell[assumption.stance] += 1
    for node_id, paper in newest.items():
        nodes[node_id].newest_id, nodes[node_id].newest_year = paper.id, paper.year
    gaps = _gaps(list(nodes.values()), years, min_papers, recent_years)
    return Coverage(len(papers), sum(not p.is_tagged() for p in papers), list(nodes.values()), matrix, years, gaps)


def _nodes(tax: Taxonomy) -> dict[str, NodeCoverage]:
    return {n.id: NodeCoverage(n.id, n.kind, n.field.id, n.name) for fid in [f.id for f in tax.field_order()] for kind in ("problem", "assumption") for n in tax.in_field(fid, kind)}


_NEWEST = """SELECT tag, id, year FROM (SELECT t.tag, p.id, p.year, row_number() OVER (
    PARTITION BY t.tag ORDER BY coalesce(p.year, 0) DESC, coalesce(p.published, p.id) DESC, p.name) AS rank
    FROM tags t JOIN papers p USING (name)) WHERE rank = 1"""
_PAIRS = """SELECT pt.tag, at.tag, at.stance, count(*), min(pt.name), at.pos FROM tags pt
    JOIN tags at ON at.name = pt.name AND at.kind = 'assumption' WHERE pt.kind = 'problem' GROUP BY pt.tag, at.tag, at.stance"""


def indexed_coverage(tax: Taxonomy, index: Index, *, min_papers: int = DEFAULT_MIN_PAPERS, recent_years: int = DEFAULT_RECENT_YEARS) -> Coverage:
    """:func:`coverage` of the valid papers in the index, counted by SQLite (no paper is built).

    It returns exactly what :func:`coverage` returns for the same papers in file-name order
    (a test compares the two on the shipped data), dictionary order included.
    """
    q = index.query
    nodes = _nodes(tax)
    total, untagged = q("SELECT count(*), count(CASE WHEN tagged = 0 THEN 1 END) FROM papers WHERE error IS NULL").fetchone()
    low, high = q("SELECT min(year), max(year) FROM papers WHERE error IS NULL AND year").fetchone()
    years = list(range(low, high + 1)) if low else []
    per_tag = """SELECT t.tag, count(*), count(CASE WHEN t.stance = 'relies' THEN 1 END), count(CASE WHEN t.stance = 'supports' THEN 1 END),
        count(CASE WHEN t.stance = 'challenges' THEN 1 END), sum(p.essay_cited) FROM tags t JOIN papers p USING (name) GROUP BY t.tag"""
    for tag, count, relies, supports, challenges, cited in q(per_tag):
        if tag in nodes:
            node = nodes[tag]
            node.papers, node.relies, node.supports, node.challenges, node.essay_cited = count, relies, supports, challenges, cited
    for tag, year, count in q("SELECT t.tag, p.year, count(*) FROM tags t JOIN papers p USING (name) WHERE p.year GROUP BY t.tag, p.year ORDER BY t.tag, p.year"):
        if tag in nodes:
            nodes[tag].by_year[year] = count
    for tag, paper_id, year in q(_NEWEST):
        if tag in nodes:
            nodes[tag].newest_id, nodes[tag].newest_year = paper_id, year
    matrix: dict[str, dict[str, dict[str, int]]] = {p.id: {} for p in tax.problems}
    cells: dict[tuple[str, str], tuple[tuple[str, int], dict[str, int]]] = {}
    for problem, assumption, stance, count, first, pos in q(_PAIRS):
        if problem not in matrix:
            continue
        seen, cell = cells.get((problem, assumption), ((first, pos), dict.fromkeys(STANCES, 0)))
        cell[stance] += count
        cells[(problem, assumption)] = (min(seen, (first, pos)), cell)
    for (problem, assumption), (_, cell) in sorted(cells.items(), key=lambda item: item[1][0]):
        matrix[problem][assumption] = cell
    gaps = _gaps(list(nodes.values()), years, min_papers, recent_years)
    return Coverage(total, untagged, list(nodes.values()), matrix, years, gaps)


def _gaps(nodes: list[NodeCoverage], years: list[int], min_papers: int, recent_years: int) -> list[Gap]:
    gaps: list[Gap] = []
    since = years[-1] - recent_years + 1 if years else None
    for n in nodes:
        if n.kind == "problem" and n.papers < min_papers:
            gaps.append(Gap(n.id, n.kind, f"only {n.papers} paper(s), fewer than {min_papers}"))
        if n.kind == "assumption" and n.challenges == 0:
            gaps.append(Gap(n.id, n.kind, "no paper challenges it"))
        if since is not None and n.papers and (n.newest_year or 0) < since:
            gaps.append(Gap(n.id, n.kind, f"nothing since {since} (newest: {n.newest_id}, {n.newest_year})"))
    return gaps
