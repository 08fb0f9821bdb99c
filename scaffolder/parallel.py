"""Spreading per-namespace work over the machine's cores.

Discovery and scaffolding of one namespace are independent of the others, so a large
repository (``scaffold --all`` on a thousand namespaces) is split into interleaved
chunks processed by forked workers. Workers inherit the parent's state (the repository
model) through ``fork``, and send back plain, picklable results. netpol errors raised in a
worker come back as the same one-line error with the same exit code.

Small inputs, platforms without ``fork`` and ``NETPOL_JOBS=1`` run in-process.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import NetpolError

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_JOB = 50  # below this, forking costs more than it saves

_TASK: Callable[[Any], Any] | None = None


def default_jobs() -> int:
    configured = os.environ.get("NETPOL_JOBS")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _run_chunk(chunk: Sequence[Any]) -> tuple[str, Any]:
    assert _TASK is not None
    gc.disable()  # short-lived worker allocating many small objects: skip cycle collection
    try:
        return "ok", [_TASK(item) for item in chunk]
    except NetpolError as exc:
        return "error", (type(exc).__name__, exc.message, exc.hint, exc.exit_code)


def map_chunked(task: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> list[R]:
    """``[task(i) for i in items]``, on several processes when it pays off. Order is kept."""
    global _TASK
    jobs = min(jobs or default_jobs(), max(1, len(items) // MIN_ITEMS_PER_JOB))
    if jobs <= 1:
        return [task(item) for item in items]
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return [task(item) for item in items]
    chunks = [list(items[i::jobs]) for i in range(jobs)]
    _TASK = task
    gc.freeze()  # keep the inherited model out of the workers' GC (no copy-on-write storms)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            outcomes = pool.map(_run_chunk, chunks)
    finally:
        _TASK = None
        gc.unfreeze()
    results: list[Any] = [None] * len(items)
    for offset, (status, payload) in enumerate(outcomes):
        if status == "error":
            _name, message, hint, code = payload
            error = NetpolError(message, hint=hint)
            error.exit_code = code
            raise error
        for k, result in enumerate(payload):
            results[offset + k * jobs] = result
    return results
