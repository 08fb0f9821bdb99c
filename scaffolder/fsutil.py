"""Filesystem primitives: atomic writes and repository-containment checks."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath

from .errors import NetpolError, PathEscapeError


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``.

    Text is encoded as UTF-8 with no newline translation. An existing file keeps its
    mode; a new file gets the default mode for the umask. Nothing is left behind on
    failure, and readers never see a half-written file.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".netpol-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise NetpolError(
            f"cannot write {path}: {exc.strerror or exc}", hint="check permissions"
        ) from exc


@cache
def _real_root(root: str) -> str:
    return os.path.realpath(root)


_REALPATHS: dict[str, str] | None = None  # set while the tree is only read (planning)


@contextlib.contextmanager
def cached_realpaths() -> Iterator[None]:
    """Memoise the containment checks' ``realpath`` within the block: for planning, which
    reads the tree but never changes it. Thousands of files share a few parent directories."""
    global _REALPATHS
    outer = _REALPATHS
    if outer is None:
        _REALPATHS = {}
    try:
        yield
    finally:
        _REALPATHS = outer


def _realpath(path: str) -> str:
    """``os.path.realpath``, through the memo when one is active: a path's realpath is its
    parent's plus its name unless it is a symlink (one lstat per new path)."""
    cache = _REALPATHS
    if cache is None:
        return os.path.realpath(path)
    hit = cache.get(path)
    if hit is not None:
        return hit
    parent, _, name = path.rpartition("/")
    if not parent or name in ("", ".", "..") or os.path.islink(path):  # noqa: PTH114
        real = os.path.realpath(path)
    else:
        real = f"{_realpath(parent)}/{name}"
    cache[path] = real
    return real


def repo_path(root: Path, rel: PurePosixPath | str) -> Path:
    """Absolute path of ``rel`` inside ``root``; refuses anything escaping ``root``.

    Both ``..`` components and symlinks that resolve outside the repository are refused.
    """
    rel_path = PurePosixPath(rel)
    if rel_path.is_absolute():
        raise PathEscapeError(
            f"{rel}: absolute paths are not allowed here", hint="use a path inside the repository"
        )
    candidate = root / rel_path
    real_root = _real_root(str(root))
    real = _realpath(str(candidate))
    if real != real_root and not real.startswith(real_root + os.sep):
        raise PathEscapeError(
            f"{rel}: resolves outside the repository ({real})",
            hint="netpol only edits files inside the repository; check for '..' or symlinks",
        )
    return candidate


def cache_dir() -> Path:
    """netpol's cache (compiled schema and templates): ``$XDG_CACHE_HOME/netpol``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netpol"


def relpath(root: Path, path: Path) -> PurePosixPath:
    """``path`` relative to ``root`` as a POSIX path (for messages, plans and JSON)."""
    return PurePosixPath(Path(os.path.relpath(path, root)).as_posix())
