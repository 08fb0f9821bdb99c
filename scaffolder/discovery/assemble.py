"""Discovery: read a namespace of a Flux/Kustomize repository into the
:mod:`scaffolder.repo.model`.

For a namespace of the layout (``<apps_dir>/<ns>``) discovery reads

* the namespace ``kustomization.yaml`` (its ``resources:`` and ``components:``); a file
  it lists that holds Flux ``Kustomization`` objects gives each app directory through
  ``spec.path`` (:mod:`~scaffolder.discovery.flux`). A directory listed directly (plain
  kustomize layout) is an app directory too;
* each app directory's kustomization, following ``resources:`` recursively into
  sub-directories (:mod:`~scaffolder.discovery.reader`). Its HelmReleases
  (:mod:`~scaffolder.discovery.helm`), Deployments/StatefulSets/DaemonSets and Services
  (:mod:`~scaffolder.discovery.workloads`), HTTPRoutes (:mod:`~scaffolder.discovery.routes`)
  and CNPG ``Cluster`` objects (:mod:`~scaffolder.discovery.cnpg`) become
  :class:`~scaffolder.repo.model.App` and :class:`~scaffolder.repo.model.CnpgCluster`
  entries, assembled here;
* every network policy under the namespace directory (:mod:`~scaffolder.discovery.policies`).

Unknown shapes are skipped with a one-line warning naming the file (``Namespace.warnings``).
The namespace kustomization itself must parse (else :class:`~scaffolder.core.errors.YamlError`)
and stay inside the repository (else :class:`~scaffolder.core.errors.PathEscapeError`).
Flux ``${VAR}`` substitutions are kept verbatim.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from scaffolder.core.errors import PathEscapeError, RepoError, YamlError
from scaffolder.core.yamlio import enable_parse_memo
from scaffolder.discovery.cnpg import (
    cluster_index,
    link_clusters,
    read_cluster,
    references,
    scan_clusters,
)
from scaffolder.discovery.drafts import WORKLOAD_KINDS, Draft, Pending, RouteDraft, ServiceDraft
from scaffolder.discovery.flux import flux_kustomization
from scaffolder.discovery.gateways import ENVOY_GROUP, GATEWAY_GROUP
from scaffolder.discovery.helm import read_helm_release
from scaffolder.discovery.inference import (
    CONFIG_KINDS,
    GATEWAY_CHARTS,
    ROUTE_KINDS,
    WEBHOOK_KINDS,
    Extras,
    add_inferences,
    generated_files,
)
from scaffolder.discovery.policies import collect_policies
from scaffolder.discovery.reader import (
    AppDir,
    Reader,
    api_group,
    as_map,
    as_str,
    child,
    collect_strings,
    entries_of,
    is_kind,
)
from scaffolder.discovery.routes import read_route
from scaffolder.discovery.webhooks import webhooks_in_documents
from scaffolder.discovery.workloads import read_service, read_workload, service_ports
from scaffolder.repo.layout import Entry, Layout
from scaffolder.repo.model import App, Namespace

MEMO_NAMESPACES = 200  # from here on, the parse memo pays for itself


def read_namespace(
    reader: Reader, namespace: Entry, known_namespaces: frozenset[str] = frozenset()
) -> tuple[Namespace, list[Pending]]:
    """One namespace of the layout, with its apps' CNPG references still unresolved."""
    name, ns_dir = namespace.name, namespace.directory
    if namespace.kustomization is None:  # pragma: no cover - the layout lists only kustomized dirs
        raise RepoError(f"{ns_dir}/ has no kustomization.yaml")
    kustomization = str(namespace.kustomization)
    absolute = reader.contained(kustomization)  # PathEscapeError for a symlink out
    docs = reader.docs(kustomization, absolute)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise YamlError(kustomization, "expected one kustomization mapping")
    kz: dict[str, Any] = docs[0]
    resources = entries_of(kz, "resources", kustomization)
    components = entries_of(kz, "components", kustomization)
    k8s_namespace = as_str(kz.get("namespace")) or name

    ns = Namespace(
        name=name,
        directory=ns_dir,
        kustomization=namespace.kustomization,
        components=list(components),
    )
    warnings = ns.warnings
    app_dirs: dict[str, AppDir] = {}
    base = str(ns_dir)

    for entry in resources:
        target = reader.resource_target(kustomization, base, entry, warnings)
        if target is None:
            continue
        rel, found = target
        if found is not None:
            if rel not in app_dirs:
                app_dirs[rel] = reader.app_dir(rel, child(rel, found), None, k8s_namespace)
            continue
        file_docs = reader.try_docs(rel, warnings)
        if file_docs is None:
            continue
        for doc in file_docs:
            if isinstance(doc, dict) and is_kind(
                doc, "Kustomization", "kustomize.toolkit.fluxcd.io"
            ):
                flux_kustomization(reader, doc, rel, kz, ns, app_dirs, k8s_namespace)

    drafts: list[Draft] = []
    services: list[ServiceDraft] = []
    routes: list[RouteDraft] = []
    shared: dict[str, list[str]] = {}  # strings of other manifests, per app directory
    extras: dict[PurePosixPath, Extras] = {}
    for app_dir in app_dirs.values():
        read_app_dir(reader, app_dir, ns, drafts, services, routes, shared, extras)

    assembled = _assemble(ns, drafts, services, routes, shared)
    apps, pending = _to_apps(assembled)
    add_inferences(ns, apps, assembled, services, extras, known_namespaces)
    collect_policies(reader, ns, apps, list(app_dirs), k8s_namespace)
    ns.apps = sorted(apps, key=lambda a: a.name)
    ns.cnpg_clusters.sort(key=lambda c: c.name)
    return ns, pending


def read_app_dir(
    reader: Reader,
    app_dir: AppDir,
    ns: Namespace,
    drafts: list[Draft],
    services: list[ServiceDraft],
    routes: list[RouteDraft],
    shared: dict[str, list[str]],
    extras: dict[PurePosixPath, Extras],
) -> None:
    """Read every manifest of ``app_dir`` into drafts, Services, routes and CNPG clusters."""
    files = reader.app_files(app_dir, ns.warnings)
    sources = {
        str(as_map(doc.get("metadata")).get("name")): as_map(doc.get("spec"))
        for _, docs in files
        for doc in docs
        if isinstance(doc, dict) and is_kind(doc, "OCIRepository", "source.toolkit.fluxcd.io")
    }
    strings = shared.setdefault(app_dir.directory, [])
    extra = extras.setdefault(app_dir.directory_path, Extras())
    extra.generated.extend(generated_files(reader, app_dir, ns.warnings))
    for file, docs in files:
        for doc in docs:
            if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
                continue
            kind = doc["kind"]
            group = api_group(doc)
            try:
                if kind == "HelmRelease" and group == "helm.toolkit.fluxcd.io":
                    draft = read_helm_release(doc, file, app_dir, sources, ns.warnings)
                    if draft is not None:
                        drafts.append(draft)
                        if draft.chart in GATEWAY_CHARTS:
                            ns.gateway_documents.append((app_dir.namespace, doc))
                elif kind in WORKLOAD_KINDS and group == "apps":
                    draft = read_workload(doc, file, app_dir, ns.warnings)
                    if draft is not None:
                        drafts.append(draft)
                elif kind == "Service" and doc.get("apiVersion") == "v1":
                    service = read_service(doc, file, app_dir)
                    if service is not None:
                        services.append(service)
                elif kind in ROUTE_KINDS and group == GATEWAY_GROUP:
                    routes.append(read_route(doc, file, app_dir))
                elif (group == GATEWAY_GROUP and kind in ("Gateway", "GatewayClass")) or (
                    group == ENVOY_GROUP
                    and kind in ("EnvoyProxy", "ClientTrafficPolicy", "EnvoyExtensionPolicy")
                ):
                    ns.gateway_documents.append((app_dir.namespace, doc))
                    if kind == "Gateway":
                        gateway = as_str(as_map(doc.get("metadata")).get("name"))
                        if gateway is not None:
                            ns.gateway_directories.setdefault(
                                gateway, (app_dir.directory_path, app_dir.kustomization_path)
                            )
                elif kind in WEBHOOK_KINDS:
                    extra.webhooks.extend(webhooks_in_documents([doc], app_dir.namespace))
                elif kind == "Cluster" and group == "postgresql.cnpg.io":
                    cluster = read_cluster(doc, file, app_dir, ns.warnings)
                    if cluster is not None:
                        ns.cnpg_clusters.append(cluster)
                elif group in ("source.toolkit.fluxcd.io", "cilium.io") or kind == "NetworkPolicy":
                    continue
                else:
                    collect_strings(doc, strings)
                    if kind in CONFIG_KINDS:
                        extra.config.append((file, doc))
            except (TypeError, ValueError, AttributeError) as exc:
                ns.warnings.append(f"{file}: {kind} has an unexpected shape ({exc}); skipped")


# --------------------------------------------------------------------------- assembly


def _assemble(
    ns: Namespace,
    drafts: list[Draft],
    services: list[ServiceDraft],
    routes: list[RouteDraft],
    shared: Mapping[str, list[str]],
) -> list[Draft]:
    warnings = ns.warnings
    by_name: dict[str, Draft] = {}
    for draft in drafts:
        if draft.name in by_name:
            warnings.append(
                f"{draft.file}: a second app named {draft.name} (first in {by_name[draft.name].file}); skipped"
            )
            continue
        by_name[draft.name] = draft

    for service in services:
        if not service.selector:
            continue  # headless/manual endpoints: nothing to select
        matches = [d for d in by_name.values() if d.selects(service.selector)]
        load_balancer = service.spec.get("type") == "LoadBalancer"
        if matches:
            for draft in matches:
                draft.service_names.add(service.name)
                for port in service_ports(service, draft, warnings):
                    draft.add_port(port, load_balancer)
            continue
        if (
            any(d.app_dir.directory == service.app_dir.directory for d in by_name.values())
            or service.name in by_name
        ):
            warnings.append(
                f"{service.file}: Service {service.name} selects no workload found in {ns.name}; ignored"
            )
            continue
        draft = Draft(
            name=service.name,
            namespace=service.namespace,
            source_kind="Service",
            app_dir=service.app_dir,
            file=service.file,
            selector=dict(service.selector),
            pod_labels=dict(service.selector),
            service_names={service.name},
        )
        for port in service_ports(service, None, warnings):
            draft.add_port(port, load_balancer)
        by_name[draft.name] = draft

    for route in routes:
        targets = [d for d in by_name.values() if d.service_names & set(route.backends)]
        if not targets:
            in_dir = [d for d in by_name.values() if d.app_dir.directory == route.app_dir.directory]
            if len(in_dir) == 1:
                targets = in_dir
        if not targets:
            backends = ", ".join(route.backends) or "none"
            warnings.append(
                f"{route.file}: HTTPRoute {route.name}: backend {backends} matches no app in {ns.name}; ignored"
            )
            continue
        for draft in targets:
            for ref in route.parent_refs:
                draft.add_route(ref)
            draft.route_ports.update(route.backend_ports)

    for draft in by_name.values():
        draft.strings.extend(shared.get(draft.app_dir.directory, ()))
    return list(by_name.values())


def _to_apps(drafts: list[Draft]) -> tuple[list[App], list[Pending]]:
    """The finished Apps and their CNPG references (unresolved)."""
    apps: list[App] = []
    pending: list[Pending] = []
    for draft in drafts:
        refs = references(draft.strings)
        pending.extend(Pending(draft.name, cluster, namespace) for cluster, namespace in refs)
        apps.append(
            App(
                name=draft.name,
                namespace=draft.namespace,
                directory=draft.app_dir.directory_path,
                kustomization=draft.app_dir.kustomization_path,
                source_kind=draft.source_kind,
                selector=dict(draft.selector),
                flux_kustomization=draft.app_dir.flux_kustomization,
                ports=tuple(draft.ports),
                routes=tuple(draft.routes),
                route_ports=tuple(sorted(draft.route_ports)),
                load_balancer_ports=tuple(draft.lb_ports),
                is_oauth2_proxy=draft.oauth2,
            )
        )
    return apps, pending


# --------------------------------------------------------------------------- public API


class Source(Protocol):
    """What discovery needs of a repository: its root and its layout (which directories
    are namespaces). :class:`scaffolder.repo.repository.Repository` is one."""

    @property
    def root(self) -> Path: ...

    @property
    def layout(self) -> Layout: ...


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while discovering: discovery allocates hundreds
    of thousands of small containers (parsed documents, the model) and keeps them, so each
    collection would only traverse them again. Afterwards what was allocated joins the
    oldest generation directly (a freeze and unfreeze: two list splices), instead of being
    scanned by the next young collections; cyclic garbage among it is still found by the
    next full collection. Not when objects are frozen already (a forked worker's inherited
    model must stay frozen)."""
    enabled = gc.isenabled()
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        if frozen == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def discover_namespace(repo: Source, name: str) -> Namespace:
    """Discover one namespace. CNPG clusters of other namespaces its apps use are found
    by a quick scan of the apps directory; ``consumers`` of its own clusters only list apps
    of this namespace (use :func:`discover_all` for the cross-namespace picture)."""
    layout = repo.layout
    reader = Reader(repo.root)
    ns, pending = read_namespace(reader, layout.namespace(name), frozenset(layout.namespaces()))
    link_clusters(
        [(ns, pending)],
        cluster_index([ns]),
        fallback=lambda: scan_clusters(reader, layout.apps_dir),
    )
    return ns


def discover_all(
    repo: Source,
    names: Iterable[str] | None = None,
    *,
    required: Iterable[str] | None = None,
) -> list[Namespace]:
    """Discover ``names`` (default: every active namespace of the layout), in order, and
    link CNPG clients and clusters across them.

    A namespace whose own kustomization is broken raises, unless ``required`` is given and
    does not name it: then it is discovered as empty, with the problem as its warning (a
    broken unrelated namespace must not block scaffolding another one).
    """
    from scaffolder.core.parallel import map_chunked

    layout = repo.layout
    reader = Reader(repo.root)
    selected = layout.namespaces() if names is None else list(dict.fromkeys(names))
    known = frozenset(layout.namespaces())
    must = None if required is None else set(required)

    def one(name: str) -> tuple[Namespace, list[Pending]]:
        try:
            return read_namespace(reader, layout.namespace(name), known)
        except (YamlError, PathEscapeError) as exc:
            if must is None or name in must:
                raise
            directory = layout.apps_dir / name
            broken = Namespace(name, directory, directory / "kustomization.yaml")
            broken.warnings.append(f"not discovered: {exc}")
            return broken, []

    if len(selected) >= MEMO_NAMESPACES:
        enable_parse_memo()  # loaded once, before workers fork
    with _no_cycle_collection():
        results = map_chunked(one, selected)
        fallback = None if names is None else (lambda: scan_clusters(reader, layout.apps_dir))
        link_clusters(results, cluster_index(ns for ns, _ in results), fallback=fallback)
    return [ns for ns, _ in results]
