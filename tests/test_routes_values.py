"""Routes of any chart and any route kind: chart values keys, route and Ingress manifests,
and backend ports resolved against the Service (a warning, never every port)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from scaffolder.core.yamlio import parse_documents_fast
from scaffolder.discovery.drafts import Draft
from scaffolder.discovery.reader import AppDir
from scaffolder.discovery.routes import (
    Backend,
    RouteSpec,
    backend_ports,
    read_route,
    read_route_spec,
    routes_from_values,
    routes_in_values,
)
from scaffolder.repo.model import Port, RouteRef


def _doc(text: str) -> dict[str, Any]:
    [doc] = parse_documents_fast(text, "test.yaml")
    assert isinstance(doc, dict)
    return doc


INTERNAL = RouteRef("envoy-internal", "network", None)


def test_http_route_values_key_with_defaults_left_to_the_chart() -> None:
    values = _doc("""
httpRoute:
  enabled: true
  parentRefs: [{name: envoy-external, namespace: network}]
  hostnames: [kromgo.example.com]
""")
    assert routes_in_values(values, "kromgo", "observability") == [
        RouteSpec(
            kind="HTTPRoute",
            name="kromgo",
            namespace="observability",
            parent_refs=(RouteRef("envoy-external", "network", None),),
            hostnames=("kromgo.example.com",),
            backends=(Backend(None, "observability"),),
            source="httpRoute",
        )
    ]


def test_nested_and_other_kinds_of_route_keys() -> None:
    values = _doc("""
web:
  httpRoute:
    enabled: true
    parentRefs: [{name: envoy-internal, namespace: network}]
tcpRoute:
  enabled: true
  parentRefs: [{name: envoy-internal, namespace: network, sectionName: ssh}]
  rules: [{backendRefs: [{name: forgejo-ssh, port: 22}]}]
grpcRoute: {enabled: false, parentRefs: [{name: envoy-internal}]}
udpRoute: {hostnames: [x]}  # neither enabled nor parentRefs: the chart default (off)
""")
    found = {r.source: r for r in routes_in_values(values, "forgejo", "git")}
    assert sorted(found) == ["tcpRoute", "web.httpRoute"]
    assert found["tcpRoute"].kind == "TCPRoute"
    assert found["tcpRoute"].parent_refs == (RouteRef("envoy-internal", "network", "ssh"),)
    assert found["tcpRoute"].backends == (Backend("forgejo-ssh", "git", 22),)
    assert found["web.httpRoute"].parent_refs == (INTERNAL,)


def test_route_maps_of_ids_and_single_routes() -> None:
    values = _doc("""
route:
  main:
    parentRefs: [{name: envoy-internal, namespace: network}]
    rules: [{backendRefs: [{name: gatus, port: 80}]}]
  grpc:
    kind: GRPCRoute
    parentRefs: [{name: envoy-internal, namespace: network}]
  off: {enabled: false, parentRefs: [{name: envoy-internal}]}
alertmanager:
  route:
    main:
      enabled: true
      hostnames: [alertmanager.example.com]
      parentRefs: [{name: envoy-internal, namespace: network}]
  config:
    route: {receiver: "null", routes: [{receiver: "null"}]}  # alertmanager's own routing
""")
    found = {r.source: r for r in routes_in_values(values, "app", "default")}
    assert sorted(found) == ["alertmanager.route.main", "route.grpc", "route.main"]
    assert found["route.main"].backends == (Backend("gatus", "default", 80),)
    assert found["route.main"].name == "app-main"
    assert found["route.grpc"].kind == "GRPCRoute"
    assert found["alertmanager.route.main"].hostnames == ("alertmanager.example.com",)
    single = _doc("""
route:
  enabled: true
  name: pocket-id
  hostnames: [renovate.example.com]
  parentRefs: [{name: envoy-internal, namespace: network}]
  template: {rules: [{backendRefs: [{name: pocket-id, port: 1411}]}]}
""")
    [route] = routes_in_values(single, "renovate", "ci")
    assert (route.name, route.source, route.backends) == (
        "pocket-id",
        "route",
        (Backend("pocket-id", "ci", 1411),),
    )


def test_a_whole_route_spec_and_rook_style_host() -> None:
    grafana_spec = _doc("""
httpRoute:
  spec:
    hostnames: [grafana.example.com]
    parentRefs: [{name: envoy-internal, namespace: network}]
    rules: [{backendRefs: [{name: grafana-service, port: 3000}]}]
""")
    [route] = routes_in_values(grafana_spec, "grafana", "observability")
    assert route.backends == (Backend("grafana-service", "observability", 3000),)
    rook = _doc("""
route:
  dashboard:
    host: {name: rook.example.com, path: /}
    parentRefs: [{name: envoy-internal, namespace: network}]
""")
    [route] = routes_in_values(rook, "rook-ceph-cluster", "rook-ceph")
    assert route.hostnames == ("rook.example.com",)


def test_ingress_values() -> None:
    values = _doc("""
ingress:
  enabled: true
  className: nginx
  hosts:
    - host: app.example.com
      paths: [{path: /, pathType: Prefix}]
""")
    [ingress] = routes_in_values(values, "app", "default")
    assert (ingress.kind, ingress.ingress_class, ingress.hostnames, ingress.parent_refs) == (
        "Ingress",
        "nginx",
        ("app.example.com",),
        (),
    )
    assert ingress.backends == (Backend(None, "default"),)
    # Off by default in charts: without `enabled: true` there is no Ingress.
    assert routes_in_values(_doc("ingress: {hostname: a.example.com}"), "app", "default") == []
    app_template = _doc("""
ingress:
  main:
    className: internal
    hosts:
      - host: app.example.com
        paths: [{path: /, service: {identifier: main, port: http}}]
""")
    [ingress] = routes_in_values(app_template, "app", "default")
    assert ingress.backends == (Backend(None, "default", None, "http"),)
    assert ingress.ingress_class == "internal"
    # A network policy's ingress list is no Ingress.
    assert routes_in_values(_doc("networkPolicy: {ingress: [{}]}"), "app", "default") == []


@pytest.mark.parametrize("kind", ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"])
def test_route_manifests_of_every_kind(kind: str) -> None:
    doc = _doc(f"""
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: {kind}
metadata: {{name: r}}
spec:
  parentRefs: [{{name: envoy-internal, namespace: network, sectionName: ssh}}, {{kind: Service, name: mesh}}]
  hostnames: [a.example.com]
  rules:
    - backendRefs:
        - {{name: app, port: 8080}}
        - {{name: other, namespace: elsewhere}}
        - {{group: gateway.envoyproxy.io, kind: Backend, name: ext}}
""")
    spec = read_route_spec(doc, "default")
    assert spec == RouteSpec(
        kind=kind,
        name="r",
        namespace="default",
        parent_refs=(RouteRef("envoy-internal", "network", "ssh"),),
        hostnames=("a.example.com",),
        backends=(Backend("app", "default", 8080), Backend("other", "elsewhere")),
        source=f"{kind} r",
    )


def test_ingress_manifest() -> None:
    doc = _doc("""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop, annotations: {kubernetes.io/ingress.class: nginx}}
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
""")
    spec = read_route_spec(doc, "default")
    assert spec is not None
    assert (spec.kind, spec.namespace, spec.ingress_class, spec.hostnames) == (
        "Ingress",
        "shop",
        "nginx",
        ("shop.example.com",),
    )
    assert spec.backends == (Backend("web", "shop", 80), Backend("api", "shop", None, "http"))
    assert (
        read_route_spec(_doc("{apiVersion: v1, kind: Service, metadata: {name: x}}"), "d") is None
    )


def test_read_route_keeps_its_draft_shape() -> None:
    doc = _doc("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: envoy-internal, namespace: network, sectionName: https}]
  rules: [{backendRefs: [{name: web, port: 80}, {name: far, namespace: other, port: 81}]}]
""")
    app_dir = AppDir(
        "a",
        "a/kustomization.yaml",
        None,
        "default",
        PurePosixPath("a"),
        PurePosixPath("a/kustomization.yaml"),
    )
    draft = read_route(doc, "a/route.yaml", app_dir)
    assert (draft.name, draft.backends, draft.backend_ports) == ("web", ["web"], [80])
    assert draft.parent_refs == [RouteRef("envoy-internal", "network", "https")]


SERVICE_PORTS = [Port(80, 8080, "TCP", "http"), Port(9090, 9090, "TCP", "metrics")]


def test_backend_ports_match_the_service_port_or_say_so() -> None:
    warnings: list[str] = []
    assert backend_ports(Backend("web", "d", 80), SERVICE_PORTS, "r", warnings) == [
        SERVICE_PORTS[0]
    ]
    assert backend_ports(Backend("web", "d", None, "metrics"), SERVICE_PORTS, "r", warnings) == [
        SERVICE_PORTS[1]
    ]
    assert backend_ports(Backend(None, "d"), SERVICE_PORTS, "r", warnings) == [SERVICE_PORTS[0]]
    assert backend_ports(Backend(None, "d"), SERVICE_PORTS[1:], "r", warnings) == [SERVICE_PORTS[1]]
    assert warnings == []
    assert backend_ports(Backend("web", "d", 3000), SERVICE_PORTS, "HTTPRoute web", warnings) == []
    assert (
        backend_ports(
            Backend(None, "d"),
            [SERVICE_PORTS[1], Port(8443, 8443, "TCP", "https")],
            "ingress",
            warnings,
        )
        == []
    )
    assert warnings == [
        "HTTPRoute web: backend port 3000 matches no port of Service web (80 (http), 9090 (metrics)); no port opened",
        "ingress: the route names no backend port and the Service has several (9090, 8443); no port opened -- name one in the route's backendRefs",
    ]


# --------------------------------------------------------------------------- real tree


def test_deedee_chart_routes(shared: Path) -> None:
    apps = shared / "trees" / "deedee-ops+home-ops" / "kubernetes" / "apps"

    def routes(rel: str, namespace: str) -> list[RouteSpec]:
        [release] = [
            d
            for d in parse_documents_fast((apps / rel).read_text(encoding="utf-8"), rel)
            if isinstance(d, dict) and d.get("kind") in ("HelmRelease", "Grafana")
        ]
        values = release["spec"].get("values", release["spec"])
        return routes_in_values(values, release["metadata"]["name"], namespace)

    [flux] = routes("flux-system/flux-operator/helmrelease.yaml", "flux-system")
    assert (flux.source, flux.parent_refs, flux.hostnames) == (
        "web.httpRoute",
        (INTERNAL,),
        ("flux.${ROOT_DOMAIN}",),
    )
    [forgejo] = routes("forgejo-system/forgejo/helmrelease.yaml", "forgejo-system")
    assert (forgejo.kind, forgejo.parent_refs) == (
        "TCPRoute",
        (RouteRef("envoy-internal", "network", "ssh"),),
    )  # its httpRoute is `enabled: false`
    [kromgo] = routes("observability/kromgo/helmrelease.yaml", "observability")
    assert kromgo.parent_refs == (RouteRef("envoy-external", "network", None),)
    [grafana] = routes("observability/grafana/grafana.yaml", "observability")
    assert grafana.backends == (Backend("grafana-service", "observability", 3000),)
    stack = routes("observability/kube-prometheus-stack/helmrelease.yaml", "observability")
    assert [r.source for r in stack] == ["alertmanager.route.main", "prometheus.route.main"]
    [renovate] = routes("forgejo-system/renovate/operator/helmrelease.yaml", "forgejo-system")
    assert renovate.hostnames == ("renovate.${ROOT_DOMAIN}",)


def _draft() -> Draft:
    return Draft(
        name="forgejo",
        namespace="git",
        source_kind="HelmRelease",
        app_dir=AppDir(
            "a",
            "a/kustomization.yaml",
            None,
            "git",
            PurePosixPath("a"),
            PurePosixPath("a/kustomization.yaml"),
        ),
        file="a/helmrelease.yaml",
        selector={},
        pod_labels={},
    )


def test_routes_from_values_reads_every_top_level_route_key() -> None:
    values = _doc("""
httpRoute: {enabled: false, parentRefs: [{name: envoy-external, namespace: network}]}
tcpRoute:
  enabled: true
  parentRefs: [{name: envoy-internal, namespace: network, sectionName: ssh}]
  rules: [{backendRefs: [{name: forgejo-ssh, port: 2222}]}]
route:
  main:
    parentRefs: [{name: envoy-internal, namespace: network, sectionName: https}]
    rules: [{backendRefs: [{port: 3000}]}]
metrics:
  httpRoute: {enabled: true, parentRefs: [{name: envoy-external, namespace: network}]}
""")
    draft = _draft()
    routes_from_values(values, draft)
    # The sub-component's route (metrics.httpRoute) is not the release's pods'.
    assert draft.routes == [
        RouteRef("envoy-internal", "network", "https"),
        RouteRef("envoy-internal", "network", "ssh"),
    ]
    assert draft.route_ports == {3000, 2222}
    single = _draft()
    routes_from_values(
        _doc("route: {enabled: true, parentRefs: [{name: envoy-internal, namespace: network}]}"),
        single,
    )
    assert (single.routes, single.route_ports) == ([INTERNAL], set())
