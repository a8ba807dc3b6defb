"""Pydantic's validation errors as the line a person reads: each field that is wrong, what is
wrong in plain words (not pydantic's "Extra inputs are not permitted"), and the line of the file
where the first one is. Every error is named, so one run of ``check`` shows them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from lmdev import yamlio
from lmdev.errors import DataError

if TYPE_CHECKING:
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails

MOST = 5  # errors named in one message; the rest are counted

_PLAIN = {
    "extra_forbidden": "unknown field (a typo?)",
    "missing": "required",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "date_type": "must be a date written YYYY-MM-DD",
    "date_parsing": "must be a date written YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date written YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date written YYYY-MM-DD",
}
# kinds of error where the value given helps: "must be true or false, not 'yes'"
_SHOW_GIVEN = {"bool_type", "bool_parsing", "int_type", "int_parsing", "float_type", "float_parsing", "string_type", "date_type", "date_parsing", "date_from_datetime_parsing", "literal_error", "enum"}


def explain(err: ErrorDetails) -> str:
    """What is wrong with one value, in plain words."""
    kind = err["type"]
    message = _PLAIN.get(kind) or err["msg"].removeprefix("Value error, ").replace("Input should be", "should be")
    given = err.get("input")
    if kind in _SHOW_GIVEN and isinstance(given, (str, int, float)) and not isinstance(given, bool):
        message += f", not {repr(given)[:60]}"  # repr shows any control character as an escape
    elif kind in _SHOW_GIVEN and isinstance(given, bool):
        message += f", not {str(given).lower()}"
    return message


def located(err: ErrorDetails, data: Any) -> tuple[Any, ...]:
    """Where an error is. A rule over the whole object (a primary that is not among the problems)
    has no location of its own; its message begins with the field it is about."""
    loc = tuple(err["loc"])
    if loc or not isinstance(data, dict):
        return loc
    first = err["msg"].removeprefix("Value error, ").split(" ", 1)[0].strip("'\"")
    return (first,) if first in data else ()


def data_error(exc: ValidationError, *, path: str, node: Optional[Any], data: Any, what: str) -> DataError:
    """One :class:`DataError` naming every field that is wrong (``what`` names the whole, as in
    'paper'), at the line of the first."""
    errors = exc.errors()
    parts = []
    for err in errors[:MOST]:
        field = ".".join(str(p) for p in located(err, data)) or what
        parts.append(f"{field}: {explain(err)}")
    more = f" (and {len(errors) - MOST} more)" if len(errors) > MOST else ""
    return DataError("; ".join(parts) + more, path=path, line=yamlio.line_of(node, located(errors[0], data)))
