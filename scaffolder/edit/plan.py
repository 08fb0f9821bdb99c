"""Edits expressed as data: a :class:`Plan` is a list of file changes.

Every command that writes builds a plan first. The same plan is then *applied*
(all or nothing, see :mod:`.transaction`), *shown* as a unified diff (``--dry-run``), serialised to JSON
(``--json``) or, later, committed to a branch. There is no separate dry-run code path.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import NetpolError
from scaffolder.core.fs import describe_os_error, repo_path, repo_path_strings
from scaffolder.core.transaction import apply_resolved


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class FileChange:
    """One file's change. ``path`` is relative to the repository root."""

    path: PurePosixPath
    old: bytes | None
    new: bytes | None
    reason: str = ""

    @property
    def action(self) -> Action:
        if self.old is None:
            return Action.CREATE
        if self.new is None:
            return Action.DELETE
        return Action.UPDATE

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def diff(self) -> str:
        """Unified diff in git style (``a/`` and ``b/`` prefixes, ``/dev/null`` for new files)."""
        old = _lines(self.old)
        new = _lines(self.new)
        fromfile = f"a/{self.path}" if self.old is not None else "/dev/null"
        tofile = f"b/{self.path}" if self.new is not None else "/dev/null"
        out = []
        for line in difflib.unified_diff(old, new, fromfile, tofile, lineterm=""):
            if line.endswith("\n"):
                out.append(line)
            elif line.startswith(("---", "+++", "@@")):
                out.append(line + "\n")
            else:
                out.append(line + "\n\\ No newline at end of file\n")
        return "".join(out)


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    text = data.decode("utf-8", errors="replace")
    return text.splitlines(keepends=True)


def _existing_parent(path: str) -> str:
    """The nearest existing directory above ``path`` (an absolute path)."""
    parent = path.rpartition("/")[0] or "/"
    while parent != "/" and not os.path.exists(parent):  # noqa: PTH110
        parent = parent.rpartition("/")[0] or "/"
    return parent


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Plan:
    """An ordered set of file changes plus notes for the user."""

    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _index: dict[PurePosixPath, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {c.path: i for i, c in enumerate(self.changes)}

    def add(self, change: FileChange) -> None:
        """Add a change; a later change to the same path supersedes the earlier one's ``new``."""
        i = self._index.get(change.path)
        if i is not None:
            existing = self.changes[i]
            self.changes[i] = FileChange(
                existing.path, existing.old, change.new, change.reason or existing.reason
            )
            return
        self._index[change.path] = len(self.changes)
        self.changes.append(change)

    def write(self, root: Path, rel: PurePosixPath, new: bytes, reason: str) -> None:
        """Plan ``rel`` to hold ``new``; a no-op when the file already holds exactly that."""
        path = repo_path(root, rel)
        try:
            on_disk = path.read_bytes() if path.exists() else None
        except OSError as exc:
            what, hint = describe_os_error(exc)
            raise NetpolError(f"cannot read {rel}: {what}", hint=hint) from exc
        pending = self.pending(rel)
        if (pending if pending is not None else on_disk) != new:
            self.add(FileChange(rel, on_disk, new, reason))

    def pending(self, rel: PurePosixPath) -> bytes | None:
        """The content a file will have after the plan, if the plan touches it."""
        i = self._index.get(rel)
        return self.changes[i].new if i is not None else None

    def extend(self, other: Plan) -> None:
        for change in other.changes:
            self.add(change)
        self.notes.extend(other.notes)
        self.warnings.extend(other.warnings)

    @property
    def effective(self) -> list[FileChange]:
        return [c for c in self.changes if c.changed]

    def __iter__(self) -> Iterator[FileChange]:
        return iter(self.effective)

    def __bool__(self) -> bool:
        return bool(self.effective)

    def diff(self) -> str:
        return "".join(c.diff() for c in self.effective)

    def preflight(self, root: Path, paths: list[str] | None = None) -> None:
        """Refuse up front if a file or its directory is not writable (a read-only file is the
        user saying "do not touch"), before anything is staged. ``paths``: the effective
        changes' :func:`~.fsutil.repo_path_strings`, if already known."""
        changes = self.effective
        if paths is None:
            paths = repo_path_strings(root, [c.path for c in changes])
        # per directory: a plan has thousands of files in a few thousand directories
        writable: dict[str, bool] = {}
        nearest: dict[str, str] = {}  # a missing directory's nearest existing ancestor
        access, lexists, dirname, W_OK = os.access, os.path.lexists, os.path.dirname, os.W_OK
        for change, path in zip(changes, paths, strict=True):
            directory: str | None
            if access(path, W_OK):
                directory = dirname(path)
            elif lexists(path):
                directory = None
            else:  # a new file: its nearest existing directory must be writable
                parent = dirname(path)
                directory = nearest.get(parent)
                if directory is None:
                    directory = nearest[parent] = _existing_parent(path)
            if directory is not None and directory not in writable:
                writable[directory] = access(directory, W_OK)
            if directory is None or not writable[directory]:
                what, hint = describe_os_error(PermissionError(errno.EACCES, "denied"))
                raise NetpolError(
                    f"cannot write {change.path}: {what}; nothing was written", hint=hint
                )

    def apply(self, root: Path) -> list[PurePosixPath]:
        """Write every change, all or nothing (see :mod:`.transaction`); returns the paths.

        On any error or interruption the tree is left exactly as it was.
        """
        changes = self.effective
        paths = repo_path_strings(root, [c.path for c in changes])
        self.preflight(root, paths)
        apply_resolved(
            root, [(c.path, p, c.new, c.old) for c, p in zip(changes, paths, strict=True)]
        )
        return [c.path for c in changes]

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [
                {
                    "path": str(c.path),
                    "action": c.action.value,
                    "reason": c.reason,
                    "sha256": sha256(c.new) if c.new is not None else None,
                    "diff": c.diff(),
                }
                for c in self.effective
            ],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }
