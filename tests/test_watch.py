"""`lmdev watch` end to end, against a loopback stand-in of arXiv's listing feed."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from arxiv_server import FakeArxiv
from fakes import FakeClock, atom_entry, atom_feed
from helpers import REPO, snapshot
from listing_feed import LISTINGS, listing_rss, load_day, rss_document, rss_item
from lmdev.arxiv.cache import ResponseCache
from lmdev.arxiv.client import ArxivClient
from lmdev.errors import ArxivError


def library_ids(data: Path) -> set[str]:
    from lmdev import decisions
    from lmdev.store import Library

    return Library(data).ids() | decisions.rejected_ids(data)


def inbox_files(data: Path) -> list[Path]:
    folder = data / "inbox"
    return sorted(folder.glob("*.yaml")) if folder.exists() else []


def test_watch_fills_the_inbox_in_one_request_and_inbox_ranks_it(cli, tracker: Path, serve, busy_day: list[dict[str, Any]]) -> None:
    feed = serve(busy_day)
    known = {r["arxiv_id"] for r in busy_day} & library_ids(tracker)
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 0, result.err
    assert feed.paths == ["/rss/cs.CL+cs.LG+cs.AI"]
    assert feed.user_agents[0].startswith("lmdev/")
    added = len(busy_day) - len(known)
    assert len(inbox_files(tracker)) == added
    assert f"fetched {len(busy_day)} of 2026-05-12, {added} new in the inbox, {len(known)} already known (1 request)" in result.err
    listed = cli("--data-dir", str(tracker), "inbox", "--format", "json")
    assert listed.code == 0, listed.err
    items = json.loads(listed.out)
    assert len(items) == added
    keys = [(-i["relevance"], -(i["problems"][0]["score"] if i["problems"] else 0)) for i in items]
    assert keys == sorted(keys)
    for item in items:
        assert {"id", "title", "relevance", "problems", "assumptions", "reasons"} <= set(item)
        assert item["problems"] and all(set(p) == {"id", "score"} for p in item["problems"])
        assert item["assumptions"]
    text = cli("--data-dir", str(tracker), "inbox", "--limit", "3")
    lines = text.out.splitlines()
    assert len(lines) == 3 and lines[0].startswith(items[0]["id"] + "\t")
    assert cli("--data-dir", str(tracker), "check").code == 0


def test_a_second_watch_finds_everything_known_and_changes_nothing(cli, tracker: Path, serve, busy_day) -> None:
    serve(busy_day)
    assert cli("--data-dir", str(tracker), "watch").code == 0
    before = snapshot(tracker)
    again = cli("--data-dir", str(tracker), "watch")
    assert again.code == 0
    assert f"0 new in the inbox, {len(busy_day)} already known" in again.err
    assert snapshot(tracker) == before


def test_min_relevance_keeps_the_least_relevant_papers_out_of_the_inbox(cli, tracker: Path, serve, busy_day) -> None:
    """What a day's least relevant papers cost the repository is a file each; a floor keeps
    them out, counted in the summary and never recorded as rejections (nobody judged them)."""
    serve(busy_day)
    everything = cli("--data-dir", str(tracker), "watch", "--format", "json")
    scores = {item["id"]: item["relevance"] for item in json.loads(everything.out)["added"]}
    ranked = sorted(scores.values())  # rounded to 3 decimals: the floor goes in a gap wider than that
    gaps = [(abs(k - len(ranked) // 2), k) for k in range(1, len(ranked)) if ranked[k] - ranked[k - 1] >= 0.002]
    k = min(gaps)[1]
    floor = round((ranked[k - 1] + ranked[k]) / 2, 4)  # about half the papers stay out
    for path in inbox_files(tracker):
        path.unlink()
    rejected = (tracker / "rejected.yaml").read_text()
    result = cli("--data-dir", str(tracker), "watch", "--min-relevance", str(floor), "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    kept = {p.stem for p in inbox_files(tracker)}
    assert kept == {i for i, r in scores.items() if r >= floor} and report["new"] == len(kept)
    assert report["left_out"] == len(scores) - len(kept) > 0 and report["min_relevance"] == floor
    assert f"{report['left_out']} below relevance {floor:g} left out" in result.err
    assert (tracker / "rejected.yaml").read_text() == rejected
    # the tracker's config sets the floor for the scheduled job; the flag overrides it
    (tracker / "config.yaml").write_text("watch:\n  min_relevance: 1\n")
    assert cli("--data-dir", str(tracker), "check").code == 0
    again = json.loads(cli("--data-dir", str(tracker), "watch", "--format", "json").out)
    assert again["new"] == 0 and again["left_out"] == report["left_out"] and again["min_relevance"] == 1.0
    assert json.loads(cli("--data-dir", str(tracker), "watch", "--min-relevance", "0", "--format", "json").out)["new"] == len(scores) - len(kept)
    for bad in ("-0.1", "1.5", "x", "nan"):
        refused = cli("--data-dir", str(tracker), "watch", "--min-relevance", bad)
        assert refused.code == 2 and len(_said(refused.err)) == 1, (bad, refused.err)
    for bad in ('"0.3"', "true", "2", "[0.1]"):
        (tracker / "config.yaml").write_text(f"watch:\n  min_relevance: {bad}\n")
        checked = cli("--data-dir", str(tracker), "check")
        assert checked.code == 1 and "config.yaml:2: watch.min_relevance" in checked.out + checked.err, bad
        refused = cli("--data-dir", str(tracker), "watch")
        assert refused.code == 1 and len(_said(refused.err)) == 1 and "Traceback" not in refused.err, bad


def test_a_watch_writes_again_an_inbox_file_a_crash_left_unreadable(cli, tracker: Path, serve, busy_day) -> None:
    serve(busy_day[:10])
    assert cli("--data-dir", str(tracker), "watch").code == 0
    files = sorted((tracker / "inbox").glob("*.yaml"))
    good = {p.name: p.read_text() for p in files}
    files[0].write_text(good[files[0].name][:40])  # cut short
    files[1].write_text("")  # emptied
    assert cli("--data-dir", str(tracker), "check").code == 1
    again = cli("--data-dir", str(tracker), "watch")
    assert again.code == 0, again.err
    assert "2 new in the inbox, 8 already known" in again.err
    assert {p.name: p.read_text() for p in files} == good
    assert cli("--data-dir", str(tracker), "check").code == 0


def test_a_watch_says_which_paper_file_the_classifier_was_trained_without(cli, tracker: Path, serve, busy_day) -> None:
    (tracker / "papers" / "2401.00001.yaml").write_text("id: [\n")
    serve(busy_day[:3])
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 0, result.err  # the inbox is filled all the same; check fails on the file
    assert "the classifier was trained without" in result.err and "2401.00001.yaml" in result.err
    assert "3 new in the inbox" in result.err


def test_the_days_triaged_by_hand_are_known_to_the_shipped_tracker(cli, tracker: Path, serve) -> None:
    records = load_day(LISTINGS / "2026-02-21.jsonl")
    serve(records)
    result = cli("--data-dir", str(tracker), "watch", "--format", "json")
    summary = json.loads(result.out)
    assert (summary["fetched"], summary["new"], summary["known"]) == (len(records), 0, len(records))
    assert inbox_files(tracker) == []


def test_replacements_are_skipped_unless_the_paper_is_in_the_library(cli, tracker: Path, serve, busy_day) -> None:
    stored = yaml.safe_load((tracker / "papers" / "2602.16066.yaml").read_text())
    record = {"arxiv_id": "2602.16066", "title": stored["title"], "abstract": stored["abstract"], "authors": stored["authors"], "categories": ["cs.AI"], "primary_category": "cs.AI", "listing_date": "2026-05-12"}
    fresh, replaced = busy_day[0], busy_day[1]
    kinds = {"2602.16066": "replace", replaced["arxiv_id"]: "replace-cross"}
    serve(respond=lambda path: (200, listing_rss([record, fresh, replaced], kinds=kinds, versions={"2602.16066": 3, replaced["arxiv_id"]: 2})))
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 0, result.err
    after = yaml.safe_load((tracker / "papers" / "2602.16066.yaml").read_text())
    assert after["version"] == 3
    assert {k: v for k, v in after.items() if k != "version"} == {k: v for k, v in stored.items() if k != "version"}
    assert [p.stem for p in inbox_files(tracker)] == [fresh["arxiv_id"]]
    assert "2602.16066: new version v3" in result.err and "1 replacements of papers not in the library skipped" in result.err
    assert "fetched 3" in result.err and "1 new in the inbox, 0 already known, 1 new version(s) of library papers noted, 1 replacements" in result.err
    again = cli("--data-dir", str(tracker), "watch", "--format", "json")
    summary = json.loads(again.out)  # the version is noted already: every fetched paper is counted once
    assert summary["fetched"] == 3 and summary["new"] + summary["known"] + summary["replacements_skipped"] + len(summary["new_versions"]) == 3


def test_categories_come_from_the_config_unless_given(cli, tracker: Path, serve) -> None:
    feed = serve(respond=lambda path: (200, rss_document([])))
    (tracker / "config.yaml").write_text("watch:\n  categories: [cs.CV, stat.ML]\n")
    assert cli("--data-dir", str(tracker), "watch").code == 0
    assert cli("--data-dir", str(tracker), "watch", "-c", "cs.CL", "--category", "hep-th").code == 0
    assert feed.paths == ["/rss/cs.CV+stat.ML", "/rss/cs.CL+hep-th"]
    for bad in ("cs.CL/../x", "CS CL", "cs.CL+cs.LG", "x" * 3 + "?", "cs.FOO", "nonsense", "cs", "cs.cl"):
        result = cli("--data-dir", str(tracker), "watch", "--category", bad)
        assert result.code == 2 and len(_said(result.err)) == 1, result.err
    assert "did you mean cs.CL?" in cli("--data-dir", str(tracker), "watch", "--category", "cs.cl").err
    assert len(feed.paths) == 2
    # a typo in the shared config would make every scheduled watch look like a weekend: check says so
    (tracker / "config.yaml").write_text("watch:\n  categories: [cs.CL, cs.CLL]\n")
    checked = cli("--data-dir", str(tracker), "check")
    assert checked.code == 1 and "config.yaml:2" in checked.out + checked.err and "cs.CLL" in checked.out + checked.err
    assert "Value error" not in checked.out + checked.err
    assert cli("--data-dir", str(tracker), "watch").code != 0 and len(feed.paths) == 2


def test_a_weekend_listing_says_so_and_exits_0(cli, tracker: Path, serve) -> None:
    serve(respond=lambda path: (200, rss_document([], day=dt.date(2026, 2, 22))))
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 0
    assert "no announcements" in result.err and "weekends" in result.err
    assert inbox_files(tracker) == []


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (200, b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "not an RSS feed"),
        (200, b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>', "not an RSS 2.0 feed"),
        (200, listing_rss(load_day(LISTINGS / "2025-04-26.jsonl"))[:20_000], "not an RSS feed"),
        (404, b"Not Found", "refused the request: Not Found (HTTP 404, http://127.0.0.1:"),
        (404, b"<!DOCTYPE HTML PUBLIC>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>", "refused the request: 404 Not Found (HTTP 404,"),
    ],
)
def test_a_bad_listing_is_one_line_and_the_inbox_keeps_what_it_had(cli, tracker: Path, serve, busy_day, status: int, body: bytes, says: str) -> None:
    serve(busy_day[:5])
    assert cli("--data-dir", str(tracker), "watch").code == 0
    before = snapshot(tracker)
    serve(respond=lambda path: (status, body))
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 1
    assert says in result.err and len(_said(result.err)) == 1 and "Traceback" not in result.err
    assert snapshot(tracker) == before


def test_a_huge_listing_is_refused_in_one_line(cli, tracker: Path, serve, monkeypatch: pytest.MonkeyPatch) -> None:
    import lmdev.arxiv.client

    monkeypatch.setattr(lmdev.arxiv.client, "MAX_BODY", 50_000)
    serve(load_day(LISTINGS / "2025-04-26.jsonl"))
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 1 and "larger than" in result.err and len(_said(result.err)) == 1
    assert inbox_files(tracker) == []


def test_an_item_without_an_id_is_named_and_the_others_arrive(cli, tracker: Path, serve, busy_day) -> None:
    good = [rss_item(r, "new") for r in busy_day[:3]]
    broken = rss_item(busy_day[3], "new")
    for part in (f"<link>https://arxiv.org/abs/{busy_day[3]['arxiv_id']}</link>", f"oai:arXiv.org:{busy_day[3]['arxiv_id']}v1", f"arXiv:{busy_day[3]['arxiv_id']}v1 "):
        broken = broken.replace(part, "")
    serve(respond=lambda path: (200, rss_document([*good[:2], broken, good[2]])))
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 1
    assert "skipped item 3" in result.err and "no arXiv id" in result.err
    assert len(inbox_files(tracker)) == 3


def test_an_entry_too_large_for_an_inbox_file_is_named_and_never_written(cli, tracker: Path, serve, busy_day) -> None:
    """A feed entry with a huge abstract would make an inbox file that every reader refuses
    (and that would fail check in CI): it is named and left out; the others arrive."""
    huge = {**busy_day[1], "abstract": "Attention heads in language models. " * 15_000}
    serve(respond=lambda path: (200, rss_document([rss_item(busy_day[0], "new"), rss_item(huge, "new"), rss_item(busy_day[2], "new")])))
    result = cli("--data-dir", str(tracker), "watch")
    assert result.code == 1
    assert f"skipped {huge['arxiv_id']}: its inbox file would be" in result.err and "not added" in result.err
    assert "2 new in the inbox, 0 already known" in result.err
    assert {p.stem for p in inbox_files(tracker)} == {busy_day[0]["arxiv_id"], busy_day[2]["arxiv_id"]}
    assert cli("--data-dir", str(tracker), "inbox").code == 0
    assert cli("--data-dir", str(tracker), "check").code == 0


def test_a_body_cut_short_in_transit_is_retried_then_reported(tmp_path: Path) -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    clock = FakeClock()
    client = ArxivClient(delay=3.0, transport=httpx.MockTransport(cut), clock=clock, cache=ResponseCache(tmp_path), rng=random.Random(0), max_retries=2)
    with pytest.raises(ArxivError, match="did not answer properly after 3 tries"):
        client.get_document("https://rss.arxiv.org/rss/cs.CL", context="listing cs.CL")
    assert len(clock.sleeps) >= 2


def test_the_listing_is_never_served_from_the_cache_and_offline_refuses(tmp_path: Path) -> None:
    bodies = [rss_document([]), rss_document([rss_item({"arxiv_id": "2602.16001", "title": "T", "abstract": "A", "authors": ["X"]}, "new")])]
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, content=bodies[len(calls) - 1])

    client = ArxivClient(delay=0.0, transport=httpx.MockTransport(answer), clock=FakeClock(), cache=ResponseCache(tmp_path))
    assert client.get_document("https://rss.arxiv.org/rss/cs.CL", context="x") == bodies[0]
    assert client.get_document("https://rss.arxiv.org/rss/cs.CL", context="x") == bodies[1]
    offline = ArxivClient(offline=True, transport=httpx.MockTransport(answer), cache=ResponseCache(tmp_path))
    with pytest.raises(ArxivError, match="offline"):
        offline.get_document("https://rss.arxiv.org/rss/cs.CL", context="x")
    assert len(calls) == 2


def test_since_backfills_day_by_day_through_the_query_api(cli, tracker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    today = dt.date.today()
    served: dict[str, list[str]] = {}

    def search(params: dict[str, str]) -> bytes:
        query = params["search_query"]
        stamp = query.split("submittedDate:[", 1)[1][:8]
        ids = [f"{stamp[2:6]}.{90000 + int(stamp[6:]) * 10 + n:05d}" for n in range(2)]
        served[stamp] = ids
        return atom_feed([atom_entry(i, title=f"Speculative decoding with draft models, part {i}") for i in ids])

    with FakeArxiv(search=search) as fake:
        monkeypatch.setenv("LMDEV_ARXIV_API", fake.url)
        monkeypatch.setenv("LMDEV_ARXIV_DELAY", "0")
        since = (today - dt.timedelta(days=2)).isoformat()
        result = cli("--data-dir", str(tracker), "watch", "--since", since, "--category", "cs.CL", "--category", "cs.LG")
        assert result.code == 0, result.err
        assert len(fake.queries) == 3
        for query in fake.queries:
            assert query["search_query"].startswith("(cat:cs.CL OR cat:cs.LG) AND submittedDate:[")
            assert query["sortBy"] == "submittedDate" and query["sortOrder"] == "ascending"
    waiting = {p.stem: yaml.safe_load(p.read_text()) for p in inbox_files(tracker)}
    assert set(waiting) == {i for ids in served.values() for i in ids}
    assert all("announced" not in item and item["published"] for item in waiting.values())
    assert cli("--data-dir", str(tracker), "watch", "--since", (today + dt.timedelta(days=1)).isoformat()).code == 2
    assert cli("--data-dir", str(tracker), "watch", "--since", "90d").code == 2
    assert cli("--data-dir", str(tracker), "watch", "--since", "last tuesday").code == 2


def test_two_watches_at_once_leave_one_readable_file_per_paper(tracker: Path, serve, busy_day, tmp_path: Path) -> None:
    feed = serve(busy_day[:30])
    env = {**os.environ, "LMDEV_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "lmdev", "--data-dir", str(tracker), "watch"]
    procs = [subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert len(feed.paths) == 2
    known = {r["arxiv_id"] for r in busy_day[:30]} & library_ids(tracker)
    files = inbox_files(tracker)
    assert len(files) == 30 - len(known)
    assert not [p for p in (tracker / "inbox").iterdir() if p.name.startswith(".")]
    from lmdev.inbox import Inbox

    items, errors = Inbox(tracker).scan()
    assert errors == [] and len(items) == len(files)


def test_the_watch_modules_never_import_typer_or_rich() -> None:
    code = (
        "import sys, lmdev.watch, lmdev.inbox, lmdev.triage, lmdev.arxiv.rss, lmdev.reports.digest;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_end_to_end_watch_inbox_accept_reject_digest(cli, tracker: Path, serve, busy_day) -> None:
    day = busy_day[:25]
    feed = serve(day)
    data = ("--data-dir", str(tracker))
    assert cli(*data, "watch").code == 0
    ranked = [item["id"] for item in json.loads(cli(*data, "inbox", "--format", "json").out)]
    keep, drop = ranked[:2], ranked[2:4]
    unsure = {i: {a["id"] for a in yaml.safe_load((tracker / "inbox" / f"{i}.yaml").read_text())["assumptions"] if a.get("suggested") is False} for i in keep}
    assert cli(*data, "accept", *keep).code == 0
    assert cli(*data, "reject", *drop, "--reason", "not about language models").code == 0
    left = [item["id"] for item in json.loads(cli(*data, "inbox", "--format", "json").out)]
    assert left == [i for i in ranked if i not in keep + drop]
    digest = cli(*data, "digest", "--since", "1d", "--min-relevance", "0").out
    assert all(i in digest for i in left) and not any(i in digest for i in keep + drop)
    again = cli(*data, "watch", "--format", "json")
    summary = json.loads(again.out)
    assert summary["new"] == 0 and summary["known"] == len(day) and len(feed.paths) == 2
    assert cli(*data, "check").code == 0
    for paper_id in keep:
        paper = yaml.safe_load((tracker / "papers" / f"{paper_id}.yaml").read_text())
        assert paper["primary"] and all(t["by"] == "person" for t in paper["problems"])
        # an assumption the classifier kept only because none was confident stays its suggestion
        assert all(t["by"] == ("classifier" if t["id"] in unsure[paper_id] else "person") for t in paper["assumptions"])


def _said(err: str) -> list[str]:
    """stderr's lines, less the warning every run with a test server's zero delay gets."""
    return [line for line in err.strip().splitlines() if "LMDEV_ARXIV_DELAY" not in line]


def test_rescore_brings_the_inbox_up_to_the_model_that_learnt_from_decisions(cli, tracker: Path, serve, busy_day) -> None:
    serve(busy_day[:30])
    data = ("--data-dir", str(tracker))
    assert cli(*data, "watch").code == 0
    before = {p.name: yaml.safe_load(p.read_text()) for p in inbox_files(tracker)}
    ranked = [item["id"] for item in json.loads(cli(*data, "inbox", "--format", "json").out)]
    assert cli(*data, "accept", *ranked[:3]).code == 0
    assert cli(*data, "reject", *ranked[-5:], "--reason", "not about language models").code == 0
    (tracker / "inbox" / f"{ranked[10]}.yaml").write_text("id: [broken\n")
    result = cli(*data, "rescore", "--format", "json")
    assert result.code == 1 and f"{ranked[10]}.yaml" in result.err  # named, and the others are rescored
    report = json.loads(result.out)
    assert report["waiting"] == 30 - 3 - 5 - 1 and report["changed"], report
    after = {p.name: yaml.safe_load(p.read_text()) for p in inbox_files(tracker) if p.stem != ranked[10]}
    assert set(after) == {f"{i}.yaml" for i in ranked[3:-5] if i != ranked[10]}  # nothing decided comes back
    for name, item in after.items():
        kept = {k: v for k, v in item.items() if k not in ("relevance", "primary", "problems", "assumptions", "reasons")}
        assert kept == {k: v for k, v in before[name].items() if k not in ("relevance", "primary", "problems", "assumptions", "reasons")}
    assert any(after[f"{i}.yaml"]["relevance"] != before[f"{i}.yaml"]["relevance"] for i in report["changed"])
    (tracker / "inbox" / f"{ranked[10]}.yaml").unlink()
    again = cli(*data, "rescore", "--format", "json")
    assert again.code == 0 and json.loads(again.out)["changed"] == []
