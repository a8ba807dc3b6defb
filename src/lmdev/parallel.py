"""Reading many files on every core: forked workers read and validate, results come back in order.

A bulk read is CPU-bound (parsing YAML and validating papers), so with more than one core the
files are split into chunks that worker processes read, while this process checks and indexes
what they send back. Only on Linux, where forked workers inherit the reader safely, and only for
enough files that starting the workers pays off.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Optional

from lmdev.errors import DataError

PARALLEL_MIN = 2000  # files; fewer are read in this process
CHUNK = 100

_read: Optional[Callable[[str], Any]] = None


def workers() -> int:
    """How many worker processes a bulk read uses: the cores this process may run on, up to 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return min(4, cores)


def _one(read: Callable[[str], Any], name: str) -> Any:
    try:
        return read(name)
    except DataError as exc:
        return exc


def read_all(names: list[str], read: Callable[[str], Any]) -> Iterator[Any]:
    """``read(name)`` for every name, in order; a :class:`DataError` is returned, not raised."""
    count = workers()
    if len(names) < PARALLEL_MIN or count < 2 or not sys.platform.startswith("linux"):
        for name in names:
            yield _one(read, name)
        return
    global _read
    _read = read
    with ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: deque[Future[list[Any]]] = deque()
        for start in range(0, len(names), CHUNK):
            pending.append(pool.submit(_work, names[start : start + CHUNK]))
            while len(pending) > count * 3:
                yield from _unpack(pending.popleft().result())
        while pending:
            yield from _unpack(pending.popleft().result())


def _work(names: list[str]) -> list[Any]:
    assert _read is not None
    gc.disable()
    return [_pack(_one(_read, name)) for name in names]


def _pack(outcome: Any) -> Any:
    """Errors travel as plain tuples (an exception's own pickling drops its fields)."""
    if isinstance(outcome, DataError):
        return ("DataError", outcome.message, outcome.path, outcome.line)
    return outcome


def _unpack(outcomes: list[Any]) -> Iterator[Any]:
    for outcome in outcomes:
        if isinstance(outcome, tuple) and outcome and outcome[0] == "DataError":
            yield DataError(outcome[1], path=outcome[2], line=outcome[3])
        else:
            yield outcome
