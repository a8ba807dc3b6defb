"""A loopback HTTP server that answers like arXiv's API, for end-to-end tests and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional
from urllib.parse import parse_qs, urlparse

from fakes import atom_entry, atom_feed
from loopback import Loopback

Answer = Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]]


class FakeArxiv(Loopback):
    """Knows ``papers`` (id -> entry kwargs); records the monotonic start time of each request.
    ``answer``, when set, scripts the whole response (status, headers, body) from the query."""

    def __init__(self, papers: Optional[dict[str, dict]] = None, search: Optional[Callable[[dict[str, str]], bytes]] = None) -> None:
        super().__init__("/api/query")
        self.papers: dict[str, dict] = papers or {}
        self.search = search
        self.answer: Optional[Answer] = None
        self.queries: list[dict[str, str]] = []

    def reply(self, path: str) -> tuple[int, dict[str, str], bytes]:
        params = {k: v[0] for k, v in parse_qs(urlparse(path).query).items()}
        self.queries.append(params)
        if self.answer is not None:
            return self.answer(params)
        if "id_list" in params:
            ids = params["id_list"].split(",")
            body = atom_feed([atom_entry(i, **self.papers[i]) for i in ids if i in self.papers])
        elif self.search is not None:
            body = self.search(params)
        else:
            body = atom_feed([])
        return 200, {"Content-Type": "application/atom+xml; charset=utf-8"}, body
