"""`lmdev digest`: what arrived, by problem, as Markdown, HTML and a valid Atom feed."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET

from watch_fixtures import fill_inbox, make_item

ATOM = "{http://www.w3.org/2005/Atom}"
EVIL = '<script>alert("x")</script> & \x1b[2J\x0b "quotes" [link](javascript:alert(1))'


def days_ago(n: int) -> str:
    return (dt.date.today() - dt.timedelta(days=n)).isoformat()


@pytest.fixture
def arrived(data_dir: Path) -> Path:
    fill_inbox(
        data_dir,
        make_item("2605.90001", relevance=0.9, problems=[("efficiency", 0.9)], seen=days_ago(1)),
        make_item("2605.90002", relevance=0.6, problems=[("efficiency", 0.6)], seen=days_ago(2)),
        make_item("2605.90003", relevance=0.8, problems=[("prompting", 0.8)], seen=days_ago(3), title=EVIL, authors=[EVIL]),
        make_item("2605.90004", relevance=0.9, problems=[("safety", 0.9)], seen=days_ago(30)),
    )
    return data_dir


def test_markdown_groups_what_arrived_by_problem(cli, arrived: Path) -> None:
    result = cli("--data-dir", str(arrived), "digest")
    assert result.code == 0, result.err
    text = result.out
    assert "## Getting the model to do what we want (`prompting`)" in text
    assert text.index("(`prompting`)") < text.index("(`efficiency`)")
    assert text.index("2605.90001") < text.index("2605.90002")
    assert "2605.90004" not in text
    assert "<script>" not in text and "\\<script\\>" in text
    assert "3 paper(s) since" in result.err
    limited = cli("--data-dir", str(arrived), "digest", "--limit", "1", "--since", "40d")
    assert "2605.90002" not in limited.out and "2605.90004" in limited.out
    assert "4 paper(s) arrived" in limited.out, "the count is of what arrived, not of what --limit shows"
    assert "1 more wait in the inbox (lmdev inbox --problem efficiency)" in limited.out
    assert "4 paper(s) since" in limited.err
    html = cli("--data-dir", str(arrived), "digest", "--limit", "1", "--since", "40d", "--format", "html").out
    assert "4 paper(s) arrived" in html and "1 more wait in the inbox" in html
    assert "2605.90002" not in cli("--data-dir", str(arrived), "digest", "--min-relevance", "0.7").out


def test_papers_out_of_scope_stay_out_of_the_digest_unless_asked_for(cli, arrived: Path) -> None:
    fill_inbox(arrived, make_item("2605.90005", relevance=0.2, problems=[("efficiency", 0.3)], seen=days_ago(1)))
    text = cli("--data-dir", str(arrived), "digest").out
    assert "2605.90005" not in text and "1 more paper(s) below relevance 0.50 wait in the inbox" in text
    assert "1 more paper(s) below relevance 0.50" in cli("--data-dir", str(arrived), "digest", "--format", "html").out
    assert "2605.90005" in cli("--data-dir", str(arrived), "digest", "--min-relevance", "0").out


def test_html_escapes_everything_and_links_only_to_arxiv(cli, arrived: Path) -> None:
    page = cli("--data-dir", str(arrived), "digest", "--format", "html").out
    assert "<script>" not in page and "&lt;script&gt;" in page and "\x1b" not in page and "\x0b" not in page
    links = re.findall(r'href="([^"]*)"', page)
    assert links and all(link.startswith("https://arxiv.org/abs/") for link in links)


def test_atom_is_a_valid_feed_with_the_required_elements(cli, arrived: Path) -> None:
    result = cli("--data-dir", str(arrived), "digest", "--format", "atom", "--since", "2w")
    feed = SafeET.fromstring(result.out.encode("utf-8"))
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    assert dt.datetime.fromisoformat(feed.findtext(f"{ATOM}updated").replace("Z", "+00:00")).tzinfo is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 3 and all(i.startswith("https://arxiv.org/abs/") for i in ids)
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert entry.find(f"{ATOM}link").get("href", "").startswith("https://arxiv.org/abs/")
        assert entry.find(f"{ATOM}category").get("term")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert any(t.startswith('<script>alert("x")</script> &') for t in titles)
    assert feed.find(f"{ATOM}link") is None, "no self link unless the address is given"
    published = cli("--data-dir", str(arrived), "digest", "--format", "atom", "--since", "2w", "--feed-url", "https://example.org/lmdev/inbox.xml")
    link = SafeET.fromstring(published.out.encode("utf-8")).find(f"{ATOM}link")
    assert link is not None and link.get("rel") == "self" and link.get("href") == "https://example.org/lmdev/inbox.xml"
    assert SafeET.fromstring(published.out.encode("utf-8")).findtext(f"{ATOM}id") == "https://example.org/lmdev/inbox.xml", "two groups' feeds must not share an id"
    assert feed.findtext(f"{ATOM}updated") == max(e.findtext(f"{ATOM}updated") for e in entries), "the newest entry's time, not the run's"
    assert cli("--data-dir", str(arrived), "digest", "--format", "atom", "--since", "2w").out == result.out, "the same inbox gives the same feed"
    for bad in (["--feed-url", "javascript:alert(1)"], ["--feed-url", "https://example.org/x.xml", "--format", "html"]):
        assert cli("--data-dir", str(arrived), "digest", "--format", "atom", *bad).code == 2


def test_since_takes_days_weeks_or_a_date(cli, arrived: Path) -> None:
    assert "2605.90004" in cli("--data-dir", str(arrived), "digest", "--since", days_ago(31)).out
    assert "2605.90001" in cli("--data-dir", str(arrived), "digest", "--since", "1w").out
    for bad in ("yesterday", "7x", "2026-13-01", "-3d", "2999-01-01"):
        result = cli("--data-dir", str(arrived), "digest", "--since", bad)
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, bad


def test_an_empty_period_is_still_a_valid_document(cli, data_dir: Path) -> None:
    assert "Nothing arrived" in cli("--data-dir", str(data_dir), "digest").out
    feed = SafeET.fromstring(cli("--data-dir", str(data_dir), "digest", "--format", "atom").out.encode("utf-8"))
    assert feed.findall(f"{ATOM}entry") == []
