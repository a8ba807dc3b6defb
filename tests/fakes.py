"""Test doubles for the arXiv client: a clock that never sleeps, and fixture loading."""

from __future__ import annotations

from helpers import FIXTURES


class FakeClock:
    """Time advances only when the code under test sleeps; every sleep is recorded."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def atom_entry(arxiv_id: str, *, version: int = 1, title: str | None = None, doi: str | None = None, journal_ref: str | None = None) -> str:
    """One entry in the current (post-2025) arXiv format."""
    from xml.sax.saxutils import escape

    title = title or f"A study numbered {arxiv_id}"
    extra = ""
    if doi:
        extra += f"\n    <arxiv:doi>{escape(doi)}</arxiv:doi>"
    if journal_ref:
        extra += f"\n    <arxiv:journal_ref>{escape(journal_ref)}</arxiv:journal_ref>"
    return f"""  <entry>
    <id>http://arxiv.org/abs/{arxiv_id}v{version}</id>
    <title>{escape(title)}</title>
    <updated>2023-0{min(version, 9)}-02T00:00:00Z</updated>
    <link href="https://arxiv.org/abs/{arxiv_id}v{version}" rel="alternate" type="text/html"/>
    <summary>We study in-context learning and its computational cost for paper {arxiv_id}.</summary>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <published>2023-01-02T00:00:00Z</published>
    <arxiv:primary_category term="cs.CL"/>
    <author>
      <name>Ada Lovelace</name>
    </author>{extra}
  </entry>
"""


def atom_feed(entries: list[str], total: int | None = None) -> bytes:
    head = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/test</id>
  <title>arXiv Query: test</title>
"""
    count = len(entries) if total is None else total
    return (head + f"  <opensearch:totalResults>{count}</opensearch:totalResults>\n" + "".join(entries) + "</feed>\n").encode("utf-8")
