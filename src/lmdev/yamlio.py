"""Safe YAML in, deterministic YAML out, atomic writes, and line numbers for errors.

Files are hand-edited and reviewed in pull requests, so reading never executes tags
(``safe_load`` only), errors point at a line, and writing is byte-stable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Optional

import yaml

from lmdev.errors import DataError
from lmdev.listing import TEMP_SUFFIX

MAX_FILE_BYTES = 1_000_000

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_warned_slow = False


def _warn_if_slow() -> None:
    """Without libyaml PyYAML parses in pure Python, 10-12 times slower: say so, once per run."""
    global _warned_slow
    if _Base is yaml.SafeLoader and not _warned_slow:
        _warned_slow = True
        logging.getLogger(__name__).warning("PyYAML has no libyaml here, so reading paper files is about 10x slower (install libyaml, then reinstall PyYAML)")


def describe_kind(mode: int) -> str:
    """What a non-regular file is, in words, for error messages."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES, follow_symlinks: bool = True) -> str:
    """Read a UTF-8 data file, refusing huge, binary or undecodable files with one clear line.

    Only regular files are read, and never more than ``max_bytes``: a FIFO, a device or a
    symlink to ``/dev/zero`` named like a data file must not hang lmdev or fill its memory.
    Without ``follow_symlinks`` a symbolic link is refused too (paper files are never links).
    """
    raw = read_bytes(path, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from None


def read_bytes(path: Path, *, max_bytes: int = MAX_FILE_BYTES, follow_symlinks: bool = True) -> bytes:
    """A data file's bytes, with :func:`read_text`'s refusals (all but the decoding)."""
    try:
        info = os.stat(path) if follow_symlinks else os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"is {describe_kind(info.st_mode)}, not a regular file; lmdev does not read it", path=str(path))
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        if not follow_symlinks:
            flags |= getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(path, flags), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise DataError(f"is {describe_kind(info.st_mode)}, not a regular file; lmdev does not read it", path=str(path))
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None
    if len(raw) > max_bytes:
        size = max(info.st_size, len(raw))
        raise DataError(f"file is {size:,} bytes, larger than the {max_bytes:,} allowed", path=str(path))
    return raw


_CONFLICT = re.compile(r"^(?:<{7}|>{7}|={7})(?: |$)", re.MULTILINE)


def _refuse_conflict_markers(text: str, path: str) -> None:
    """A merge left both sides in the file: say so, not that a colon is missing at some line."""
    found = _CONFLICT.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise DataError("unresolved merge conflict (git's <<<<<<< / ======= / >>>>>>> lines): keep one side, or both tags, and delete the markers", path=path, line=line)


def parse(text: str, *, path: str) -> tuple[Any, Optional[yaml.Node]]:
    """Parse YAML text into plain data plus its node tree (kept for error line numbers).

    Anchors and aliases are refused (a few kilobytes of nested aliases expand to gigabytes in
    any consumer), and so are duplicate keys, which YAML would otherwise resolve silently as
    last-one-wins, and merge keys (``<<:``), which would bring keys in past that check. Values that cannot exist (``2023-13-45``) are errors with their line.
    """
    if not text.strip():
        raise DataError("file is empty", path=path)
    if "<<<<<<<" in text or ">>>>>>>" in text:
        _refuse_conflict_markers(text, path)
    _warn_if_slow()
    if "&" in text or "*" in text:
        _refuse_anchors(text, path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise DataError("file is empty: it holds only comments or blank lines", path=path)
        _refuse_duplicate_keys(node, path)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path, text) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise DataError(f"invalid value: {exc}", path=path) from None
    finally:
        loader.dispose()
    return data, node


_OPENED = {"a flow sequence": "a '[' list", "a flow mapping": "a '{' mapping", "a quoted scalar": "a quoted string"}


def _yaml_error(exc: yaml.YAMLError, path: str, text: str) -> DataError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    line = mark.line + 1 if mark else None
    context, begun = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if mark is not None and mark.index >= len(text.rstrip()) and context and begun is not None:
        # PyYAML marks the end of the stream, a line past the last one; what was left open, and
        # where, is what a person needs to find the typo
        what = context.removeprefix("while parsing ").removeprefix("while scanning ")
        what = _OPENED.get(what, what)
        return DataError(f"invalid YAML: {what} begun on this line is never closed ({problem})", path=path, line=begun.line + 1)
    position = getattr(exc, "position", None)  # a ReaderError (a control character) has no mark
    if line is None and isinstance(position, int):
        line = text.count("\n", 0, position) + 1
    return DataError(f"invalid YAML: {problem}", path=path, line=line)


def _refuse_anchors(text: str, path: str) -> None:
    """Refuse the first anchor or alias: paper and taxonomy files have no use for either."""
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                what = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
                raise DataError(f"YAML anchors and aliases (&name, *name) are not allowed in data files; found an {what}", path=path, line=event.start_mark.line + 1 if event.start_mark else None)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path, text) from None


def _refuse_duplicate_keys(root: yaml.Node, path: str) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key, value in node.value:
                if key.tag == "tag:yaml.org,2002:merge":  # copies keys in unseen, past the duplicate check
                    raise DataError("YAML merge keys (<<:) are not allowed in data files", path=path, line=key.start_mark.line + 1)
                ident = (key.tag, str(key.value))
                if ident in seen:
                    raise DataError(f"key {key.value!r} appears twice in one mapping", path=path, line=key.start_mark.line + 1)
                seen.add(ident)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """Dates such as ``2023-13-45`` match YAML's timestamp pattern but are no date: say where."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark) from None


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader, with dates that fail at their line instead of with a traceback."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load(path: Path) -> tuple[Any, Optional[yaml.Node]]:
    return parse(read_text(path), path=str(path))


def line_of(node: Optional[yaml.Node], loc: Iterable[Any]) -> Optional[int]:
    """The 1-based line of the value at ``loc`` (a pydantic error location), or the nearest parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        child: Optional[yaml.Node] = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == key:
                    child = v
                    line = k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


class _Dumper(yaml.SafeDumper):
    """Block style, unicode kept, and ``|`` literal blocks for multi-line text."""


# Line breaks that YAML (and Python's str.splitlines) honour besides \n: written raw inside
# plain or block scalars they are folded or split on reading, so such text is double-quoted,
# where they become the escapes \N, \L and \P.
_SPECIAL_BREAKS = ("\x85", "\u2028", "\u2029")


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if any(ch in value for ch in _SPECIAL_BREAKS):
        style: Optional[str] = '"'
    else:
        style = "|" if "\n" in value and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
        indent=2,
    )


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over, so readers never see half a file."""
    with atomic_writer(path) as handle:
        handle.write(text)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write` for binary data (a cache file)."""
    with _replacing(path) as fd, os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """:func:`atomic_write` for output made as it goes: write to the handle; the file appears
    whole when the block ends, and not at all if it raises.

    Only a regular file (or nothing) is replaced: a symlink, FIFO, device or directory at
    ``path`` is refused, so ``--out`` can never be turned into a write somewhere else.
    """
    with _replacing(path) as fd, os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[int]:
    """A descriptor of a new temporary file beside ``path`` (with ``path``'s permissions), renamed
    over ``path`` when the block ends and removed if it raises. Refuses to replace anything but a
    regular file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    else:
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"is {describe_kind(info.st_mode)}; refusing to replace it", path=str(path))
        mode = info.st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.chmod(tmp, mode)
        yield fd
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
