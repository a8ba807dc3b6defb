"""Talking to arXiv: the HTTP client (the only module that imports httpx), feed parsing,
the machine-wide rate limiter and the response cache."""

from lmdev.arxiv.client import NOT_FOUND, ArxivClient, FetchResult, SearchResult

__all__ = ["NOT_FOUND", "ArxivClient", "FetchResult", "SearchResult"]
