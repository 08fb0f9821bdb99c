"""Filesystem primitives: atomic writes, repository-containment checks, OS error wording."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path, PurePosixPath

from scaffolder.core.errors import NetpolError, PathEscapeError

#: Every temporary file netpol creates beside a target ends with this suffix (staged new
#: content and backups alike), so leftovers of a killed run are recognisable.
TEMP_SUFFIX = ".netpol-tmp"

_OS_ERRORS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("disk full", "free some space on that file system, then rerun"),
    errno.EFBIG: (
        "file too large",
        "the file size limit is too low: raise it with ulimit -f unlimited, then rerun",
    ),
    errno.EACCES: (
        "permission denied",
        "make the file and its directory writable for you with chmod u+w or chown, then rerun",
    ),
    errno.EPERM: (
        "permission denied",
        "make the file and its directory writable for you with chmod u+w or chown "
        "(or clear an immutable flag with chattr -i), then rerun",
    ),
    errno.EROFS: (
        "read-only file system",
        "remount the file system read-write or work in a writable clone, then rerun",
    ),
    errno.EEXIST: ("a file is in the way", "move it away, then rerun"),
    errno.ENOTDIR: ("a file is in the way of a directory", "move it away, then rerun"),
    errno.EISDIR: ("a directory is in the way", "move it away, then rerun"),
    errno.EDQUOT: (
        "disk quota exceeded",
        "free some space within your disk quota or ask for a larger one, then rerun",
    ),
}


def describe_os_error(exc: OSError) -> tuple[str, str]:
    """What an :class:`OSError` means for a user, and the fix: ``("disk full", "free ...")``."""
    if exc.errno in _OS_ERRORS:
        return _OS_ERRORS[exc.errno]
    what = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    what = (what or type(exc).__name__).lower()
    return what, "fix the cause above, then rerun"


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``.

    Text is encoded as UTF-8 with no newline translation. An existing file keeps its
    mode; a new file gets the default mode for the umask. Nothing is left behind on
    failure, and readers never see a half-written file.
    """
    import tempfile  # here: every netpol run imports this module, few write this way

    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~current_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
        what, hint = describe_os_error(exc)
        raise NetpolError(f"cannot write {path}: {what}", hint=hint) from exc


def current_umask() -> int:
    """The process umask (reading it means setting it: set it straight back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


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


def repo_paths(root: Path, rels: Iterable[PurePosixPath]) -> list[Path]:
    """:func:`repo_path` for many paths (a plan of 10,000 files in a few thousand
    directories): each directory is resolved once, from its already resolved parent."""
    return [Path(path) for path in repo_path_strings(root, rels)]


def repo_path_strings(root: Path, rels: Iterable[PurePosixPath]) -> list[str]:
    """:func:`repo_paths` as plain strings (what the transaction's system calls take).
    Plain strings and ``os.path`` here: pathlib objects would cost more than the checks."""
    real_root = _real_root(str(root))
    real_dirs: dict[str, str] = {"": real_root}

    def real_dir(rel_dir: str) -> str:
        real = real_dirs.get(rel_dir)
        if real is None:
            head, _, name = rel_dir.rpartition("/")
            parent = real_dir(head)
            if name == "..":
                real = os.path.dirname(parent)  # noqa: PTH120
            else:
                joined = f"{parent}/{name}"
                real = os.path.realpath(joined) if os.path.islink(joined) else joined  # noqa: PTH114
            real_dirs[rel_dir] = real
        return real

    inside = real_root + os.sep
    base = str(root).rstrip("/")  # "" for the file system's root
    paths = []
    for rel in rels:
        text = str(rel)
        head, _, name = text.rpartition("/")
        if text.startswith("/") or name in ("", ".", ".."):
            paths.append(str(repo_path(root, rel)))
            continue
        parent = real_dir(head)
        if not (parent == real_root or parent.startswith(inside)) or os.path.islink(  # noqa: PTH114
            f"{parent}/{name}"
        ):
            repo_path(root, rel)  # the full check: refuses, naming the file
        paths.append(f"{base}/{text}")
    return paths


def cache_dir() -> Path:
    """netpol's cache (compiled schema and templates): ``$XDG_CACHE_HOME/netpol``."""
    return _cache_dir(os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME"))


@cache
def _cache_dir(xdg_cache_home: str | None, home: str | None) -> Path:
    """Per environment: asked for thousands of times in a large run."""
    base = xdg_cache_home or str(Path.home() / ".cache")
    return Path(base) / "netpol"


def relpath(root: Path, path: Path) -> PurePosixPath:
    """``path`` relative to ``root`` as a POSIX path (for messages, plans and JSON)."""
    return PurePosixPath(Path(os.path.relpath(path, root)).as_posix())


KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def find_kustomization(directory: Path) -> Path | None:
    """The kustomization file of ``directory`` (kustomize accepts three names)."""
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None
