"""Reading a repository for discovery: files, containment, the parse cache, and the
traversal of kustomizations.

Nothing outside the repository is read: paths (``..`` or symlinks) resolving outside the
root are skipped with a warning. A malformed file is skipped with a one-line warning naming
it, never fatal.

Speed: every file is parsed at most once per run, with libyaml's safe loader when PyYAML's
C extension is available (about 15x faster than the pure-Python loader), falling back to
:func:`scaffolder.core.yamlio.parse_documents` for its error messages and whenever the fast
loader is unavailable or refuses a file.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import YamlError
from scaffolder.core.fs import find_kustomization
from scaffolder.core.yamlio import parse_documents_fast, read_text
from scaffolder.policy import YAML_SUFFIXES


def _parse(text: str, source: Path | str) -> list[Any]:
    """All non-empty documents of ``text``; :class:`YamlError` (file and line) on bad YAML."""
    return parse_documents_fast(text, source)


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def labels_of(value: Any) -> dict[str, str]:
    return {
        str(k): str(v) for k, v in as_map(value).items() if isinstance(v, str | int | float | bool)
    }


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def api_group(doc: Mapping[str, Any]) -> str:
    api = doc.get("apiVersion")
    return api.split("/", 1)[0] if isinstance(api, str) and "/" in api else ""


def is_kind(doc: Mapping[str, Any], kind: str, group: str) -> bool:
    return doc.get("kind") == kind and api_group(doc) == group


def collect_strings(value: Any, out: list[str]) -> None:
    """Append every string leaf of ``value`` (mapping values and list items) to ``out``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@", "ssh:"))


def enabled(item: Mapping[str, Any]) -> bool:
    """An app-template item (controller, service, port, route) not switched off."""
    return item.get("enabled", True) is not False


def entries_of(kz: Mapping[str, Any], key: str, where: PurePosixPath) -> list[str]:
    value = kz.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise YamlError(str(where), f"{key}: expected a list of paths")
    return list(value)


@dataclass
class AppDir:
    """A directory holding one or more apps: its kustomization, the Flux Kustomization that
    deploys it (if any) and the namespace its objects default to."""

    directory: PurePosixPath
    kustomization: PurePosixPath
    flux_kustomization: str | None
    namespace: str


# --------------------------------------------------------------------------- reader


class Reader:
    """Reads the files of the repository at ``root`` for one discovery run: each file is
    parsed once (documents or the parse error are cached), every path is checked to stay
    inside the repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_real = os.path.realpath(root)
        self.cache: dict[str, list[Any] | str] = {}
        self.reals: dict[str, str] = {}
        self.insides: dict[str, Path | None] = {}

    # -- paths -----------------------------------------------------------------------
    def real(self, rel: str) -> str:
        """``os.path.realpath`` of the normalised repo-relative ``rel``, one lstat per new path."""
        hit = self.reals.get(rel)
        if hit is not None:
            return hit
        parent, _, name = rel.rpartition("/")
        full = f"{self.real(parent) if parent else self.root_real}/{name}"
        real = os.path.realpath(full) if os.path.islink(full) else full  # noqa: PTH114 - hot path
        self.reals[rel] = real
        return real

    def inside(self, rel: PurePosixPath) -> Path | None:
        """The absolute path of ``rel`` if it stays inside the repository (through ``..`` or
        symlinks), else None."""
        text = str(rel)
        if text in self.insides:
            return self.insides[text]
        if text == ".":
            return self.root
        if rel.is_absolute() or text == ".." or text.startswith("../"):
            return None
        real = self.real(text)
        if real != self.root_real and not real.startswith(self.root_real + os.sep):
            found = None
        else:
            found = self.root / text
        self.insides[text] = found
        return found

    @staticmethod
    def join(base: PurePosixPath, entry: str) -> PurePosixPath:
        return PurePosixPath(posixpath.normpath(posixpath.join(str(base), entry)))

    # -- files -----------------------------------------------------------------------
    def docs(self, rel: PurePosixPath, absolute: Path) -> list[Any]:
        """Parsed documents of a file (cached); raises YamlError."""
        key = str(rel)
        cached = self.cache.get(key)
        if isinstance(cached, list):
            return cached
        if isinstance(cached, str):
            raise YamlError(key, cached)
        try:
            docs = _parse(read_text(absolute), key)
        except YamlError as exc:
            self.cache[key] = exc.problem if exc.line is None else f"line {exc.line}: {exc.problem}"
            raise
        self.cache[key] = docs
        return docs

    def try_docs(self, rel: PurePosixPath, warnings: list[str]) -> list[Any] | None:
        absolute = self.inside(rel)
        if absolute is None:
            warnings.append(f"{rel}: resolves outside the repository; skipped")
            return None
        if not absolute.is_file():
            warnings.append(f"{rel}: not found; skipped")
            return None
        try:
            return self.docs(rel, absolute)
        except YamlError as exc:
            where = f"{rel}:{exc.line}" if exc.line is not None else str(rel)
            warnings.append(f"{where}: {exc.problem}; file skipped")
            return None

    def kustomization_of(self, directory: PurePosixPath) -> PurePosixPath | None:
        absolute = self.inside(directory)
        if absolute is None or not absolute.is_dir():
            return None
        found = find_kustomization(absolute)
        return directory / found.name if found is not None else None

    def walk_yaml(self, directory: PurePosixPath) -> Iterator[tuple[PurePosixPath, Path]]:
        """Every YAML file under ``directory`` (sorted; symlinked directories not followed)."""
        for rel, absolute in self.walk_yaml_text(directory):
            yield PurePosixPath(rel), Path(absolute)

    def walk_yaml_text(self, directory: PurePosixPath) -> Iterator[tuple[str, str]]:
        """:meth:`walk_yaml` as strings: ``str()`` of the repo-relative path, absolute path."""
        start = self.inside(directory)
        if start is None or not start.is_dir():
            return
        root = str(self.root)
        top = str(directory)
        stack = ["" if top == "." else top]
        while stack:
            rel_dir = stack.pop()
            prefix = f"{rel_dir}/" if rel_dir else ""
            try:
                entries = sorted(os.scandir(f"{root}/{rel_dir}"), key=lambda e: e.name)
            except OSError:
                continue
            subdirs = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(prefix + entry.name)
                elif entry.name.endswith(YAML_SUFFIXES):
                    yield prefix + entry.name, entry.path
            stack.extend(reversed(subdirs))

    # -- namespace -------------------------------------------------------------------
    # -- app directories ---------------------------------------------------------------
    def app_files(
        self, app_dir: AppDir, warnings: list[str]
    ) -> Iterator[tuple[PurePosixPath, PurePosixPath, list[Any]]]:
        """(file, directory it belongs to, documents) for every resource of the app, recursively."""
        seen: set[PurePosixPath] = set()
        stack = [app_dir.kustomization]
        while stack:
            kustomization = stack.pop()
            if kustomization in seen:
                continue
            seen.add(kustomization)
            docs = self.try_docs(kustomization, warnings)
            if docs is None:
                continue
            if len(docs) != 1 or not isinstance(docs[0], dict):
                warnings.append(f"{kustomization}: not a kustomization mapping; skipped")
                continue
            base = kustomization.parent
            try:
                entries = entries_of(docs[0], "resources", kustomization)
            except YamlError as exc:
                warnings.append(f"{kustomization}: {exc.problem}; skipped")
                continue
            nested: list[PurePosixPath] = []
            for entry in entries:
                target = self.resource_target(kustomization, base, entry, warnings)
                if target is None:
                    continue
                rel, found = target
                if found is not None:
                    nested.append(rel / found.name)
                    continue
                file_docs = self.try_docs(rel, warnings)
                if file_docs is not None:
                    yield rel, base, file_docs
            stack.extend(reversed(nested))

    def resource_target(
        self, kustomization: PurePosixPath, base: PurePosixPath, entry: str, warnings: list[str]
    ) -> tuple[PurePosixPath, Path | None] | None:
        """A local ``resources:`` entry as (repo-relative path, the kustomization file when it
        is a directory). None, with a warning where useful, for remote entries, entries
        outside the repository and directories without a kustomization."""
        if is_remote(entry):
            return None
        rel = self.join(base, entry)
        absolute = self.inside(rel)
        if absolute is None:
            warnings.append(
                f"{kustomization}: resource {entry} resolves outside the repository; skipped"
            )
            return None
        if not absolute.is_dir():
            return rel, None
        found = find_kustomization(absolute)
        if found is None:
            warnings.append(
                f"{kustomization}: resource {entry} is a directory without a kustomization; skipped"
            )
            return None
        return rel, found
