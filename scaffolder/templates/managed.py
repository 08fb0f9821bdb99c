"""Placing a template rendering into the repository, safely.

A *managed directory* is one netpol rendered: it holds the answers file with the
digest of every file as rendered. :func:`plan_rendering` compares a fresh rendering
with what is on disk and decides, file by file:

* missing on disk, or identical: create / nothing to do;
* on disk and still as netpol rendered it (digest matches): safe to update;
* on disk and edited by hand: a **conflict**. Without ``overwrite`` the whole plan is
  refused (nothing is written, no conflict markers are ever left in files).

A directory that holds a kustomization but no answers file was written by hand
(an *adopted* component): it is left byte-for-byte alone unless ``overwrite``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import ConflictError, RepoError
from scaffolder.core.fs import describe_os_error, find_kustomization, repo_path
from scaffolder.core.yamlio import read_text
from scaffolder.edit.plan import FileChange, Plan
from scaffolder.templates.render import ANSWERS_FILE, Rendering, read_recorded


@dataclass(frozen=True)
class ManagedState:
    """What a directory says about itself: recorded answers and digests, if managed."""

    directory: PurePosixPath
    managed: bool
    adopted: bool  # has a kustomization but no answers file: written by hand
    template: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)


def read_state(root: Path, directory: PurePosixPath) -> ManagedState:
    absolute = repo_path(root, directory)
    answers_path = absolute / ANSWERS_FILE
    if answers_path.is_file():
        recorded = read_recorded(read_text(answers_path), str(directory / ANSWERS_FILE))
        return ManagedState(
            directory, True, False, recorded.template, recorded.answers, recorded.digests
        )
    adopted = absolute.is_dir() and find_kustomization(absolute) is not None
    return ManagedState(directory, False, adopted)


def managed_directories(root: Path, under: PurePosixPath) -> list[PurePosixPath]:
    """The directories below ``under`` (itself included) that hold an answers file, as
    ``Path.rglob`` finds them: symlinked directories are not entered."""
    found = []
    stack = [(str(root / under), under)]
    while stack:
        absolute, rel = stack.pop()
        try:
            entries = os.scandir(absolute)
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.name == ANSWERS_FILE and Path(entry.path).exists():
                    found.append(rel)
                try:
                    if entry.is_dir() and not entry.is_symlink():
                        stack.append((entry.path, rel / entry.name))
                except OSError:
                    continue
    return found


@dataclass
class RenderOutcome:
    plan: Plan
    conflicts: list[PurePosixPath]
    adopted: bool = False
    # Rendered files (relative to the directory) already on disk byte for byte, with that
    # content's digest recorded: netpol wrote them, and checked them when it did.
    as_recorded: frozenset[PurePosixPath] = frozenset()


def plan_rendering(
    root: Path,
    directory: PurePosixPath,
    rendering: Rendering,
    *,
    overwrite: bool = False,
    reason: str = "",
    state: ManagedState | None = None,
    adopt: bool = True,
) -> RenderOutcome:
    """Plan writing ``rendering`` into ``directory`` (repo-relative).

    ``adopt`` applies to component directories: one with a hand-made kustomization is left
    alone. Per-app overlays share the app's directory, so they pass ``adopt=False``.
    """
    state = state or read_state(root, directory)
    plan = Plan()
    if adopt and state.adopted and not overwrite:
        plan.notes.append(
            f"{directory}: not template-managed (no {ANSWERS_FILE}); left untouched "
            "('netpol upgrade --overwrite' takes it over)"
        )
        return RenderOutcome(plan, [], adopted=True)
    conflicts: list[PurePosixPath] = []
    as_recorded: set[PurePosixPath] = set()
    base = repo_path(root, directory)  # resolved once: rendered names are plain file names
    why = reason or f"render {rendering.template}"
    for rel, new in sorted(rendering.files.items()):
        target = directory / rel
        path = base / rel
        if path.is_symlink():
            repo_path(root, target)  # a symlinked file must not lead outside the repository
        old = _read(path, target)
        recorded = state.digests.get(str(rel))
        if old == new:
            if recorded is not None and hashlib.sha256(new).hexdigest() == recorded:
                as_recorded.add(rel)
            continue
        untouched = (
            old is None
            or rel.name == ANSWERS_FILE
            or (recorded is not None and hashlib.sha256(old).hexdigest() == recorded)
        )
        if untouched or overwrite:
            plan.add(FileChange(target, old, new, why))
        else:
            conflicts.append(target)
    rendered = {str(rel) for rel in rendering.files}
    for stale, digest in sorted(state.digests.items()):
        if stale in rendered:
            continue
        target = directory / stale
        path = repo_path(root, target)
        if not path.exists():
            continue
        old = _read(path, target)
        if old is None:
            continue
        if hashlib.sha256(old).hexdigest() == digest or overwrite:
            plan.add(FileChange(target, old, None, f"no longer rendered by {rendering.template}"))
        else:
            conflicts.append(target)
    return RenderOutcome(plan, conflicts, as_recorded=frozenset(as_recorded))


def _read(path: Path, target: PurePosixPath) -> bytes | None:
    """A rendered file's current bytes (``None`` when absent); what is in the way is an error."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError as exc:
        raise RepoError(
            f"{target} is a directory; netpol renders a file there",
            hint="move the directory away, then rerun",
        ) from exc
    except OSError as exc:
        what, fix = describe_os_error(exc)
        raise RepoError(f"cannot read {target}: {what}", hint=fix) from exc


def require_no_conflicts(outcome: RenderOutcome, *, command: str) -> None:
    """Refuse a plan with conflicts. ``command`` is the command line to rerun with --overwrite."""
    if outcome.conflicts:
        listed = ", ".join(str(c) for c in outcome.conflicts[:3])
        more = f" and {len(outcome.conflicts) - 3} more" if len(outcome.conflicts) > 3 else ""
        raise ConflictError(
            f"local edits in {listed}{more}: netpol will not overwrite them",
            hint=(
                f"'{command} --overwrite' replaces them with netpol's rendering; "
                f"keep lasting changes in {ANSWERS_FILE} or a separate file"
            ),
        )
