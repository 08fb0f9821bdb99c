"""Flux ``Kustomization`` objects (``kustomize.toolkit.fluxcd.io``): each one's ``spec.path``
(repo-relative, ``./`` dropped) is an app directory of the namespace that lists it.
"""

from __future__ import annotations

import posixpath
from typing import Any

from scaffolder.discovery.reader import AppDir, Reader, as_map, as_str
from scaffolder.repo.model import FluxKustomization, Namespace


def flux_kustomization(
    reader: Reader,
    doc: dict[str, Any],
    file: str,
    kz: dict[str, Any],
    ns: Namespace,
    app_dirs: dict[str, AppDir],
    k8s_namespace: str,
) -> None:
    metadata = as_map(doc.get("metadata"))
    spec = as_map(doc.get("spec"))
    name = as_str(metadata.get("name"))
    if name is None:
        ns.warnings.append(f"{file}: Flux Kustomization without metadata.name; skipped")
        return
    raw_path = spec.get("path")
    path: str | None = None
    if isinstance(raw_path, str) and raw_path.strip():
        normalised = posixpath.normpath(raw_path.strip().removeprefix("./"))
        path = normalised if normalised not in ("", ".") else "."
    target = as_str(spec.get("targetNamespace"))
    ks = FluxKustomization(
        name=name,
        namespace=as_str(metadata.get("namespace")) or as_str(kz.get("namespace")),
        path=None if path is None else reader.path(path),  # shared with the AppDir
        target_namespace=target,
        suspend=spec.get("suspend") is True,
        file=reader.path(file),
    )
    ns.flux_kustomizations.append(ks)
    if path is None:
        ns.warnings.append(f"{file}: Flux Kustomization {name} has no spec.path; skipped")
        return
    if "${" in path:
        ns.warnings.append(
            f"{file}: Flux Kustomization {name}: spec.path {raw_path} uses a substitution; skipped"
        )
        return
    if reader.inside(path) is None:
        ns.warnings.append(
            f"{file}: Flux Kustomization {name}: spec.path {raw_path} resolves outside the repository; skipped"
        )
        return
    found = reader.kustomization_of(path)
    if found is None:
        ns.warnings.append(
            f"{file}: Flux Kustomization {name}: {path}/ has no kustomization.yaml; skipped"
        )
        return
    if path not in app_dirs:
        app_dirs[path] = reader.app_dir(path, found, name, target or k8s_namespace)
