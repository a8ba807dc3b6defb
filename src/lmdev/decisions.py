"""The tracker's record of papers judged out of scope: ``<data dir>/rejected.yaml``.

Accepted papers become paper files; rejected ones are recorded here with a short reason, so
that nobody (and no ``watch``) proposes them again, and so that the classifier learns what the
group does not want. The file is a YAML list with one flow mapping per line, in the order the
decisions were made. One entry per line is what makes it safe to merge: the ``.gitattributes``
that ``lmdev init`` writes gives it git's union merge, so two people triaging on two machines
and merging keep every decision.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

from lmdev import yamlio
from lmdev.errors import DataError
from lmdev.ids import normalise_paper_id, try_parse_arxiv_id

REJECTED_FILE = "rejected.yaml"
MAX_REASON = 300
MAX_RECORD_BYTES = 64 * 1024 * 1024  # rejected.yaml: about 100k decisions with their abstracts
HEADER = (
    "# Papers this tracker judged out of scope: one per line, oldest first.\n"
    "# Written by `lmdev reject` and `lmdev review`; `lmdev check` validates it.\n"
    "# Git merges it line by line (see .gitattributes), so concurrent triage keeps every decision.\n"
)


_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")  # what YAML reads as a line break


@dataclass(frozen=True)
class Rejection:
    id: str
    reason: str
    date: Optional[dt.date] = None
    title: Optional[str] = None
    abstract: Optional[str] = None

    def to_line(self) -> str:
        """One line of the file: a YAML flow mapping in a list item."""
        data: dict[str, object] = {"id": self.id, "reason": self.reason}
        if self.date is not None:
            data["date"] = self.date.isoformat()
        if self.title:
            data["title"] = self.title
        if self.abstract:
            data["abstract"] = self.abstract
        text = yaml.safe_dump([data], default_flow_style=None, allow_unicode=True, width=1 << 30, sort_keys=False)
        line = text.strip()
        if any(brk in line for brk in _BREAKS):
            # a value with a line break (an abstract in paragraphs): every value double-quoted,
            # where YAML writes a break as an escape, so the record stays on one line, exactly
            line = "- " + yaml.safe_dump(data, default_flow_style=True, default_style='"', allow_unicode=True, width=1 << 30, sort_keys=False).strip()
        return line


@dataclass(frozen=True)
class Entry:
    rejection: Rejection
    line: int


def path_for(data_dir: Path) -> Path:
    return data_dir / REJECTED_FILE


def load(data_dir: Path) -> list[Entry]:
    """Every recorded rejection with its line; raises :class:`DataError` naming the first bad line."""
    entries, errors = scan(data_dir)
    if errors:
        raise errors[0]
    return entries


def scan(data_dir: Path) -> tuple[list[Entry], list[DataError]]:
    """Every valid entry, and an error for each line that is not one (for ``lmdev check``)."""
    path = path_for(data_dir)
    if not path.exists():
        return [], []
    text = _record_text(path)
    entries: list[Entry] = []
    errors: list[DataError] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entries.append(Entry(_parse_line(line), number))
        except DataError as exc:
            errors.append(DataError(exc.message, path=str(path), line=number))
    return entries, errors


def _record_text(path: Path) -> str:
    """The record's text, without the byte-order mark some Windows editors put first."""
    return yamlio.read_text(path, max_bytes=MAX_RECORD_BYTES).removeprefix("\ufeff")


def _parse_line(line: str) -> Rejection:
    if not line.startswith("- {") or not line.endswith("}"):
        raise DataError("each line must be one entry: - {id: ..., reason: ...}")
    data, _ = yamlio.parse(line, path="")
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        raise DataError("each line must be one entry: - {id: ..., reason: ...}")
    item = data[0]
    unknown = set(item) - {"id", "reason", "date", "title", "abstract"}
    if unknown:
        raise DataError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    paper_id, reason = item.get("id"), item.get("reason")
    if not isinstance(paper_id, str) or not paper_id.strip():
        raise DataError("an entry needs an 'id' string")
    if not isinstance(reason, str) or not reason.strip():
        raise DataError(f"{paper_id}: an entry needs a 'reason'")
    try:
        canonical = normalise_paper_id(paper_id)
    except Exception as exc:
        raise DataError(f"not a paper id: {paper_id!r} ({exc})") from None
    date = item.get("date")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise DataError(f"{paper_id}: date {date!r} is not YYYY-MM-DD") from None
    if date is not None and not isinstance(date, dt.date):
        raise DataError(f"{paper_id}: date must be YYYY-MM-DD")
    title, abstract = item.get("title"), item.get("abstract")
    if title is not None and not isinstance(title, str):
        raise DataError(f"{paper_id}: title must be a string")
    if abstract is not None and not isinstance(abstract, str):
        raise DataError(f"{paper_id}: abstract must be a string")
    return Rejection(canonical, reason.strip(), date, title, abstract)


def find(data_dir: Path, paper_id: str) -> Optional[Rejection]:
    """The latest rejection on record of a canonical id, or None. Only the lines that mention
    the id are parsed (any id form holds the canonical one), so looking one paper up in a record
    of a year of daily triage takes milliseconds; a bad line is for ``check`` to report."""
    path = path_for(data_dir)
    if not path.exists():
        return None
    needle = paper_id.lower()
    found = None
    for raw in _record_text(path).split("\n"):
        line = raw.strip()
        if needle not in line.lower() or line.startswith("#"):
            continue
        try:
            rejection = _parse_line(line)
        except DataError:
            continue
        if rejection.id == paper_id:
            found = rejection
    return found


def rejected_ids(data_dir: Path) -> set[str]:
    return {entry.rejection.id for entry in load(data_dir)}


_LINE_ID = re.compile(r"- \{id: (?:'([^']+)'|\"([^\"]+)\"|([^,'\"{}\s]+)),")


def ids_on_record(data_dir: Path) -> set[str]:
    """The rejected ids, read off the start of each line (``lmdev reject`` writes the id first)
    without parsing the titles and abstracts that make the file large; a line of another shape
    sends the file through the full reader, which names a bad line."""
    path = path_for(data_dir)
    if not path.exists():
        return set()
    found: set[str] = set()
    for raw in _record_text(path).split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE_ID.match(line)
        candidate = next((g for g in match.groups() if g), None) if match else None
        canonical = try_parse_arxiv_id(candidate) if candidate else None
        if canonical is None or canonical.base != candidate:
            return rejected_ids(data_dir)
        found.add(candidate)
    return found


def record(data_dir: Path, rejections: Iterable[Rejection]) -> list[Rejection]:
    """Append rejections not yet on record (atomically); returns those added."""
    path = path_for(data_dir)
    existing = load(data_dir)
    known = {entry.rejection.id for entry in existing}
    new: list[Rejection] = []
    for rejection in rejections:
        if len(rejection.reason) > MAX_REASON:
            raise DataError(f"{rejection.id}: reason is longer than {MAX_REASON} characters")
        if rejection.id not in known:
            known.add(rejection.id)
            new.append(rejection)
    if not new:
        return []
    text = yamlio.read_text(path, max_bytes=MAX_RECORD_BYTES) if path.exists() else HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(r.to_line() + "\n" for r in new)
    yamlio.atomic_write(path, text)
    return new


def forget(data_dir: Path, ids: Iterable[str]) -> list[Rejection]:
    """Withdraw the rejections of ``ids`` (papers taken into the library after all): their lines
    leave the record, every other line (a bad one too, which ``check`` reports) stays as it was.
    Returns the rejections withdrawn. Callers hold the decision lock."""
    path = path_for(data_dir)
    wanted = set(ids)
    if not path.exists() or not wanted:
        return []
    entries = {entry.line: entry.rejection for entry in scan(data_dir)[0] if entry.rejection.id in wanted}
    if not entries:
        return []
    lines = yamlio.read_text(path, max_bytes=MAX_RECORD_BYTES).split("\n")
    yamlio.atomic_write(path, "\n".join(line for number, line in enumerate(lines, 1) if number not in entries))
    return list(entries.values())
