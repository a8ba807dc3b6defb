"""Reading lists: the papers tagged with one problem or assumption, in a documented order.

Order: the essay's own citations first; then papers that challenge an assumption (for an
assumption's list, those that challenge it); then papers a person tagged, newest first; last,
papers whose tag is only the classifier's unreviewed suggestion, by its score, each marked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from lmdev.doctext import to_json
from lmdev.models import Paper
from lmdev.reports.markdown import md_link, md_text
from lmdev.taxonomy import TaxNode, Taxonomy

if TYPE_CHECKING:
    from lmdev.index import Index


class Counts(NamedTuple):
    """A reading list's length, and how many of its entries are unreviewed suggestions."""

    total: int
    suggested: int = 0


@dataclass
class Entry:
    paper: Paper
    stance: Optional[str]
    reason: str
    group: int
    reviewed: bool = True

    def to_json(self) -> dict[str, Any]:
        p = self.paper
        return {"id": p.id, "title": p.title, "authors": p.authors, "year": p.year, "link": p.link, "stance": self.stance, "reason": self.reason, "essay_cited": p.essay_cited, "reviewed": self.reviewed, "primary": p.primary}


def _tag(paper: Paper, node: TaxNode) -> Any:
    tags = paper.problems if node.kind == "problem" else paper.assumptions
    return next((t for t in tags if t.id == node.id), None)


def _reason(paper: Paper, node: TaxNode, tax: Taxonomy, tag: Any) -> str:
    if tag.by == "classifier":
        return f"suggested by the classifier (score {tag.score:.2f})" if tag.score is not None else "suggested by the classifier"
    if paper.notes:
        return paper.notes.strip().splitlines()[0]
    if paper.essay_cited:
        work = tax.works_by_arxiv().get(paper.id)
        return f"cited by the essay as an example: {work.name}" if work else "cited by the essay"
    if node.kind == "assumption":
        return {"relies": "takes it for granted", "supports": "gives evidence for it", "challenges": "argues or shows against it"}[tag.stance]
    challenged = [a.id for a in paper.assumptions if a.stance == "challenges"]
    if challenged:
        return "challenges " + ", ".join(challenged)
    relied = [f"{a.stance} {a.id}" for a in paper.assumptions]
    return "; ".join(relied) if relied else "tagged by hand"


def reading_list(tax: Taxonomy, papers: list[Paper], node_id: str) -> list[Entry]:
    """Exactly the papers tagged with ``node_id``, in the module's documented order."""
    node = tax.get(node_id)
    entries = [entry for entry in (_entry(tax, node, paper) for paper in papers) if entry is not None]

    def key(entry: Entry) -> tuple[Any, ...]:
        tag = _tag(entry.paper, node)
        date = entry.paper.dated or dt.date(entry.paper.year or 1, 1, 1)
        score = -(tag.score or 0.0) if entry.group == 3 else 0.0
        return (entry.group, score, -date.toordinal(), entry.paper.id)

    return sorted(entries, key=key)


def _entry(tax: Taxonomy, node: TaxNode, paper: Paper) -> Optional[Entry]:
    tag = _tag(paper, node)
    if tag is None:
        return None
    if node.kind == "assumption":
        challenges = tag.stance == "challenges"
    else:
        challenges = any(a.stance == "challenges" and a.reviewed for a in paper.assumptions)
    group = 3 if not tag.reviewed else 0 if paper.essay_cited else 1 if challenges else 2
    reason = _reason(paper, node, tax, tag)
    if node.kind == "problem" and paper.primary not in (None, node.id):  # a reader of this list wants to know it is a side topic
        reason += f" (primary problem: {paper.primary})"
    return Entry(paper, getattr(tag, "stance", None), reason, group, tag.reviewed)


# The order of reading_list's sort key, in SQL; the name breaks ties as a stable sort over file order does.
_GROUP = "CASE WHEN t.by = 'classifier' THEN 3 WHEN p.essay_cited THEN 0 WHEN {challenges} THEN 1 ELSE 2 END"
_ORDER = """SELECT b.data FROM tags t JOIN papers p USING (name) JOIN bodies b USING (name) WHERE t.tag = ? AND t.kind = ?
    ORDER BY {group}, CASE WHEN {group} = 3 THEN -coalesce(t.score, 0) ELSE 0 END,
    coalesce(p.published, printf('%04d-01-01', coalesce(p.year, 1))) DESC, p.id, p.name"""


def indexed_reading_list(tax: Taxonomy, index: Index, node_id: str) -> tuple[Counts, Iterator[Entry]]:
    """:func:`reading_list` from the index: its length (and how many entries are unreviewed
    suggestions), and its entries one at a time, in the same order."""
    node = tax.get(node_id)
    count = Counts(*index.query("SELECT count(*), count(*) FILTER (WHERE t.by = 'classifier') FROM tags t JOIN papers p USING (name) WHERE t.tag = ? AND t.kind = ? AND p.error IS NULL", (node.id, node.kind)).fetchone())
    group = _GROUP.format(challenges="t.stance = 'challenges'" if node.kind == "assumption" else "p.challenges")
    rows = index.query(_ORDER.format(group=group), (node.id, node.kind))

    def entries() -> Iterator[Entry]:
        for (data,) in rows:
            entry = _entry(tax, node, Paper.model_validate_json(data))
            assert entry is not None
            yield entry

    return count, entries()


def problem_ids(tax: Taxonomy) -> list[str]:
    """The problems in the taxonomy's field order: the order of ``--all``."""
    return [n.id for f in tax.field_order() for n in tax.in_field(f.id, "problem")]


def _authors(paper: Paper, limit: int = 3) -> str:
    names = paper.authors[:limit]
    more = " et al." if len(paper.authors) > limit else ""
    return ", ".join(names) + more if names else "unknown authors"


def render_markdown(tax: Taxonomy, node_id: str, entries: list[Entry]) -> str:
    return "".join(markdown_chunks(tax, node_id, Counts(len(entries), sum(not e.reviewed for e in entries)), entries))


def markdown_chunks(tax: Taxonomy, node_id: str, count: Counts, entries: Iterable[Entry]) -> Iterator[str]:
    """A list's Markdown a line at a time, so a long list is written as it is read."""
    node = tax.get(node_id)
    ref = node.node.ref
    yield f"# {md_text(node.name)} (`{node.id}`)\n\n"
    yield f"{md_text(node.field.name)}, {node.kind}{f' #{ref.item}' if ref.item else ''}: {md_text(node.node.description)}\n\n"
    then = ", then unreviewed suggestions." if count.suggested else "."
    yield f"{count.total} paper(s): the essay's citations first, then papers that challenge an assumption, then the rest, newest first{then}\n"
    for n, e in enumerate(entries, 1):
        p = e.paper
        stance = f" — *{e.stance}*" if e.stance else ""
        unreviewed = " — **unreviewed suggestion**" if not e.reviewed else ""
        number = f"{n}. "  # the reason's line is indented as deep, or item 10 on would end the list
        yield f"\n{number}[{md_text(p.title)}]({md_link(p.link)}). {md_text(_authors(p))} ({p.year or 'n.d.'}){stance}{unreviewed}  \n{' ' * len(number)}{md_text(e.reason)}"
    yield "\n"


def render_index(tax: Taxonomy, lists: dict[str, list[Entry]]) -> str:
    return render_index_counts(tax, {node_id: len(entries) for node_id, entries in lists.items()})


def render_index_counts(tax: Taxonomy, counts: dict[str, int]) -> str:
    """The ``index.md`` of ``--all --out``: each problem's list and its length."""
    lines = ["# Reading lists", "", "One list per problem of the essay. Generated by `lmdev reading-list --all`; do not edit by hand.", "", "| problem | field | papers |", "|---|---|---:|"]
    for node_id, count in counts.items():
        node = tax.get(node_id)
        lines.append(f"| [{node.name}]({node_id}.md) (`{node_id}`) | {node.field.name} | {count} |")
    return "\n".join(lines) + "\n"


def render_json(entries: list[Entry]) -> str:
    return to_json([e.to_json() for e in entries], indent=2) + "\n"


def all_problem_lists(tax: Taxonomy, papers: list[Paper]) -> dict[str, list[Entry]]:
    return {node_id: reading_list(tax, papers, node_id) for node_id in problem_ids(tax)}


def list_files(tax: Taxonomy, papers: list[Paper]) -> dict[str, str]:
    """File name -> content for ``--all --out DIR``: one Markdown list per problem plus an index."""
    lists = all_problem_lists(tax, papers)
    files = {f"{node_id}.md": render_markdown(tax, node_id, entries) for node_id, entries in lists.items()}
    files["index.md"] = render_index(tax, lists)
    return files


def indexed_list_files(tax: Taxonomy, index: Index) -> Iterator[tuple[str, str]]:
    """:func:`list_files` from the index, one file at a time (a list's text, not its papers, is held)."""
    counts = {}
    for node_id in problem_ids(tax):
        count, entries = indexed_reading_list(tax, index, node_id)
        counts[node_id] = count.total
        yield f"{node_id}.md", "".join(markdown_chunks(tax, node_id, count, entries))
    yield "index.md", render_index_counts(tax, counts)


def write_files(tax: Taxonomy, index: Index, folder: Path) -> int:
    """Write one Markdown list per problem plus an index into ``folder``; returns the file count."""
    from lmdev.yamlio import atomic_write

    written = 0
    for name, text in indexed_list_files(tax, index):
        atomic_write(folder / name, text)
        written += 1
    return written


def output_chunks(tax: Taxonomy, index: Index, node_id: Optional[str], fmt: str) -> Iterator[str]:
    """``reading-list`` output (markdown, json or bibtex) for one node or, with None, every problem."""
    nodes = problem_ids(tax) if node_id is None else [node_id]
    if fmt == "markdown":
        for n, node in enumerate(nodes):
            count, entries = indexed_reading_list(tax, index, node)
            if n:
                yield "\n"
            yield from markdown_chunks(tax, node, count, entries)
    elif fmt == "json":
        from lmdev.reports.export import json_chunks

        if node_id is not None:
            yield from json_chunks(e.to_json() for e in indexed_reading_list(tax, index, node_id)[1])
            return
        yield "{"
        for n, node in enumerate(nodes):
            items = "".join(json_chunks(e.to_json() for e in indexed_reading_list(tax, index, node)[1])).rstrip("\n").replace("\n", "\n  ")
            yield ("," if n else "") + f"\n  {json.dumps(node)}: {items}"
        yield "\n}\n" if nodes else "}\n"
    else:
        yield from _bibtex_chunks(tax, index, nodes)


def _bibtex_chunks(tax: Taxonomy, index: Index, nodes: list[str]) -> Iterator[str]:
    """The papers of the lists, each once, in list order, as BibTeX."""
    from lmdev.reports.bibtex import entry_chunks, indexed_citekeys

    marks = ", ".join("?" * len(nodes))
    keys = indexed_citekeys(index, f"EXISTS (SELECT 1 FROM tags t WHERE t.name = papers.name AND t.tag IN ({marks}) AND t.kind = ?)", [*nodes, tax.get(nodes[0]).kind])
    seen: set[str] = set()

    def unique() -> Iterator[Paper]:
        for node in nodes:
            for e in indexed_reading_list(tax, index, node)[1]:
                if e.paper.id not in seen:
                    seen.add(e.paper.id)
                    yield e.paper

    yield from entry_chunks(unique(), keys)
