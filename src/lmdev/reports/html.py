"""A static HTML report: coverage charts as inline SVG, the gaps, the reading lists.

Self-contained pages: no JavaScript, no network. ``index.html`` holds everything but cuts each
reading list at :data:`LIST_CUT` papers, linking to the whole list on its own page
(``lists/<problem>.html``), so the report stays a page a browser opens at once at any size.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from lmdev.doctext import html_text as escape
from lmdev.reports.coverage import Coverage, NodeCoverage
from lmdev.reports.readinglist import Entry, indexed_reading_list, problem_ids
from lmdev.taxonomy import Taxonomy

if TYPE_CHECKING:
    from lmdev.index import Index


LIST_CUT = 100

COLOURS = {"relies": "#4c78a8", "supports": "#54a24b", "challenges": "#e45756", "primary": "#2b4c7e", "papers": "#9ecae9"}
CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; } h3 { margin-bottom: .3rem; }
.legend span { display: inline-block; width: .9em; height: .9em; margin: 0 .3em 0 1em; vertical-align: middle; }
table { border-collapse: collapse; } .wide { overflow-x: auto; } td, th { padding: .2rem .45rem; text-align: center; font-size: .9rem; }
th.row, td.row { text-align: left; } .muted { color: #666; } ol li { margin-bottom: .4rem; }
.gaps li { margin-bottom: .2rem; } .unreviewed { color: #b35900; font-size: .85rem; } svg text { font-size: 12px; font-family: system-ui, sans-serif; }
"""


def _bars(nodes: list[NodeCoverage], top: int, stacked: bool) -> str:
    """Horizontal bars, one per node; assumptions stacked by stance."""
    row, label_w, bar_w = 22, 170, 420
    height = row * len(nodes) + 6
    parts = [f'<svg role="img" width="{label_w + bar_w + 60}" height="{height}" viewBox="0 0 {label_w + bar_w + 60} {height}">']
    for i, n in enumerate(nodes):
        y = i * row + 4
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{escape(n.id)}</text>')
        x = float(label_w)
        segments = [("relies", n.relies), ("supports", n.supports), ("challenges", n.challenges)] if stacked else [("primary", n.primary), ("papers", n.papers - n.primary)]
        for name, value in segments:
            width = bar_w * value / top if top else 0
            if width:
                what = "with another primary problem" if name == "papers" else name
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="16" fill="{COLOURS[name]}"><title>{escape(n.id)}: {value} {what}</title></rect>')
            x += width
        suggested = f" (+{n.suggested} suggested)" if n.suggested else ""
        primary = "" if stacked else f", {n.primary} primary"
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}">{n.papers}{primary}{suggested}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _spark(by_year: dict[int, int], years: list[int], peak: int) -> str:
    width, height, step = 8 * len(years) + 4, 24, 8
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for i, year in enumerate(years):
        value = by_year.get(year, 0)
        h = 20 * value / peak if peak else 0
        if h:
            parts.append(f'<rect x="{2 + i * step}" y="{22 - h:.1f}" width="6" height="{h:.1f}" fill="#4c78a8"><title>{year}: {value}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _heat(value: int, peak: int) -> str:
    if not value:
        return "#fff"
    share = value / peak if peak else 0
    return f"rgba(228, 87, 86, {0.15 + 0.85 * share:.2f})"


def _item(e: Entry) -> str:
    p = e.paper
    authors = ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else "")
    stance = f" <em>({escape(e.stance)})</em>" if e.stance else ""
    unreviewed = ' <strong class="unreviewed">unreviewed suggestion</strong>' if not e.reviewed else ""
    return f'<li><a href="{escape(p.link)}">{escape(p.title)}</a>. {escape(authors)} ({p.year or "n.d."}){stance}{unreviewed}<br><span class="muted">{escape(e.reason)}</span></li>'


def _entries(entries: Iterable[Entry]) -> str:
    return "<ol>" + "".join(_item(e) for e in entries) + "</ol>"


def _head(title: str) -> str:
    return f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title><style>{CSS}</style></head><body>"


def write_report(tax: Taxonomy, cov: Coverage, index: Index, folder: Path, *, cut: int = LIST_CUT) -> list[Path]:
    """Write ``index.html`` and a page for each list longer than ``cut``; returns the files written."""
    from lmdev.yamlio import atomic_writer

    written = [folder / "index.html"]
    lists = []
    for node_id in problem_ids(tax):
        count, entries = indexed_reading_list(tax, index, node_id)
        lists.append((node_id, count.total, list(itertools.islice(entries, cut))))
        if count.total > cut:
            path = folder / "lists" / f"{node_id}.html"
            with atomic_writer(path) as handle:
                handle.writelines(list_page(tax, node_id, count.total, indexed_reading_list(tax, index, node_id)[1]))
            written.append(path)
    with atomic_writer(written[0]) as handle:
        handle.write(render(tax, cov, lists))
    return written


def list_page(tax: Taxonomy, node_id: str, count: int, entries: Iterable[Entry]) -> Iterator[str]:
    """One reading list, whole, as its own page, written as it is read."""
    node = tax.get(node_id)
    yield _head(f"{node.name}: lmdev reading list")
    yield f'<p><a href="../index.html">← the report</a></p><h1>{escape(node.name)} (<code>{escape(node_id)}</code>), {count} papers</h1>'
    yield "<p>The essay’s citations first, then papers that challenge an assumption, then the rest, newest first.</p><ol>"
    for e in entries:
        yield _item(e) + "\n"
    yield "</ol></body></html>\n"


def render(tax: Taxonomy, cov: Coverage, lists: list[tuple[str, int, list[Entry]]]) -> str:
    """The report's main page: ``lists`` holds each problem's length and its first entries."""
    src = tax.data.source
    top = max((n.papers for n in cov.nodes), default=0)
    out = [_head("lmdev report")]
    unreviewed = f", {cov.unreviewed} with unreviewed classifier suggestions, which the charts leave out" if cov.unreviewed else ""
    out.append(f"<h1>Language model development: where the literature stands</h1><p>{cov.total} papers ({cov.untagged} untagged{unreviewed}), read against the assumptions and problems of {escape(src.author)}, “{escape(src.title)}” ({src.year}).</p>")
    out.append('<nav><a href="#coverage">Coverage</a> · <a href="#matrix">Problems × assumptions</a> · <a href="#years">Papers per year</a> · <a href="#gaps">Gaps</a> · <a href="#lists">Reading lists</a></nav>')
    out.append('<h2 id="coverage">Coverage</h2><p class="legend">Problems:' + f'<span style="background:{COLOURS["primary"]}"></span>their primary problem<span style="background:{COLOURS["papers"]}"></span>another' + " · Assumptions by stance:" + "".join(f'<span style="background:{COLOURS[s]}"></span>{s}' for s in ("relies", "supports", "challenges")) + "</p>")
    for f in tax.field_order():
        for kind in ("problem", "assumption"):
            nodes = [n for n in cov.nodes if n.field == f.id and n.kind == kind]
            if nodes:
                out.append(f"<h3>{escape(f.name)}: {kind}s</h3>" + _bars(nodes, top, kind == "assumption"))
    used = [a.id for fl in tax.field_order() for a in tax.in_field(fl.id, "assumption") if any(a.id in row for row in cov.matrix.values())]
    peak = max((sum(c.values()) for row in cov.matrix.values() for c in row.values()), default=1)
    out.append('<h2 id="matrix">Problems × assumptions</h2><p>Papers on each problem that rely on / support / challenge each assumption; darker means more papers.</p><div class="wide"><table><tr><th class="row">problem</th>' + "".join(f"<th>{escape(a)}</th>" for a in used) + "</tr>")
    for problem, row in cov.matrix.items():
        cells = []
        for a in used:
            cell = row.get(a)
            total = sum(cell.values()) if cell else 0
            text = f"{cell['relies']}/{cell['supports']}/{cell['challenges']}" if cell else ""
            cells.append(f'<td style="background:{_heat(total, peak)}">{text}</td>')
        out.append(f'<tr><td class="row">{escape(problem)}</td>' + "".join(cells) + "</tr>")
    out.append("</table></div>")
    years = cov.years
    span = f"Each bar is a year, {years[0]}–{years[-1]}." if years else "No dated paper yet."
    out.append(f'<h2 id="years">Papers per year</h2><p>{span}</p><table>')
    ypeak = max((max(n.by_year.values(), default=0) for n in cov.nodes if n.kind == "problem"), default=0)
    for n in cov.nodes:
        if n.kind == "problem":
            out.append(f'<tr><td class="row">{escape(n.id)}</td><td>{_spark(n.by_year, years, ypeak)}</td><td>{n.papers}</td></tr>')
    out.append("</table>")
    out.append('<h2 id="gaps">Gaps</h2><ul class="gaps">' + ("".join(f"<li><strong>{escape(g.id)}</strong> ({g.kind}): {escape(g.reason)}</li>" for g in cov.gaps) or "<li>none</li>") + "</ul>")
    out.append('<h2 id="lists">Reading lists</h2><p>The essay’s citations first, then papers that challenge an assumption, then the rest, newest first.</p>')
    for node_id, count, entries in lists:
        node = tax.get(node_id)
        more = f'<p><a href="lists/{escape(node_id)}.html">All {count} papers on {escape(node.name)} →</a></p>' if count > len(entries) else ""
        out.append(f'<h3 id="list-{escape(node_id)}">{escape(node.name)} (<code>{escape(node_id)}</code>), {count} papers</h3>' + _entries(entries) + more)
    out.append("</body></html>\n")
    return "\n".join(out)
