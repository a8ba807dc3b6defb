"""The arXiv client against recorded responses and injected faults, through httpx.MockTransport."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from fakes import FakeClock, atom_entry, atom_feed, fixture
from lmdev.arxiv.cache import ResponseCache
from lmdev.arxiv.client import NOT_FOUND, ArxivClient
from lmdev.errors import BlockedError, RateLimitedError

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Serves scripted answers and records each request with the fake time it started."""

    def __init__(self, clock: FakeClock, answers: Iterable[Handler | httpx.Response | Exception]) -> None:
        self.clock = clock
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.starts: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.starts.append(self.clock.time())
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def params(self, n: int) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlparse(str(self.requests[n].url)).query).items()}


def make(tmp_path: Path, *answers: Handler | httpx.Response | Exception, **kwargs: object) -> tuple[ArxivClient, Recorder, FakeClock]:
    clock = FakeClock()
    recorder = Recorder(clock, answers)
    client = ArxivClient(
        api_url="https://export.arxiv.org/api/query",
        delay=3.0,
        transport=httpx.MockTransport(recorder),
        clock=clock,
        cache=ResponseCache(tmp_path / "cache"),
        rng=random.Random(0),
        **kwargs,  # type: ignore[arg-type]
    )
    return client, recorder, clock


def ok(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=fixture(name), headers={"Content-Type": "application/atom+xml; charset=utf-8"})


def by_ids(request: httpx.Request) -> httpx.Response:
    """An arXiv that knows every id asked for, answering in reverse order."""
    ids = parse_qs(urlparse(str(request.url)).query)["id_list"][0].split(",")
    return httpx.Response(200, content=atom_feed([atom_entry(i) for i in reversed(ids)]))


def assert_spaced(recorder: Recorder, delay: float = 3.0) -> None:
    gaps = [b - a for a, b in zip(recorder.starts, recorder.starts[1:])]
    assert all(g >= delay - 1e-9 for g in gaps), gaps


def test_single_id_from_the_current_format(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, ok("new_single_id_1605.08386.xml"))
    result = client.fetch(["https://arxiv.org/abs/1605.08386v1"])
    paper = result.papers["1605.08386"]
    assert paper.title == "Heat-bath random walks with Markov bases"
    assert paper.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert paper.version == 1 and paper.published is not None and paper.published.isoformat() == "2016-05-26"
    assert paper.categories == ["math.CO", "math.ST"] and paper.primary_category == "math.CO"
    assert paper.comment == "20 pages, 3 figures"
    assert rec.params(0) == {"id_list": "1605.08386", "max_results": "1"}
    assert rec.requests[0].headers["User-Agent"].startswith("lmdev/")
    assert rec.requests[0].extensions["timeout"]["read"] == 30.0


def test_search_page_keeps_doi_and_journal_ref(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, ok("new_search_all_testing_m10.xml"))
    result = client.search("testing", max_results=10, sort_by="submittedDate")
    assert result.total == 214881 and len(result.papers) == 10
    first = result.papers[0]
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert any(p.journal_ref for p in result.papers)
    assert rec.params(0)["search_query"] == "testing" and rec.params(0)["sortBy"] == "submittedDate"


def test_error_feed_becomes_a_message_naming_the_id_and_is_not_retried(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, ok("new_error_bad_id_abc_http400.xml", 400))
    result = client.fetch(["2401.00001"])
    assert "incorrect id format for abc" in result.failed["2401.00001"]
    assert "2401.00001" in result.failed["2401.00001"]
    assert len(rec.requests) == 1


def test_empty_result_is_retried_once_then_reported_not_found(tmp_path: Path) -> None:
    # recorded for 0808.05394, which arXiv answers with an empty feed; lmdev refuses that id
    # before asking (2008 ids have four digits), so an id of the right shape stands in for it
    client, rec, _clock = make(tmp_path, ok("new_empty_nonexistent_id_0808.05394.xml"))
    result = client.fetch(["0808.9999"])
    assert result.missing == ["0808.9999"] and result.failed == {"0808.9999": NOT_FOUND}
    assert len(rec.requests) == 2
    assert_spaced(rec)


def test_mixed_list_is_matched_by_id(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, ok("new_idlist_nonexistent_plus_valid.xml"), ok("new_empty_nonexistent_id_0808.05394.xml"))
    result = client.fetch(["0808.9999", "1707.08567"])
    assert list(result.papers) == ["1707.08567"]
    assert len(result.papers["1707.08567"].authors) == 34
    assert any("ü" in a or "é" in a or not a.isascii() for a in result.papers["1707.08567"].authors)
    assert result.missing == ["0808.9999"]
    assert rec.params(1)["id_list"] == "0808.9999"


def test_old_style_ids_with_affiliations_and_entities(tmp_path: Path) -> None:
    client, _, _ = make(tmp_path, ok("new_oldstyle_id_astro-ph_0601001.xml"))
    paper = client.fetch(["astro-ph/0601001"]).papers["astro-ph/0601001"]
    assert paper.affiliations["Andrew Gould"] == ["Ohio State"]
    assert paper.journal_ref
    assert not paper.abstract.startswith(" ") and "&amp;" not in paper.abstract and "&lt;" not in paper.abstract


def test_pre_2025_format_collapses_wrapped_whitespace(tmp_path: Path) -> None:
    client, _, _ = make(tmp_path, ok("legacy_single_id_1601.00001_doi_journalref.xml"))
    paper = client.fetch(["1601.00001"]).papers["1601.00001"]
    assert paper.title == "Inelastic effects in molecular transport junctions: The probe technique at high bias"
    assert "\n" not in paper.abstract and "  " not in paper.abstract
    assert paper.doi == "10.1063/1.4944470" and paper.journal_ref == "J. Chem. Phys. 144, 124107 (2016)"
    assert paper.primary_category == "cond-mat.mes-hall"


def test_legacy_two_id_feed_and_a_title_that_is_zero(tmp_path: Path) -> None:
    client, _, _ = make(tmp_path, ok("legacy_idlist_two_ids_2012.xml"))
    assert set(client.fetch(["1001.1001", "1205.1001"]).papers) == {"1001.1001", "1205.1001"}
    client, _, _ = make(tmp_path / "2", ok("new_title_zero_2104.12255v1.xml"))
    assert client.fetch(["2104.12255"]).papers["2104.12255"].title == "0"


def test_503_then_success_is_retried_with_spacing(tmp_path: Path) -> None:
    client, rec, _clock = make(tmp_path, httpx.Response(503), ok("new_single_id_1605.08386.xml"))
    assert "1605.08386" in client.fetch(["1605.08386"]).papers
    assert len(rec.requests) == 2
    assert_spaced(rec)


def test_rate_exceeded_is_recognised_whatever_the_status(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, httpx.Response(429, text="Rate exceeded."), httpx.Response(200, text="Rate exceeded.\n"), ok("new_single_id_1605.08386.xml"))
    assert "1605.08386" in client.fetch(["1605.08386"]).papers
    assert len(rec.requests) == 3
    assert_spaced(rec)


def test_backoff_grows_and_honours_retry_after(tmp_path: Path) -> None:
    client, _rec, clock = make(tmp_path, httpx.Response(503, headers={"Retry-After": "45"}), httpx.Response(502), httpx.Response(504), ok("new_single_id_1605.08386.xml"))
    client.fetch(["1605.08386"])
    assert clock.sleeps[0] >= 45
    assert clock.sleeps[2] > clock.sleeps[1]


def test_retries_are_bounded(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, httpx.Response(429, text="Rate exceeded."), max_retries=3)
    with pytest.raises(RateLimitedError, match="rate-limiting"):
        client._get({"id_list": "1605.08386"}, context="1605.08386")
    assert len(rec.requests) == 4
    assert_spaced(rec)


@pytest.mark.parametrize("error", [httpx.ReadTimeout("slow"), httpx.ReadError("reset by peer"), httpx.RemoteProtocolError("peer closed connection")])
def test_timeouts_and_connection_errors_are_retried(tmp_path: Path, error: Exception) -> None:
    client, rec, _ = make(tmp_path, error, ok("new_single_id_1605.08386.xml"))
    assert "1605.08386" in client.fetch(["1605.08386"]).papers
    assert len(rec.requests) == 2


@pytest.mark.parametrize("status", [400, 404, 414])
def test_client_errors_are_never_retried(tmp_path: Path, status: int) -> None:
    client, rec, _ = make(tmp_path, httpx.Response(status, text="nope"))
    result = client.fetch(["1605.08386"])
    assert f"HTTP {status}" in result.failed["1605.08386"] or "nope" in result.failed["1605.08386"]
    assert len(rec.requests) == 1


def test_robot_block_stops_at_once(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, httpx.Response(403, text="<html>Access Denied</html>"))
    ids = [f"2401.{n:05d}" for n in range(150)]
    result = client.fetch(ids)
    assert len(rec.requests) == 1
    assert len(result.failed) == 150 and "403" in result.failed[ids[-1]]
    client2, _, _ = make(tmp_path / "b", httpx.Response(403, text="denied"))
    with pytest.raises(BlockedError):
        client2.search("ti:x")


def test_malformed_xml_is_retried_then_reported(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, httpx.Response(200, content=b"<feed><entry>"), max_retries=1)
    result = client.fetch(["1605.08386"])
    assert "not an Atom feed" in result.failed["1605.08386"]
    assert len(rec.requests) == 2


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>'
    client, _rec, _ = make(tmp_path, httpx.Response(200, content=bomb), max_retries=0)
    assert "not an Atom feed" in client.fetch(["1605.08386"]).failed["1605.08386"]


def test_a_very_large_response_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lmdev.arxiv.client

    monkeypatch.setattr(lmdev.arxiv.client, "MAX_BODY", 1000)
    client, rec, _ = make(tmp_path, httpx.Response(200, content=b"<feed>" + b" " * 5000 + b"</feed>"))
    assert "larger than" in client.fetch(["1605.08386"]).failed["1605.08386"]
    assert len(rec.requests) == 1


def test_batches_of_at_most_100_with_max_results_and_missing_ids(tmp_path: Path) -> None:
    known = {f"2401.{n:05d}" for n in range(250)} - {"2401.00007", "2401.00200"}

    def partial(request: httpx.Request) -> httpx.Response:
        ids = parse_qs(urlparse(str(request.url)).query)["id_list"][0].split(",")
        return httpx.Response(200, content=atom_feed([atom_entry(i) for i in ids if i in known]))

    client, rec, _ = make(tmp_path, partial)
    ids = [f"2401.{n:05d}" for n in range(250)]
    result = client.fetch(ids)
    assert len(result.papers) == 248
    assert sorted(result.missing) == ["2401.00007", "2401.00200"]
    sizes = [len(rec.params(n)["id_list"].split(",")) for n in range(len(rec.requests))]
    assert sizes == [100, 100, 50, 2]
    assert [int(rec.params(n)["max_results"]) for n in range(len(rec.requests))] == sizes
    assert_spaced(rec)


def test_cache_no_cache_and_offline(tmp_path: Path) -> None:
    client, rec, _ = make(tmp_path, ok("new_single_id_1605.08386.xml"))
    client.fetch(["1605.08386"])
    client.fetch(["1605.08386"])
    assert len(rec.requests) == 1
    fresh, rec2, _ = make(tmp_path, ok("new_single_id_1605.08386.xml"), use_cache=False)
    fresh.fetch(["1605.08386"])
    assert len(rec2.requests) == 1
    offline, rec3, _ = make(tmp_path, ok("new_single_id_1605.08386.xml"), offline=True)
    assert "1605.08386" in offline.fetch(["1605.08386"]).papers
    assert "--offline" in offline.fetch(["2205.14135"]).failed["2205.14135"]
    assert rec3.requests == []


def test_the_rate_limit_holds_across_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys, time; from pathlib import Path; from lmdev.arxiv.ratelimit import RateLimiter\n"
        "lim = RateLimiter(Path(sys.argv[1]), 0.3)\n"
        "for _ in range(3):\n"
        "    with lim.slot() as start: print(start, flush=True)\n"
    )
    lock = tmp_path / "rate.lock"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(lock)], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    starts = sorted(float(line) for p in procs for line in p.communicate()[0].split())
    assert len(starts) == 6
    assert all(b - a >= 0.3 - 1e-3 for a, b in zip(starts, starts[1:])), starts
