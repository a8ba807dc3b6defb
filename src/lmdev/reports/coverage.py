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
    primary: int = 0  # a problem's papers that attack it above all (their primary, reviewed)
    essay_cited: int = 0
    suggested: int = 0
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
    """Counts of reviewed tags (a person's or the essay's); classifier suggestions apart."""

    total: int
    untagged: int
    nodes: list[NodeCoverage]
    matrix: dict[str, dict[str, dict[str, int]]]
    years: list[int]
    gaps: list[Gap]
    unreviewed: int = 0

    def node(self, node_id: str) -> NodeCoverage:
        return next(n for n in self.nodes if n.id == node_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "papers": self.total,
            "untagged": self.untagged,
            "unreviewed": self.unreviewed,
            "nodes": [{**asdict(n), "by_year": {str(y): c for y, c in sorted(n.by_year.items())}} for n in self.nodes],
            "matrix": self.matrix,
            "years": self.years,
            "gaps": [asdict(g) for g in self.gaps],
        }


def _sort_key(paper: Paper) -> tuple[int, str]:
    dated = paper.dated
    return (paper.year or 0, dated.isoformat() if dated else paper.id)


def coverage(tax: Taxonomy, papers: list[Paper], *, min_papers: int = DEFAULT_MIN_PAPERS, recent_years: int = DEFAULT_RECENT_YEARS) -> Coverage:
    """Count papers per node, per stance and per year; the problem x assumption matrix; gaps.

    Only reviewed tags count; a classifier's unconfirmed suggestion is counted apart, in
    ``suggested``, and nowhere else.

    "Recent" is measured back from the newest paper in the library, so a gap says that a node
    lags the rest of the reading list, whatever today's date.
    """
    nodes = _nodes(tax)
    matrix: dict[str, dict[str, dict[str, int]]] = {p.id: {} for p in tax.problems}
    newest: dict[str, Paper] = {}
    present = [p.year for p in papers if p.year]
    years = list(range(min(present), max(present) + 1)) if present else []
    for paper in papers:
        tags: list[tuple[str, Optional[str], bool]] = [(t.id, None, t.reviewed) for t in paper.problems] + [(t.id, t.stance, t.reviewed) for t in paper.assumptions]
        for node_id, stance, reviewed in tags:
            node = nodes.get(node_id)
            if node is None:
                continue
            if not reviewed:
                node.suggested += 1
                continue
            node.papers += 1
            node.essay_cited += paper.essay_cited
            if stance:
                setattr(node, stance, getattr(node, stance) + 1)
            elif node_id == paper.primary:
                node.primary += 1
            if paper.year:
                node.by_year[paper.year] = node.by_year.get(paper.year, 0) + 1
            if node_id not in newest or _sort_key(paper) > _sort_key(newest[node_id]):
                newest[node_id] = paper
        for problem in paper.problems:
            if problem.id not in matrix or not problem.reviewed:
                continue
            for assumption in (a for a in paper.assumptions if a.reviewed):
                cell = matrix[problem.id].setdefault(assumption.id, dict.fromkeys(STANCES, 0))
                cell[assumption.stance] += 1
    for node_id, paper in newest.items():
        nodes[node_id].newest_id, nodes[node_id].newest_year = paper.id, paper.year
    _order_matrix(tax, matrix)
    gaps = _gaps(list(nodes.values()), years, min_papers, recent_years)
    unreviewed = sum(bool(p.suggestions()) for p in papers)
    return Coverage(len(papers), sum(not p.is_tagged() for p in papers), list(nodes.values()), matrix, years, gaps, unreviewed)


def _nodes(tax: Taxonomy) -> dict[str, NodeCoverage]:
    return {n.id: NodeCoverage(n.id, n.kind, n.field.id, n.name) for fid in [f.id for f in tax.field_order()] for kind in ("problem", "assumption") for n in tax.in_field(fid, kind)}


_NEWEST = "SELECT id, nullif(year, 0) FROM tags WHERE tag = ? AND by != 'classifier' ORDER BY year DESC, recency DESC, name LIMIT 1"


def indexed_coverage(tax: Taxonomy, index: Index, *, min_papers: int = DEFAULT_MIN_PAPERS, recent_years: int = DEFAULT_RECENT_YEARS) -> Coverage:
    """:func:`coverage` of the valid papers in the index, from the counts the index keeps as
    files change (no paper is built, no table of papers is scanned).

    It returns exactly what :func:`coverage` returns for the same papers (a test compares the two).
    """
    q = index.query
    nodes = _nodes(tax)
    (total,) = q("SELECT count(*) FROM papers WHERE error IS NULL").fetchone()
    (untagged,) = q("SELECT count(*) FROM papers WHERE error IS NULL AND tagged = 0").fetchone()
    (low,) = q("SELECT min(year) FROM papers WHERE year > 0").fetchone()
    (high,) = q("SELECT max(year) FROM papers WHERE year > 0").fetchone()
    years = list(range(low, high + 1)) if low else []
    for tag, year, stance, cited, reviewed, n in q("SELECT tag, year, stance, cited, reviewed, n FROM tag_counts WHERE n > 0 ORDER BY tag, year"):
        node = nodes.get(tag)
        if node is None:
            continue
        if not reviewed:
            node.suggested += n
            continue
        node.papers += n
        node.essay_cited += n * cited
        if stance:
            setattr(node, stance, getattr(node, stance) + n)
        if year:
            node.by_year[year] = node.by_year.get(year, 0) + n
    for node in nodes.values():
        if node.papers:
            node.newest_id, node.newest_year = q(_NEWEST, (node.id,)).fetchone()
    matrix: dict[str, dict[str, dict[str, int]]] = {p.id: {} for p in tax.problems}
    for problem, assumption, stance, n in q("SELECT problem, assumption, stance, n FROM pair_counts WHERE n > 0"):
        if problem in matrix:
            matrix[problem].setdefault(assumption, dict.fromkeys(STANCES, 0))[stance] += n
    _order_matrix(tax, matrix)
    gaps = _gaps(list(nodes.values()), years, min_papers, recent_years)
    (unreviewed,) = q("SELECT count(*) FROM papers WHERE error IS NULL AND suggested > 0").fetchone()
    return Coverage(total, untagged, list(nodes.values()), matrix, years, gaps, unreviewed)


def _order_matrix(tax: Taxonomy, matrix: dict[str, dict[str, dict[str, int]]]) -> None:
    """Each row's assumptions in the taxonomy's order (ids it does not know last, sorted)."""
    rank = {a.id: i for i, a in enumerate(tax.assumptions)}
    for problem, row in matrix.items():
        matrix[problem] = dict(sorted(row.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def _gaps(nodes: list[NodeCoverage], years: list[int], min_papers: int, recent_years: int) -> list[Gap]:
    gaps: list[Gap] = []
    since = years[-1] - recent_years + 1 if years else None
    for n in nodes:
        if n.kind == "problem" and n.papers < min_papers:
            gaps.append(Gap(n.id, n.kind, f"only {n.papers} paper(s), fewer than {min_papers}" if n.papers else "no papers yet"))
        if n.kind == "assumption" and n.challenges == 0:
            gaps.append(Gap(n.id, n.kind, "no paper challenges it"))
        if since is not None and n.papers and (n.newest_year or 0) < since:
            gaps.append(Gap(n.id, n.kind, f"nothing since {since} (newest: {n.newest_id}, {n.newest_year})"))
    return gaps
