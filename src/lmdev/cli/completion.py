"""Shell completion of paper ids and taxonomy ids (Typer's completion does commands and options).

A completion runs on every Tab press, so it reads file names and the taxonomy only, and never
fails: outside a tracker, or with a broken file, it simply offers nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from lmdev.store import Library


def _library(ctx: typer.Context) -> Optional[Library]:
    from lmdev.store import Library

    try:
        root = ctx.find_root()
        return Library.open(root.params.get("data_dir"))
    except Exception:
        return None


def _nodes(ctx: typer.Context, kind: Optional[str]) -> list[str]:
    lib = _library(ctx)
    if lib is None:
        return []
    try:
        return [n.id for n in lib.taxonomy if kind is None or n.kind == kind]
    except Exception:
        return []


def paper_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    lib = _library(ctx)
    if lib is None:
        return []
    return sorted(i for i in lib.ids() if i.startswith(incomplete))


def waiting_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """Ids of the papers waiting in the inbox (from file names)."""
    lib = _library(ctx)
    if lib is None:
        return []
    from lmdev.inbox import Inbox

    return sorted(i for i in Inbox(lib.root).ids() if i.startswith(incomplete))


def known_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """Stored papers first, then those waiting in the inbox: what ``show`` and ``open`` find."""
    stored = paper_ids(ctx, incomplete)
    seen = set(stored)
    return stored + [i for i in waiting_ids(ctx, incomplete) if i not in seen]


def problem_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    return [i for i in _nodes(ctx, "problem") if i.startswith(incomplete)]


def assumption_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    return [i for i in _nodes(ctx, "assumption") if i.startswith(incomplete)]


def node_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    return [i for i in _nodes(ctx, None) if i.startswith(incomplete)]


def assumption_specs(ctx: typer.Context, incomplete: str) -> list[str]:
    """``ID:STANCE``: the ids first, then, once an id is typed, its three stances."""
    from lmdev.models import STANCES

    ids = _nodes(ctx, "assumption")
    if ":" in incomplete:
        return [f"{i}:{s}" for i in ids for s in STANCES if f"{i}:{s}".startswith(incomplete)]
    return [i + ":" for i in ids if i.startswith(incomplete)]
