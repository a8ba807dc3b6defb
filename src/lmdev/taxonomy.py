"""Load and validate ``taxonomy.yaml``: the essay's fields, assumptions and problems.

Validation goes beyond the schema: ids are unique across the file, every reference (field,
section, work tag) resolves, and every error names the line it is on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import ValidationError

from lmdev import yamlio
from lmdev.errors import DataError, UsageError
from lmdev.ids import parse_arxiv_id
from lmdev.models import FieldNode, Kind, Node, TaxonomyFile, Work


@dataclass(frozen=True)
class TaxNode:
    """A problem or assumption with its kind and field attached."""

    kind: Kind
    node: Node
    field: FieldNode

    @property
    def id(self) -> str:
        return self.node.id

    @property
    def name(self) -> str:
        return self.node.name


class Taxonomy:
    """The validated taxonomy, with lookups by id."""

    def __init__(self, data: TaxonomyFile, *, path: Optional[Path] = None, text: str = "") -> None:
        self.data = data
        self.path = path
        self.text = text
        self.fields = {f.id: f for f in data.fields}
        self._works = {parse_arxiv_id(w.arxiv).base: w for w in data.works if w.arxiv}
        self.nodes: dict[str, TaxNode] = {}
        for kind, nodes in (("problem", data.problems), ("assumption", data.assumptions)):
            for node in nodes:
                self.nodes[node.id] = TaxNode(kind, node, self.fields[node.field])  # type: ignore[arg-type]

    @property
    def problems(self) -> list[TaxNode]:
        return [n for n in self.nodes.values() if n.kind == "problem"]

    @property
    def assumptions(self) -> list[TaxNode]:
        return [n for n in self.nodes.values() if n.kind == "assumption"]

    def field_order(self) -> list[FieldNode]:
        """Fields newest first: LM development leads, as it is the essay's subject."""
        return list(reversed(self.data.fields))

    def in_field(self, field_id: str, kind: Kind) -> list[TaxNode]:
        return [n for n in self.nodes.values() if n.field.id == field_id and n.kind == kind]

    def get(self, node_id: str, kind: Optional[Kind] = None) -> TaxNode:
        node = self.nodes.get(node_id)
        if node is None or (kind is not None and node.kind != kind):
            what = kind or "problem or assumption"
            known = ", ".join(n.id for n in self.nodes.values() if kind is None or n.kind == kind)
            raise UsageError(f"unknown {what} id {node_id!r} (known: {known})")
        return node

    def has(self, node_id: str, kind: Kind) -> bool:
        node = self.nodes.get(node_id)
        return node is not None and node.kind == kind

    def works_by_arxiv(self) -> dict[str, Work]:
        """The essay's cited works by version-less arXiv id (built once; reading lists ask per paper)."""
        return self._works

    def to_json(self) -> list[dict[str, Any]]:
        """Fields, then every assumption and problem, as plain data for ``--format json``."""
        rows: list[dict[str, Any]] = []
        for f in self.data.fields:
            rows.append({"id": f.id, "kind": "field", "name": f.name, "description": f.description, "gave_rise_to": f.gave_rise_to, "ref": f.ref.model_dump()})
        for n in self:
            rows.append({"id": n.id, "kind": n.kind, "field": n.field.id, "name": n.name, "description": n.node.description, "ref": n.node.ref.model_dump()})
        return rows

    def __iter__(self) -> Iterator[TaxNode]:
        return iter(self.nodes.values())


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and validate a taxonomy file; raises :class:`DataError` naming file and line."""
    text = yamlio.read_text(path)
    data, node = yamlio.parse(text, path=str(path))
    return parse_taxonomy(data, node, path=path, text=text)


def parse_taxonomy(data: Any, node: Optional[yaml.Node], *, path: Path, text: str = "") -> Taxonomy:
    if not isinstance(data, dict):
        raise DataError("taxonomy must be a mapping at the top level", path=str(path), line=1)
    try:
        model = TaxonomyFile.model_validate(data)
    except ValidationError as exc:
        from lmdev.validation import data_error

        raise data_error(exc, path=str(path), node=node, data=data, what="taxonomy") from None
    problem = _first_reference_error(model)
    if problem:
        loc, message = problem
        raise DataError(message, path=str(path), line=yamlio.line_of(node, loc))
    return Taxonomy(model, path=path, text=text)


def _first_reference_error(tax: TaxonomyFile) -> Optional[tuple[tuple[Any, ...], str]]:
    seen: dict[str, str] = {}
    for group in ("sections", "fields", "assumptions", "problems"):
        for i, item in enumerate(getattr(tax, group)):
            if group != "sections" and item.id in seen:
                return (group, i, "id"), f"id {item.id!r} is used twice (also in {seen[item.id]})"
            if group != "sections":
                seen[item.id] = group
    sections = {s.id for s in tax.sections}
    if len(sections) != len(tax.sections):
        return ("sections",), "section ids must be unique"
    fields = {f.id for f in tax.fields}
    kinds = {n.id: "assumption" for n in tax.assumptions} | {n.id: "problem" for n in tax.problems}

    def bad_ref(loc: tuple[Any, ...], section: str) -> Optional[tuple[tuple[Any, ...], str]]:
        if section not in sections:
            return loc + ("ref", "section"), f"ref.section {section!r} is not one of the essay sections ({', '.join(sorted(sections))})"
        return None

    for i, f in enumerate(tax.fields):
        if f.gave_rise_to is not None and f.gave_rise_to not in fields:
            return ("fields", i, "gave_rise_to"), f"gave_rise_to {f.gave_rise_to!r} is not a field"
        if err := bad_ref(("fields", i), f.ref.section):
            return err
    for group in ("assumptions", "problems"):
        for i, n in enumerate(getattr(tax, group)):
            if n.field not in fields:
                return (group, i, "field"), f"field {n.field!r} of {n.id!r} is not a field"
            if err := bad_ref((group, i), n.ref.section):
                return err
    for i, d in enumerate(tax.decisions):
        if err := bad_ref(("decisions", i), d.ref.section):
            return err
    for i, o in enumerate(tax.observations):
        if err := bad_ref(("observations", i), o.ref.section):
            return err
        for j, node_id in enumerate(o.applies_to):
            if node_id not in kinds:
                return ("observations", i, "applies_to", j), f"applies_to {node_id!r} is not an assumption or problem"
    for i, w in enumerate(tax.works):
        if err := bad_ref(("works", i), w.ref.section):
            return err
        if w.arxiv is not None:
            try:
                parse_arxiv_id(w.arxiv)
            except Exception:
                return ("works", i, "arxiv"), f"not an arXiv id: {w.arxiv!r}"
        for p in w.problems:
            if kinds.get(p) != "problem":
                return ("works", i, "problems"), f"work {w.name!r} names unknown problem {p!r}"
        for a in w.assumptions:
            if kinds.get(a) != "assumption":
                return ("works", i, "assumptions"), f"work {w.name!r} names unknown assumption {a!r}"
    return None


@dataclass(frozen=True)
class TaxonomyChange:
    """One difference between two taxonomies: a node, section, work... added, removed or changed."""

    change: str  # added, removed, changed
    kind: str  # field, assumption, problem, section, work, observation, decision, source
    id: str
    attributes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "kind": self.kind, "id": self.id, "attributes": list(self.attributes)}


_GROUPS = (("sections", "section"), ("fields", "field"), ("assumptions", "assumption"), ("problems", "problem"), ("works", "work"), ("observations", "observation"), ("decisions", "decision"))


def _keyed(items: list[Any]) -> dict[str, dict[str, Any]]:
    keyed: dict[str, dict[str, Any]] = {}
    for item in items:
        data = item.model_dump(exclude_defaults=True)
        key = getattr(item, "id", None) or getattr(item, "arxiv", None) or getattr(item, "url", None) or str(data)
        keyed[str(key)] = data
    return keyed


def diff_taxonomies(base: Taxonomy, mine: Taxonomy) -> list[TaxonomyChange]:
    """How ``mine`` (a tracker's taxonomy) differs from ``base`` (the packaged one), in file order."""
    changes: list[TaxonomyChange] = []
    if base.data.source != mine.data.source:
        changed = tuple(k for k in type(base.data.source).model_fields if getattr(base.data.source, k) != getattr(mine.data.source, k))
        changes.append(TaxonomyChange("changed", "source", "source", changed))
    for group, kind in _GROUPS:
        old, new = _keyed(getattr(base.data, group)), _keyed(getattr(mine.data, group))
        for key, data in new.items():
            if key not in old:
                changes.append(TaxonomyChange("added", kind, key))
            elif data != old[key]:
                changed = tuple(sorted(k for k in set(data) | set(old[key]) if data.get(k) != old[key].get(k)))
                changes.append(TaxonomyChange("changed", kind, key, changed))
        changes.extend(TaxonomyChange("removed", kind, key) for key in old if key not in new)
    return changes
