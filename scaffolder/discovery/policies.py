"""The network policies a namespace already has: every CiliumNetworkPolicy,
CiliumClusterwideNetworkPolicy and NetworkPolicy in a YAML file under the namespace
directory (and under app directories that live elsewhere).

The files the apps were read from are parsed already (and the directories listed): the
walk only reads the other YAML files, and parses those that mention ``NetworkPolicy``.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from pathlib import PurePosixPath
from typing import Any

from scaffolder.core.errors import YamlError
from scaffolder.core.yamlio import read_text
from scaffolder.discovery.reader import Reader
from scaffolder.policy import POLICY_KINDS, is_policy_document, policies_in_documents, to_ref
from scaffolder.repo.model import App, Namespace, PolicyRef


# -- policies --------------------------------------------------------------------
def collect_policies(
    reader: Reader,
    ns: Namespace,
    apps: list[App],
    app_directories: list[str],
    k8s_namespace: str,
) -> None:
    ns_dir = str(ns.directory)
    prefix = ns_dir + "/"
    elsewhere = [d for d in app_directories if not d.startswith(prefix) and not under(d, ns_dir)]
    roots = [ns_dir, *sorted(elsewhere, key=_parts)]
    seen: set[str] = set()
    found: list[tuple[str, PolicyRef]] = []
    cache = reader.cache
    for directory in roots:
        files = reader.yaml_files(directory)
        if len(roots) > 1:  # the walks of several roots may meet
            files = [rel for rel in files if rel not in seen]
            seen.update(files)
        for rel in files:
            cached = cache.get(rel)
            if cached.__class__ is list and not _any_policy(cached):
                continue  # read with the app: no policy in it
            if cached is None:
                absolute = reader.inside(rel)
                if absolute is None:
                    ns.warnings.append(f"{rel}: resolves outside the repository; skipped")
                    continue
                try:
                    text = read_text(absolute)
                except YamlError as exc:
                    ns.warnings.append(f"{rel}: {exc.problem}; skipped")
                    continue
                if "NetworkPolicy" not in text:
                    continue
                try:
                    docs = reader.docs_of_text(rel, text)
                except YamlError:
                    ns.warnings.append(f"{rel}: not valid YAML; policies in it ignored")
                    continue
            elif isinstance(cached, str):
                continue  # already warned when the app was read
            else:
                docs = cached
            path = reader.path(rel)
            try:
                policies = policies_in_documents(docs, path)
            except YamlError as exc:
                ns.warnings.append(f"{rel}: {exc.problem}; policies in it ignored")
                continue
            owner_namespace = None  # of the file's owner app: found once, when needed
            for policy in policies:
                ref = to_ref(policy)
                if ref.namespace is None and not policy.clusterwide:
                    if owner_namespace is None:
                        owner = _owner(rel, apps)
                        owner_namespace = owner.namespace if owner else k8s_namespace
                    ref = PolicyRef(ref.kind, ref.name, owner_namespace, ref.path)
                found.append((rel, ref))
    # sorted by file (``rel`` is ``str(ref.path)``); stable: document order within a file
    found.sort(key=itemgetter(0))
    ns.policies = [ref for _, ref in found]
    for app in apps if found else ():  # else the apps keep their empty existing_policies
        directory = str(app.directory)
        if directory == ".":
            app.existing_policies = tuple(ref for _, ref in found)
            continue
        prefix = directory + "/"  # under(rel, directory), inline
        app.existing_policies = tuple(
            ref for rel, ref in found if rel.startswith(prefix) or rel == directory
        )


def _any_policy(docs: list[Any]) -> bool:
    """``any(map(is_policy_document, docs))``, quicker for the mappings whose ``kind`` is
    no policy kind (nearly every document)."""
    for doc in docs:
        if doc.__class__ is dict:
            kind = doc.get("kind")
            if kind.__class__ is str and kind not in POLICY_KINDS:
                continue
        if is_policy_document(doc):
            return True
    return False


def _parts(rel: str) -> tuple[str, ...]:
    """The sort key of ``PurePosixPath(rel)`` (its parts), for a normalised relative path."""
    return () if rel == "." else tuple(rel.split("/"))


def under(path: PurePosixPath | str, directory: PurePosixPath | str) -> bool:
    """``path.is_relative_to(directory)`` for repo-relative paths, without pathlib's cost."""
    text, prefix = str(path), str(directory)
    return prefix == "." or text == prefix or text.startswith(prefix + "/")


def _owner(rel: str, apps: Iterable[App]) -> App | None:
    best: App | None = None
    for app in apps:
        if under(rel, app.directory) and (
            best is None or len(app.directory.parts) > len(best.directory.parts)
        ):
            best = app
    return best
