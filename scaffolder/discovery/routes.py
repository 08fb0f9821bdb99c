"""HTTPRoutes and GRPCRoutes: their ``parentRefs`` (the gateways) and ``backendRefs``.

A route attaches its ``parentRefs`` to the app whose Service a ``backendRef`` names, else
to the only app of the route's directory (see :mod:`scaffolder.discovery.assemble`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from scaffolder.discovery.drafts import Draft, RouteDraft
from scaffolder.discovery.reader import AppDir, as_int, as_list, as_map, as_str, enabled
from scaffolder.repo.model import RouteRef


def routes_from_values(values: Mapping[str, Any], draft: Draft) -> None:
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


def parent_refs(value: Any, namespace: str) -> Iterator[RouteRef]:
    for ref in as_list(value):
        ref_map = as_map(ref)
        name = as_str(ref_map.get("name"))
        if name is None or ref_map.get("kind", "Gateway") != "Gateway":
            continue
        yield RouteRef(
            name, as_str(ref_map.get("namespace")) or namespace, as_str(ref_map.get("sectionName"))
        )


def read_route(doc: dict[str, Any], file: str, app_dir: AppDir) -> RouteDraft:
    metadata = as_map(doc.get("metadata"))
    spec = as_map(doc.get("spec"))
    namespace = as_str(metadata.get("namespace")) or app_dir.namespace
    backends: list[str] = []
    ports: list[int] = []
    for rule in as_list(spec.get("rules")):
        for backend in as_list(as_map(rule).get("backendRefs")):
            backend_map = as_map(backend)
            name = as_str(backend_map.get("name"))
            if name is None or backend_map.get("kind", "Service") != "Service":
                continue
            if backend_map.get("namespace", namespace) != namespace:
                continue
            backends.append(name)
            port = as_int(backend_map.get("port"))
            if port is not None:
                ports.append(port)
    return RouteDraft(
        name=as_str(metadata.get("name")) or "?",
        file=file,
        app_dir=app_dir,
        parent_refs=list(parent_refs(spec.get("parentRefs"), namespace)),
        backends=backends,
        backend_ports=ports,
    )
