"""What arXiv's two feed parsers share: XML read through defusedxml (so a hostile feed cannot
expand entities or load a DTD), an element's text with white space folded, and the shape of a
category name. One place, so the API's Atom parser and the listing's RSS parser refuse the same
things in the same words."""

from __future__ import annotations

import re
from typing import Optional
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from lmdev.errors import ArxivError

CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")
_SPACE = re.compile(r"\s+")


class MalformedFeedError(ArxivError):
    """The body was not the feed arXiv sends (truncated, HTML, garbage)."""


def parse_xml(body: bytes, not_xml: str) -> Element:
    """The root element of ``body``; anything that is not plain XML raises
    :class:`MalformedFeedError` saying ``not_xml``, why, and how the body starts."""
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=True)
    except Exception as exc:  # ParseError, and defusedxml's EntitiesForbidden / DTDForbidden
        snippet = body[:60].decode("utf-8", "replace").strip().replace("\n", " ")
        raise MalformedFeedError(f"{not_xml} ({type(exc).__name__}): {snippet!r}") from None
    return root


def text(element: Optional[Element]) -> Optional[str]:
    """The element's text, runs of white space folded to one space; None when empty or absent."""
    if element is None or element.text is None:
        return None
    value = _SPACE.sub(" ", element.text).strip()
    return value or None
