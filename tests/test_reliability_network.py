"""Reliability battery, part 3: a misbehaving network or server never hangs lmdev or breaks a file.

Scripted answers go through httpx.MockTransport with a fake clock (nothing sleeps); the slow and
connection-level cases use servers on 127.0.0.1 that the tests start.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest

from arxiv_server import FakeArxiv
from fakes import FakeClock, atom_entry, atom_feed
from helpers import REPO
from lmdev.arxiv.cache import ResponseCache
from lmdev.arxiv.client import ArxivClient
from lmdev.errors import ArxivError, RateLimitedError, UnreachableError
from loopback import Loopback

ONE = "2401.00001"


def feed_ok(*ids: str) -> httpx.Response:
    return httpx.Response(200, content=atom_feed([atom_entry(i) for i in ids or (ONE,)]))


def make(tmp_path: Path, *answers: httpx.Response | Exception, api: str = "https://export.arxiv.org/api/query", **kwargs: object) -> tuple[ArxivClient, list[httpx.Request], FakeClock]:
    clock = FakeClock()
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = ArxivClient(api_url=api, delay=3.0, transport=httpx.MockTransport(handler), clock=clock, cache=ResponseCache(tmp_path / "cache"), rng=random.Random(0), **kwargs)  # type: ignore[arg-type]
    return client, seen, clock


# --- a total deadline per request --------------------------------------------------------------


class Trickle(Loopback):
    """Sends its answer a byte every 50 ms: the status line and headers too, or (``headers_first``)
    the headers at once and then a body that would take hours."""

    def __init__(self, *, headers_first: bool) -> None:
        super().__init__("/api/query")
        self.headers_first = headers_first

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: 100000\r\n\r\n"
        try:
            if self.headers_first:
                request.wfile.write(head)
                head = b"<feed>" + b" " * 100_000
            for byte in head:
                if self.stopping.is_set():
                    break
                request.wfile.write(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            pass


@pytest.mark.parametrize("headers_first", [False, True], ids=["slow-headers", "slow-body"])
def test_a_server_sending_a_byte_at_a_time_is_cut_off_at_the_deadline(tmp_path: Path, headers_first: bool) -> None:
    with Trickle(headers_first=headers_first) as server:
        client = ArxivClient(api_url=server.url, delay=0.0, cache=ResponseCache(tmp_path / "cache"), timeout=5.0, deadline=1.0, max_retries=3)
        with pytest.raises(ArxivError, match="did not finish answering within 1 s"):
            client.search("ti:slow", max_results=1)
        assert client.requests == 1


# --- Retry-After ------------------------------------------------------------------------------

HONOURED = ["0", "1", "30", " 120 ", "300"]
TOO_LONG = ["301", "3600", "86400", "99999999999999999999", "9" * 400]
UNREADABLE = ["-5", "nan", "inf", "abc", "1e400", "１２", "²", "", "30s", "Wed, 99 Foo 2015 99:99:99 GMT", "0x10", "3.5"]


@pytest.mark.parametrize("value", HONOURED)
def test_retry_after_within_the_cap_is_waited_for(tmp_path: Path, value: str) -> None:
    client, seen, clock = make(tmp_path, httpx.Response(503, headers={"Retry-After": value}), feed_ok())
    assert ONE in client.fetch([ONE]).papers
    assert len(seen) == 2 and clock.sleeps[0] >= float(value)


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("value", TOO_LONG)
def test_retry_after_beyond_the_cap_stops_at_once_and_names_the_wait(tmp_path: Path, value: str, status: int) -> None:
    client, seen, clock = make(tmp_path, httpx.Response(status, headers={"Retry-After": value}, text="slow down"))
    with pytest.raises(ArxivError, match=r"arXiv asks us to wait .* longer than the 5 min lmdev waits") as info:
        client.search("ti:x")
    assert isinstance(info.value, RateLimitedError) == (status == 429)
    assert len(seen) == 1 and clock.sleeps == []


@pytest.mark.parametrize("value", UNREADABLE)
def test_an_unreadable_retry_after_falls_back_to_backoff(tmp_path: Path, value: str) -> None:
    client, seen, clock = make(tmp_path, httpx.Response(429, headers=[(b"Retry-After", value.encode("utf-8"))], text="Rate exceeded."), feed_ok())
    assert ONE in client.fetch([ONE]).papers
    assert len(seen) == 2 and 3 <= clock.sleeps[0] <= 6


@pytest.mark.parametrize(("offset", "stops"), [(-3600, False), (60, False), (600, True), (86400 * 30, True)])
def test_retry_after_as_an_http_date(tmp_path: Path, offset: int, stops: bool) -> None:
    clock_start = FakeClock().now
    header = email.utils.formatdate(clock_start + offset, usegmt=True)
    client, _, clock = make(tmp_path, httpx.Response(503, headers={"Retry-After": header}), feed_ok())
    if stops:
        with pytest.raises(ArxivError, match="arXiv asks us to wait"):
            client.search("ti:x")
    else:
        assert ONE in client.fetch([ONE]).papers
        assert clock.sleeps[0] >= max(0, offset)


def test_a_server_that_answers_429_forever_is_given_up_on_with_the_time_spent(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client, seen, _clock = make(tmp_path, httpx.Response(429, text="Rate exceeded."))
    with caplog.at_level(logging.WARNING), pytest.raises(RateLimitedError, match=r"after 5 tries over [0-9]+ (s|min)"):
        client.search("ti:x")
    assert len(seen) == 5
    waits = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 4 and all(" before try " in w for w in waits)


# --- redirects ---------------------------------------------------------------------------------

FOLLOWED = {
    "same-host-path": "https://export.arxiv.org/api/query2?id_list=2401.00001",
    "relative": "/api/other?id_list=2401.00001",
    "same-host-upper-case": "https://EXPORT.arxiv.org/api/query",
}
REFUSED = {
    "other-host": "https://evil.example/api/query",
    "lookalike-host": "https://export.arxiv.org.evil.example/api/query",
    "downgrade-to-http": "http://export.arxiv.org/api/query",
    "other-port": "https://export.arxiv.org:8443/api/query",
    "javascript": "javascript:alert(1)",
    "file": "file:///etc/passwd",
    "userinfo-trick": "https://export.arxiv.org@evil.example/api",
    "no-location": "",
}


@pytest.mark.parametrize("name", sorted(FOLLOWED))
def test_redirects_on_the_configured_host_are_followed_and_each_is_rate_limited(tmp_path: Path, name: str) -> None:
    client, seen, clock = make(tmp_path, httpx.Response(302, headers={"Location": FOLLOWED[name]}), feed_ok())
    assert ONE in client.fetch([ONE]).papers
    assert len(seen) == 2 and client.requests == 2
    assert len(clock.sleeps) == 1 and clock.sleeps[0] >= 3.0


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_redirects_away_from_the_configured_host_are_refused(tmp_path: Path, name: str) -> None:
    headers = {"Location": REFUSED[name]} if REFUSED[name] else {}
    client, seen, _ = make(tmp_path, httpx.Response(301, headers=headers))
    with pytest.raises(ArxivError, match="without saying where to" if name == "no-location" else "not following"):
        client.search("ti:x")
    assert len(seen) == 1


def test_http_to_https_on_the_same_host_is_followed(tmp_path: Path) -> None:
    client, seen, _ = make(tmp_path, httpx.Response(301, headers={"Location": "https://export.arxiv.org/api/query?id_list=2401.00001"}), feed_ok(), api="http://export.arxiv.org/api/query")
    assert ONE in client.fetch([ONE]).papers and len(seen) == 2


def test_a_redirect_loop_stops_after_a_few_hops(tmp_path: Path) -> None:
    client, seen, _ = make(tmp_path, httpx.Response(307, headers={"Location": "/api/query?again"}))
    with pytest.raises(ArxivError, match="more than 3 redirects"):
        client.search("ti:x")
    assert len(seen) == 4


# --- unreachable arXiv -------------------------------------------------------------------------


@pytest.mark.parametrize("error", [httpx.ConnectError("[Errno -2] Name or service not known"), httpx.ConnectError("[Errno 111] Connection refused"), httpx.ConnectTimeout("timed out")], ids=["dns", "refused", "connect-timeout"])
def test_an_unreachable_arxiv_fails_at_once_without_retries(tmp_path: Path, error: Exception) -> None:
    client, seen, clock = make(tmp_path, error)
    with pytest.raises(UnreachableError, match=r"unreachable.*; try again later$"):
        client.fetch([f"2401.{n:05d}" for n in range(250)])
    assert len(seen) == 1 and clock.sleeps == []


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


@pytest.mark.parametrize("args", [["add", ONE, "2401.00002"], ["refresh"], ["search", "ti:x"]], ids=["add", "refresh", "search"])
def test_the_cli_says_arxiv_is_unreachable_in_one_line_without_waiting(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.setenv("LMDEV_ARXIV_API", f"http://127.0.0.1:{_closed_port()}/api/query")

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"lmdev slept {seconds} s before saying arXiv is unreachable")

    monkeypatch.setattr("lmdev.arxiv.ratelimit.SystemClock.sleep", lambda self, s: no_sleep(s))
    result = cli("--data-dir", str(data_dir), *args)
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if "unreachable" in line]
    assert len(lines) == 1 and "--offline" in lines[0] and "Traceback" not in result.err


def test_watch_says_arxiv_is_unreachable_without_offering_an_option_it_lacks(cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMDEV_ARXIV_RSS", f"http://127.0.0.1:{_closed_port()}/rss")
    result = cli("--data-dir", str(data_dir), "watch")
    assert result.code == 1 and "Traceback" not in result.err
    [line] = [line for line in result.err.splitlines() if "unreachable" in line]
    assert line.endswith("; try again later") and "--offline" not in line
    assert "--offline" not in cli("--data-dir", str(data_dir), "watch", "--help").out  # nor does it have one


# --- one connection at a time, spacing across processes, LMDEV_ARXIV_DELAY ---------------------


def test_one_connection_at_a_time_and_none_kept_open(tmp_path: Path) -> None:
    events: list[str] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)

    def serve() -> None:
        for _ in range(3):
            conn, _ = server.accept()
            events.append("open")
            with conn:
                conn.recv(65536)
                body = atom_feed([atom_entry(ONE)])
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                conn.settimeout(10)
                try:
                    events.append("closed" if conn.recv(65536) == b"" else "reused")
                except OSError:
                    events.append("left open")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/api/query"
    with ArxivClient(api_url=url, delay=0.0, use_cache=False, cache=ResponseCache(tmp_path / "cache")) as client:
        for n in range(3):
            client.search(f"ti:{n}", max_results=1)
    thread.join(timeout=20)
    server.close()
    assert events == ["open", "closed"] * 3


def test_the_rate_limit_lock_does_not_follow_the_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tempfile

    from lmdev.paths import rate_lock_path

    monkeypatch.delenv("LMDEV_RATE_LOCK")
    monkeypatch.setenv("LMDEV_CACHE_DIR", str(tmp_path / "one"))
    first = rate_lock_path()
    monkeypatch.setenv("LMDEV_CACHE_DIR", str(tmp_path / "two"))
    assert rate_lock_path() == first
    assert first.parent.parent == Path(tempfile.gettempdir()) and str(tmp_path) not in str(first)


def test_requests_never_overlap_across_processes_with_different_caches(tmp_path: Path) -> None:
    """Three processes, three caches, no LMDEV_RATE_LOCK: the one machine-wide lock still lets only
    one request be in flight at a time (the server holds each for a moment to give them the chance)."""
    active: list[int] = []
    peak: list[int] = [0]
    guard = threading.Lock()

    def answer(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with guard:
            active.append(1)
            peak[0] = max(peak[0], len(active))
        time.sleep(0.2)
        with guard:
            active.pop()
        return 200, {}, atom_feed([atom_entry(i) for i in params["id_list"].split(",")])

    with FakeArxiv() as fake:
        fake.answer = answer
        procs = []
        for n in range(3):
            env = {k: v for k, v in os.environ.items() if k != "LMDEV_RATE_LOCK"}
            env.update(LMDEV_CACHE_DIR=str(tmp_path / f"cache{n}"), LMDEV_ARXIV_API=fake.url, LMDEV_ARXIV_DELAY="0")
            data = tmp_path / f"data{n}"
            (data / "papers").mkdir(parents=True)
            (data / "taxonomy.yaml").write_bytes((REPO / "data" / "taxonomy.yaml").read_bytes())
            procs.append(subprocess.Popen([sys.executable, "-m", "lmdev", "--data-dir", str(data), "add", f"2401.{n:05d}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert len(fake.starts) == 3 and peak[0] == 1


def test_a_planted_lock_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / "planted")
    monkeypatch.setenv("LMDEV_RATE_LOCK", str(tmp_path / "planted" / "rate.lock"))
    client, _, _ = make(tmp_path, feed_ok())
    with pytest.raises(ArxivError, match="not a folder of yours"):
        client.search("ti:x")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "1", "2.99", " 0.5 "])
def test_a_delay_below_three_seconds_is_warned_about(cli, empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LMDEV_ARXIV_DELAY", value)
    result = cli("--data-dir", str(empty_data_dir), "add", ONE, "--offline")
    assert "below the 3 s" in result.err and "LMDEV_ARXIV_DELAY" in result.err


@pytest.mark.parametrize("value", ["nan", "-1", "-0.5", "abc", "inf", "1e999", "3s", "０"])
def test_a_delay_that_is_no_number_of_seconds_is_refused(cli, empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LMDEV_ARXIV_DELAY", value)
    result = cli("--data-dir", str(empty_data_dir), "add", ONE, "--offline")
    assert result.code == 2 and "LMDEV_ARXIV_DELAY" in result.err and len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["ftp://export.arxiv.org/api", "export.arxiv.org/api", "http://", "http://host:port/x"])
def test_an_api_url_that_is_no_http_url_is_refused(cli, empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LMDEV_ARXIV_API", value)
    result = cli("--data-dir", str(empty_data_dir), "add", ONE)
    assert result.code == 2 and "LMDEV_ARXIV_API" in result.err and "Traceback" not in result.err


# --- hostile feed content ----------------------------------------------------------------------


def raw_entry(raw_id: str, *, title: str = "A title", abstract: str = "An abstract.", authors: tuple[str, ...] = ("Ada Lovelace",), comment: str = "", journal: str = "") -> str:
    extra = (f"<arxiv:comment>{escape(comment)}</arxiv:comment>" if comment else "") + (f"<arxiv:journal_ref>{escape(journal)}</arxiv:journal_ref>" if journal else "")
    names = "".join(f"<author><name>{escape(a)}</name></author>" for a in authors)
    return f"<entry><id>{escape(raw_id)}</id><title>{escape(title)}</title><summary>{escape(abstract)}</summary><published>2024-01-02T00:00:00Z</published>{names}{extra}</entry>"


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with FakeArxiv() as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        monkeypatch.setattr("lmdev.arxiv.ratelimit.SystemClock.sleep", lambda self, s: None)
        yield fake


BAD_IDS = ["http://arxiv.org/abs/not-an-id", "http://arxiv.org/abs/", "http://arxiv.org/abs/2401.00002v0", "http://arxiv.org/abs/../../etc/passwd", "http://arxiv.org/abs/２４０１.０００02", "http://arxiv.org/abs/2401.00002 v1"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_entry_with_a_malformed_id_is_skipped_with_a_warning(cli, empty_data_dir: Path, arxiv: FakeArxiv, bad: str) -> None:
    arxiv.answer = lambda params: (200, {}, atom_feed([raw_entry(bad), raw_entry(f"http://arxiv.org/abs/{ONE}v1")]))
    result = cli("--data-dir", str(empty_data_dir), "add", ONE, "--assumption", "end-to-end:relies")
    assert result.code == 0, result.err
    assert "malformed id" in result.err
    assert [p.name for p in (empty_data_dir / "papers").iterdir()] == [f"{ONE}.yaml"]


HUGE = {
    "abstract": {"abstract": "a" * 1_500_000},
    "title": {"title": "t" * 100_000},
    "authors": {"authors": tuple(f"Author {n}" for n in range(6_000))},
    "author-name": {"authors": ("n" * 10_000,)},
    "comment": {"comment": "c" * 1_000_000},
    "journal": {"journal": "j" * 50_000},
}


@pytest.mark.parametrize("field", sorted(HUGE))
def test_fields_beyond_sane_sizes_are_refused_before_anything_is_written(cli, empty_data_dir: Path, arxiv: FakeArxiv, field: str) -> None:
    arxiv.answer = lambda params: (200, {}, atom_feed([raw_entry(f"http://arxiv.org/abs/{ONE}v1", **HUGE[field])]))  # type: ignore[arg-type]
    result = cli("--data-dir", str(empty_data_dir), "add", ONE)
    assert result.code == 1 and "Traceback" not in result.err
    assert "more than" in result.err and ONE in result.err
    assert list((empty_data_dir / "papers").iterdir()) == []


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_that_claims_compression_but_is_not_is_an_error(cli, empty_data_dir: Path, arxiv: FakeArxiv, encoding: str) -> None:
    arxiv.answer = lambda params: (200, {"Content-Encoding": encoding}, atom_feed([atom_entry(ONE)]))
    result = cli("--data-dir", str(empty_data_dir), "add", ONE)
    assert result.code == 1 and "Traceback" not in result.err
    assert "does not decode" in result.err


@pytest.mark.parametrize("total", ["²", "-1", "1e9", "99999999999999999999999"])
def test_a_strange_total_count_does_not_break_a_search(tmp_path: Path, total: str) -> None:
    body = atom_feed([atom_entry(ONE)]).replace(b"<opensearch:totalResults>1<", f"<opensearch:totalResults>{total}<".encode())
    client, _, _ = make(tmp_path, httpx.Response(200, content=body))
    assert [p.id for p in client.search("ti:x", max_results=1).papers] == [ONE]


# --- from a review of hostile servers (2026-11-28) ----------------------------------------------


def test_a_stack_of_content_encodings_is_refused_before_its_body_is_read(tmp_path: Path) -> None:
    """gzip of gzip: 3.5 KB on the wire decompressed, layer by layer, into gigabytes of memory."""
    import gzip

    bomb = gzip.compress(gzip.compress(b"\0" * 10_000_000))
    client, seen, _ = make(tmp_path, httpx.Response(200, headers={"Content-Encoding": "gzip, gzip"}, content=bomb))
    with pytest.raises(ArxivError, match="encoded as gzip, gzip; lmdev takes one known encoding only"):
        client.search("ti:x")
    assert len(seen) == 1, "not retried: the same answer would come again"


def test_the_waits_of_one_request_are_capped_in_sum_not_only_each(tmp_path: Path) -> None:
    """Retry-After just under the cap, every time: four waits of five minutes, twenty in all,
    became a command that seemed to hang."""
    client, seen, clock = make(tmp_path, httpx.Response(503, headers={"Retry-After": "299"}))
    with pytest.raises(ArxivError, match="did not answer properly"):
        client.search("ti:x")
    assert sum(clock.sleeps) <= 300 + 3.1 * 2 and len(seen) == 2


def test_a_fetch_stops_once_arxiv_stops_answering(tmp_path: Path) -> None:
    """The batches after one that timed out through every retry are not tried (each would sit
    out the same timeouts: six minutes for a library of 551 papers)."""
    ids = [f"2401.{n:05d}" for n in range(1, 251)]
    client, seen, _ = make(tmp_path, httpx.ReadTimeout("slow"))
    result = client.fetch(ids)
    assert len(seen) == 2, "one batch, tried twice"
    assert set(result.failed) == set(ids)
    assert sum(reason.startswith("not tried") for reason in result.failed.values()) == 150


def test_a_search_whose_pages_repeat_stops_and_gives_each_paper_once(tmp_path: Path) -> None:
    """A totalResults of 10^9 with the same page each time: paging stops at the first page that
    brings nothing new (watch --since would otherwise ask thousands of times)."""
    body = atom_feed([atom_entry(f"2401.{n:05d}") for n in range(1, 101)]).replace(b"<opensearch:totalResults>100<", b"<opensearch:totalResults>1000000000<")
    client, seen, _ = make(tmp_path, httpx.Response(200, content=body))
    found = client.search("ti:x", max_results=300).papers
    assert len(found) == 100 and len({p.id for p in found}) == 100
    assert len(seen) == 2


def test_a_damaged_cache_entry_is_dropped_and_asked_again(tmp_path: Path) -> None:
    client, seen, _ = make(tmp_path, feed_ok())
    assert ONE in client.fetch([ONE]).papers and len(seen) == 1
    [entry] = (tmp_path / "cache" / "arxiv").rglob("*.xml")
    entry.write_text("garbage<feed")
    assert ONE in client.fetch([ONE]).papers, "the damaged answer is a miss, not arXiv's fault"
    assert len(seen) == 2 and "garbage" not in entry.read_text()


def test_a_redirect_to_an_unreadable_location_is_refused_at_once(tmp_path: Path) -> None:
    client, seen, _ = make(tmp_path, httpx.Response(302, headers={"Location": "http://[::1"}))
    with pytest.raises(ArxivError, match=r"cannot read|not following"):
        client.search("ti:x")
    assert len(seen) == 1


def test_a_listing_feed_url_that_is_no_http_url_is_refused(cli, empty_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMDEV_ARXIV_RSS", "file:///etc/passwd")
    result = cli("--data-dir", str(empty_data_dir), "watch")
    assert result.code == 2 and "LMDEV_ARXIV_RSS must be an http:// or https:// URL" in result.err


def test_a_slot_another_process_holds_is_waited_for_in_words_and_not_for_ever(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped lmdev (Ctrl-Z) holding arXiv's request slot: others say they wait, and give up."""
    import subprocess
    import sys

    from lmdev import locking
    from lmdev.arxiv import ratelimit

    lock = tmp_path / "rate" / "arxiv.lock"
    lock.parent.mkdir(mode=0o700)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)", str(lock)], stdout=subprocess.PIPE, text=True)
    said: list[Path] = []
    monkeypatch.setattr(locking, "waiting", said.append)
    monkeypatch.setattr(ratelimit, "PATIENCE", 0.5)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ArxivError, match="has held arXiv's request slot"), ratelimit.RateLimiter(lock, 0.0).slot():
            pass
    finally:
        holder.kill()
        holder.wait()
    assert said == [lock]
