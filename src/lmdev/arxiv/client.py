"""An arXiv API client over httpx that keeps arXiv's terms of use.

Library code: it knows nothing of the CLI. It batches id look-ups, spaces requests machine-wide
(:mod:`lmdev.arxiv.ratelimit`), retries what is worth retrying with exponential backoff and jitter,
caches raw responses (:mod:`lmdev.arxiv.cache`) and parses feeds safely (:mod:`lmdev.arxiv.atom`).
Each request has a total deadline, ``Retry-After`` is capped and redirects stay on the configured
host (:mod:`lmdev.arxiv.policy`); an unreachable arXiv fails at once, without retries.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, TypeVar
from urllib.parse import urlencode, urlsplit

from lmdev import __version__
from lmdev.arxiv import policy
from lmdev.arxiv.atom import Feed, MalformedFeedError, parse_feed
from lmdev.arxiv.cache import ResponseCache
from lmdev.arxiv.ratelimit import Clock, RateLimiter, SystemClock
from lmdev.errors import ArxivError, BlockedError, RateLimitedError, UnreachableError, UnresponsiveError, UsageError
from lmdev.ids import ArxivId, parse_arxiv_id
from lmdev.models import Paper
from lmdev.paths import arxiv_api_url, arxiv_delay, cache_dir, rate_lock_path

if TYPE_CHECKING:
    import httpx

BATCH = 100
SEARCH_PAGE = 100
SEARCH_WINDOW = 10_000
MAX_BODY = 50 * 1024 * 1024
RETRY_STATUS = {429, 500, 502, 503, 504}
SORT_BY = ("relevance", "lastUpdatedDate", "submittedDate")
SORT_ORDER = ("descending", "ascending")
USER_AGENT = f"lmdev/{__version__} (literature tracker for language model development; python-httpx)"


NOT_FOUND = "not found on arXiv"
NOT_TRIED = "not tried: arXiv stopped answering (see the line above)"
CODINGS = {"gzip", "x-gzip", "deflate", "br", "zstd", "identity"}  # one of these, once: a stack of them can expand a few KB into gigabytes

log = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass
class FetchResult:
    """Papers found, and for each id that failed, why (``NOT_FOUND`` or arXiv's error)."""

    papers: dict[str, Paper] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    requests: int = 0


@dataclass
class SearchResult:
    total: Optional[int]
    papers: list[Paper]


class _Retry(Exception):
    """An attempt that failed in a way worth trying again (``slow``: it timed out; ``dropped``:
    the connection failed)."""

    def __init__(self, reason: str, *, status: Optional[int] = None, retry_after: Optional[float] = None, slow: bool = False, dropped: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.slow = slow
        self.dropped = dropped


class ArxivClient:
    """Fetch and search arXiv metadata. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        *,
        api_url: Optional[str] = None,
        delay: Optional[float] = None,
        transport: Optional[httpx.BaseTransport] = None,
        clock: Optional[Clock] = None,
        cache: Optional[ResponseCache] = None,
        use_cache: bool = True,
        offline: bool = False,
        max_retries: int = 4,
        timeout: float = 30.0,
        deadline: float = 45.0,
        rng: Optional[random.Random] = None,
        on_request: Optional[Callable[[str], None]] = None,
        unreachable_hint: str = "try again later",
    ) -> None:
        import httpx

        self.api_url = api_url or arxiv_api_url()
        self.delay = arxiv_delay() if delay is None else delay
        self.clock = clock or SystemClock()
        self.cache = cache if cache is not None else ResponseCache(cache_dir())
        self.use_cache = use_cache
        self.offline = offline
        self.max_retries = max_retries
        self.deadline = deadline
        self.rng = rng or random.Random()
        self.on_request = on_request
        self.unreachable_hint = unreachable_hint  # what to do then; a command with --offline says so
        self.limiter = RateLimiter(rate_lock_path(), self.delay, self.clock)
        self.requests = 0
        # One connection, closed after each answer: no idle keep-alive connection stays open
        # while another lmdev process holds the rate-limit slot. Redirects are followed by hand.
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- public API ------------------------------------------------------------------------

    def fetch(self, ids: Iterable[str | ArxivId]) -> FetchResult:
        """Metadata of the latest version of each id; see :meth:`fetch_batches`."""
        result = FetchResult()
        start = self.requests
        for batch in self.fetch_batches(ids):
            result.papers.update(batch.papers)
            result.failed.update(batch.failed)
        result.missing = [i for i in result.failed if result.failed[i] == NOT_FOUND]
        result.requests = self.requests - start
        return result

    def fetch_batches(self, ids: Iterable[str | ArxivId]) -> Iterator[FetchResult]:
        """Look ids up in batches of at most 100, yielding each batch's papers and failures.

        Results are matched by id, not position. Ids arXiv leaves out are asked for once more
        (its empty answers are sometimes transient) and then reported as not found. A batch
        that fails is reported against its ids and the next batch goes on, except when arXiv
        blocks us (403), which stops everything at once.
        """
        wanted = list(dict.fromkeys((i if isinstance(i, ArxivId) else parse_arxiv_id(i)).base for i in ids))
        found: set[str] = set()
        missing: list[str] = []
        for second_try in (False, True):
            todo = missing if second_try else wanted
            missing = []
            for offset in range(0, len(todo), BATCH):
                batch = todo[offset : offset + BATCH]
                out = FetchResult()
                context = ", ".join(batch[:3]) + (f" and {len(batch) - 3} more" if len(batch) > 3 else "")
                try:
                    feed = self._get({"id_list": ",".join(batch), "max_results": str(len(batch))}, context=context)
                except UnreachableError:
                    raise
                except BlockedError as exc:
                    out.failed = {i: exc.message for i in todo[offset:]}
                    yield out
                    return
                except UnresponsiveError as exc:  # the next batch would sit out the same timeouts
                    out.failed = {i: exc.message for i in batch} | dict.fromkeys(todo[offset + BATCH :], NOT_TRIED)
                    yield out
                    return
                except ArxivError as exc:
                    out.failed = {i: exc.message for i in batch}
                    yield out
                    continue
                asked = set(batch)
                for paper in feed.papers:
                    if paper.id in asked and paper.id not in found:
                        found.add(paper.id)
                        out.papers[paper.id] = paper
                for paper_id, reason in feed.rejected.items():
                    if paper_id in asked and paper_id not in found:
                        found.add(paper_id)
                        out.failed[paper_id] = reason
                gone = [i for i in batch if i not in found]
                if second_try or self.offline:
                    out.failed.update(dict.fromkeys(gone, NOT_FOUND))
                else:
                    missing.extend(gone)
                yield out
            if not missing:
                return

    def search(self, query: str, *, max_results: int = 20, sort_by: str = "relevance", sort_order: str = "descending") -> SearchResult:
        """Run an arXiv query (``ti:``, ``au:``, ``cat:``, ``AND``/``OR``/``ANDNOT``...), paging by 100."""
        if not query.strip():
            raise UsageError("the search query is empty")
        if sort_by not in SORT_BY:
            raise UsageError(f"sort must be one of {', '.join(SORT_BY)}")
        if sort_order not in SORT_ORDER:
            raise UsageError(f"order must be one of {', '.join(SORT_ORDER)}")
        if not 1 <= max_results <= SEARCH_WINDOW:
            raise UsageError(f"--max must be between 1 and {SEARCH_WINDOW} (arXiv pages no further)")
        papers: dict[str, Paper] = {}
        total: Optional[int] = None
        start = 0
        while len(papers) < max_results and start < SEARCH_WINDOW:
            size = min(SEARCH_PAGE, max_results - len(papers))
            params = {"search_query": query, "start": str(start), "max_results": str(size), "sortBy": sort_by, "sortOrder": sort_order}
            feed = self._get(params, context=f"search {query!r}")
            total = feed.total if total is None else total
            new = {p.id: p for p in feed.papers if p.id not in papers}
            papers.update(new)
            start += len(feed.papers)
            # a page with nothing new ends it: a server whose totalResults says 10^9 while it
            # sends the same page again would otherwise be asked thousands of times
            if not new or (total is not None and start >= total):
                break
        return SearchResult(total, list(papers.values())[:max_results])

    # -- transport -------------------------------------------------------------------------

    def _get(self, params: dict[str, str], *, context: str) -> Feed:
        url = f"{self.api_url}?{urlencode(params)}"
        if self.use_cache or self.offline:
            cached = self.cache.get(url, any_age=self.offline)
            if cached is not None:
                try:
                    return parse_feed(cached)
                except ArxivError:  # a cache file damaged on disk: forget it and ask again
                    where = self.cache.drop(url)
                    log.warning("arXiv cache: %s does not parse; dropped it", where)
                    if self.offline:
                        raise ArxivError(f"{context}: the cached answer ({where}) did not parse and is dropped; --offline forbids asking arXiv again") from None
        if self.offline:
            raise ArxivError(f"{context}: not in the cache, and --offline forbids asking arXiv")
        return self._retrying(url, context, self._attempt)

    def get_document(self, url: str, *, context: str) -> bytes:
        """GET any arXiv document (a listing feed, say) on the API's terms: the machine-wide rate
        limit, one connection, the deadline, the size cap, redirects on its own host only, and the
        retries. Never cached: a listing changes every day."""
        if self.offline:
            raise ArxivError(f"{context}: --offline forbids asking arXiv", url=url)
        return self._retrying(url, context, self._attempt_document)

    def _retrying(self, url: str, context: str, call: Callable[..., _T]) -> _T:
        """Call ``call(url, context=...)`` until it succeeds, backing off between tries."""
        began = self.clock.time()
        waited = 0.0
        last = _Retry("no attempt made")
        tries = 0
        for attempt in range(self.max_retries + 1):
            tries = attempt + 1
            try:
                return call(url, context=context)
            except _Retry as retry:
                last = retry
                if retry.retry_after is not None and retry.retry_after > policy.MAX_WAIT:
                    kind = RateLimitedError if retry.status == 429 else ArxivError
                    raise kind(
                        f"{context}: arXiv asks us to wait {policy.duration(retry.retry_after)} ({retry.reason}), longer than the "
                        f"{policy.duration(policy.MAX_WAIT)} lmdev waits; try again later",
                        url=url, status=retry.status, retry_after=retry.retry_after,
                    ) from None
                if attempt == self.max_retries or (retry.slow and attempt >= 1):
                    break
                backoff = min(60.0, max(self.delay, 1.0) * 2**attempt) + self.rng.uniform(0, max(self.delay, 1.0))
                wait = max(backoff, retry.retry_after or 0.0)
                if waited + wait > policy.MAX_WAIT:  # each wait is capped, and so is their sum
                    break
                waited += wait
                log.warning("arXiv: %s; waiting %s before try %d of %d", retry.reason, policy.duration(wait), attempt + 2, self.max_retries + 1)
                self.clock.sleep(wait)
        spent = f"after {tries} tries over {policy.duration(self.clock.time() - began)}"
        if last.status == 429:
            raise RateLimitedError(
                f"{context}: arXiv is rate-limiting us ({last.reason}) {spent}; wait a few minutes and try again",
                url=url, status=last.status, retry_after=last.retry_after,
            )
        kind = UnresponsiveError if last.slow or last.dropped else ArxivError
        raise kind(f"{context}: arXiv did not answer properly {spent} ({last.reason})", url=url, status=last.status)

    def _attempt(self, url: str, *, context: str) -> Feed:
        status, headers, data = self._follow(url, context=context)
        return self._feed(url, status, headers, data, context=context)

    def _attempt_document(self, url: str, *, context: str) -> bytes:
        status, headers, data = self._follow(url, context=context)
        self._check_status(url, status, headers, data, context=context)
        return data

    def _follow(self, url: str, *, context: str) -> tuple[int, httpx.Headers, bytes]:
        """One request, following at most ``MAX_REDIRECTS`` redirects on the URL's own host,
        each a request of its own under the rate limiter."""
        target = url
        for hop in range(policy.MAX_REDIRECTS + 1):
            status, headers, data = self._exchange(target, context=context)
            if status not in policy.REDIRECT_STATUS:
                return status, headers, data
            location = headers.get("Location")
            following = policy.redirect_target(url, target, location)
            if not location:
                raise ArxivError(f"{context}: arXiv answered HTTP {status} (a redirect) without saying where to", url=target, status=status)
            if following is None:
                raise ArxivError(f"{context}: arXiv redirected to {location!r}, away from {urlsplit(url).netloc}; not following", url=target, status=status)
            if hop == policy.MAX_REDIRECTS:
                raise ArxivError(f"{context}: more than {policy.MAX_REDIRECTS} redirects; not following", url=target, status=status)
            log.info("arXiv: redirected (HTTP %d) to %s", status, following)
            target = following
        raise AssertionError("unreachable")

    def _exchange(self, url: str, *, context: str) -> tuple[int, httpx.Headers, bytes]:
        """Send one GET under the machine-wide slot and read the whole body, within the deadline."""
        import httpx

        with self.limiter.slot(), policy.Watchdog(self.deadline) as watchdog:
            self.requests += 1
            log.info("arXiv: GET %s", url)
            if self.on_request:
                self.on_request(url)
            body = bytearray()
            try:
                with self._http.stream("GET", url, extensions={"trace": watchdog.trace}) as response:
                    codings = [c.strip().lower() for c in response.headers.get("Content-Encoding", "").split(",") if c.strip()]
                    if len(codings) > 1 or not set(codings) <= CODINGS:
                        raise ArxivError(f"{context}: arXiv's response is encoded as {', '.join(codings)}; lmdev takes one known encoding only (a stack of them can expand into gigabytes)", url=url)
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > MAX_BODY:
                            raise ArxivError(f"{context}: arXiv's response is larger than {MAX_BODY // 2**20} MiB; refusing it")
                        if watchdog.expired:
                            break
                    return_value = response.status_code, response.headers, bytes(body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
                if watchdog.expired:
                    raise self._overdue(context, url, body) from None
                host = urlsplit(url).netloc
                raise UnreachableError(f"arXiv unreachable at {host} ({exc or type(exc).__name__}); {self.unreachable_hint}", url=url) from None
            except httpx.InvalidURL as exc:
                raise ArxivError(f"{context}: arXiv redirected to a URL lmdev cannot read ({exc}); not following", url=url) from None
            except httpx.DecodingError:
                raise ArxivError(f"{context}: arXiv sent a body that does not decode as its Content-Encoding says", url=url) from None
            except httpx.TimeoutException as exc:
                raise _Retry(f"timed out: {type(exc).__name__}", slow=True) from None
            except httpx.RemoteProtocolError as exc:
                if "location header" in str(exc).lower():  # httpx reads a redirect's target as it answers
                    raise ArxivError(f"{context}: arXiv redirected to a URL lmdev cannot read ({exc}); not following", url=url) from None
                if watchdog.expired:
                    raise self._overdue(context, url, body) from None
                raise _Retry(f"connection failed: {exc or type(exc).__name__}", dropped=True) from None
            except httpx.TransportError as exc:
                if watchdog.expired:
                    raise self._overdue(context, url, body) from None
                raise _Retry(f"connection failed: {exc or type(exc).__name__}", dropped=True) from None
            if watchdog.expired:
                raise self._overdue(context, url, body)
        return return_value

    def _overdue(self, context: str, url: str, body: bytearray) -> ArxivError:
        return ArxivError(f"{context}: arXiv did not finish answering within {policy.duration(self.deadline)} (sent {len(body):,} bytes so far); try again later", url=url)

    def _feed(self, url: str, status: int, headers: httpx.Headers, data: bytes, *, context: str) -> Feed:
        """Turn an answer into a feed, or into the error or retry it calls for."""
        self._check_status(url, status, headers, data, context=context)
        try:
            feed = parse_feed(data)
        except MalformedFeedError as exc:
            raise _Retry(exc.message) from None
        if feed.errors:
            raise ArxivError(f"{context}: arXiv answered with an error: {'; '.join(feed.errors)}", url=url, status=status)
        if feed.papers:
            self.cache.put(url, data)
        return feed

    def _check_status(self, url: str, status: int, headers: httpx.Headers, data: bytes, *, context: str) -> None:
        """Raise the error or retry that an answer's status calls for; return on a 2xx answer."""
        wait = policy.retry_after(headers.get("Retry-After"), self.clock.time())
        if data.lstrip().startswith(b"Rate exceeded"):
            raise _Retry("HTTP 429 Rate exceeded.", status=429, retry_after=wait)
        if status == 403:
            raise BlockedError(f"{context}: arXiv's robot protection answered 403 Access Denied; stopping. Do not retry for a while, and check that only one lmdev runs at a time", url=url, status=403)
        if status in RETRY_STATUS:
            raise _Retry(f"HTTP {status}", status=status, retry_after=wait)
        if status >= 400 or status < 200:
            message = _error_message(data) or f"HTTP {status}"
            raise ArxivError(f"{context}: arXiv refused the request: {message} (HTTP {status}, {url})", url=url, status=status)


def _error_message(data: bytes) -> Optional[str]:
    """What an error answer says: arXiv's own error entries, an HTML page's title (a proxy's or
    a server's 'Not Found' page, not its first tag), or the first line of plain text."""
    try:
        feed = parse_feed(data)
    except ArxivError:
        text = data[:2000].decode("utf-8", "replace").strip()
        if text[:20].lower().startswith(("<!doctype html", "<html")):
            title = _HTML_TITLE.search(text)
            words = " ".join(title.group(1).split())[:200] if title else ""
            return words or None
        return text[:200].splitlines()[0] if text else None
    return "; ".join(feed.errors) or None


_HTML_TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)
