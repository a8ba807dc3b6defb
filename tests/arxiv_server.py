"""A loopback HTTP server that answers like arXiv's API, for end-to-end tests and benchmarks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlparse

from fakes import atom_entry, atom_feed

Answer = Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]]


class FakeArxiv:
    """Knows ``papers`` (id -> entry kwargs); records the monotonic start time of each request.
    ``answer``, when set, scripts the whole response (status, headers, body) from the query."""

    def __init__(self, papers: Optional[dict[str, dict]] = None, search: Optional[Callable[[dict[str, str]], bytes]] = None) -> None:
        self.papers: dict[str, dict] = papers or {}
        self.search = search
        self.answer: Optional[Answer] = None
        self.starts: list[float] = []
        self.queries: list[dict[str, str]] = []
        self.user_agents: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.starts.append(time.monotonic())
                params = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                fake.queries.append(params)
                fake.user_agents.append(self.headers.get("User-Agent", ""))
                if fake.answer is not None:
                    status, headers, body = fake.answer(params)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if "id_list" in params:
                    ids = params["id_list"].split(",")
                    body = atom_feed([atom_entry(i, **fake.papers[i]) for i in ids if i in fake.papers])
                elif fake.search is not None:
                    body = fake.search(params)
                else:
                    body = atom_feed([])
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/query"

    def __enter__(self) -> FakeArxiv:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
