"""Writing new values into a paper file a person edited, keeping what they typed.

A file lmdev wrote itself is simply rewritten (its bytes are a function of the paper). A file a
person edited (comments, key order, quoting, flow lists) is changed key by key instead: every
top-level key whose value did not change keeps its exact lines; a changed list or mapping (the
tags, above all) is re-emitted by ruamel.yaml's round-trip dumper from its own lines, so the
comments and flow style inside it stay; a changed scalar is written as lmdev writes it; a new
key goes where lmdev's key order puts it; a removed key's lines go.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from lmdev import yamlio

TAG_ORDER = ("id", "stance", "by", "score")


@dataclass
class _Block:
    key: str
    start: int  # first line (0-based) of the key
    end: int  # one past its last line (trailing comment lines and blank lines excluded)


def _blocks(text: str, lines: list[str]) -> list[_Block]:
    """The line span of every top-level key, from PyYAML's node marks."""
    _, node = yamlio.parse(text, path="")
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        raise ValueError("not a block mapping")
    blocks: list[_Block] = []
    for key, value in node.value:
        end_line = value.end_mark.line if value.end_mark.column > 0 else value.end_mark.line - 1
        end = max(end_line, key.start_mark.line) + 1
        while end - 1 > key.start_mark.line and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        blocks.append(_Block(str(key.value), key.start_mark.line, end))
    return blocks


def update(text: str, old: dict[str, Any], new: dict[str, Any], order: Sequence[str]) -> str:
    """``text`` (a paper file holding ``old``) changed to hold ``new``, keeping unchanged lines."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    blocks = _blocks(text, lines)
    present = {b.key for b in blocks}
    replace: dict[int, list[str]] = {}
    drop: set[int] = set()
    for i, block in enumerate(blocks):
        if block.key in old and block.key not in new:
            drop.add(i)
        elif block.key in new and (block.key not in old or old[block.key] != new[block.key]):
            replace[i] = _emit(block.key, "".join(lines[block.start : block.end]), new[block.key])
    inserts: dict[int, list[str]] = {}
    # a key the file leaves out is written only when its value changed: a hand-written file
    # without 'abstract' does not gain "abstract: ''" from a tag
    for key in (k for k in new if k not in present and (k not in old or old[k] != new[k])):
        inserts.setdefault(_insertion_point(key, blocks, order, len(lines)), []).extend(_canonical(key, new[key]))
    out: list[str] = []
    cursor = 0
    starts = {b.start: i for i, b in enumerate(blocks)}
    for n in range(len(lines) + 1):
        out.extend(inserts.get(n, []))
        if n == len(lines) or n < cursor:
            continue
        if n in starts:
            i = starts[n]
            block = blocks[i]
            if i in drop or i in replace:
                out.extend(replace.get(i, []))
                cursor = block.end
                continue
        out.append(lines[n])
    return "".join(out)


def _insertion_point(key: str, blocks: list[_Block], order: Sequence[str], total: int) -> int:
    """After the block of the last key that comes before ``key`` in lmdev's order."""
    rank = {k: i for i, k in enumerate(order)}
    before = [b for b in blocks if rank.get(b.key, len(order)) < rank.get(key, len(order))]
    if before:
        return max(b.end for b in before)
    return blocks[0].start if blocks else total


def _canonical(key: str, value: Any) -> list[str]:
    return yamlio.dump({key: value}).splitlines(keepends=True)


def _emit(key: str, block_text: str, value: Any) -> list[str]:
    """The new lines of one changed key: scalars as lmdev writes them, collections merged into
    the person's own lines by the round-trip dumper."""
    if not isinstance(value, (list, dict)):
        emitted = _canonical(key, value)
        comment = _eol_comment(block_text)
        if comment and len(emitted) == 1:
            emitted[0] = emitted[0].rstrip("\n") + "  " + comment + "\n"
        return emitted
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, offset = load_yaml_guess_indent(block_text)
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 100
    rt.allow_unicode = True
    rt.indent(mapping=indent or 2, sequence=(indent or 2) + (offset or 0), offset=offset or 0)
    doc = rt.load(block_text)
    doc[key] = _merge(doc[key], value)
    stream = io.StringIO()
    rt.dump(doc, stream)
    return stream.getvalue().splitlines(keepends=True)


def _eol_comment(block_text: str) -> str:
    """A ``# comment`` at the end of a one-line scalar block, if any."""
    first = block_text.splitlines()[0] if block_text else ""
    try:
        parsed = yaml.safe_load(first)
        stripped = yaml.safe_load(first.split(" #", 1)[0])
    except yaml.YAMLError:
        return ""
    if " #" in first and parsed == stripped and "\n" not in block_text.rstrip("\n"):
        return "#" + first.split(" #", 1)[1].rstrip("\n")
    return ""


def _merge(current: Any, value: Any) -> Any:
    """``value`` in the shape of ``current`` (a ruamel node): tags matched by id and updated in
    place; other lists and mappings replaced but keeping their flow or block style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, list) and isinstance(current, CommentedSeq):
        if value and all(isinstance(v, dict) and "id" in v for v in value) and all(isinstance(c, dict) for c in current):
            return _merge_tags(current, value)
        seq = CommentedSeq(value)
        if current.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, dict) and isinstance(current, CommentedMap):
        mapping = CommentedMap(value)
        if current.fa.flow_style():
            mapping.fa.set_flow_style()
        return mapping
    return value


def _merge_tags(seq: Any, tags: list[dict[str, Any]]) -> Any:
    from ruamel.yaml.comments import CommentedMap

    wanted = [t["id"] for t in tags]
    for i in reversed(range(len(seq))):
        if seq[i].get("id") not in wanted:
            del seq[i]
    kept = [item.get("id") for item in seq]
    if kept != [i for i in wanted if i in kept]:  # reordered: rebuild, keeping each item's map
        items = {item.get("id"): item for item in seq}
        seq.clear()
        seq.extend(items[i] for i in wanted if i in items)
        kept = [i for i in wanted if i in items]
    flow = any(item.fa.flow_style() for item in seq)
    by_id = {item.get("id"): item for item in seq}
    for tag in tags:
        item = by_id.get(tag["id"])
        if item is None:
            item = CommentedMap(tag)
            if flow:
                item.fa.set_flow_style()
            seq.append(item)
            continue
        for k in [k for k in item if k not in tag]:
            del item[k]
        for k, v in tag.items():
            if k not in item:
                rank = TAG_ORDER.index(k) if k in TAG_ORDER else len(TAG_ORDER)
                pos = sum(1 for existing in item if (TAG_ORDER.index(existing) if existing in TAG_ORDER else len(TAG_ORDER)) < rank)
                item.insert(pos, k, v)
            elif item[k] != v:
                item[k] = v
    return seq
