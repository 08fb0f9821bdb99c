"""Which directories of the apps directory are namespaces: the one lookup every command uses.

A namespace is a directory of the apps directory whose name is a DNS-1123 label and which
holds a kustomization. When the apps directory has a kustomization of its own that lists
its namespaces (``resources: [./media, ./network]``), only the listed ones are deployed:
a namespace left out of that list, or whose entry is commented out, is *dormant*. Dormant
namespaces and directories that cannot be namespaces (``_shared``, ``.templates``) are
reported with the reason, never scaffolded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path, PurePosixPath

from scaffolder.core.errors import RepoError, YamlError
from scaffolder.core.fs import find_kustomization, repo_path
from scaffolder.repo.config import DNS1123_LABEL


def is_namespace_name(name: str) -> bool:
    return len(name) <= 63 and DNS1123_LABEL.match(name) is not None


class Status(StrEnum):
    ACTIVE = "active"
    DORMANT = "dormant"
    NOT_A_NAMESPACE = "not a namespace"


@dataclass(frozen=True)
class Entry:
    """A directory of the apps directory and what it is."""

    name: str
    directory: PurePosixPath  # repo-relative
    kustomization: PurePosixPath | None
    status: Status
    reason: str = ""


@dataclass(frozen=True)
class Layout:
    """The apps directory's entries, sorted by name."""

    apps_dir: PurePosixPath
    entries: tuple[Entry, ...]
    listing: PurePosixPath | None = None  # the apps dir's own kustomization, if it lists

    def namespaces(self) -> list[str]:
        """The active namespaces (what ``--all`` means)."""
        return [e.name for e in self.entries if e.status is Status.ACTIVE]

    def dormant(self) -> list[Entry]:
        return [e for e in self.entries if e.status is Status.DORMANT]

    def ignored(self) -> list[Entry]:
        return [e for e in self.entries if e.status is Status.NOT_A_NAMESPACE]

    @cached_property
    def _by_name(self) -> dict[str, Entry]:
        return {e.name: e for e in self.entries}

    def entry(self, name: str) -> Entry | None:
        return self._by_name.get(name)

    def namespace(self, name: str) -> Entry:
        """The active namespace ``name``; otherwise a :class:`RepoError` saying why not."""
        import difflib

        entry = self.entry(name)
        if entry is not None and entry.status is Status.ACTIVE:
            return entry
        if entry is not None:
            raise RepoError(f"{entry.directory}/ is {entry.status.value}: {entry.reason}")
        if not is_namespace_name(name):
            raise RepoError(
                f"{name!r} is not a valid namespace name",
                hint="namespaces are DNS-1123 labels: lower-case letters, digits and '-', "
                "at most 63 characters",
            )
        close = difflib.get_close_matches(name, self.namespaces(), n=3)
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else f"namespaces are the directories of {self.apps_dir}/ with a kustomization.yaml"
        )
        raise RepoError(f"unknown namespace {name!r}: no {self.apps_dir / name}/", hint=hint)


def _listed(text: str) -> tuple[set[str], dict[str, int]]:
    """Directory names a kustomization lists (first path component of local entries) and
    the line of each commented-out entry (``# - ./archive``)."""
    import yaml

    listed: set[str] = set()
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        for key in ("resources", "components"):
            for item in data.get(key) or []:
                if isinstance(item, str) and "://" not in item:
                    first = PurePosixPath(item.strip()).parts
                    parts = [p for p in first if p not in (".",)]
                    if parts:
                        listed.add(parts[0])
    commented: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"^\s*#\s*-\s*['\"]?(?:\./)?([^/\s'\"#]+)/?['\"]?\s*(?:#.*)?$", line)
        if match:
            commented.setdefault(match[1], number)
    return listed, commented


def scan(root: Path, apps_dir: PurePosixPath) -> Layout:
    """Read the apps directory of the repository at ``root``."""
    directory = repo_path(root, apps_dir)
    if not directory.is_dir():
        raise RepoError(
            f"apps directory {apps_dir} does not exist", hint="set apps_dir in netpol.yaml"
        )
    own = find_kustomization(directory)
    listed: set[str] | None = None
    commented: dict[str, int] = {}
    listing: PurePosixPath | None = None
    if own is not None:
        try:
            text = own.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise YamlError(own, f"cannot read ({exc})") from exc
        names, commented = _listed(text)
        if names:
            listed, listing = names, apps_dir / own.name
    entries = []
    for child in sorted(directory.iterdir(), key=lambda p: p.name):
        if not child.is_dir():
            continue
        found = find_kustomization(child)
        if found is None:
            continue
        rel = apps_dir / child.name
        kustomization = rel / found.name
        if not is_namespace_name(child.name):
            reason = "its name is not a DNS-1123 label, so no namespace can be called that"
            entries.append(Entry(child.name, rel, kustomization, Status.NOT_A_NAMESPACE, reason))
        elif listed is not None and child.name not in listed:
            line = commented.get(child.name)
            where = f"{listing}:{line}" if line else str(listing)
            reason = (
                f"its entry is commented out in {where}" if line else f"{listing} does not list it"
            )
            entries.append(Entry(child.name, rel, kustomization, Status.DORMANT, reason))
        else:
            entries.append(Entry(child.name, rel, kustomization, Status.ACTIVE))
    return Layout(apps_dir, tuple(entries), listing)
