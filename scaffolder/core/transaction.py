"""All-or-nothing application of file changes: stage, sync, commit, or roll back.

A plan lands in four steps, so the repository ends up exactly as before or exactly as
planned, never half-way:

1. **stage**: each new content is written to a temporary file beside its target (same
   directory, so the final rename is atomic) carrying the target's mode; each file that will be
   replaced or deleted gets a backup, a hard link to its inode (its bytes in memory where links
   are impossible); missing directories are created and remembered.
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
from scaffolder.core.fs import TEMP_SUFFIX, describe_os_error, relpath, repo_paths

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
    target: Path
    new: bytes | None
    temp: Path | None = None  # staged new content
    backup: Path | None = None  # hard link to the inode the target had
    saved: tuple[bytes, int] | None = None  # (bytes, mode) where no link could be made
    existed: bool = False
    committed: bool = False


def apply_changes(root: Path, changes: Iterable[tuple[PurePosixPath, bytes | None]]) -> None:
    """Write ``(path, new bytes)`` pairs (``None`` deletes) under ``root``, all or nothing.

    Raises :class:`NetpolError` naming the file and the cause (``disk full``, ``file too
    large``...) after rolling back; re-raises ``KeyboardInterrupt`` after rolling back.
    """
    pairs = list(changes)
    paths = repo_paths(root, [rel for rel, _ in pairs])
    apply_resolved(root, [(r, path, new) for (r, new), path in zip(pairs, paths, strict=True)])


def apply_resolved(root: Path, changes: Iterable[tuple[PurePosixPath, Path, bytes | None]]) -> None:
    """:func:`apply_changes` for ``(path, absolute path, new bytes)`` whose absolute paths
    :func:`~.fsutil.repo_paths` has checked."""
    entries = [_Entry(i, rel, path, new) for i, (rel, path, new) in enumerate(changes)]
    if entries:
        _Transaction(root, entries).run()


def sweep_leftovers(directories: Iterable[Path]) -> list[Path]:
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
                            Path(item.path).unlink()
    return missing


class _Transaction:
    def __init__(self, root: Path, entries: list[_Entry]) -> None:
        self.root = root
        self.entries = entries
        self.created: list[Path] = []  # directories made, parents first
        self.devices: set[int] = set()  # file systems holding staged files
        self.doing = f"write {entries[0].rel}"  # what failed, for the error message
        self.done = False
        self.token = os.urandom(4).hex()

    def run(self) -> None:
        with _signals_interrupt():
            try:
                missing = sweep_leftovers(dict.fromkeys(e.target.parent for e in self.entries))
                self._make_directories(missing)
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
    def _temp_name(self, entry: _Entry, kind: str) -> Path:
        """``.<name>.<token><entry><kind>.netpol-tmp``: unique without shared state, so
        threads can stage side by side."""
        name = f".{entry.target.name[:200]}.{self.token}{entry.index:x}{kind}{TEMP_SUFFIX}"
        return entry.target.with_name(name)

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

    def _make_directories(self, missing: list[Path]) -> None:
        """Create the missing parent directories of files to write, remembering each."""
        needed = {e.target.parent for e in self.entries if e.new is not None}
        for directory in missing:
            if directory not in needed:
                continue
            chain = [directory]
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
        info = _stat(entry.target)
        if info is not None:
            entry.existed = True
            self._back_up(entry, info)
        if entry.new is not None:
            self._write_temp(entry, info)

    def _back_up(self, entry: _Entry, info: os.stat_result) -> None:
        backup = self._temp_name(entry, "b")
        entry.backup = backup
        try:
            os.link(entry.target, backup, follow_symlinks=False)
        except (OSError, NotImplementedError):
            entry.backup = None
            entry.saved = (entry.target.read_bytes(), stat.S_IMODE(info.st_mode))

    def _write_temp(self, entry: _Entry, info: os.stat_result | None) -> None:
        assert entry.new is not None
        temp = self._temp_name(entry, "n")
        entry.temp = temp  # before creating it: an interrupt must not leak it
        self.devices.add(_write_new(temp, entry.new, info))

    def _commit(self) -> None:
        for entry in self.entries:
            self.doing = _doing(entry)
            if entry.temp is not None:
                entry.temp.replace(entry.target)
                entry.temp = None
            elif entry.existed:
                entry.target.unlink()
            entry.committed = True

    def _drop_backups(self) -> None:
        self._each(self._drop_backup)

    @staticmethod
    def _drop_backup(entry: _Entry) -> None:
        if entry.backup is not None:
            with contextlib.suppress(OSError):
                entry.backup.unlink()
            entry.backup = None

    def _roll_back(self) -> list[PurePosixPath]:
        """Undo everything done so far (idempotent); returns the paths that could not be."""
        failed: list[PurePosixPath] = []
        for entry in reversed(self.entries):
            try:
                if entry.committed:
                    if entry.backup is not None:
                        entry.backup.replace(entry.target)
                        entry.backup = None
                    elif entry.saved is not None:
                        data, mode = entry.saved
                        temp = self._temp_name(entry, "r")
                        entry.temp = temp
                        temp.unlink(missing_ok=True)  # from an earlier, failed attempt
                        _write_new(temp, data, None, mode)
                        temp.replace(entry.target)
                        entry.temp = None
                    elif not entry.existed:
                        entry.target.unlink(missing_ok=True)
                    entry.committed = False
                for leftover in (entry.temp, entry.backup):
                    if leftover is not None:
                        leftover.unlink(missing_ok=True)
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


def _stat(path: Path) -> os.stat_result | None:
    """``path``'s status (of the file a symlink points to, if it can), or None if absent."""
    try:
        return path.stat()
    except FileNotFoundError:
        try:
            return path.lstat()  # a dangling symlink: still there, still to back up
        except FileNotFoundError:
            return None


def _write_new(
    path: Path, data: bytes, like: os.stat_result | None, mode: int | None = None
) -> int:
    """Create ``path`` (it must not exist) holding ``data``, with the mode and owner of ``like``
    (else ``mode``, else the umask's default); returns its file system's device number.
    No fsync: :func:`_flush` does it for all."""
    fd = os.open(path, _OPEN_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if like is not None:
            mode = stat.S_IMODE(like.st_mode)
            if (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):
                    os.fchown(fd, like.st_uid, like.st_gid)
        if mode is not None:
            os.fchmod(fd, mode)
        return os.fstat(fd).st_dev
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
