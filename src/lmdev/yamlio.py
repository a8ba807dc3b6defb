"""Safe YAML in, deterministic YAML out, atomic writes, and line numbers for errors.

Files are hand-edited and reviewed in pull requests, so reading never executes tags
(``safe_load`` only), errors point at a line, and writing is byte-stable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Optional

import yaml

from lmdev.errors import DataError

MAX_FILE_BYTES = 1_000_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_warned_slow = False


def _warn_if_slow() -> None:
    """Without libyaml PyYAML parses in pure Python, 10-12 times slower: say so, once per run."""
    global _warned_slow
    if _Loader is yaml.SafeLoader and not _warned_slow:
        _warned_slow = True
        logging.getLogger(__name__).warning("PyYAML has no libyaml here, so reading paper files is about 10x slower (install libyaml, then reinstall PyYAML)")


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 data file, refusing huge, binary or undecodable files with one clear line."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DataError(f"file is {size:,} bytes, larger than the {max_bytes:,} allowed", path=str(path))
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from None


def parse(text: str, *, path: str) -> tuple[Any, Optional[yaml.Node]]:
    """Parse YAML text into plain data plus its node tree (kept for error line numbers)."""
    if not text.strip():
        raise DataError("file is empty", path=path)
    _warn_if_slow()
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"invalid YAML: {problem}", path=path, line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    return data, node


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


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
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
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """:func:`atomic_write` for output made as it goes: write to the handle; the file appears
    whole when the block ends, and not at all if it raises."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
