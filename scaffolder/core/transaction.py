"""All-or-nothing application of file changes: stage, sync, commit, or roll back.

A plan lands in four steps, so the repository ends up exactly as before or exactly as
planned, never half-way:

1. **stage**: each new content is written to a temporary file beside its target (same
   directory, so the final rename is atomic) carrying the target's mode; each file that will be
   replaced or deleted gets a backup: its bytes in memory when the plan read them (a replaced
   file whose size still matches), else a hard link to its inode (else its bytes, read now);
   missing directories are created and remembered.
2. **sync**: one file-system flush (``syncfs``) makes every staged byte durable before any
   rename, so a crash never leaves a renamed-but-empty file (one flush, not one ``fsync`` per
   file: that made writing 10,000 files take seconds).
3. **commit**: with SIGINT, SIGTERM and SIGHUP blocked, every staged file is renamed onto its
   target and every deletion unlinked; then the backups are dropped.
4. Any error or interruption before the commit is complete **rolls back**: renamed targets get
   their backups back, created files and directories go, staged files are removed.

SIGTERM and SIGHUP interrupt like Ctrl-C while a transaction runs (unless they are ignored or
handled already). A signal arriving during the commit is held until the commit is done.

Every temporary name is ``.<name>.<token>.netpol-tmp`` (:data:`~.fsutil.TEMP_SUFFIX`); a
killed run's leftovers in the directories a transaction touches are removed before staging.
"""

# Plain strings and os calls, not pathlib: 10,000 files over, the objects cost more than the calls.
# ruff: noqa: PTH105, PTH108, PTH116, PTH120, PTH123

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import NetpolError
from scaffolder.core.fs import (
    TEMP_SUFFIX,
    current_umask,
    describe_os_error,
    relpath,
    repo_path_strings,
)

_HELD = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_AS_INTERRUPT = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
#: Staging threads for plans of at least ``PARALLEL_FROM`` files per thread.
_THREADS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)
PARALLEL_FROM = 256
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


@dataclass(slots=True)
class _Entry:
    """One file of the transaction and everything needed to undo it."""

    index: int
    rel: PurePosixPath
    target: str
    new: bytes | None
    old: bytes | None  # the bytes the plan read from the target, if any
    temp: _Staged | None = None  # staged new content
    backup: str | None = None  # hard link to the inode the target had
    saved: tuple[bytes, os.stat_result] | None = None  # (bytes, status) kept in memory
    existed: bool = False
    committed: bool = False


class _Staged(str):
    """A temporary file's path: a plain string for the system calls (pathlib objects cost more
    than the calls, 10,000 files over), which also answers ``.name`` like a path."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self.rpartition("/")[2]


def apply_changes(root: Path, changes: Iterable[tuple[PurePosixPath, bytes | None]]) -> None:
    """Write ``(path, new bytes)`` pairs (``None`` deletes) under ``root``, all or nothing.

    Raises :class:`NetpolError` naming the file and the cause (``disk full``, ``file too
    large``...) after rolling back; re-raises ``KeyboardInterrupt`` after rolling back.
    """
    pairs = list(changes)
    paths = repo_path_strings(root, [rel for rel, _ in pairs])
    apply_resolved(
        root, [(r, path, new, None) for (r, new), path in zip(pairs, paths, strict=True)]
    )


def apply_resolved(
    root: Path, changes: Iterable[tuple[PurePosixPath, str, bytes | None, bytes | None]]
) -> None:
    """:func:`apply_changes` for ``(path, absolute path, new bytes, old bytes)`` whose absolute
    paths :func:`~.fsutil.repo_path_strings` has checked. ``old``: what the plan read from the
    file (``None`` if unknown); kept in memory as the rollback copy while the file still has
    that size, which saves a hard link and its removal per replaced file."""
    entries = [_Entry(i, rel, path, new, old) for i, (rel, path, new, old) in enumerate(changes)]
    if entries:
        _Transaction(root, entries).run()


def sweep_leftovers(directories: Iterable[str]) -> list[str]:
    """Remove the ``.*.netpol-tmp`` files a killed run left in ``directories``; returns the
    directories that do not exist."""
    missing = []
    for directory in directories:
        try:
            scan = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            missing.append(directory)
            continue
        except OSError:
            continue
        with scan:
            for item in scan:
                name = item.name
                if name.endswith(TEMP_SUFFIX) and name.startswith("."):
                    with contextlib.suppress(OSError):
                        if item.is_file(follow_symlinks=False):
                            os.unlink(item.path)
    return missing


class _Transaction:
    def __init__(self, root: Path, entries: list[_Entry]) -> None:
        self.root = root
        self.entries = entries
        self.created: list[Path] = []  # directories made, parents first
        self.devices: set[int] = set()  # file systems holding staged files
        self.directory_devices: dict[str, int] = {}  # device of each staging directory
        self.doing = f"write {entries[0].rel}"  # what failed, for the error message
        self.done = False
        self.token = os.urandom(4).hex()
        self.umask = current_umask()

    def run(self) -> None:
        with _signals_interrupt():
            try:
                directories = dict.fromkeys(os.path.dirname(e.target) for e in self.entries)
                self._make_directories(sweep_leftovers(directories))
                self._stage()
                self.doing = "flush the staged files to disk"
                _flush(self.root, self.devices)
                with _signals_held():
                    try:
                        self._commit()
                    except BaseException:
                        self._roll_back()
                        raise
                    self._drop_backups()
                    self.done = True
            except BaseException as exc:
                if self.done:  # a signal held during the commit: the tree is complete
                    raise
                with _signals_held():
                    failed = self._roll_back()
                error = self._error(exc, failed)
                if error is exc:
                    raise
                raise error from exc

    # ------------------------------------------------------------------ steps
    def _temp_name(self, entry: _Entry, kind: str) -> _Staged:
        """``.<name>.<token><entry><kind>.netpol-tmp``: unique without shared state, so
        threads can stage side by side."""
        directory, _, name = entry.target.rpartition("/")
        return _Staged(f"{directory}/.{name[:200]}.{self.token}{entry.index:x}{kind}{TEMP_SUFFIX}")

    def _each(self, step: Callable[[_Entry], None]) -> None:
        """``step`` for every entry, on a few threads for a large plan (creating and removing
        files is kernel work that runs side by side). The first failure stops the others and
        is raised here, once they are all done."""
        entries = self.entries
        jobs = min(_THREADS, len(entries) // PARALLEL_FROM)
        if jobs <= 1:
            for entry in entries:
                self.doing = _doing(entry)
                step(entry)
            return
        stop = threading.Event()
        failures: list[tuple[_Entry, BaseException]] = []

        def work(chunk: list[_Entry]) -> None:
            for entry in chunk:
                if stop.is_set():
                    return
                try:
                    step(entry)
                except BaseException as exc:
                    failures.append((entry, exc))
                    stop.set()
                    return

        threads = [
            threading.Thread(target=work, args=(entries[j::jobs],), daemon=True)
            for j in range(jobs)
        ]
        with _signals_held():  # the threads inherit the mask: signals go to this thread
            for thread in threads:
                thread.start()
        try:
            for thread in threads:
                thread.join()
        finally:  # Ctrl-C lands here: let the threads finish their file, then roll back
            stop.set()
            with _signals_held():
                for thread in threads:
                    thread.join()
        if failures:
            entry, exc = failures[0]
            self.doing = _doing(entry)
            raise exc

    def _make_directories(self, missing: list[str]) -> None:
        """Create the missing parent directories of files to write, remembering each."""
        needed = {os.path.dirname(e.target) for e in self.entries if e.new is not None}
        for name in missing:
            if name not in needed:
                continue
            chain = [Path(name)]
            while not chain[-1].parent.is_dir() and chain[-1].parent != self.root:
                chain.append(chain[-1].parent)
            for item in reversed(chain):
                if item.is_dir():  # made for an earlier entry
                    continue
                self.doing = f"create directory {relpath(self.root, item)}"
                self.created.append(item)  # first: an interrupt must not leak it
                item.mkdir()

    def _stage(self) -> None:
        self._each(self._stage_one)

    def _stage_one(self, entry: _Entry) -> None:
        try:
            found = os.lstat(entry.target)
        except FileNotFoundError:
            info = None
        else:
            entry.existed = True
            info = found if not stat.S_ISLNK(found.st_mode) else _stat(entry.target)
            self._back_up(entry, found, info)
        if entry.new is not None:
            self._write_temp(entry, info)

    def _back_up(self, entry: _Entry, found: os.stat_result, info: os.stat_result) -> None:
        """Keep a way back to the file as it is: the plan's bytes when they are still its
        size (a regular file being replaced), else a hard link to its inode."""
        old = entry.old
        if (
            old is not None
            and entry.new is not None
            and stat.S_ISREG(found.st_mode)
            and found.st_size == len(old)
        ):
            entry.saved = (old, found)
            return
        backup = self._temp_name(entry, "b")
        entry.backup = backup
        try:
            os.link(entry.target, backup, follow_symlinks=False)
        except (OSError, NotImplementedError):
            entry.backup = None
            with open(entry.target, "rb") as file:
                entry.saved = (file.read(), info)

    def _write_temp(self, entry: _Entry, info: os.stat_result | None) -> None:
        assert entry.new is not None
        temp = self._temp_name(entry, "n")
        entry.temp = temp  # before creating it: an interrupt must not leak it
        _write_new(temp, entry.new, info, None, self.umask)
        # the temp file lives in the target's directory: that directory's file system
        directory = temp.rpartition("/")[0]
        device = self.directory_devices.get(directory)
        if device is None:
            device = info.st_dev if info is not None else os.stat(directory).st_dev
            self.directory_devices[directory] = device
            self.devices.add(device)

    def _commit(self) -> None:
        replace, unlink = os.replace, os.unlink
        for entry in self.entries:
            if entry.temp is not None:
                self.doing = f"write {entry.rel}"
                replace(entry.temp, entry.target)
                entry.temp = None
            elif entry.existed:
                self.doing = f"delete {entry.rel}"
                unlink(entry.target)
            entry.committed = True

    def _drop_backups(self) -> None:
        for entry in self.entries:
            if entry.backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(entry.backup)
                entry.backup = None
            entry.saved = None

    def _roll_back(self) -> list[PurePosixPath]:
        """Undo everything done so far (idempotent); returns the paths that could not be."""
        failed: list[PurePosixPath] = []
        for entry in reversed(self.entries):
            try:
                if entry.committed:
                    if entry.backup is not None:
                        os.replace(entry.backup, entry.target)
                        entry.backup = None
                    elif entry.saved is not None:
                        data, info = entry.saved
                        temp = self._temp_name(entry, "r")
                        entry.temp = temp
                        _unlink(temp)  # from an earlier, failed attempt
                        _write_new(temp, data, info, None, self.umask)
                        os.replace(temp, entry.target)
                        entry.temp = None
                    elif not entry.existed:
                        _unlink(entry.target)
                    entry.committed = False
                for leftover in (entry.temp, entry.backup):
                    if leftover is not None:
                        _unlink(leftover)
                entry.temp = entry.backup = None
            except OSError:
                failed.append(entry.rel)
        for directory in reversed(self.created):
            with contextlib.suppress(OSError):
                directory.rmdir()
        self.created.clear()
        return failed

    def _error(self, exc: BaseException, failed: list[PurePosixPath]) -> BaseException:
        if isinstance(exc, OSError):
            what, hint = describe_os_error(exc)
            cause = f"cannot {self.doing}: {what}"
        elif not failed:
            return exc  # KeyboardInterrupt or a bug: rolled back, let it through
        else:
            cause, hint = "interrupted", ""
        if failed:
            shown = ", ".join(str(p) for p in failed[:3]) + (" ..." if len(failed) > 3 else "")
            return NetpolError(
                f"{cause}; could not roll back {shown}",
                hint="the tree is partly written: see git status, restore with git checkout",
            )
        return NetpolError(f"{cause}; nothing was written", hint=hint)


def _doing(entry: _Entry) -> str:
    return f"{'write' if entry.new is not None else 'delete'} {entry.rel}"


def _stat(path: str) -> os.stat_result:
    """The status of the file the symlink ``path`` points to, or of the symlink if dangling."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return os.lstat(path)  # a dangling symlink: still there, still to back up


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _write_new(
    path: str, data: bytes, like: os.stat_result | None, mode: int | None = None, umask: int = -1
) -> None:
    """Create ``path`` (it must not exist) holding ``data``, with the mode and owner of ``like``
    (else ``mode``, else the umask's default). ``umask``: the process's, if known (a mode it
    leaves alone is given to ``open``, saving a ``chmod``). No fsync: :func:`_flush` does it
    for all."""
    chown = False
    if like is not None:
        mode = stat.S_IMODE(like.st_mode)
        chown = (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid())
    if mode is not None and not chown and umask >= 0 and mode & ~umask == mode:
        fd = os.open(path, _OPEN_FLAGS, mode)
        mode = None
    else:
        fd = os.open(path, _OPEN_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if chown:
            assert like is not None
            with contextlib.suppress(OSError):
                os.fchown(fd, like.st_uid, like.st_gid)
        if mode is not None:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _flush(root: Path, devices: set[int]) -> None:
    """Make every staged byte durable before the renames: one flush for the whole batch.

    ``syncfs`` flushes only the repository's file system (a hung network mount elsewhere
    cannot stall netpol); ``os.sync`` is the fallback, and the choice when the staged files
    span several file systems (``devices``).
    """
    fd = os.open(root, os.O_RDONLY)
    try:
        if devices <= {os.fstat(fd).st_dev} and _syncfs(fd):
            return
    finally:
        os.close(fd)
    os.sync()


def _syncfs(fd: int) -> bool:
    """``syncfs(fd)``; False where it does not exist, OSError when writing back failed."""
    try:
        import ctypes

        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (ImportError, OSError, AttributeError):  # pragma: no cover - not Linux
        return False
    if syncfs(fd) == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.ENOSYS:  # pragma: no cover - very old kernels
        return False
    raise OSError(code, os.strerror(code))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP until the block ends (they are delivered then)."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``KeyboardInterrupt`` (so the transaction rolls back), unless
    something else already handles or ignores them (``nohup``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    replaced = []
    for signum in _AS_INTERRUPT:
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _interrupt)
            replaced.append(signum)
    try:
        yield
    finally:
        for signum in replaced:
            signal.signal(signum, signal.SIG_DFL)
