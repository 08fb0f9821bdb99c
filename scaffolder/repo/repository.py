"""The repository model every command loads once and hands to everything else.

A :class:`Repository` is the root, the configuration (``netpol.yaml``) and the
:class:`~scaffolder.repo.layout.Layout` (which directories of the apps directory are
namespaces), plus what is found lazily and kept for the rest of the command: the
discovered namespaces and apps, and the directories netpol rendered (managed).
Git state (worktree, branch, dirty check) will be kept here as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from scaffolder.core.errors import ConfigError, RepoError
from scaffolder.core.fs import repo_path
from scaffolder.repo.config import CONFIG_FILE, Config, load_config
from scaffolder.repo.layout import Entry, Layout, is_namespace_name, scan

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scaffolder.repo.model import Namespace


def find_root(start: Path) -> Path:
    """The repository root for ``start``: nearest directory upward holding ``netpol.yaml``,
    else the git top level (nearest ``.git``), else ``start`` itself."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


_Key = tuple[tuple[str, ...] | None, frozenset[str] | None]


@dataclass(eq=False)
class Repository:
    """A GitOps repository with its netpol configuration."""

    root: Path
    config: Config
    _layout: Layout | None = field(default=None, init=False, repr=False)
    _discovered: dict[_Key, list[Namespace]] = field(default_factory=dict, init=False, repr=False)
    _managed: list[PurePosixPath] | None = field(default=None, init=False, repr=False)
    _managed_by_namespace: dict[PurePosixPath, list[PurePosixPath]] = field(
        default_factory=dict, init=False, repr=False
    )

    @classmethod
    def load(cls, start: Path) -> Repository:
        """The repository of ``start`` (see :func:`find_root`); it must have a netpol.yaml."""
        root = find_root(start)
        config_path = root / CONFIG_FILE
        if not config_path.is_file():
            raise ConfigError(
                f"no {CONFIG_FILE} in {root} or any parent directory",
                hint="run 'netpol init' first, or point -C/--repo at the repository",
            )
        return cls(root, load_config(config_path))

    def path(self, rel: PurePosixPath | str) -> Path:
        """Absolute path of a repo-relative path; refuses paths escaping the repo."""
        return repo_path(self.root, rel)

    @property
    def apps_dir(self) -> Path:
        return self.path(self.config.apps_dir)

    # ------------------------------------------------------------------ layout
    @property
    def layout(self) -> Layout:
        """Which directories of the apps directory are namespaces (read once)."""
        if self._layout is None:
            self._layout = scan(self.root, self.config.apps_dir)
        return self._layout

    def namespaces(self) -> list[str]:
        """The active namespaces, sorted."""
        return self.layout.namespaces()

    def in_scope_namespaces(self) -> list[str]:
        """The active namespaces ``--all`` means (netpol.yaml ``out_of_scope`` left out)."""
        return [ns for ns in self.namespaces() if ns not in self.config.out_of_scope]

    def namespace(self, name: str) -> Entry:
        """The active namespace ``name``; else a :class:`RepoError` saying why not (not a
        DNS label, not a namespace, dormant, no directory, no kustomization)."""
        layout = self.layout
        if layout.entry(name) is None and is_namespace_name(name):
            directory = self.config.apps_dir / name
            if self.path(directory).is_dir():
                raise RepoError(
                    f"{directory}/ has no kustomization.yaml",
                    hint="netpol edits the namespace's kustomization; create one first",
                )
        entry = layout.namespace(name)
        if entry.kustomization is not None:
            self.path(entry.kustomization)  # a symlinked kustomization may not escape the repo
        return entry

    def dormant_notes(self) -> list[str]:
        """One line per dormant namespace: what ``--all`` leaves out, and why."""
        return [
            f"{e.directory}/ is dormant ({e.reason}); not scaffolded" for e in self.layout.dormant()
        ]

    # ------------------------------------------------------------------ discovery
    def discover(
        self, names: Iterable[str] | None = None, *, required: Iterable[str] | None = None
    ) -> list[Namespace]:
        """The discovered namespaces (see :func:`scaffolder.discovery.discover_all`), found
        once per set of arguments and kept."""
        key: _Key = (
            None if names is None else tuple(dict.fromkeys(names)),
            None if required is None else frozenset(required),
        )
        found = self._discovered.get(key)
        if found is None:
            from scaffolder.discovery import discover_all

            found = discover_all(self, key[0], required=key[1])
            self._discovered[key] = found
        return found

    # ------------------------------------------------------------------ managed files
    def managed_directories(self, under: PurePosixPath | None = None) -> list[PurePosixPath]:
        """The directories of the apps directory holding a netpol answers file (rendered
        overlays), sorted; only those at or below ``under`` when given. Found once."""
        if self._managed is None:
            from scaffolder.templates.managed import managed_directories

            apps = self.config.apps_dir
            found = managed_directories(self.root, apps) if self.apps_dir.is_dir() else []
            self._managed = sorted(found)
            # grouped by namespace directory: a namespace's lookup must not scan them all
            depth = len(apps.parts) + 1
            for directory in self._managed:
                key = PurePosixPath(*directory.parts[:depth])
                self._managed_by_namespace.setdefault(key, []).append(directory)
        if under is None:
            return list(self._managed)
        depth = len(self.config.apps_dir.parts) + 1
        candidates = (
            self._managed_by_namespace.get(PurePosixPath(*under.parts[:depth]), [])
            if len(under.parts) >= depth
            else self._managed
        )
        prefix = f"{under}/"
        return [d for d in candidates if d == under or str(d).startswith(prefix)]
