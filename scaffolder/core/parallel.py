"""Spreading per-namespace work over the machine's cores.

Discovery and scaffolding of one namespace are independent of the others, so a large
repository (``scaffold --all`` on a thousand namespaces) is split into interleaved
chunks processed by forked workers. Workers inherit the parent's state (the repository
model) through ``fork``, and send back plain, picklable results. netpol errors raised in a
worker come back as the same one-line error with the same exit code.

Small inputs, platforms without ``fork`` and ``NETPOL_JOBS=1`` run in-process. Ctrl-C
reaches only the parent, which stops the workers and exits with ``netpol: interrupted``.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from scaffolder.core.errors import NetpolError

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_JOB = 50  # below this, forking costs more than it saves

_TASK: Callable[[Any], Any] | None = None


def default_jobs() -> int:
    """``NETPOL_JOBS`` if set (a whole number >= 1; 1 runs in-process), else the usable cores."""
    configured = os.environ.get("NETPOL_JOBS")
    if configured:
        text = configured.strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise NetpolError(
                f"NETPOL_JOBS must be a whole number >= 1 (got {configured!r})",
                hint="unset it to use every core, or set NETPOL_JOBS=1 to run in one process",
            )
        return int(text)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _rebuild_path(cls: type, drv: str, root: str, parts: list[str]) -> Any:
    return cls._from_parsed_parts(drv, root, parts)  # type: ignore[attr-defined]


def _reduce_path(path: Any) -> tuple[Any, ...]:
    return (_rebuild_path, (type(path), path._drv, path._root, path._parts))


def _fast_path_pickling() -> None:
    """Send paths back to the parent already parsed.

    The model is full of ``PurePosixPath`` objects, and pathlib pickles a path as its
    parts, which the parent parses again: about a third of a second for a thousand
    namespaces, spent serially after the workers are done. On Python 3.11, whose pathlib
    keeps parsed parts, the workers (only they) send the parsed form instead; a test checks
    the round trip. Other versions keep pathlib's own pickling."""
    import copyreg
    import sys
    from pathlib import Path, PurePosixPath

    probe = PurePosixPath("a/b")
    if sys.version_info[:2] != (3, 11) or not hasattr(PurePosixPath, "_from_parsed_parts"):
        return
    if _rebuild_path(*_reduce_path(probe)[1]) != probe:  # pragma: no cover - defensive
        return
    for cls in (PurePosixPath, type(Path())):
        copyreg.pickle(cls, _reduce_path)


def _quiet_worker(mask: Any) -> None:
    """Pool initializer: Ctrl-C is the parent's business (it terminates the pool), so a
    worker ignores SIGINT instead of printing a ``Process ForkPoolWorker-N`` traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _fast_path_pickling()
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


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
        # SIGINT is blocked while the workers fork, so none can see a Ctrl-C before its
        # initializer ignores it; the parent gets it once the pool exists, and leaving the
        # ``with`` block on KeyboardInterrupt terminates the workers.
        mask = None
        if hasattr(signal, "pthread_sigmask"):
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pool = multiprocessing.get_context("fork").Pool(jobs, _quiet_worker, (mask,))
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        with pool:
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
