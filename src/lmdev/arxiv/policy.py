"""The rules one HTTP exchange with arXiv keeps, apart from the client that applies them.

A misbehaving server must not hold lmdev (or, through the machine-wide rate-limit lock, every
other lmdev process): each request has a total deadline enforced by a watchdog, ``Retry-After``
is believed only up to a cap, and redirects are followed only within the configured host.
No httpx here; :mod:`lmdev.arxiv.client` stays the one module that imports it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
import socket
import threading
from typing import Any, Optional
from urllib.parse import SplitResult, urljoin, urlsplit

MAX_WAIT = 300.0  # the longest Retry-After lmdev sleeps through; beyond it, it stops and says so
MAX_REDIRECTS = 3
REDIRECT_STATUS = {301, 302, 303, 307, 308}


def retry_after(value: Optional[str], now: float) -> Optional[float]:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), None when it is
    absent or unreadable; ``inf`` for numbers too large to mean anything."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"[0-9]{1,12}", text, re.ASCII):
        return float(text)
    if re.fullmatch(r"[0-9]+", text, re.ASCII):
        return math.inf
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are in GMT anyway
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, when.timestamp() - now)


def duration(seconds: float) -> str:
    """A wait in words: ``45 s``, ``5 min``, ``2 h 46 min``, ``12 days``."""
    if not math.isfinite(seconds):
        return "an unbounded time"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} days"


def _origin(parts: SplitResult) -> tuple[str, str, int]:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def redirect_target(api_url: str, current: str, location: Optional[str]) -> Optional[str]:
    """Where a redirect leads, if lmdev may follow it: the configured host and port only (or the
    same host upgraded from http to https); None when the target is elsewhere or unreadable."""
    if not location:
        return None
    try:
        target = urlsplit(urljoin(current, location.strip()))
        scheme, host, port = _origin(target)
        base_scheme, base_host, base_port = _origin(urlsplit(api_url))
    except ValueError:
        return None
    if host != base_host or scheme not in ("http", "https"):
        return None
    same = scheme == base_scheme and port == base_port
    upgrade = base_scheme == "http" and scheme == "https" and port == 443 and base_port == 80
    return target.geturl() if same or upgrade else None


class Watchdog:
    """Cuts a request's connection at its deadline.

    A read timeout only bounds each wait for data: a server sending one byte a second never
    trips it. The watchdog learns the connection's socket through httpx's ``trace`` request
    extension and shuts it down when the deadline passes, which ends any read at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._socket: Optional[socket.socket] = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """The ``trace`` extension: remember the socket of each new (or TLS-wrapped) connection."""
        if not event.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock
            if self.expired:
                self._cut()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._cut()

    def _cut(self) -> None:
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
