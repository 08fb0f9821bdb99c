"""Kustomization edits as plans: the bridge between the text editor and :class:`Plan`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from .errors import RepoError
from .fsutil import relpath
from .kustomize_edit import Op, edit_text
from .plan import FileChange, Plan
from .repo import find_kustomization
from .yamlio import read_text


def resolve_kustomization(file: Path) -> Path:
    """A kustomization file given itself or its directory."""
    if file.is_dir():
        found = find_kustomization(file)
        if found is None:
            raise RepoError(f"{file}: no kustomization.yaml in this directory")
        return found
    if not file.exists():
        raise RepoError(f"{file}: no such file", hint="give a kustomization.yaml or its directory")
    return file


def plan_kustomization_edit(file: Path, ops: Sequence[Op]) -> tuple[Plan, Path]:
    """Plan the edits of one kustomization file given on the command line."""
    path = resolve_kustomization(file)
    root = path.parent.resolve()
    plan = Plan()
    rel = relpath(root, path.resolve())
    messages = add_text_edit(plan, root, rel, ops, reason="netpol edit")
    plan.notes.extend(f"{rel}: {m}" for m in messages)
    return plan, root


def add_text_edit(
    plan: Plan, root: Path, rel: PurePosixPath, ops: Sequence[Op], *, reason: str
) -> list[str]:
    """Apply ``ops`` to the (possibly already planned) content of ``rel``; returns messages."""
    path = root / rel
    pending = plan.pending(rel)
    original = read_text(path) if path.exists() else None
    current = pending.decode("utf-8") if pending is not None else original
    if current is None:
        raise RepoError(f"{rel}: no such file")
    result = edit_text(current, ops, source=str(rel))
    if result.changed:
        old = original.encode("utf-8") if original is not None else None
        plan.add(FileChange(rel, old, result.text.encode("utf-8"), reason))
    return list(result.messages)
