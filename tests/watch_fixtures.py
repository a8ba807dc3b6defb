"""Fixtures for the watch tests: the shipped tracker with its model cached (trained once per run,
in conftest), and a loopback listing feed wired into ``$LMDEV_ARXIV_RSS``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Optional

import pytest

from listing_feed import LISTINGS, FakeFeed, load_day


@pytest.fixture
def tracker(data_dir: Path) -> Path:
    """A copy of the shipped tracker whose model is already in the (per-test) cache."""
    return data_dir


@pytest.fixture
def busy_day() -> list[dict[str, Any]]:
    """A slice of the busiest shared day (2026-05-12), none of it in the shipped tracker."""
    return load_day(LISTINGS / "2026-05-12.jsonl")[:60]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeFeed]]:
    """Start a loopback listing feed and point ``$LMDEV_ARXIV_RSS`` at it (no rate-limit wait)."""
    with ExitStack() as stack:

        def start(records: Sequence[dict[str, Any]] = (), respond: Optional[Callable[[str], tuple[int, bytes]]] = None, **kwargs: Any) -> FakeFeed:
            feed = stack.enter_context(FakeFeed(records, respond, **kwargs))
            monkeypatch.setenv("LMDEV_ARXIV_RSS", feed.url)
            monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
            return feed

        yield start


def make_item(paper_id: str, *, title: Optional[str] = None, relevance: float = 0.5, problems: Sequence[tuple[str, float]] = (("prompting", 0.5),), assumptions: Sequence[tuple[str, str, float]] = (("out-of-the-box", "relies", 0.4),), seen: str = "2026-02-21", **extra: Any) -> Any:
    """An inbox item as a watch would write it (the first problem is the primary)."""
    from lmdev.inbox import InboxItem

    return InboxItem.model_validate({
        "id": paper_id,
        "title": title or f"A study numbered {paper_id}",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "abstract": f"We study prompting for paper {paper_id}.",
        "categories": ["cs.CL"],
        "primary_category": "cs.CL",
        "announced": "new",
        "listed": seen,
        "seen": seen,
        "relevance": relevance,
        "primary": problems[0][0] if problems else None,
        "problems": [{"id": p, "score": s} for p, s in problems],
        "assumptions": [{"id": a, "stance": st, "score": s} for a, st, s in assumptions],
        "reasons": [f"terms: prompting (+0.30) for {paper_id}"],
        **extra,
    })


def fill_inbox(data: Path, *items: Any) -> None:
    from lmdev.inbox import Inbox

    Inbox(data).add(items)
