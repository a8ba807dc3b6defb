"""Markdown renderings of the taxonomy, for docs/ and for users' own reading-list repos."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lmdev.doctext import printable
from lmdev.taxonomy import Taxonomy

if TYPE_CHECKING:
    from lmdev.reports.coverage import Coverage, NodeCoverage


_MARKDOWN = re.compile(r"([\\`*\[\]<>|~]|&(?=#?[A-Za-z0-9]+;))")
_UNDERSCORE = re.compile(r"_")
_MATH = re.compile(r"(\$[^$]*\$)")
_BLOCK_START = re.compile(r"[-+=#]|\d{1,9}(?=[.)])")


def md_text(text: str) -> str:
    """Data text made inert in Markdown: one line, no control characters, and every character
    that could start or end a link, an autolink, HTML, code, emphasis, strikethrough, an entity or
    a table cell backslash-escaped (so a title such as ``x](javascript:...)`` stays text). An
    underscore is escaped outside ``$...$`` only, so ``H$_2$O`` stays math. What would start a
    block at the start of a line (a heading, a list item, a rule) is escaped too: a reading
    list's note begins a line."""
    text = _MARKDOWN.sub(r"\\\1", " ".join(printable(text).split()))
    text = "".join(part if n % 2 else _UNDERSCORE.sub(r"\\_", part) for n, part in enumerate(_MATH.split(text)))
    start = _BLOCK_START.match(text)
    if start is not None:
        text = "\\" + text if start.group()[0] in "-+=#" else start.group() + "\\" + text[start.end() :]
    return text


def md_link(url: str) -> str:
    """A link target that cannot end early: parentheses and spaces percent-encoded. Only
    http(s) URLs reach here (the models refuse others)."""
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _ref(section_names: dict[str, str], section: str, item: int | None) -> str:
    name = section_names.get(section, section)
    return f"essay, “{name}”" + (f", item {item}" if item else "")


def taxonomy_page(tax: Taxonomy) -> str:
    """The taxonomy as a readable page: ``docs/taxonomy.md`` is this output, checked by a test."""
    src = tax.data.source
    sections = {s.id: s.name for s in tax.data.sections}
    lines = [
        "# The taxonomy",
        "",
        "Generated from `data/taxonomy.yaml` by `lmdev taxonomy --format markdown`; do not edit by hand.",
        "",
        f"Source: {src.author}, " + (f"[“{src.title}”]({src.url})" if src.url else f"“{src.title}”") + f" ({src.year}).",
        "Ids are what you type on the command line and write in paper files.",
        "",
    ]
    for f in tax.field_order():
        lines += [f"## {f.name} (`{f.id}`)", "", f.description, ""]
        if f.gave_rise_to:
            lines += [f"Gave rise to: `{f.gave_rise_to}`. From the {_ref(sections, f.ref.section, f.ref.item)}.", ""]
        else:
            lines += [f"From the {_ref(sections, f.ref.section, f.ref.item)}.", ""]
        for kind in ("assumption", "problem"):
            nodes = tax.in_field(f.id, kind)
            if not nodes:
                continue
            lines += [f"### {kind.capitalize()}s", "", "| id | name | what it says | from |", "|---|---|---|---|"]
            for n in nodes:
                lines.append(f"| `{n.id}` | {md_text(n.name)} | {md_text(n.node.description)} | {_ref(sections, n.node.ref.section, n.node.ref.item)} |")
            lines.append("")
    lines += ["## Works the essay cites", "", "Only what the essay itself says of each work; the project's own readings are in the paper files.", ""]
    lines += ["| work | why the essay names it | problems | assumptions (stance) |", "|---|---|---|---|"]
    for w in tax.data.works:
        link = f"[{w.name}](https://arxiv.org/abs/{w.arxiv})" if w.arxiv else f"[{w.name}]({w.url})"
        stances = ", ".join(f"`{a}` ({s})" for a, s in w.assumptions.items()) or "none given"
        problems = ", ".join(f"`{p}`" for p in w.problems) or "none given"
        lines.append(f"| {link} | {w.note or ''} | {problems} | {stances} |")
    if tax.data.observations:
        lines += ["", "## Points the essay makes twice", ""]
        for o in tax.data.observations:
            bears = ", ".join(f"`{a}`" for a in o.applies_to)
            lines += [f"- **{o.id}** (bears on {bears}; {_ref(sections, o.ref.section, o.ref.item)}): {o.text}"]
    lines += ["", "## Reading decisions", ""]
    for d in tax.data.decisions:
        lines += [f"- **{d.id}**: {d.text}"]
    return "\n".join(lines) + "\n"


def coverage_page(tax: Taxonomy, cov: Coverage) -> str:
    """Coverage as Markdown tables, for a README, a wiki or a pull-request comment."""
    lines = ["# Coverage of the essay's agenda", "", f"{cov.total} papers, {cov.untagged} untagged, {cov.unreviewed} with unreviewed suggestions. Counts are of reviewed tags; `suggested` counts the classifier's unconfirmed suggestions.", ""]
    for f in tax.field_order():
        for kind in ("problem", "assumption"):
            rows = [n for n in cov.nodes if n.field == f.id and n.kind == kind]
            if not rows:
                continue
            lines += [f"## {md_text(f.name)}: {kind}s", ""]
            if kind == "problem":
                lines += ["| id | name | papers | primary | suggested | newest |", "|---|---|---:|---:|---:|---|"]
                lines += [f"| `{n.id}` | {md_text(n.name)} | {n.papers} | {n.primary} | {n.suggested} | {_newest(n)} |" for n in rows]
            else:
                lines += ["| id | name | papers | relies | supports | challenges | suggested | newest |", "|---|---|---:|---:|---:|---:|---:|---|"]
                lines += [f"| `{n.id}` | {md_text(n.name)} | {n.papers} | {n.relies} | {n.supports} | {n.challenges} | {n.suggested} | {_newest(n)} |" for n in rows]
            lines.append("")
    used = [a.id for a in tax.assumptions if any(a.id in row for row in cov.matrix.values())]
    lines += ["## Problems × assumptions", "", "Each cell: relies / supports / challenges.", "", "| problem | " + " | ".join(f"`{a}`" for a in used) + " |", "|---|" + "---:|" * len(used)]
    for problem, row in cov.matrix.items():
        cells = [("{relies}/{supports}/{challenges}".format(**row[a]) if a in row else "") for a in used]
        lines.append(f"| `{problem}` | " + " | ".join(cells) + " |")
    lines += ["", "## Papers per year", "", "| problem | " + " | ".join(str(y) for y in cov.years) + " |", "|---|" + "---:|" * len(cov.years)]
    for n in cov.nodes:
        if n.kind == "problem":
            lines.append(f"| `{n.id}` | " + " | ".join(str(n.by_year.get(y, "")) for y in cov.years) + " |")
    lines += ["", "## Gaps", ""]
    lines += [f"- `{g.id}` ({g.kind}): {g.reason}" for g in cov.gaps] or ["None."]
    return "\n".join(lines) + "\n"


def _newest(n: NodeCoverage) -> str:
    return f"{n.newest_id} ({n.newest_year})" if n.newest_id else ""
