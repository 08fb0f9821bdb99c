"""Reading a repository for discovery: files, containment, the parse cache, and the
traversal of kustomizations.

Nothing outside the repository is read: paths (``..`` or symlinks) resolving outside the
root are skipped with a warning. A malformed file is skipped with a one-line warning naming
it, never fatal.

Speed: every file is read and parsed at most once per run, with libyaml's safe loader when
PyYAML's C extension is available (about 15x faster than the pure-Python loader), falling
back to :func:`scaffolder.core.yamlio.parse_documents` for its error messages and whenever
the fast loader is unavailable or refuses a file. Each directory is listed once; existence,
type and symlink checks come from the listings. Paths are plain repo-relative strings
until they go into the model.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, cast

from scaffolder.core.errors import PathEscapeError, YamlError
from scaffolder.core.fs import KUSTOMIZATION_NAMES, repo_path
from scaffolder.core.yamlio import document_parser, read_text
from scaffolder.policy import YAML_SUFFIXES


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


SCALAR_TYPES = frozenset({int, float, bool, type(None)})


def collect_strings(value: Any, out: list[str]) -> None:
    """Append every string leaf of ``value`` (mapping values and list items) to ``out``.

    Exact types are tested first (parsed YAML has no subclasses), ``isinstance`` after."""
    stack = [value]
    pop, push, add = stack.pop, stack.extend, out.append
    while stack:
        item = pop()
        cls = item.__class__
        if cls is str:
            add(item)
        elif cls is dict:
            push(item.values())
        elif cls is list:
            push(item)
        elif cls in SCALAR_TYPES:
            continue
        elif isinstance(item, str):
            add(item)
        elif isinstance(item, dict):
            push(item.values())
        elif isinstance(item, list):
            push(item)


def is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@", "ssh:"))


def enabled(item: Mapping[str, Any]) -> bool:
    """An app-template item (controller, service, port, route) not switched off."""
    return item.get("enabled", True) is not False


def entries_of(kz: Mapping[str, Any], key: str, where: str | PurePosixPath) -> list[str]:
    value = kz.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise YamlError(str(where), f"{key}: expected a list of paths")
    return list(value)


# Repo-relative paths are plain, normalised POSIX strings here ("." is the root): pathlib
# objects cost more than everything else discovery does with a path.


def parent_of(rel: str) -> str:
    """``str(PurePosixPath(rel).parent)`` for a normalised relative path."""
    head, sep, _ = rel.rpartition("/")
    return head if sep and head else ("/" if sep else ".")


def child(rel: str, name: str) -> str:
    """``str(PurePosixPath(rel) / name)`` for a normalised relative path and a plain name."""
    return name if rel == "." else f"{rel}/{name}"


def join(base: str, entry: str) -> str:
    """``entry`` of a kustomization in ``base``, normalised (``..`` folded, no ``./``)."""
    rest = entry[2:] if entry.startswith("./") else entry
    if (
        rest
        and not rest.startswith((".", "/"))
        and "/." not in rest
        and "//" not in rest
        and not rest.endswith("/")
    ):
        return child(base, rest)  # already normal (``./app/ks.yaml``, ``helmrelease.yaml``)
    return posixpath.normpath(posixpath.join(base, entry))


@dataclass
class AppDir:
    """A directory holding one or more apps: its kustomization, the Flux Kustomization that
    deploys it (if any) and the namespace its objects default to."""

    directory: str
    kustomization: str
    flux_kustomization: str | None
    namespace: str
    directory_path: PurePosixPath  # the model's forms of the two paths
    kustomization_path: PurePosixPath


# --------------------------------------------------------------------------- reader


def _parts_constructor() -> Callable[[str, str, list[str]], PurePosixPath] | None:
    """CPython 3.11's way to make a PurePosixPath from parts already split (its ``/`` and
    ``parent`` use it): parsing a path string costs more than the rest of discovery does
    with it. None unless it is there and makes exactly the paths the constructor makes."""
    make = cast(
        "Callable[[str, str, list[str]], PurePosixPath] | None",
        getattr(PurePosixPath, "_from_parsed_parts", None),
    )
    if make is None:
        return None
    try:
        for probe in ("a", "a/b.yaml", "../x/y", "k/a/${X}/app"):
            made, parsed = make("", "", probe.split("/")), PurePosixPath(probe)
            same = (
                type(made) is type(parsed)
                and made == parsed
                and hash(made) == hash(parsed)
                and str(made) == probe
                and made.parts == parsed.parts
                and made.parent == parsed.parent
                and made.name == parsed.name
                and (made / "c") == (parsed / "c")
            )
            if not same:
                return None
    except Exception:  # another pathlib (3.12 changed these internals)
        return None
    return make


_FROM_PARTS = _parts_constructor()


def _pure_path(rel: str) -> PurePosixPath:
    """``PurePosixPath(rel)`` for a path ``posixpath.normpath`` made (or a child of one)."""
    if (
        _FROM_PARTS is None
        or rel.startswith(("/", "./"))
        or rel.endswith(("/", "/."))
        or "//" in rel
        or "/./" in rel
        or rel == "."
    ):
        return PurePosixPath(rel)
    return _FROM_PARTS("", "", rel.split("/"))


# What a directory entry is (symlinks not followed; _LINK is resolved with stat on demand).
_MISSING, _DIR, _FILE, _OTHER, _LINK = 0, 1, 2, 3, 4
_UNSEEN: dict[str, int] = {}  # a directory not looked at yet
# errors Path.is_file() / is_dir() take for "no" (any other OSError propagates)
_IGNORED_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _stat_kind(path: str) -> int:
    """What ``path`` is, following symlinks: what ``Path.is_dir()`` / ``is_file()`` answer."""
    try:
        mode = os.stat(path).st_mode  # noqa: PTH116 - hot path
    except OSError as exc:
        if exc.errno not in _IGNORED_ERRNOS:
            raise
        return _MISSING
    except ValueError:
        return _MISSING
    return _DIR if stat.S_ISDIR(mode) else _FILE if stat.S_ISREG(mode) else _OTHER


class Reader:
    """Reads the files of the repository at ``root`` for one discovery run: each file is
    read and parsed once (documents or the parse error are cached), every path is checked
    to stay inside the repository.

    Each directory is listed once (``scandir``: names and entry types); existence and
    type checks are answered from the listings, and a path's real location is its real
    parent's plus its name unless the listing shows a symlink. Only symlinks, and
    directories that cannot be listed, cost a ``stat`` of their own. Listings are kept for
    this run only: discovery does not change the tree.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = str(root)
        self.prefix = self.base if self.base.endswith("/") else self.base + "/"
        self.root_real = os.path.realpath(root)
        self.inside_real = self.root_real + os.sep
        self.cache: dict[str, list[Any] | str] = {}
        # Files with the same text share their documents: discovery only reads them, and
        # none leaves it (the model holds strings, numbers and fresh containers).
        self.by_text: dict[str, list[Any]] = {}
        self.reals: dict[str, str] = {}
        self.insides: dict[str, str | None] = {}
        self.listings: dict[str, dict[str, int] | None] = {}
        self.followed: dict[str, int] = {}  # kinds of symlinks and of unlisted paths
        self.paths: dict[str, PurePosixPath] = {}
        self.inside_listings: dict[str, dict[str, int] | None] = {}
        self.yaml_entries: dict[str, tuple[list[str], list[str]]] = {}
        self.statuses: dict[str, tuple[str | None, int]] = {}
        # all non-empty documents of a text; YamlError (file and line) on bad YAML
        self.parse = document_parser()

    def absolute(self, rel: str) -> str:
        return self.base if rel == "." else self.prefix + rel

    def path(self, rel: str) -> PurePosixPath:
        """``PurePosixPath(rel)``, one object per path (the model's paths)."""
        found = self.paths.get(rel)
        if found is None:
            found = self.paths[rel] = _pure_path(rel)
        return found

    def app_dir(
        self, directory: str, kustomization: str, flux_kustomization: str | None, namespace: str
    ) -> AppDir:
        return AppDir(
            directory,
            kustomization,
            flux_kustomization,
            namespace,
            self.path(directory),
            self.path(kustomization),
        )

    def _within(self, real: str) -> bool:
        return real == self.root_real or real.startswith(self.inside_real)

    # -- directory listings ----------------------------------------------------------
    def listing(self, rel_dir: str) -> dict[str, int] | None:
        """The entries of directory ``rel_dir`` (name -> kind); None when it cannot be
        listed."""
        found = self.listings.get(rel_dir, _UNSEEN)
        if found is not _UNSEEN:
            return found
        try:
            with os.scandir(self.absolute(rel_dir)) as it:
                # is_dir() and is_file() follow symlinks, but only non-symlinks get there
                found = {
                    e.name: _LINK
                    if e.is_symlink()
                    else _DIR
                    if e.is_dir()
                    else _FILE
                    if e.is_file()
                    else _OTHER
                    for e in it
                }
        except OSError:
            found = None
        self.listings[rel_dir] = found
        return found

    def _listed(self, rel_dir: str) -> dict[str, int] | None:
        """:meth:`listing`, but only of directories inside the repository (None otherwise:
        the caller asks the file system about the one path instead)."""
        found = self.inside_listings.get(rel_dir, _UNSEEN)
        if found is not _UNSEEN:
            return found
        real = self.root_real if rel_dir == "." else self.real(rel_dir)
        found = self.listing(rel_dir) if rel_dir == "." or self._within(real) else None
        self.inside_listings[rel_dir] = found
        if found:
            # What the listing tells of each entry that is no symlink: it is inside (as its
            # directory is), its kind, and a directory's real path (the directory's + name).
            prefix = "" if rel_dir == "." else rel_dir + "/"
            absolute = self.prefix + prefix
            statuses, insides, reals = self.statuses, self.insides, self.reals
            for name, kind in found.items():
                if kind != _LINK:
                    rel = prefix + name
                    path = insides[rel] = absolute + name
                    statuses[rel] = (path, kind)
                    if kind == _DIR:
                        reals[rel] = f"{real}/{name}"
        return found

    def kind(self, rel: str) -> int:
        """What ``rel`` is (symlinks followed): _DIR, _FILE, _OTHER or _MISSING."""
        known = self.statuses.get(rel)
        if known is not None and known[0] is not None:
            return known[1]
        head, _, name = rel.rpartition("/")
        head = head or "."
        entries = self.inside_listings.get(head, _UNSEEN)
        if entries is _UNSEEN:
            entries = self._listed(head)
        found = _LINK if entries is None or rel == "." else entries.get(name, _MISSING)
        if found == _LINK:
            cached = self.followed.get(rel)
            if cached is None:
                cached = self.followed[rel] = _stat_kind(self.absolute(rel))
            found = cached
        return found

    # -- paths -----------------------------------------------------------------------
    def real(self, rel: str) -> str:
        """``os.path.realpath`` of the normalised repo-relative ``rel``: its real parent's
        path plus its name unless it is a symlink."""
        hit = self.reals.get(rel)
        if hit is not None:
            return hit
        head, _, name = rel.rpartition("/")
        parent = (self.reals.get(head) or self.real(head)) if head else self.root_real
        entries = self._listed(head or ".")  # listed when ``parent`` is inside
        full = f"{parent}/{name}"
        link = (
            os.path.islink(full)  # noqa: PTH114 - hot path
            if entries is None
            else entries.get(name) == _LINK
        )
        real = os.path.realpath(full) if link else full
        self.reals[rel] = real
        return real

    def inside(self, rel: str) -> str | None:
        """The absolute path of ``rel`` if it stays inside the repository (through ``..`` or
        symlinks), else None."""
        found = self.insides.get(rel, "")  # "": not checked yet
        if found != "":
            return found
        if rel == ".":
            return self.base
        if rel.startswith("/") or rel == ".." or rel.startswith("../"):
            return None
        head, _, name = rel.rpartition("/")
        head = head or "."
        entries = self.inside_listings.get(head, _UNSEEN)
        if entries is _UNSEEN:
            entries = self._listed(head)
        if entries is not None and entries.get(name) != _LINK:
            found = self.prefix + rel  # in a directory inside, and no symlink itself
        else:
            found = self.prefix + rel if self._within(self.real(rel)) else None
        self.insides[rel] = found
        return found

    def contained(self, rel: str) -> str:
        """:func:`scaffolder.core.fs.repo_path` of ``rel``, as a string: the absolute path,
        or :class:`PathEscapeError` for a path resolving outside the repository."""
        parts = rel.split("/")
        if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            return str(repo_path(self.root, rel))  # not normalised: the general check
        real = self.real(rel)
        if not self._within(real):
            raise PathEscapeError(
                f"{rel}: resolves outside the repository ({real})",
                hint="netpol only edits files inside the repository; check for '..' or symlinks",
            )
        return self.absolute(rel)

    # -- files -----------------------------------------------------------------------
    def docs(self, rel: str, absolute: str) -> list[Any]:
        """Parsed documents of a file (cached); raises YamlError."""
        return self._load(rel, lambda: read_text(absolute))

    def docs_of_text(self, rel: str, text: str) -> list[Any]:
        """:meth:`docs` for a file whose ``text`` the caller has read already."""
        return self._load(rel, lambda: text)

    def _load(self, rel: str, read: Callable[[], str]) -> list[Any]:
        cached = self.cache.get(rel)
        if isinstance(cached, list):
            return cached
        if isinstance(cached, str):
            raise YamlError(rel, cached)
        try:
            return self._parse(rel, read())
        except YamlError as exc:
            self.cache[rel] = exc.problem if exc.line is None else f"line {exc.line}: {exc.problem}"
            raise

    def _parse(self, rel: str, text: str) -> list[Any]:
        docs = self.by_text.get(text)
        if docs is None:
            docs = self.by_text[text] = self.parse(text, rel)
        self.cache[rel] = docs
        return docs

    def status(self, rel: str) -> tuple[str | None, int]:
        """(:meth:`inside`, :meth:`kind`) of ``rel``; the kind only of a path inside."""
        found = self.statuses.get(rel)
        if found is None:
            absolute = self.inside(rel)  # lists its directory: its entries get their status
            found = self.statuses.get(rel)
            if found is None:
                found = self.statuses[rel] = (
                    (absolute, self.kind(rel)) if absolute is not None else (None, _MISSING)
                )
        return found

    def try_docs(self, rel: str, warnings: list[str]) -> list[Any] | None:
        absolute, kind = self.status(rel)
        if absolute is None:
            warnings.append(f"{rel}: resolves outside the repository; skipped")
            return None
        if kind != _FILE:
            warnings.append(f"{rel}: not found; skipped")
            return None
        try:
            return self.docs(rel, absolute)
        except YamlError as exc:
            where = f"{rel}:{exc.line}" if exc.line is not None else rel
            warnings.append(f"{where}: {exc.problem}; file skipped")
            return None

    def find_kustomization(self, directory: str) -> str | None:
        """:func:`scaffolder.core.fs.find_kustomization` of a directory known to be inside:
        the file name."""
        for name in KUSTOMIZATION_NAMES:
            if self.kind(child(directory, name)) == _FILE:
                return name
        return None

    def kustomization_of(self, directory: str) -> str | None:
        if self.inside(directory) is None or self.kind(directory) != _DIR:
            return None
        found = self.find_kustomization(directory)
        return child(directory, found) if found is not None else None

    def yaml_files(self, directory: str) -> list[str]:
        """Every YAML file under ``directory`` (repo-relative, sorted; hidden entries skipped,
        symlinked directories not followed)."""
        if self.inside(directory) is None or self.kind(directory) != _DIR:
            return []
        found: list[str] = []
        stack = [directory]
        known = self.yaml_entries
        while stack:
            rel_dir = stack.pop()
            entries = known.get(rel_dir) or self._yaml_entries(rel_dir)
            found += entries[0]
            stack += reversed(entries[1])
        return found

    def _yaml_entries(self, rel_dir: str) -> tuple[list[str], list[str]]:
        """The YAML files and the sub-directories of ``rel_dir`` (sorted, not hidden)."""
        files: list[str] = []
        subdirs: list[str] = []
        prefix = "" if rel_dir == "." else rel_dir + "/"
        entries = self.listing(rel_dir) or {}
        for name in sorted(entries):
            if name[0] == ".":
                continue
            if entries[name] == _DIR:
                subdirs.append(prefix + name)
            elif name.endswith(YAML_SUFFIXES):
                files.append(prefix + name)
        found = self.yaml_entries[rel_dir] = (files, subdirs)
        return found

    # -- app directories ---------------------------------------------------------------
    def app_files(self, app_dir: AppDir, warnings: list[str]) -> list[tuple[str, list[Any]]]:
        """(file, documents) for every resource of the app, recursively."""
        files: list[tuple[str, list[Any]]] = []
        seen: set[str] = set()
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
            base = parent_of(kustomization)
            try:
                entries = entries_of(docs[0], "resources", kustomization)
            except YamlError as exc:
                warnings.append(f"{kustomization}: {exc.problem}; skipped")
                continue
            nested: list[str] = []
            for entry in entries:
                target = self.resource_target(kustomization, base, entry, warnings)
                if target is None:
                    continue
                rel, found = target
                if found is not None:
                    nested.append(child(rel, found))
                    continue
                file_docs = self.try_docs(rel, warnings)
                if file_docs is not None:
                    files.append((rel, file_docs))
            stack.extend(reversed(nested))
        return files

    def resource_target(
        self, kustomization: str, base: str, entry: str, warnings: list[str]
    ) -> tuple[str, str | None] | None:
        """A local ``resources:`` entry as (repo-relative path, the name of its
        kustomization file when it is a directory). None, with a warning where useful, for
        remote entries, entries outside the repository and directories without a
        kustomization."""
        if is_remote(entry):
            return None
        rel = join(base, entry)
        absolute, kind = self.status(rel)
        if absolute is None:
            warnings.append(
                f"{kustomization}: resource {entry} resolves outside the repository; skipped"
            )
            return None
        if kind != _DIR:
            return rel, None
        found = self.find_kustomization(rel)
        if found is None:
            warnings.append(
                f"{kustomization}: resource {entry} is a directory without a kustomization; skipped"
            )
            return None
        return rel, found
