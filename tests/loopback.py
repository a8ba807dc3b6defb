"""A loopback HTTP server for tests and benchmarks: 127.0.0.1 on a port the OS picks, served from
a daemon thread for the length of a ``with`` block. Subclasses say how to answer a GET."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

L = TypeVar("L", bound="Loopback")


class Loopback:
    """Records when each request started and its User-Agent; :meth:`reply` gives the status,
    headers and body for a path (a Content-Length is added unless given), or :meth:`serve`
    writes the whole response itself. ``stopping`` is set as the block ends."""

    def __init__(self, path: str = "/") -> None:
        self.path = path
        self.starts: list[float] = []
        self.user_agents: list[str] = []
        self.stopping = threading.Event()
        loop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                loop.starts.append(time.monotonic())
                loop.user_agents.append(self.headers.get("User-Agent", ""))
                loop.serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def reply(self, path: str) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        status, headers, body = self.reply(request.path)
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        if "Content-Length" not in headers:
            request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def __enter__(self: L) -> L:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
