"""Text shown on a terminal: what data or a server sent, never able to act as a control sequence.

The library needs this as much as the command line does: the index stores each paper's line for
``lmdev list`` ready to print (see :mod:`lmdev.indexrows`).
"""

from __future__ import annotations

import re

# C0 and C1 controls (but tab and newline, handled apart), DEL, and the bidirectional overrides
# that can make text read differently from what it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile("[\n\u2028\u2029]")


def safe(text: str, *, newlines: bool = False, tabs: bool = False) -> str:
    """Text from data or a server made safe for a terminal: control characters shown as escapes
    (``\\x1b``), never sent raw; line breaks kept only with ``newlines``; tabs become spaces
    with ``tabs`` (for tab-separated output) and are kept otherwise."""
    if text.isprintable():  # no control, break, tab or bidi character: nothing to do (the common case)
        return text
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)
    if not newlines:
        text = _BREAKS.sub(" ", text)
    if tabs:
        text = text.replace("\t", " ")
    return text


def paper_line(paper_id: str, year: object, title: str, tags: str) -> str:
    """A paper as ``lmdev list`` prints it piped: id, year, title and tags, tab-separated, one line."""
    return f"{safe(paper_id)}\t{year or ''}\t{safe(title, tabs=True)}\t{safe(tags, tabs=True)}"
