"""What lmdev makes from a library for people to read: coverage, reading lists, BibTeX,
JSON and CSV exports, Markdown pages and the static HTML report."""

from lmdev.reports.coverage import Coverage, coverage
from lmdev.reports.readinglist import reading_list

__all__ = ["Coverage", "coverage", "reading_list"]
