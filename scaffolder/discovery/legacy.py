"""Discovery: read a Flux/Kustomize repository into the :mod:`scaffolder.repo.model`.

For a namespace directory ``<apps_dir>/<ns>`` discovery reads

* the namespace ``kustomization.yaml`` (its ``resources:`` and ``components:``); a file
  it lists that holds Flux ``Kustomization`` objects (``kustomize.toolkit.fluxcd.io``)
  gives each app directory through ``spec.path`` (repo-relative, ``./`` dropped). A
  directory listed directly (plain kustomize layout) is an app directory too;
* each app directory's kustomization, following ``resources:`` recursively into
  sub-directories. Its HelmReleases, Deployments/StatefulSets/DaemonSets, Services,
  HTTPRoutes and CNPG ``Cluster`` objects become :class:`~scaffolder.repo.model.App` and
  :class:`~scaffolder.repo.model.CnpgCluster` entries;
* every CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy / NetworkPolicy in a YAML
  file under the namespace directory (and under app directories that live elsewhere).

How apps are read
-----------------

*bjw-s app-template* HelmReleases (``chart.spec.chart: app-template`` or a ``chartRef``
named ``app-template`` / to an OCIRepository whose URL ends in ``app-template``, or any
``chartRef`` release whose values have ``controllers:``): the chart labels every pod of
the release ``app.kubernetes.io/name: <name>`` and ``app.kubernetes.io/instance:
<release>`` where ``<name>`` is ``global.nameOverride`` (or a top-level ``nameOverride``)
and defaults to the release name. The app selector is ``{app.kubernetes.io/name: <name>}``,
plus ``app.kubernetes.io/instance`` when a ``nameOverride`` makes the name differ from the
release (two releases could then share the name). ``app.kubernetes.io/controller`` is
never added: one App covers every controller of its release (a worker controller needs
the same database egress as the web one), so selecting by name is both sufficient and
the least surprising. ``fullnameOverride`` only changes resource (Service) names and is
used to match HTTPRoute backendRefs. Ports come from ``service.<id>.ports.<name>``:
``port``, ``targetPort`` (defaults to ``port``), ``protocol`` (HTTP/HTTPS/TCP -> TCP);
``type: LoadBalancer`` services also fill ``load_balancer_ports``; ``route.<id>.parentRefs``
fill ``routes``. Disabled (``enabled: false``) controllers, services, ports and routes are
skipped.

Other charts: selector ``{app.kubernetes.io/name: <nameOverride or chart name>,
app.kubernetes.io/instance: <release>}`` (the Helm convention). Ports are not guessed
from chart values, except for a few charts with a fixed Service -> pod mapping
(``_KNOWN_CHART_PORTS``: grafana 80 -> 3000, oauth2-proxy 80 -> 4180, honouring their
value overrides); otherwise they come from plain Services in the repo, if any.

Plain workloads: the selector is ``spec.selector.matchLabels`` (else the pod template
labels). Services whose selector matches an app's pod labels give its ports; a named
``targetPort`` is resolved through the containers' ``ports``. A Service that matches no
workload, in an app directory that has no other app, becomes an App of its own
(``source_kind: "Service"``, selector = the Service selector) -- e.g. the LoadBalancer
in front of Envoy Gateway's generated proxy pods.

HTTPRoutes attach their ``parentRefs`` to the app whose Service a ``backendRef`` names,
else to the only app of the route's directory.

CNPG: an app is a client of cluster ``C`` in namespace ``N`` when any string in its
values / pod template / the other manifests of its directory (ExternalSecrets,
ConfigMaps...) contains the host ``C-rw``/``C-ro``/``C-r`` (optionally ``.N``,
``.N.svc``, ``.N.svc.cluster.local``) or is exactly ``C-app`` / ``C-superuser`` (the
secrets CNPG creates). Only clusters that exist in the repository count. A host without
namespace, or a secret name, means the app's own namespace when it has such a cluster,
else the one namespace that does. :func:`discover_namespace` resolves clusters of other
namespaces with a quick scan of the apps directory; :func:`discover_all` fills
``CnpgCluster.consumers`` from every namespace it discovered.

Robustness: unknown shapes are skipped with a one-line warning naming the file
(``Namespace.warnings``); a malformed app file is skipped, never fatal. The namespace
kustomization itself must parse (else :class:`~scaffolder.core.errors.YamlError`). Nothing
outside the repository is read: paths (``..`` or symlinks) resolving outside the root are
skipped with a warning, and :class:`~scaffolder.core.errors.PathEscapeError` is raised for the
namespace kustomization itself. Flux ``${VAR}`` substitutions are kept verbatim.

Speed: every file is parsed at most once per run, with libyaml's safe loader when
PyYAML's C extension is available (about 15x faster than the pure-Python loader),
falling back to :func:`scaffolder.core.yamlio.parse_documents` for its error messages and
whenever the fast loader is unavailable or refuses a file.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import PathEscapeError, RepoError, YamlError
from scaffolder.core.fs import repo_path
from scaffolder.core.yamlio import enable_parse_memo, parse_documents_fast, read_text
from scaffolder.policy import YAML_SUFFIXES, is_policy_document, policies_in_documents, to_ref
from scaffolder.repo.model import (
    App,
    CnpgCluster,
    CnpgConsumer,
    CnpgRef,
    FluxKustomization,
    Namespace,
    PolicyRef,
    Port,
    RouteRef,
)
from scaffolder.repo.repository import find_kustomization, validate_namespace_name

__all__ = ["discover_all", "discover_namespace", "list_namespaces"]

MEMO_NAMESPACES = 200  # from here on, the parse memo pays for itself
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
CONTROLLER_LABEL = "app.kubernetes.io/controller"

_CNPG_HOST = re.compile(
    r"(?<![a-z0-9.-])([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(rw|ro|r)"
    r"(?:\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?))?(?![a-z0-9-])"
)
_CNPG_SECRET = re.compile(r"^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(app|superuser)$")


# --------------------------------------------------------------------------- YAML access


def _parse(text: str, source: Path | str) -> list[Any]:
    """All non-empty documents of ``text``; :class:`YamlError` (file and line) on bad YAML."""
    return parse_documents_fast(text, source)


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _labels(value: Any) -> dict[str, str]:
    return {
        str(k): str(v) for k, v in _map(value).items() if isinstance(v, str | int | float | bool)
    }


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _api_group(doc: Mapping[str, Any]) -> str:
    api = doc.get("apiVersion")
    return api.split("/", 1)[0] if isinstance(api, str) and "/" in api else ""


def _is(doc: Mapping[str, Any], kind: str, group: str) -> bool:
    return doc.get("kind") == kind and _api_group(doc) == group


def _strings(value: Any, out: list[str]) -> None:
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


def _is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@", "ssh:"))


def _protocol(value: Any) -> str:
    text = value.upper() if isinstance(value, str) else "TCP"
    return text if text in ("UDP", "SCTP") else "TCP"


# --------------------------------------------------------------------------- drafts


@dataclass
class _Draft:
    """An app being assembled; becomes a :class:`~scaffolder.repo.model.App`."""

    name: str
    namespace: str
    source_kind: str
    directory: PurePosixPath
    kustomization: PurePosixPath
    file: PurePosixPath
    selector: dict[str, str]
    pod_labels: dict[str, str]
    flux_kustomization: str | None
    controllers: frozenset[str] = frozenset()
    service_names: set[str] = field(default_factory=set)
    container_ports: dict[str, int] = field(default_factory=dict)
    ports: list[Port] = field(default_factory=list)
    lb_ports: list[Port] = field(default_factory=list)
    routes: list[RouteRef] = field(default_factory=list)
    route_ports: set[int] = field(default_factory=set)  # Service ports routes send traffic to
    oauth2: bool = False
    strings: list[str] = field(default_factory=list)

    def add_port(self, port: Port, load_balancer: bool) -> None:
        if port not in self.ports:
            self.ports.append(port)
        if load_balancer and port not in self.lb_ports:
            self.lb_ports.append(port)

    def add_route(self, route: RouteRef) -> None:
        if route not in self.routes:
            self.routes.append(route)

    def selects(self, selector: Mapping[str, str]) -> bool:
        """Would a Service with ``selector`` select this app's pods?"""
        for key, value in selector.items():
            if key == CONTROLLER_LABEL and self.controllers:
                if value not in self.controllers:
                    return False
            elif self.pod_labels.get(key) != value:
                return False
        return True


@dataclass
class _Service:
    name: str
    file: PurePosixPath
    directory: PurePosixPath
    kustomization: PurePosixPath
    flux_kustomization: str | None
    namespace: str
    selector: dict[str, str]
    spec: dict[str, Any]


@dataclass
class _Route:
    name: str
    file: PurePosixPath
    directory: PurePosixPath
    parent_refs: list[RouteRef]
    backends: list[str]
    backend_ports: list[int] = field(default_factory=list)  # Service ports the rules target


@dataclass(frozen=True)
class _Pending:
    """An unresolved CNPG reference of an app: ``cluster`` in ``namespace`` (None: unknown)."""

    app: str
    cluster: str
    namespace: str | None


@dataclass
class _AppDir:
    directory: PurePosixPath
    kustomization: PurePosixPath
    flux_kustomization: str | None
    namespace: str


# --------------------------------------------------------------------------- discoverer


class _Discoverer:
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
    def namespace(self, apps_dir: PurePosixPath, name: str) -> tuple[Namespace, list[_Pending]]:
        ns_dir = apps_dir / name
        kustomization = _namespace_kustomization(self.root, apps_dir, name)
        absolute = repo_path(self.root, kustomization)  # PathEscapeError for a symlink out
        docs = self.docs(kustomization, absolute)
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise YamlError(str(kustomization), "expected one kustomization mapping")
        kz: dict[str, Any] = docs[0]
        resources = _entries(kz, "resources", kustomization)
        components = _entries(kz, "components", kustomization)
        k8s_namespace = _str(kz.get("namespace")) or name

        ns = Namespace(
            name=name,
            directory=ns_dir,
            kustomization=kustomization,
            components=list(components),
        )
        warnings = ns.warnings
        app_dirs: dict[PurePosixPath, _AppDir] = {}

        for entry in resources:
            target = self.resource_target(kustomization, ns_dir, entry, warnings)
            if target is None:
                continue
            rel, found = target
            if found is not None:
                app_dirs.setdefault(rel, _AppDir(rel, rel / found.name, None, k8s_namespace))
                continue
            file_docs = self.try_docs(rel, warnings)
            if file_docs is None:
                continue
            for doc in file_docs:
                if isinstance(doc, dict) and _is(
                    doc, "Kustomization", "kustomize.toolkit.fluxcd.io"
                ):
                    self.flux_kustomization(doc, rel, kz, ns, app_dirs, k8s_namespace)

        drafts: list[_Draft] = []
        services: list[_Service] = []
        routes: list[_Route] = []
        shared: dict[PurePosixPath, list[str]] = {}
        for app_dir in app_dirs.values():
            self.read_app_dir(app_dir, ns, drafts, services, routes, shared)

        apps, pending = _to_apps(_assemble(ns, drafts, services, routes, shared))
        self.collect_policies(ns, apps, [d.directory for d in app_dirs.values()], k8s_namespace)
        ns.apps = sorted(apps, key=lambda a: a.name)
        ns.cnpg_clusters.sort(key=lambda c: c.name)
        return ns, pending

    def flux_kustomization(
        self,
        doc: dict[str, Any],
        file: PurePosixPath,
        kz: dict[str, Any],
        ns: Namespace,
        app_dirs: dict[PurePosixPath, _AppDir],
        k8s_namespace: str,
    ) -> None:
        metadata = _map(doc.get("metadata"))
        spec = _map(doc.get("spec"))
        name = _str(metadata.get("name"))
        if name is None:
            ns.warnings.append(f"{file}: Flux Kustomization without metadata.name; skipped")
            return
        raw_path = spec.get("path")
        path: PurePosixPath | None = None
        if isinstance(raw_path, str) and raw_path.strip():
            normalised = posixpath.normpath(raw_path.strip().removeprefix("./"))
            path = PurePosixPath(normalised) if normalised not in ("", ".") else PurePosixPath()
        target = _str(spec.get("targetNamespace"))
        ks = FluxKustomization(
            name=name,
            namespace=_str(metadata.get("namespace")) or _str(kz.get("namespace")),
            path=path,
            target_namespace=target,
            suspend=spec.get("suspend") is True,
            file=file,
        )
        ns.flux_kustomizations.append(ks)
        if path is None:
            ns.warnings.append(f"{file}: Flux Kustomization {name} has no spec.path; skipped")
            return
        if "${" in str(path):
            ns.warnings.append(
                f"{file}: Flux Kustomization {name}: spec.path {raw_path} uses a substitution; skipped"
            )
            return
        if self.inside(path) is None:
            ns.warnings.append(
                f"{file}: Flux Kustomization {name}: spec.path {raw_path} resolves outside the repository; skipped"
            )
            return
        found = self.kustomization_of(path)
        if found is None:
            ns.warnings.append(
                f"{file}: Flux Kustomization {name}: {path}/ has no kustomization.yaml; skipped"
            )
            return
        app_dirs.setdefault(path, _AppDir(path, found, name, target or k8s_namespace))

    # -- app directories ---------------------------------------------------------------
    def app_files(
        self, app_dir: _AppDir, warnings: list[str]
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
                entries = _entries(docs[0], "resources", kustomization)
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
        if _is_remote(entry):
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

    def read_app_dir(
        self,
        app_dir: _AppDir,
        ns: Namespace,
        drafts: list[_Draft],
        services: list[_Service],
        routes: list[_Route],
        shared: dict[PurePosixPath, list[str]],
    ) -> None:
        files = list(self.app_files(app_dir, ns.warnings))
        sources = {
            str(_map(doc.get("metadata")).get("name")): _map(doc.get("spec"))
            for _, _, docs in files
            for doc in docs
            if isinstance(doc, dict) and _is(doc, "OCIRepository", "source.toolkit.fluxcd.io")
        }
        strings = shared.setdefault(app_dir.directory, [])
        for file, _base, docs in files:
            for doc in docs:
                if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
                    continue
                kind = doc["kind"]
                group = _api_group(doc)
                try:
                    if kind == "HelmRelease" and group == "helm.toolkit.fluxcd.io":
                        draft = _helm_release(doc, file, app_dir, sources, ns.warnings)
                        if draft is not None:
                            drafts.append(draft)
                    elif kind in WORKLOAD_KINDS and group == "apps":
                        draft = _workload(doc, file, app_dir, ns.warnings)
                        if draft is not None:
                            drafts.append(draft)
                    elif kind == "Service" and doc.get("apiVersion") == "v1":
                        service = _service(doc, file, app_dir)
                        if service is not None:
                            services.append(service)
                    elif (
                        kind in ("HTTPRoute", "GRPCRoute") and group == "gateway.networking.k8s.io"
                    ):
                        routes.append(_route(doc, file, app_dir))
                    elif kind == "Cluster" and group == "postgresql.cnpg.io":
                        name = _str(_map(doc.get("metadata")).get("name"))
                        if name is None:
                            ns.warnings.append(
                                f"{file}: CNPG Cluster without metadata.name; skipped"
                            )
                            continue
                        cluster_ns = (
                            _str(_map(doc.get("metadata")).get("namespace")) or app_dir.namespace
                        )
                        ns.cnpg_clusters.append(
                            CnpgCluster(
                                name,
                                cluster_ns,
                                app_dir.directory,
                                app_dir.kustomization,
                                backup_endpoints=_backup_endpoints(_map(doc.get("spec"))),
                            )
                        )
                    elif (
                        group in ("source.toolkit.fluxcd.io", "cilium.io")
                        or kind == "NetworkPolicy"
                    ):
                        continue
                    else:
                        _strings(doc, strings)
                except (TypeError, ValueError, AttributeError) as exc:
                    ns.warnings.append(f"{file}: {kind} has an unexpected shape ({exc}); skipped")

    # -- policies --------------------------------------------------------------------
    def collect_policies(
        self,
        ns: Namespace,
        apps: list[App],
        app_directories: list[PurePosixPath],
        k8s_namespace: str,
    ) -> None:
        elsewhere = (
            d for d in app_directories if d != ns.directory and ns.directory not in d.parents
        )
        roots = [ns.directory, *sorted(elsewhere)]
        seen: set[str] = set()
        found: list[PolicyRef] = []
        for directory in roots:
            for rel_text, absolute_text in self.walk_yaml_text(directory):
                if rel_text in seen:
                    continue
                seen.add(rel_text)
                cached = self.cache.get(rel_text)
                if isinstance(cached, list) and not any(map(is_policy_document, cached)):
                    continue  # read with the app: no policy in it
                rel = PurePosixPath(rel_text)
                absolute = Path(absolute_text)
                if cached is None:
                    if self.inside(rel) is None:
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
                        docs = self.docs(rel, absolute)
                    except YamlError:
                        ns.warnings.append(f"{rel}: not valid YAML; policies in it ignored")
                        continue
                elif isinstance(cached, str):
                    continue  # already warned when the app was read
                else:
                    docs = cached
                try:
                    policies = policies_in_documents(docs, rel)
                except YamlError as exc:
                    ns.warnings.append(f"{rel}: {exc.problem}; policies in it ignored")
                    continue
                for policy in policies:
                    ref = to_ref(policy)
                    if ref.namespace is None and not policy.clusterwide:
                        owner = _owner(rel, apps)
                        ref = replace(ref, namespace=owner.namespace if owner else k8s_namespace)
                    found.append(ref)
        found.sort(key=lambda p: str(p.path))  # stable: document order within a file
        ns.policies = found
        for app in apps:
            app.existing_policies = tuple(p for p in found if _under(p.path, app.directory))


def _under(path: PurePosixPath, directory: PurePosixPath) -> bool:
    """``path.is_relative_to(directory)`` for repo-relative paths, without pathlib's cost."""
    text, prefix = str(path), str(directory)
    return prefix == "." or text == prefix or text.startswith(prefix + "/")


def _owner(rel: PurePosixPath, apps: Iterable[App]) -> App | None:
    best: App | None = None
    for app in apps:
        if _under(rel, app.directory) and (
            best is None or len(app.directory.parts) > len(best.directory.parts)
        ):
            best = app
    return best


def _entries(kz: Mapping[str, Any], key: str, where: PurePosixPath) -> list[str]:
    value = kz.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise YamlError(str(where), f"{key}: expected a list of paths")
    return list(value)


def _namespace_kustomization(root: Path, apps_dir: PurePosixPath, name: str) -> PurePosixPath:
    validate_namespace_name(name)
    directory = apps_dir / name
    absolute = repo_path(root, apps_dir) / name
    found = find_kustomization(absolute) if absolute.is_dir() else None
    if found is None:
        close = difflib.get_close_matches(name, list_namespaces(root, apps_dir), n=3)
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else f"namespaces are the directories of {apps_dir}/ with a kustomization.yaml"
        )
        raise RepoError(f"unknown namespace {name!r}: no {directory}/kustomization.yaml", hint=hint)
    return directory / found.name


# --------------------------------------------------------------------------- HelmRelease


def _release_name(doc: Mapping[str, Any]) -> str:
    spec = _map(doc.get("spec"))
    name = str(_map(doc.get("metadata")).get("name"))
    explicit = _str(spec.get("releaseName"))
    if explicit:
        return explicit
    target = _str(spec.get("targetNamespace"))
    return f"{target}-{name}" if target else name


def _chart(
    spec: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]
) -> tuple[str | None, bool]:
    """(chart name, referenced via chartRef)."""
    chart = _str(_map(_map(spec.get("chart")).get("spec")).get("chart"))
    if chart:
        return chart.rsplit("/", 1)[-1], False
    ref = _map(spec.get("chartRef"))
    ref_name = _str(ref.get("name"))
    if ref_name is None:
        return None, False
    url = (
        _str(sources.get(ref_name, {}).get("url"))
        if ref.get("kind", "OCIRepository") == "OCIRepository"
        else None
    )
    if url:
        return url.rstrip("/").rsplit("/", 1)[-1], True
    return ref_name, True


def _override(values: Mapping[str, Any], key: str) -> str | None:
    value = _str(_map(values.get("global")).get(key)) or _str(values.get(key))
    return value if value and "{{" not in value else None


def _images(values: Any) -> Iterator[str]:
    """Image references in chart values: ``image: str`` or ``image: {repository: ...}``."""
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "image":
                    if isinstance(value, str):
                        yield value
                    elif isinstance(value, dict) and isinstance(value.get("repository"), str):
                        yield value["repository"]
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _helm_release(
    doc: dict[str, Any],
    file: PurePosixPath,
    app_dir: _AppDir,
    sources: Mapping[str, Mapping[str, Any]],
    warnings: list[str],
) -> _Draft | None:
    metadata = _map(doc.get("metadata"))
    name = _str(metadata.get("name"))
    if name is None:
        warnings.append(f"{file}: HelmRelease without metadata.name; skipped")
        return None
    spec = _map(doc.get("spec"))
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        warnings.append(f"{file}: HelmRelease {name}: spec.values is not a mapping; skipped")
        return None
    values = values or {}
    release = _release_name(doc)
    chart, via_ref = _chart(spec, sources)
    app_template = chart == "app-template" or (
        via_ref and isinstance(values.get("controllers"), dict)
    )
    namespace = (
        _str(spec.get("targetNamespace")) or _str(metadata.get("namespace")) or app_dir.namespace
    )
    name_override = _override(values, "nameOverride")
    fullname_override = _override(values, "fullnameOverride")
    draft = _Draft(
        name=name,
        namespace=namespace,
        source_kind="HelmRelease",
        directory=app_dir.directory,
        kustomization=app_dir.kustomization,
        file=file,
        selector={},
        pod_labels={},
        flux_kustomization=app_dir.flux_kustomization,
    )
    images = list(_images(values))
    draft.oauth2 = chart == "oauth2-proxy" or any("oauth2-proxy" in image for image in images)
    _strings(values, draft.strings)
    if app_template:
        label = name_override or release
        draft.selector = {NAME_LABEL: label}
        if label != release:
            draft.selector[INSTANCE_LABEL] = release
        draft.pod_labels = {NAME_LABEL: label, INSTANCE_LABEL: release}
        fullname = fullname_override or (release if label in release else f"{release}-{label}")
        _app_template(values, draft, fullname, file, warnings)
    else:
        label = name_override or chart or release
        draft.selector = {NAME_LABEL: label, INSTANCE_LABEL: release}
        draft.pod_labels = dict(draft.selector)
        draft.service_names.update(
            n
            for n in (
                release,
                label,
                fullname_override,
                f"{release}-{label}",
                _str(_map(values.get("service")).get("name")),
            )
            if n
        )
        _routes_from_values(values, draft)
        _known_chart_ports(chart, values, draft)
    draft.service_names.update({name, release})
    return draft


# Charts whose Service -> container port mapping is fixed by the chart: (values path of
# the Service port, its default, values path of the container port, its default).
_KNOWN_CHART_PORTS: dict[str, tuple[tuple[str, ...], int, tuple[str, ...], int]] = {
    "grafana": (("service", "port"), 80, ("service", "targetPort"), 3000),
    "oauth2-proxy": (("service", "portNumber"), 80, ("containerPort",), 4180),
}


def _known_chart_ports(chart: str | None, values: Mapping[str, Any], draft: _Draft) -> None:
    """The ``http`` port of a few well-known charts (their defaults, or the values' overrides)."""
    known = _KNOWN_CHART_PORTS.get(chart or "")
    if known is None:
        return
    port_path, port_default, target_path, target_default = known

    def lookup(path: tuple[str, ...], default: int) -> int:
        node: Any = values
        for key in path:
            node = _map(node).get(key)
        return _int(node) or default

    draft.add_port(
        Port(lookup(port_path, port_default), lookup(target_path, target_default), "TCP", "http"),
        False,
    )


def _enabled(item: Mapping[str, Any]) -> bool:
    return item.get("enabled", True) is not False


def _app_template(
    values: Mapping[str, Any],
    draft: _Draft,
    fullname: str,
    file: PurePosixPath,
    warnings: list[str],
) -> None:
    controllers = {
        str(cid): c
        for cid, c in _map(values.get("controllers")).items()
        if isinstance(c, dict) and _enabled(c)
    }
    draft.controllers = frozenset(controllers)
    for controller in controllers.values():
        for group in ("containers", "initContainers"):
            for container in _map(controller.get(group)).values():
                for port in _list(_map(container).get("ports")):
                    port_map = _map(port)
                    number = _int(port_map.get("containerPort"))
                    if isinstance(port_map.get("name"), str) and number is not None:
                        draft.container_ports[port_map["name"]] = number
    services = {
        str(sid): s
        for sid, s in _map(values.get("service")).items()
        if isinstance(s, dict) and _enabled(s)
    }
    draft.service_names.add(fullname)
    for sid, service in services.items():
        draft.service_names.add(f"{fullname}-{sid}")
        suffix = _str(service.get("nameOverride")) or _str(service.get("suffix"))
        if suffix:
            draft.service_names.add(f"{fullname}-{suffix}")
        load_balancer = service.get("type") == "LoadBalancer"
        for port_name, port in _map(service.get("ports")).items():
            if not isinstance(port, dict) or not _enabled(port):
                continue
            where = f"{file}: {draft.name}: service.{sid}.ports.{port_name}"
            resolved = _port(port, str(port_name), draft.container_ports, where, warnings)
            if resolved is not None:
                draft.add_port(resolved, load_balancer)
    _routes_from_values(values, draft)


def _routes_from_values(values: Mapping[str, Any], draft: _Draft) -> None:
    for route in _map(values.get("route")).values():
        if not isinstance(route, dict) or not _enabled(route):
            continue
        refs = list(_parent_refs(route.get("parentRefs"), draft.namespace))
        for ref in refs:
            draft.add_route(ref)
        if not refs:
            continue
        ports = [
            port
            for rule in _list(route.get("rules"))
            for backend in _list(_map(rule).get("backendRefs"))
            if (port := _int(_map(backend).get("port"))) is not None
        ]
        if not ports and draft.ports:
            # app-template routes to the primary service's primary port: "http", else the first.
            named = [p.port for p in draft.ports if p.name == "http"]
            ports = named[:1] or [draft.ports[0].port]
        draft.route_ports.update(ports)


def _parent_refs(value: Any, namespace: str) -> Iterator[RouteRef]:
    for ref in _list(value):
        ref_map = _map(ref)
        name = _str(ref_map.get("name"))
        if name is None or ref_map.get("kind", "Gateway") != "Gateway":
            continue
        yield RouteRef(
            name, _str(ref_map.get("namespace")) or namespace, _str(ref_map.get("sectionName"))
        )


# --------------------------------------------------------------------------- plain resources


def _workload(
    doc: dict[str, Any], file: PurePosixPath, app_dir: _AppDir, warnings: list[str]
) -> _Draft | None:
    metadata = _map(doc.get("metadata"))
    name = _str(metadata.get("name"))
    kind = str(doc["kind"])
    if name is None:
        warnings.append(f"{file}: {kind} without metadata.name; skipped")
        return None
    spec = _map(doc.get("spec"))
    template = _map(spec.get("template"))
    pod_labels = _labels(_map(template.get("metadata")).get("labels"))
    selector = _labels(_map(spec.get("selector")).get("matchLabels")) or pod_labels
    if not selector:
        warnings.append(f"{file}: {kind} {name} has no selector.matchLabels or pod labels; skipped")
        return None
    draft = _Draft(
        name=name,
        namespace=_str(metadata.get("namespace")) or app_dir.namespace,
        source_kind=kind,
        directory=app_dir.directory,
        kustomization=app_dir.kustomization,
        file=file,
        selector=selector,
        pod_labels={**selector, **pod_labels},
        flux_kustomization=app_dir.flux_kustomization,
    )
    pod_spec = _map(template.get("spec"))
    for group in ("containers", "initContainers"):
        for container in _list(pod_spec.get(group)):
            container_map = _map(container)
            image = container_map.get("image")
            if isinstance(image, str) and "oauth2-proxy" in image:
                draft.oauth2 = True
            for port in _list(container_map.get("ports")):
                port_map = _map(port)
                number = _int(port_map.get("containerPort"))
                if isinstance(port_map.get("name"), str) and number is not None:
                    draft.container_ports[port_map["name"]] = number
    _strings(template, draft.strings)
    draft.service_names.add(name)
    return draft


def _service(doc: dict[str, Any], file: PurePosixPath, app_dir: _AppDir) -> _Service | None:
    name = _str(_map(doc.get("metadata")).get("name"))
    spec = _map(doc.get("spec"))
    if name is None or spec.get("type") == "ExternalName":
        return None
    return _Service(
        name=name,
        file=file,
        directory=app_dir.directory,
        kustomization=app_dir.kustomization,
        flux_kustomization=app_dir.flux_kustomization,
        namespace=_str(_map(doc.get("metadata")).get("namespace")) or app_dir.namespace,
        selector=_labels(spec.get("selector")),
        spec=spec,
    )


def _route(doc: dict[str, Any], file: PurePosixPath, app_dir: _AppDir) -> _Route:
    metadata = _map(doc.get("metadata"))
    spec = _map(doc.get("spec"))
    namespace = _str(metadata.get("namespace")) or app_dir.namespace
    backends: list[str] = []
    ports: list[int] = []
    for rule in _list(spec.get("rules")):
        for backend in _list(_map(rule).get("backendRefs")):
            backend_map = _map(backend)
            name = _str(backend_map.get("name"))
            if name is None or backend_map.get("kind", "Service") != "Service":
                continue
            if backend_map.get("namespace", namespace) != namespace:
                continue
            backends.append(name)
            port = _int(backend_map.get("port"))
            if port is not None:
                ports.append(port)
    return _Route(
        name=_str(metadata.get("name")) or "?",
        file=file,
        directory=app_dir.directory,
        parent_refs=list(_parent_refs(spec.get("parentRefs"), namespace)),
        backends=backends,
        backend_ports=ports,
    )


def _backup_endpoints(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """``endpointURL``s of a CNPG Cluster's barman object stores (backup and recovery)."""
    stores = [_map(_map(spec.get("backup")).get("barmanObjectStore"))]
    stores += [
        _map(_map(ext).get("barmanObjectStore")) for ext in _list(spec.get("externalClusters"))
    ]
    urls = (_str(store.get("endpointURL")) for store in stores)
    return tuple(dict.fromkeys(url for url in urls if url))


def _service_ports(service: _Service, draft: _Draft | None, warnings: list[str]) -> Iterator[Port]:
    container_ports = draft.container_ports if draft is not None else {}
    for port in _list(service.spec.get("ports")):
        port_map = _map(port)
        name = port_map.get("name")
        where = f"{service.file}: Service {service.name}: port"
        resolved = _port(
            port_map, name if isinstance(name, str) else None, container_ports, where, warnings
        )
        if resolved is not None:
            yield resolved


def _port(
    spec: Mapping[str, Any],
    name: str | None,
    container_ports: Mapping[str, int],
    where: str,
    warnings: list[str],
) -> Port | None:
    """A Service port (``port``, ``targetPort`` number or container port name, ``protocol``)."""
    number = _int(spec.get("port"))
    if number is None:
        warnings.append(f"{where} {spec.get('port')!r} is not a number; skipped")
        return None
    raw_target = spec.get("targetPort")
    target = number if raw_target is None else _int(raw_target)
    if target is None and isinstance(raw_target, str):
        target = container_ports.get(raw_target)
    if target is None:
        warnings.append(f"{where}: targetPort {raw_target!r} matches no container port; skipped")
        return None
    return Port(number, target, _protocol(spec.get("protocol")), name)


# --------------------------------------------------------------------------- assembly


def _assemble(
    ns: Namespace,
    drafts: list[_Draft],
    services: list[_Service],
    routes: list[_Route],
    shared: Mapping[PurePosixPath, list[str]],
) -> list[_Draft]:
    warnings = ns.warnings
    by_name: dict[str, _Draft] = {}
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
                for port in _service_ports(service, draft, warnings):
                    draft.add_port(port, load_balancer)
            continue
        if (
            any(d.directory == service.directory for d in by_name.values())
            or service.name in by_name
        ):
            warnings.append(
                f"{service.file}: Service {service.name} selects no workload found in {ns.name}; ignored"
            )
            continue
        draft = _Draft(
            name=service.name,
            namespace=service.namespace,
            source_kind="Service",
            directory=service.directory,
            kustomization=service.kustomization,
            file=service.file,
            selector=dict(service.selector),
            pod_labels=dict(service.selector),
            flux_kustomization=service.flux_kustomization,
            service_names={service.name},
        )
        for port in _service_ports(service, None, warnings):
            draft.add_port(port, load_balancer)
        by_name[draft.name] = draft

    for route in routes:
        targets = [d for d in by_name.values() if d.service_names & set(route.backends)]
        if not targets:
            in_dir = [d for d in by_name.values() if d.directory == route.directory]
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
        draft.strings.extend(shared.get(draft.directory, ()))
    return list(by_name.values())


def _to_apps(drafts: list[_Draft]) -> tuple[list[App], list[_Pending]]:
    """The finished Apps and their CNPG references (unresolved)."""
    apps: list[App] = []
    pending: list[_Pending] = []
    for draft in drafts:
        refs: dict[tuple[str, str | None], None] = {}
        for text in draft.strings:
            if "-r" in text:
                for match in _CNPG_HOST.finditer(text):
                    namespace = match.group(3)
                    refs[(match.group(1), None if namespace in (None, "svc") else namespace)] = None
            if text.endswith(("-app", "-superuser")):
                secret = _CNPG_SECRET.match(text.strip())
                if secret:
                    refs[(secret.group(1), None)] = None
        pending.extend(_Pending(draft.name, cluster, namespace) for cluster, namespace in refs)
        apps.append(
            App(
                name=draft.name,
                namespace=draft.namespace,
                directory=draft.directory,
                kustomization=draft.kustomization,
                source_kind=draft.source_kind,
                selector=dict(draft.selector),
                flux_kustomization=draft.flux_kustomization,
                ports=tuple(draft.ports),
                routes=tuple(draft.routes),
                route_ports=tuple(sorted(draft.route_ports)),
                load_balancer_ports=tuple(draft.lb_ports),
                is_oauth2_proxy=draft.oauth2,
            )
        )
    return apps, pending


# --------------------------------------------------------------------------- CNPG linking

_ClusterIndex = dict[str, set[str]]  # cluster name -> namespaces that have it


def _index(namespaces: Iterable[Namespace]) -> _ClusterIndex:
    index: _ClusterIndex = {}
    for ns in namespaces:
        for cluster in ns.cnpg_clusters:
            index.setdefault(cluster.name, set()).add(cluster.namespace)
    return index


def _scan_clusters(discoverer: _Discoverer, apps_dir: PurePosixPath) -> _ClusterIndex:
    """CNPG clusters anywhere under the apps dir, by a quick text scan (no structure)."""
    index: _ClusterIndex = {}
    for rel, absolute in discoverer.walk_yaml(apps_dir):
        try:
            if discoverer.inside(rel) is None:
                continue
            text = read_text(absolute)
            if "postgresql.cnpg.io" not in text or "Cluster" not in text:
                continue
            docs = discoverer.docs(rel, absolute)
        except YamlError:
            continue
        default_ns = (
            rel.relative_to(apps_dir).parts[0] if len(rel.relative_to(apps_dir).parts) > 1 else None
        )
        for doc in docs:
            if isinstance(doc, dict) and _is(doc, "Cluster", "postgresql.cnpg.io"):
                metadata = _map(doc.get("metadata"))
                name = _str(metadata.get("name"))
                namespace = _str(metadata.get("namespace")) or default_ns
                if name and namespace:
                    index.setdefault(name, set()).add(namespace)
    return index


def _resolve(ref: _Pending, app_namespace: str, index: _ClusterIndex) -> CnpgRef | str | None:
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


def _link(
    results: list[tuple[Namespace, list[_Pending]]],
    index: _ClusterIndex,
    fallback: Any = None,
) -> None:
    """Fill ``App.cnpg_clients`` and ``CnpgCluster.consumers``. ``fallback()`` gives a wider
    index, consulted only when a reference cannot be resolved with ``index``."""
    wider: _ClusterIndex | None = None
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


# --------------------------------------------------------------------------- public API


def list_namespaces(root: Path, apps_dir: PurePosixPath) -> list[str]:
    """The namespace directories under ``apps_dir`` that hold a kustomization, sorted.

    Directories whose name is not a DNS-1123 label (``_templates``, ``.hidden``) are left out.
    """
    directory = repo_path(root, apps_dir)
    if not directory.is_dir():
        raise RepoError(
            f"apps directory {apps_dir} does not exist", hint="set apps_dir in netpol.yaml"
        )
    names = []
    for child in directory.iterdir():
        if not child.is_dir() or find_kustomization(child) is None:
            continue
        try:
            validate_namespace_name(child.name)
        except RepoError:
            continue
        names.append(child.name)
    return sorted(names)


def discover_namespace(root: Path, apps_dir: PurePosixPath, name: str) -> Namespace:
    """Discover one namespace. CNPG clusters of other namespaces its apps use are found
    by a quick scan of ``apps_dir``; ``consumers`` of its own clusters only list apps of
    this namespace (use :func:`discover_all` for the cross-namespace picture)."""
    discoverer = _Discoverer(root)
    ns, pending = discoverer.namespace(apps_dir, name)
    _link([(ns, pending)], _index([ns]), fallback=lambda: _scan_clusters(discoverer, apps_dir))
    return ns


def discover_all(
    root: Path,
    apps_dir: PurePosixPath,
    names: Iterable[str] | None = None,
    *,
    required: Iterable[str] | None = None,
) -> list[Namespace]:
    """Discover ``names`` (default: every namespace, see :func:`list_namespaces`), in order,
    and link CNPG clients and clusters across them.

    A namespace whose own kustomization is broken raises, unless ``required`` is given and
    does not name it: then it is discovered as empty, with the problem as its warning (a
    broken unrelated namespace must not block scaffolding another one).
    """
    from scaffolder.core.parallel import map_chunked

    discoverer = _Discoverer(root)
    selected = list_namespaces(root, apps_dir) if names is None else list(dict.fromkeys(names))
    must = None if required is None else set(required)

    def one(name: str) -> tuple[Namespace, list[_Pending]]:
        try:
            return discoverer.namespace(apps_dir, name)
        except (YamlError, PathEscapeError) as exc:
            if must is None or name in must:
                raise
            directory = apps_dir / name
            broken = Namespace(name, directory, directory / "kustomization.yaml")
            broken.warnings.append(f"not discovered: {exc}")
            return broken, []

    if len(selected) >= MEMO_NAMESPACES:
        enable_parse_memo()  # loaded once, before workers fork
    results = map_chunked(one, selected)
    fallback = None if names is None else (lambda: _scan_clusters(discoverer, apps_dir))
    _link(results, _index(ns for ns, _ in results), fallback=fallback)
    return [ns for ns, _ in results]
