"""CNPG: the ``Cluster`` objects of the repository and the apps that use them.

An app is a client of cluster ``C`` in namespace ``N`` when any string in its values / pod
template / the other manifests of its directory (ExternalSecrets, ConfigMaps...) contains
the host ``C-rw``/``C-ro``/``C-r`` (optionally ``.N``, ``.N.svc``,
``.N.svc.cluster.local``) or is exactly ``C-app`` / ``C-superuser`` (the secrets CNPG
creates). Only clusters that exist in the repository count. A host without namespace, or a
secret name, means the app's own namespace when it has such a cluster, else the one
namespace that does. :func:`~scaffolder.discovery.assemble.discover_namespace` resolves
clusters of other namespaces with a quick scan of the apps directory
(:func:`scan_clusters`); :func:`~scaffolder.discovery.assemble.discover_all` fills
``CnpgCluster.consumers`` from every namespace it discovered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from scaffolder.core.errors import YamlError
from scaffolder.core.yamlio import read_text
from scaffolder.discovery.drafts import Pending
from scaffolder.discovery.reader import AppDir, Reader, as_list, as_map, as_str, is_kind
from scaffolder.repo.model import CnpgCluster, CnpgConsumer, CnpgRef, Namespace

_CNPG_HOST = re.compile(
    r"(?<![a-z0-9.-])([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(rw|ro|r)"
    r"(?:\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?))?(?![a-z0-9-])"
)
_CNPG_SECRET = re.compile(r"^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(app|superuser)$")


def read_cluster(
    doc: Mapping[str, Any], file: str, app_dir: AppDir, warnings: list[str]
) -> CnpgCluster | None:
    """A CNPG ``Cluster`` manifest of ``app_dir`` (None, with a warning, without a name)."""
    name = as_str(as_map(doc.get("metadata")).get("name"))
    if name is None:
        warnings.append(f"{file}: CNPG Cluster without metadata.name; skipped")
        return None
    cluster_ns = as_str(as_map(doc.get("metadata")).get("namespace")) or app_dir.namespace
    return CnpgCluster(
        name,
        cluster_ns,
        app_dir.directory_path,
        app_dir.kustomization_path,
        backup_endpoints=backup_endpoints(as_map(doc.get("spec"))),
    )


def references(strings: Iterable[str]) -> list[tuple[str, str | None]]:
    """The clusters ``strings`` name, as (cluster, namespace or None), first mention first."""
    refs: dict[tuple[str, str | None], None] = {}
    for text in strings:
        if "-r" in text:
            for match in _CNPG_HOST.finditer(text):
                namespace = match.group(3)
                refs[(match.group(1), None if namespace in (None, "svc") else namespace)] = None
        if text.endswith(("-app", "-superuser")):
            secret = _CNPG_SECRET.match(text.strip())
            if secret:
                refs[(secret.group(1), None)] = None
    return list(refs)


def backup_endpoints(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """``endpointURL``s of a CNPG Cluster's barman object stores (backup and recovery)."""
    stores = [as_map(as_map(spec.get("backup")).get("barmanObjectStore"))]
    stores += [
        as_map(as_map(ext).get("barmanObjectStore"))
        for ext in as_list(spec.get("externalClusters"))
    ]
    urls = (as_str(store.get("endpointURL")) for store in stores)
    return tuple(dict.fromkeys(url for url in urls if url))


# --------------------------------------------------------------------------- CNPG linking

ClusterIndex = dict[str, set[str]]  # cluster name -> namespaces that have it


def cluster_index(namespaces: Iterable[Namespace]) -> ClusterIndex:
    index: ClusterIndex = {}
    for ns in namespaces:
        for cluster in ns.cnpg_clusters:
            index.setdefault(cluster.name, set()).add(cluster.namespace)
    return index


def scan_clusters(reader: Reader, apps_dir: PurePosixPath) -> ClusterIndex:
    """CNPG clusters anywhere under the apps dir, by a quick text scan (no structure)."""
    index: ClusterIndex = {}
    top = str(apps_dir)
    skip = 0 if top == "." else len(top) + 1
    for rel in reader.yaml_files(top):
        try:
            if reader.inside(rel) is None:
                continue
            text = read_text(reader.absolute(rel))
            if "postgresql.cnpg.io" not in text or "Cluster" not in text:
                continue
            docs = reader.docs_of_text(rel, text)
        except YamlError:
            continue
        parts = rel[skip:].split("/")
        default_ns = parts[0] if len(parts) > 1 else None
        for doc in docs:
            if isinstance(doc, dict) and is_kind(doc, "Cluster", "postgresql.cnpg.io"):
                metadata = as_map(doc.get("metadata"))
                name = as_str(metadata.get("name"))
                namespace = as_str(metadata.get("namespace")) or default_ns
                if name and namespace:
                    index.setdefault(name, set()).add(namespace)
    return index


def _resolve(ref: Pending, app_namespace: str, index: ClusterIndex) -> CnpgRef | str | None:
    """The cluster ``ref`` means, None when it is no CNPG cluster, or a message when ambiguous."""
    namespaces = index.get(ref.cluster)
    if not namespaces:
        return None
    if ref.namespace is not None:
        return CnpgRef(ref.namespace, ref.cluster) if ref.namespace in namespaces else None
    if app_namespace in namespaces:
        return CnpgRef(app_namespace, ref.cluster)
    if len(namespaces) == 1:
        return CnpgRef(next(iter(namespaces)), ref.cluster)
    return f"{ref.cluster} exists in {', '.join(sorted(namespaces))}; reference ignored"


def link_clusters(
    results: list[tuple[Namespace, list[Pending]]],
    index: ClusterIndex,
    fallback: Callable[[], ClusterIndex] | None = None,
) -> None:
    """Fill ``App.cnpg_clients`` and ``CnpgCluster.consumers``. ``fallback()`` gives a wider
    index, consulted only when a reference cannot be resolved with ``index``."""
    wider: ClusterIndex | None = None
    clusters = {(c.namespace, c.name): c for ns, _ in results for c in ns.cnpg_clusters}
    consumers: dict[tuple[str, str], dict[CnpgConsumer, None]] = {}
    for ns, pending in results:
        apps = {a.name: a for a in ns.apps}
        clients: dict[str, list[CnpgRef]] = {}
        for ref in pending:
            app = apps.get(ref.app)
            if app is None:
                continue
            resolved = _resolve(ref, app.namespace, index)
            if resolved is None and fallback is not None:
                if wider is None:
                    wider = fallback()
                resolved = _resolve(ref, app.namespace, wider or {})
            if isinstance(resolved, str):
                ns.warnings.append(f"{app.directory}: {app.name}: CNPG cluster {resolved}")
            elif resolved is not None and resolved not in clients.setdefault(app.name, []):
                clients[app.name].append(resolved)
        for name, refs in clients.items():
            app = apps[name]
            app.cnpg_clients = tuple(sorted(refs, key=lambda r: (r.namespace, r.cluster)))
            for client in app.cnpg_clients:
                cluster = clusters.get((client.namespace, client.cluster))
                if cluster is None:
                    continue
                consumer = CnpgConsumer(
                    app.namespace, app.name, tuple(sorted(app.selector.items()))
                )
                consumers.setdefault((cluster.namespace, cluster.name), {})[consumer] = None
    for key, found in consumers.items():
        cluster = clusters[key]
        merged = dict.fromkeys([*cluster.consumers, *found])
        cluster.consumers[:] = sorted(merged, key=lambda c: (c.namespace, c.app))
