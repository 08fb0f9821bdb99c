"""Routes: which gateway (``parentRefs``) sends traffic to which Service and port.

Two readings of the same thing:

- :class:`RouteSpec` -- chart-agnostic and pure: :func:`read_route_spec` reads
  ``HTTPRoute``/``GRPCRoute``/``TCPRoute``/``TLSRoute``/``UDPRoute`` and ``Ingress``
  manifests; :func:`routes_in_values` reads the route keys charts put in their values:
  ``httpRoute``/``grpcRoute``/``tcpRoute``/``tlsRoute``/``udpRoute`` (the many charts with
  ``<key>.enabled``, ``parentRefs``, ``hostnames``, ``rules``, or a whole ``spec``, like
  grafana-operator's ``Grafana.spec.httpRoute.spec``), ``route`` (app-template's and
  others': one route, or a map of route ids to routes) and ``ingress`` (``hosts``,
  ``className``/``ingressClassName``; one, or app-template's map of ids). A backend the
  values leave to the chart (no ``backendRefs``) is a :class:`Backend` with ``service`` and
  ``port`` None: the release's own Service, on the port the chart picks.
  :func:`backend_ports` resolves a backend against the ports of its Service and says so
  when nothing matches -- it never falls back to every port.
- The draft-filling readers used by discovery (:func:`routes_from_values`,
  :func:`read_route`): a route attaches its ``parentRefs`` to the app whose Service a
  ``backendRef`` names, else to the only app of the route's directory (see
  :mod:`scaffolder.discovery.assemble`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scaffolder.discovery.drafts import Draft, RouteDraft
from scaffolder.discovery.reader import AppDir, as_int, as_list, as_map, as_str, enabled
from scaffolder.repo.model import Port, RouteRef

ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"})
# Chart values keys that make a route (the kind they make).
VALUES_ROUTE_KEYS = {
    "httpRoute": "HTTPRoute",
    "grpcRoute": "GRPCRoute",
    "tcpRoute": "TCPRoute",
    "tlsRoute": "TLSRoute",
    "udpRoute": "UDPRoute",
    "route": "HTTPRoute",
    "ingress": "Ingress",
}
_ROUTE_FIELDS = frozenset({"enabled", "parentRefs", "hostnames", "rules", "spec", "kind"})
_INGRESS_FIELDS = frozenset({"hosts", "hostname", "host", "className", "ingressClassName"})
_MAX_DEPTH = 4  # how deep in the values route keys are looked for (web.httpRoute: 2)


@dataclass(frozen=True)
class Backend:
    """Where a route sends traffic: a Service (None: the chart's own), its namespace, and
    the Service port by number or (Ingress) by name; both None: the chart's choice."""

    service: str | None
    namespace: str
    port: int | None = None
    port_name: str | None = None


@dataclass(frozen=True)
class RouteSpec:
    """A route (or Ingress) of a manifest or of chart values (``source``: the values path,
    e.g. ``web.httpRoute``, or the kind and name of the manifest)."""

    kind: str
    name: str
    namespace: str
    parent_refs: tuple[RouteRef, ...]
    hostnames: tuple[str, ...]
    backends: tuple[Backend, ...]
    ingress_class: str | None = None
    source: str = ""


def parent_refs(value: Any, namespace: str) -> Iterator[RouteRef]:
    for ref in as_list(value):
        ref_map = as_map(ref)
        name = as_str(ref_map.get("name"))
        if name is None or ref_map.get("kind", "Gateway") != "Gateway":
            continue
        yield RouteRef(
            name, as_str(ref_map.get("namespace")) or namespace, as_str(ref_map.get("sectionName"))
        )


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(item for item in as_list(value) if isinstance(item, str) and item)


def _backend_refs(spec: Mapping[str, Any], namespace: str) -> Iterator[Backend]:
    for rule in as_list(spec.get("rules")):
        for backend in as_list(as_map(rule).get("backendRefs")):
            ref = as_map(backend)
            name = as_str(ref.get("name"))
            if name is None or ref.get("kind", "Service") != "Service":
                continue
            if ref.get("group", "") not in ("", "core"):
                continue
            yield Backend(name, as_str(ref.get("namespace")) or namespace, as_int(ref.get("port")))


def _ingress_backend(backend: Any, namespace: str) -> Backend | None:
    """``backend.service`` of a networking.k8s.io/v1 Ingress path (or defaultBackend)."""
    service = as_map(as_map(backend).get("service"))
    name = as_str(service.get("name"))
    if name is None:
        return None
    port = as_map(service.get("port"))
    return Backend(name, namespace, as_int(port.get("number")), as_str(port.get("name")))


def read_route_spec(doc: Mapping[str, Any], namespace: str) -> RouteSpec | None:
    """A Gateway API route or ``Ingress`` manifest (``namespace``: where it lands when its
    metadata names none); None for any other document."""
    kind = doc.get("kind")
    api = doc.get("apiVersion")
    group = api.split("/", 1)[0] if isinstance(api, str) and "/" in api else ""
    metadata = as_map(doc.get("metadata"))
    spec = as_map(doc.get("spec"))
    namespace = as_str(metadata.get("namespace")) or namespace
    name = as_str(metadata.get("name")) or "?"
    if kind in ROUTE_KINDS and group == "gateway.networking.k8s.io":
        return RouteSpec(
            kind=str(kind),
            name=name,
            namespace=namespace,
            parent_refs=tuple(parent_refs(spec.get("parentRefs"), namespace)),
            hostnames=_strings(spec.get("hostnames")),
            backends=tuple(dict.fromkeys(_backend_refs(spec, namespace))),
            source=f"{kind} {name}",
        )
    if kind == "Ingress" and group == "networking.k8s.io":
        backends: list[Backend | None] = [_ingress_backend(spec.get("defaultBackend"), namespace)]
        hosts: list[str] = []
        for rule in map(as_map, as_list(spec.get("rules"))):
            if host := as_str(rule.get("host")):
                hosts.append(host)
            backends += [
                _ingress_backend(as_map(path).get("backend"), namespace)
                for path in as_list(as_map(rule.get("http")).get("paths"))
            ]
        annotations = as_map(metadata.get("annotations"))
        return RouteSpec(
            kind="Ingress",
            name=name,
            namespace=namespace,
            parent_refs=(),
            hostnames=tuple(dict.fromkeys(hosts)),
            backends=tuple(dict.fromkeys(b for b in backends if b is not None)),
            ingress_class=as_str(spec.get("ingressClassName"))
            or as_str(annotations.get("kubernetes.io/ingress.class")),
            source=f"Ingress {name}",
        )
    return None


# --------------------------------------------------------------------------- chart values


def routes_in_values(values: Mapping[str, Any], release: str, namespace: str) -> list[RouteSpec]:
    """The routes and Ingresses chart ``values`` make (see the module docstring), looked
    for up to four levels deep (``web.httpRoute``, ``alertmanager.route.main``).

    A route counts when it is not ``enabled: false`` and says ``enabled: true`` or names
    ``parentRefs`` (chart defaults leave most routes off); an Ingress when it says
    ``enabled: true`` and names a host, or is an entry of a map of Ingress ids
    (app-template). ``release`` names routes without a name of their own."""
    found: list[RouteSpec] = []
    stack: list[tuple[tuple[str, ...], Mapping[str, Any]]] = [((), values)]
    while stack:
        path, node = stack.pop()
        for key, value in node.items():
            if not isinstance(value, dict):
                continue
            where = (*path, str(key))
            kind = VALUES_ROUTE_KEYS.get(str(key))
            if kind is not None:
                found.extend(_values_routes(kind, value, where, release, namespace))
            elif len(where) < _MAX_DEPTH:
                stack.append((where, value))
    return sorted(found, key=lambda r: r.source)


def _values_routes(
    kind: str, value: Mapping[str, Any], where: tuple[str, ...], release: str, namespace: str
) -> Iterator[RouteSpec]:
    fields = _INGRESS_FIELDS if kind == "Ingress" else _ROUTE_FIELDS
    if fields & value.keys() or "enabled" in value:
        spec = _values_route(kind, value, ".".join(where), release, namespace, single=True)
        if spec is not None:
            yield spec
        return
    for route_id, item in value.items():
        if isinstance(item, dict) and (fields | {"enabled"}) & item.keys():
            source = ".".join((*where, str(route_id)))
            name = f"{release}-{route_id}"
            spec = _values_route(kind, item, source, name, namespace, single=False)
            if spec is not None:
                yield spec


def _values_route(
    kind: str,
    item: Mapping[str, Any],
    source: str,
    default_name: str,
    namespace: str,
    *,
    single: bool,
) -> RouteSpec | None:
    if not enabled(item):
        return None
    name = as_str(item.get("name")) or default_name
    if kind == "Ingress":
        return _values_ingress(item, source, name, namespace, single=single)
    # A whole route spec (grafana-operator), else the chart's flattened fields; an
    # app-template-style `template:` holds the rules.
    spec = as_map(item.get("spec")) or item
    refs = tuple(parent_refs(spec.get("parentRefs"), namespace))
    if item.get("enabled") is not True and not refs:
        return None
    hostnames = _strings(spec.get("hostnames"))
    host = as_str(as_map(spec.get("host")).get("name"))  # rook-ceph-cluster's route.<id>.host
    rules_holder = spec if spec.get("rules") is not None else as_map(spec.get("template"))
    backends = tuple(dict.fromkeys(_backend_refs(rules_holder, namespace)))
    declared = as_str(item.get("kind"))  # app-template: kind: GRPCRoute, TCPRoute...
    return RouteSpec(
        kind=declared if declared is not None and declared in ROUTE_KINDS else kind,
        name=name,
        namespace=namespace,
        parent_refs=refs,
        hostnames=hostnames + ((host,) if host else ()),
        backends=backends or (Backend(None, namespace),),
        source=source,
    )


def _values_ingress(
    item: Mapping[str, Any], source: str, name: str, namespace: str, *, single: bool
) -> RouteSpec | None:
    hosts: list[str] = []
    backends: list[Backend] = []
    for entry in as_list(item.get("hosts")):
        if isinstance(entry, str):
            hosts.append(entry)
            continue
        entry_map = as_map(entry)
        if host := as_str(entry_map.get("host")):
            hosts.append(host)
        for path in map(as_map, as_list(entry_map.get("paths"))):
            service = path.get("service")
            backend = _ingress_backend(path.get("backend"), namespace)
            if backend is not None:
                backends.append(backend)
            elif isinstance(service, dict):  # app-template: service: {name|identifier, port}
                port = service.get("port")
                backends.append(
                    Backend(
                        as_str(service.get("name")),
                        namespace,
                        as_int(port),
                        port if isinstance(port, str) and as_int(port) is None else None,
                    )
                )
    hosts.extend(host for key in ("hostname", "host") if (host := as_str(item.get(key))))
    if single and (item.get("enabled") is not True or not hosts):
        return None
    return RouteSpec(
        kind="Ingress",
        name=name,
        namespace=namespace,
        parent_refs=(),
        hostnames=tuple(dict.fromkeys(hosts)),
        backends=tuple(dict.fromkeys(backends)) or (Backend(None, namespace),),
        ingress_class=as_str(item.get("className")) or as_str(item.get("ingressClassName")),
        source=source,
    )


def backend_ports(
    backend: Backend, ports: Sequence[Port], where: str, warnings: list[str]
) -> list[Port]:
    """The ports of a Service (``ports``) that ``backend`` sends traffic to: the one whose
    Service port (or name) it names; without either, the Service's only port, or its port
    named ``http``. Nothing matching is a warning and no port -- never every port."""
    if backend.port is not None:
        matched = [p for p in ports if p.port == backend.port]
        wanted = str(backend.port)
    elif backend.port_name is not None:
        matched = [p for p in ports if p.name == backend.port_name]
        wanted = backend.port_name
    else:
        if len(ports) == 1:
            return list(ports)
        matched = [p for p in ports if p.name == "http"]
        if matched:
            return matched
        known = ", ".join(str(p.port) for p in ports) or "none known"
        warnings.append(
            f"{where}: the route names no backend port and the Service has several "
            f"({known}); no port opened -- name one in the route's backendRefs"
        )
        return []
    if not matched:
        known = ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in ports)
        warnings.append(
            f"{where}: backend port {wanted} matches no port of Service "
            f"{backend.service or 'of the release'} ({known or 'no ports known'}); no port opened"
        )
    return matched


# --------------------------------------------------------------------------- drafts


def routes_from_values(values: Mapping[str, Any], draft: Draft) -> None:
    """The gateways a HelmRelease's values route to, and the Service ports they target.

    ``route.<id>`` (app-template's map of routes; without backendRefs they target the
    primary port, ``http`` else the first), then any other top-level route key of
    :func:`routes_in_values` -- ``httpRoute``/``grpcRoute``/``tcpRoute``/``tlsRoute``/
    ``udpRoute`` and a single ``route`` -- whose backend ports count when stated. Route keys
    nested under a sub-component (``alertmanager.route``) are left out: their pods are not
    necessarily the release's."""
    _app_template_routes(values, draft)
    for spec in routes_in_values(values, draft.name, draft.namespace):
        key, _, rest = spec.source.partition(".")
        if spec.kind == "Ingress" or key not in VALUES_ROUTE_KEYS or (key == "route" and rest):
            continue
        for ref in spec.parent_refs:
            draft.add_route(ref)
        if spec.parent_refs:
            draft.route_ports.update(b.port for b in spec.backends if b.port is not None)


def _app_template_routes(values: Mapping[str, Any], draft: Draft) -> None:
    for route in as_map(values.get("route")).values():
        if not isinstance(route, dict) or not enabled(route):
            continue
        refs = list(parent_refs(route.get("parentRefs"), draft.namespace))
        for ref in refs:
            draft.add_route(ref)
        if not refs:
            continue
        ports = [
            port
            for rule in as_list(route.get("rules"))
            for backend in as_list(as_map(rule).get("backendRefs"))
            if (port := as_int(as_map(backend).get("port"))) is not None
        ]
        if not ports and draft.ports:
            # app-template routes to the primary service's primary port: "http", else the first.
            named = [p.port for p in draft.ports if p.name == "http"]
            ports = named[:1] or [draft.ports[0].port]
        draft.route_ports.update(ports)


def read_route(doc: dict[str, Any], file: str, app_dir: AppDir) -> RouteDraft:
    """A route manifest as a :class:`RouteDraft`: its backends in its own namespace."""
    spec = read_route_spec(doc, app_dir.namespace)
    namespace = as_str(as_map(doc.get("metadata")).get("namespace")) or app_dir.namespace
    local = [b for b in spec.backends if b.namespace == namespace] if spec else []
    return RouteDraft(
        name=spec.name if spec else "?",
        file=file,
        app_dir=app_dir,
        parent_refs=list(spec.parent_refs) if spec else [],
        backends=[b.service for b in local if b.service],
        backend_ports=[b.port for b in local if b.port is not None],
    )
