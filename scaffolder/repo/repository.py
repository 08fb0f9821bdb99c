"""The repository model every command loads: where the repo is, its config, its namespaces."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scaffolder.core.errors import ConfigError, RepoError
from scaffolder.core.fs import repo_path
from scaffolder.repo.config import CONFIG_FILE, DNS1123_LABEL, Config, load_config

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def find_kustomization(directory: Path) -> Path | None:
    """The kustomization file of ``directory`` (kustomize accepts three names)."""
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


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


def validate_namespace_name(name: str) -> None:
    if len(name) > 63 or not DNS1123_LABEL.match(name):
        raise RepoError(
            f"{name!r} is not a valid namespace name",
            hint="namespaces are DNS-1123 labels: lower-case letters, digits and '-', at most 63 characters",
        )


@dataclass(frozen=True)
class Repo:
    """A GitOps repository with its netpol configuration."""

    root: Path
    config: Config

    @classmethod
    def load(cls, start: Path) -> Repo:
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

    def namespaces(self) -> list[str]:
        """Every namespace directory (with a kustomization) under the apps dir, sorted."""
        apps = self.apps_dir
        if not apps.is_dir():
            raise RepoError(
                f"apps directory {self.config.apps_dir} does not exist",
                hint=f"set apps_dir in {CONFIG_FILE}",
            )
        return sorted(
            child.name for child in apps.iterdir() if child.is_dir() and find_kustomization(child)
        )

    def in_scope_namespaces(self) -> list[str]:
        return [ns for ns in self.namespaces() if ns not in self.config.out_of_scope]

    def namespace_kustomization(self, name: str) -> PurePosixPath:
        """Repo-relative path of a namespace's kustomization; clear errors when absent."""
        validate_namespace_name(name)
        directory = self.config.apps_dir / name
        absolute = self.path(directory)
        if not absolute.is_dir():
            close = difflib.get_close_matches(name, self.namespaces(), n=3)
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else f"the namespaces are the directories of {self.config.apps_dir}/ "
                "holding a kustomization.yaml"
            )
            raise RepoError(f"unknown namespace {name!r}: no {directory}/", hint=hint)
        found = find_kustomization(absolute)
        if found is None:
            raise RepoError(
                f"{directory}/ has no kustomization.yaml",
                hint="netpol edits the namespace's kustomization; create one first",
            )
        rel = directory / found.name
        self.path(rel)  # containment check: a symlinked kustomization may not escape the repo
        return rel
