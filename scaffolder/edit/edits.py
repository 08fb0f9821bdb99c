"""Kustomization edits as plans: the bridge between the text editor and :class:`Plan`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from scaffolder.core.errors import RepoError
from scaffolder.core.fs import find_kustomization, relpath
from scaffolder.core.yamlio import read_text
from scaffolder.edit.kustomization import Op, check_target, edit_text
from scaffolder.edit.plan import FileChange, Plan
from scaffolder.repo.config import CONFIG_FILE
from scaffolder.repo.repository import find_root


def resolve_kustomization(file: Path) -> Path:
    """A kustomization file given itself or its directory."""
    if file.is_dir():
        found = find_kustomization(file)
        if found is None:
            raise RepoError(
                f"{file}: a directory without kustomization.yaml, kustomization.yml or Kustomization",
                hint="give a kustomization file or its directory",
            )
        return found
    if not file.exists():
        raise RepoError(f"{file}: no such file", hint="give a kustomization.yaml or its directory")
    if not file.is_file():
        raise RepoError(f"{file}: not a regular file", hint="give a kustomization.yaml")
    return file


def repository_root(directory: Path) -> Path | None:
    """The repository holding ``directory``: the nearest directory upward with
    ``netpol.yaml``, else with ``.git``; None when there is neither."""
    root = find_root(directory)
    return root if (root / CONFIG_FILE).is_file() or (root / ".git").exists() else None


def plan_kustomization_edit(file: Path, ops: Sequence[Op]) -> tuple[Plan, Path]:
    """Plan the edits of one kustomization file given on the command line.

    Each added local entry must be one ``kustomize build`` accepts and stay inside the
    repository (:func:`~scaffolder.edit.kustomization.check_target`)."""
    path = resolve_kustomization(file)
    root = path.parent.resolve()
    plan = Plan()
    rel = relpath(root, path.resolve())
    repo = repository_root(root)

    def check(op: Op) -> None:
        check_target(op, root / rel, repo)

    messages = add_text_edit(
        plan, root, rel, ops, reason="netpol edit", check=check, source=str(path)
    )
    plan.notes.extend(f"{rel}: {m}" for m in messages)
    return plan, root


def add_text_edit(
    plan: Plan,
    root: Path,
    rel: PurePosixPath,
    ops: Sequence[Op],
    *,
    reason: str,
    check: Callable[[Op], None] | None = None,
    source: str | None = None,
) -> list[str]:
    """Apply ``ops`` to the (possibly already planned) content of ``rel``; returns messages.
    ``check`` vets each entry actually added (see :func:`~scaffolder.edit.kustomization.edit_text`);
    ``source`` names the file in messages (default: ``rel``)."""
    path = root / rel
    pending = plan.pending(rel)
    original = read_text(path) if path.exists() else None
    current = pending.decode("utf-8") if pending is not None else original
    if current is None:
        raise RepoError(f"{rel}: no such file")
    result = edit_text(current, ops, source=source or str(rel), check=check)
    if result.changed:
        old = original.encode("utf-8") if original is not None else None
        plan.add(FileChange(rel, old, result.text.encode("utf-8"), reason))
    return list(result.messages)
