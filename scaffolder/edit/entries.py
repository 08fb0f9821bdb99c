"""Kustomization list entries: what one is (:class:`Op`, :func:`normalize_entry`) and
whether kustomize would accept it (:func:`check_entry` on its own, :func:`check_target`
against the tree: containment, load restrictor, missing targets, Component vs
Kustomization)."""

from __future__ import annotations

import os
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml

from scaffolder.core.errors import EditError, YamlError
from scaffolder.core.fs import find_kustomization
from scaffolder.core.yamlio import read_text

Key = Literal["components", "resources"]
KEYS: tuple[Key, ...] = ("components", "resources")
_KUSTOMIZE_KINDS = {"Kustomization", "Component"}


@dataclass(frozen=True)
class Op:
    """One requested edit of a kustomization list."""

    action: Literal["add", "remove"]
    key: Key
    entry: str


def normalize_entry(entry: str) -> str:
    """The comparable form of a path entry: ``./../../x/`` -> ``../../x``."""
    entry = entry.strip()
    if "://" in entry:  # remote resources (https://..., git::...) compare verbatim
        return entry.rstrip("/")
    return posixpath.normpath(entry) if entry else entry


def relative_entry(kustomization: Path, target: Path) -> str:
    """``target`` relative to the kustomization's directory, as kustomize wants it."""
    return Path(posixpath.relpath(target.as_posix(), kustomization.parent.as_posix())).as_posix()


# --------------------------------------------------------------------------- entry checks

# A URL scheme (https://, ssh://, oci://, file://), git@host:..., git::..., a well-known git
# host, or kustomize's remote query parameters: kustomize fetches these, netpol keeps them.
_REMOTE = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@|git::|(?:github\.com|gitlab\.com|bitbucket\.org)/)"
    r"|[?&](?:ref|version|timeout|submodules)="
)
_LINE_BREAKS = {"\n", "\r", "\x85", "\u2028", "\u2029"}


def is_remote(entry: str) -> bool:
    """Whether ``entry`` is a remote reference (URL, git repository, OCI artifact)."""
    return _REMOTE.search(entry) is not None


def check_entry(op: Op) -> None:
    """Refuse an entry that cannot be one list item of a kustomization.

    Added entries must be non-empty and one line: no line break, no control character
    (tab included), no leading or trailing whitespace, and no ``#`` that YAML would read
    as a comment (at the start, or after whitespace). Anything else that YAML would
    re-interpret (``null``, ``*x``, ``[a]``, ``a: b``...) is quoted when written. A removed
    entry only has to be non-empty."""
    entry = op.entry
    what = f"cannot {op.action} {entry!r} {'to' if op.action == 'add' else 'from'} {op.key}"
    if not entry.strip():
        raise EditError(f"{what}: the entry is {'empty' if not entry else 'only whitespace'}")
    if op.action == "remove":
        return
    if any(c in _LINE_BREAKS for c in entry):
        raise EditError(f"{what}: it contains a line break; an entry is one line")
    for c in entry:
        if unicodedata.category(c) == "Cc" or c == "\ufeff":
            raise EditError(f"{what}: it contains the control character U+{ord(c):04X}")
        if unicodedata.category(c) == "Cs" or c in "\ufffe\uffff":  # e.g. undecodable bytes
            raise EditError(f"{what}: it contains U+{ord(c):04X}, which YAML text cannot hold")
    if entry != entry.strip():
        raise EditError(f"{what}: it has leading or trailing whitespace")
    if entry.startswith("#") or re.search(r"\s#", entry):
        raise EditError(f"{what}: a '#' at its start or after a space starts a YAML comment")


def check_target(op: Op, kustomization: Path, repo_root: Path | None) -> None:
    """Refuse a local entry that ``kustomize build`` would refuse, or that leaves the repository.

    kustomize resolves an entry against the kustomization's directory (lexically, then
    symlinks) and, with its default load restrictor ``LoadRestrictionsRootOnly``, refuses
    *files* outside that directory while *directories* (other kustomizations, components)
    may be anywhere. So, for an added entry that is not remote (:func:`is_remote`):

    * an absolute path is refused (kustomize: "new root cannot be absolute");
    * with a repository root (``netpol.yaml`` or ``.git`` above), a path leaving it,
      lexically or through a symlink, is refused: Flux builds from the repository alone;
    * it must exist;
    * a file is a resource only (components are directories) and must be in or below the
      kustomization's directory, after symlinks;
    * a directory must not be the kustomization's own or a parent (kustomize: "cycle
      detected"), must hold a kustomization file, and its kind must fit the key:
      ``Component`` under ``components:``, anything else under ``resources:``.
    """
    entry = op.entry
    if op.action != "add" or is_remote(entry):
        return
    what = f"cannot add {entry!r} to {op.key}"
    if entry.startswith("/") or Path(entry).is_absolute():
        raise EditError(
            f"{what}: an absolute path; kustomize refuses them (give it relative to {kustomization.name})"
        )
    base = Path(os.path.realpath(kustomization.parent))
    lexical = Path(os.path.normpath(base / entry))
    real = Path(os.path.realpath(lexical))
    if repo_root is not None:
        root = Path(os.path.realpath(repo_root))
        if _climbs_out(base, entry, root) or not lexical.is_relative_to(root):
            # Even `../../../home-ops/x` back in: Flux's checkout has another directory name.
            raise EditError(f"{what}: its '..' leave the repository {root} (resolves to {lexical})")
        if not real.is_relative_to(root):
            raise EditError(
                f"{what}: it leaves the repository {root} through a symlink (resolves to {real})"
            )
    try:
        _check_local(op, what, kustomization, base, real)
    except OSError as exc:
        raise EditError(f"{what}: cannot inspect {real} ({exc.strerror or exc})") from exc


def _check_local(op: Op, what: str, kustomization: Path, base: Path, real: Path) -> None:
    """The kustomize rules of :func:`check_target` on the resolved ``real`` target."""
    if not real.exists():
        raise EditError(f"{what}: {real} does not exist, so kustomize could not build this")
    if real.is_file():
        if op.key == "components":
            raise EditError(
                f"{what}: it is a file; a component is a directory with a kustomization of kind Component"
            )
        if not real.is_relative_to(base):
            raise EditError(
                f"{what}: {real} is a file outside the kustomization's directory {base}; "
                "kustomize's default load restrictor (LoadRestrictionsRootOnly) refuses it "
                "(reference a directory with its own kustomization instead)"
            )
        if real == Path(os.path.realpath(kustomization)):
            raise EditError(f"{what}: it is this kustomization file itself")
        return
    if not real.is_dir():
        raise EditError(f"{what}: {real} is neither a file nor a directory")
    if base.is_relative_to(real):
        raise EditError(
            f"{what}: {real} is this kustomization's own directory or a parent of it; "
            "kustomize refuses the cycle"
        )
    target = find_kustomization(real)
    if target is None:
        raise EditError(
            f"{what}: the directory {real} has no kustomization.yaml, kustomization.yml or "
            "Kustomization, so kustomize could not build it"
        )
    kind = _kind_of(target)
    if kind is None:
        return
    if op.key == "components" and kind != "Component":
        raise EditError(
            f"{what}: {target} is a {kind}; components: takes kind Component "
            "(add it under resources:)"
        )
    if op.key == "resources" and kind == "Component":
        raise EditError(f"{what}: {target} is a Component; add it under components:")


def _climbs_out(base: Path, entry: str, root: Path) -> bool:
    """Whether ``entry``, walked from ``base`` part by part, ever goes above ``root``."""
    if not base.is_relative_to(root):
        return True
    depth = len(base.relative_to(root).parts)
    for part in PurePosixPath(entry).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def _kind_of(path: Path) -> str | None:
    """The kind of a kustomization file (kustomize's default: Kustomization); None if unreadable."""
    try:
        for doc in yaml.load_all(read_text(path), Loader=yaml.CSafeLoader):
            if isinstance(doc, dict):
                kind = doc.get("kind", "Kustomization")
                return kind if isinstance(kind, str) else None
            return None
    except (yaml.YAMLError, YamlError):
        return None
    return None
