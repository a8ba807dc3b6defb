"""The listing-feed reader: arXiv's RSS 2.0 with the arxiv: and dc: namespaces."""

from __future__ import annotations

import datetime as dt

import pytest

from listing_feed import LISTINGS, listing_rss, load_day, rss_document, rss_item
from lmdev.arxiv.atom import MalformedFeedError
from lmdev.arxiv.rss import parse_listing, split_creators

RECORD = {
    "arxiv_id": "2602.16066",
    "title": "Improving Interactive In-Context Learning from Natural Language Feedback",
    "authors": ["Martin Klissarov", "Jonathan Cook", "Diego Antognini"],
    "abstract": "Adapting one's thought process based on corrective feedback is essential & <rare>.",
    "primary_category": "cs.AI",
    "categories": ["cs.AI", "cs.CL"],
    "listing_date": "2026-02-21",
}


def test_a_real_day_reads_back_every_paper_with_its_metadata() -> None:
    records = load_day(LISTINGS / "2026-02-21.jsonl")
    listing = parse_listing(listing_rss(records, ["cs.CL", "cs.CV"]))
    assert listing.date == dt.date(2026, 2, 21)
    assert listing.skipped == []
    assert [a.paper.id for a in listing.announcements] == [r["arxiv_id"] for r in records]
    by_id = {a.paper.id: a for a in listing.announcements}
    for record in records:
        announcement = by_id[record["arxiv_id"]]
        paper = announcement.paper
        assert paper.title == " ".join(record["title"].split())
        assert paper.authors == record["authors"]
        assert paper.abstract == " ".join(record["abstract"].split())
        assert paper.categories == list(dict.fromkeys(record["categories"]))
        assert paper.version == 1
        assert announcement.kind == ("new" if record["primary_category"] in ("cs.CL", "cs.CV") else "cross")


def test_announce_types_ids_versions_and_escaped_text() -> None:
    items = [
        rss_item(RECORD, "new"),
        rss_item({**RECORD, "arxiv_id": "2401.00001"}, "replace", version=3),
        rss_item({**RECORD, "arxiv_id": "2401.00002"}, "replace-cross", version=2),
        rss_item({**RECORD, "arxiv_id": "2602.16067"}, "cross"),
    ]
    listing = parse_listing(rss_document(items, day=dt.date(2026, 2, 23)))
    kinds = {a.paper.id: (a.kind, a.paper.version, a.is_replacement) for a in listing.announcements}
    assert kinds == {"2602.16066": ("new", 1, False), "2401.00001": ("replace", 3, True), "2401.00002": ("replace-cross", 2, True), "2602.16067": ("cross", 1, False)}
    paper = listing.announcements[0].paper
    assert paper.abstract.endswith("essential & <rare>.")
    assert paper.primary_category == "cs.AI"


@pytest.mark.parametrize(
    ("creator", "names"),
    [
        ("A. Author, B. Author and C. Author", ["A. Author", "B. Author", "C. Author"]),
        ("A. Author, B. Author, C. Author", ["A. Author", "B. Author", "C. Author"]),
        ("Ada Lovelace and Alan Turing", ["Ada Lovelace", "Alan Turing"]),
        ("Ada Lovelace, Alan Turing, and Grace Hopper", ["Ada Lovelace", "Alan Turing", "Grace Hopper"]),
        ("Solo Author", ["Solo Author"]),
        ("", []),
    ],
)
def test_creators_split_into_names(creator: str, names: list[str]) -> None:
    assert split_creators(creator) == names


def test_a_weekend_listing_has_no_announcements_and_no_error() -> None:
    listing = parse_listing(rss_document([], categories=["cs.CL", "cs.LG"], day=dt.date(2026, 2, 22)))
    assert listing.announcements == [] and listing.skipped == []
    assert listing.title == "cs.CL+cs.LG updates on arXiv.org"


def test_the_id_comes_from_the_guid_or_description_when_the_link_is_missing() -> None:
    item = rss_item(RECORD, "new").replace("<link>https://arxiv.org/abs/2602.16066</link>", "")
    assert parse_listing(rss_document([item])).announcements[0].paper.id == "2602.16066"
    bare = item.replace('<guid isPermaLink="false">oai:arXiv.org:2602.16066v1</guid>', "")
    assert parse_listing(rss_document([bare])).announcements[0].paper.id == "2602.16066"


def test_items_that_cannot_be_read_become_one_line_each_and_the_rest_survive() -> None:
    good = rss_item({**RECORD, "arxiv_id": "2602.16001"}, "new")
    no_id = (
        rss_item({**RECORD, "arxiv_id": "2602.16002"}, "new")
        .replace("<link>https://arxiv.org/abs/2602.16002</link>", "")
        .replace("oai:arXiv.org:2602.16002v1", "")
        .replace("arXiv:2602.16002v1 Announce Type", "Announce Type")
    )
    unknown = rss_item({**RECORD, "arxiv_id": "2602.16003"}, "withdrawn")
    untitled = rss_item({**RECORD, "arxiv_id": "2602.16004"}, "new").replace(f"<title>{RECORD['title']}</title>", "<title> </title>")
    clash = rss_item({**RECORD, "arxiv_id": "2602.16005"}, "new").replace("oai:arXiv.org:2602.16005v1", "oai:arXiv.org:2602.19999v1")
    listing = parse_listing(rss_document([good, no_id, unknown, untitled, clash, good]))
    assert [a.paper.id for a in listing.announcements] == ["2602.16001"]
    assert len(listing.skipped) == 4
    assert "item 2" in listing.skipped[0] and "no arXiv id" in listing.skipped[0]
    assert "2602.16003: unknown announce type 'withdrawn'" in listing.skipped[1]
    assert "2602.16004: no title" in listing.skipped[2]
    assert "different papers" in listing.skipped[3]
    assert all("\n" not in line and not line.endswith("skipped") for line in listing.skipped)  # watch says "skipped" once, in front


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>Access Denied</body></html>",
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>not rss</title></feed>',
        b"Rate exceeded.",
        b"",
        b"\xff\xfe\x00garbage",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut',
        b'<?xml version="1.0"?><rss version="2.0"></rss>',
    ],
)
def test_a_body_that_is_not_an_rss_listing_is_one_clear_error(body: bytes) -> None:
    with pytest.raises(MalformedFeedError) as info:
        parse_listing(body)
    assert "\n" not in str(info.value)
    assert "RSS" in str(info.value)


def test_entities_and_dtds_are_never_expanded() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss version="2.0"><channel><item><title>&lol2;</title></item></channel></rss>"""
    with pytest.raises(MalformedFeedError):
        parse_listing(bomb)
    external = b"""<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd"><rss version="2.0"><channel/></rss>"""
    with pytest.raises(MalformedFeedError):
        parse_listing(external)


def test_a_huge_listing_parses_without_trouble() -> None:
    records = [{**RECORD, "arxiv_id": f"2602.{n:05d}"} for n in range(1, 3001)]
    listing = parse_listing(listing_rss(records))
    assert len(listing.announcements) == len(records)
