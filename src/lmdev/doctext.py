"""Data text made safe for the documents lmdev writes (JSON, CSV, BibTeX, Markdown, HTML, Atom).

Everything a paper file, a feed or a server gives is data: a title may hold a terminal's escape
sequences, a bidi override or a character XML cannot carry. What shows text on a terminal is
:mod:`lmdev.termtext`'s.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that can
# make text read differently from what it is: nothing a document needs, everything a terminal
# (or a reader's eye) could be tricked by.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without control characters (tab and newline kept) and with Unicode's line and
    paragraph separators as spaces, for documents such as CSV, BibTeX, Markdown and HTML, where
    they can only do harm (a separator is a line break to some readers and not to others)."""
    if text.isprintable():
        return text
    return CONTROLS.sub("", text.replace("\u2028", " ").replace("\u2029", " "))


def to_json(data: Any, **kwargs: Any) -> str:
    """JSON with non-ASCII text kept readable, but with the characters ``json`` leaves raw and a
    terminal or a JavaScript parser would act on (DEL, C1 controls, U+2028/9, bidi overrides)
    written as ``\\u`` escapes: the same data, safe to print."""
    return json_safe(json.dumps(data, ensure_ascii=False, **kwargs))


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 controls, U+2028/9 and bidi overrides written as ``\\u`` escapes."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

# Characters XML 1.0 cannot carry at all, even escaped (C0 controls but tab and line breaks,
# lone surrogates, U+FFFE and U+FFFF); HTML parsers treat them as errors too.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """:func:`printable` text without what XML cannot carry, for an XML element or attribute
    (which the XML writer escapes)."""
    return _NOT_XML.sub("", printable(text))


def html_text(text: str) -> str:
    """:func:`xml_text`, HTML-escaped (quotes too, so it is safe inside an attribute)."""
    return escape(xml_text(text), quote=True)
