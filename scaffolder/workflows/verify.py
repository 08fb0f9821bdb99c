"""``--verify``: prove a plan keeps every touched kustomization buildable, before writing it.

The repository is copied to a scratch directory (without ``.git``), the plan is applied
there and ``kubectl kustomize`` builds every directory whose kustomization the plan touches
(and each namespace directory). Only if all build does the real repository get written.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from scaffolder.core.errors import NetpolError
from scaffolder.core.fs import KUSTOMIZATION_NAMES
from scaffolder.edit.plan import Plan


def kubectl_available() -> bool:
    return shutil.which("kubectl") is not None


def build(directory: Path) -> str | None:
    """Run ``kubectl kustomize``; returns the error text, or None on success."""
    proc = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if proc.returncode == 0:
        return None
    return (
        (proc.stderr or proc.stdout).strip().splitlines()[-1]
        if (proc.stderr or proc.stdout).strip()
        else "failed"
    )


def verify_plan(
    root: Path, plan: Plan, extra_dirs: Iterable[PurePosixPath] = ()
) -> list[PurePosixPath]:
    """Apply ``plan`` to a copy of ``root`` and build the touched kustomizations there."""
    if not kubectl_available():
        raise NetpolError("--verify needs kubectl on PATH", hint="install kubectl or drop --verify")
    dirs = {c.path.parent for c in plan.effective if c.path.name in KUSTOMIZATION_NAMES}
    dirs.update(extra_dirs)
    with tempfile.TemporaryDirectory(prefix="netpol-verify-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        plan.apply(copy)
        for directory in sorted(dirs):
            error = build(copy / directory)
            if error:
                raise NetpolError(
                    f"kubectl kustomize {directory} fails after the change: {error}",
                    hint="nothing was written",
                )
    return sorted(dirs)
