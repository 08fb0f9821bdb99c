"""Gateways: where each Gateway's proxy pods run, their labels and listener pod ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scaffolder.core.yamlio import parse_documents_fast
from scaffolder.discovery.gateways import (
    Gateway,
    Listener,
    attached_listeners,
    read_gateways,
)
from scaffolder.discovery.tunnels import CLOUDFLARED_EDGE, gateway_targets, tunnel_edge
from scaffolder.repo.model import RouteRef

from .conftest import EXAMPLE


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in parse_documents_fast(text, "test.yaml") if isinstance(d, dict)]


def _tree(directory: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*.yaml")):
        docs += _docs(path.read_text(encoding="utf-8"))
    return docs


def _by_name(gateways: list[Gateway]) -> dict[str, Gateway]:
    return {g.name: g for g in gateways}


def _ports(gateway: Gateway) -> set[tuple[int, int, str]]:
    return {
        (listener.port, listener.target_port, listener.transport) for listener in gateway.listeners
    }


CLASS = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: envoy}
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: envoy, namespace: network}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: envoy}
spec:
  provider: {type: Kubernetes}
"""

GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: envoy-internal, labels: {app.kubernetes.io/name: envoy-internal}}
spec:
  gatewayClassName: envoy
  listeners:
    - {name: ssh, protocol: TCP, port: 22}
    - {name: http, protocol: HTTP, port: 80, hostname: "*.example.com"}
    - {name: https, protocol: HTTPS, port: 443, hostname: "*.example.com"}
    - {name: dns, protocol: UDP, port: 53}
    - {name: sync, protocol: TCP, port: 22000}
"""

RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: envoy-gateway}
spec:
  chartRef: {kind: OCIRepository, name: envoy-gateway}
  values:
    config:
      envoyGateway:
        provider:
          type: Kubernetes
          kubernetes:
            deploy: {type: GatewayNamespace}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: envoy-gateway}
spec: {url: oci://docker.io/envoyproxy/gateway-helm}
"""


def test_envoy_gateway_namespace_mode_runs_proxies_beside_the_gateway() -> None:
    warnings: list[str] = []
    [gateway] = read_gateways(
        {"network": _docs(CLASS + "---" + GATEWAY + "---" + RELEASE)}, warnings=warnings
    )
    assert warnings == []
    assert (gateway.implementation, gateway.pod_namespace) == ("envoy-gateway", "network")
    assert gateway.pod_selector == {
        "app.kubernetes.io/name": "envoy",
        "app.kubernetes.io/component": "proxy",
        "gateway.envoyproxy.io/owning-gateway-name": "envoy-internal",
        "gateway.envoyproxy.io/owning-gateway-namespace": "network",
    }
    # Ports below 1024 listen on port + 10000 in the pod; 22000 stays; UDP listeners use UDP.
    assert _ports(gateway) == {
        (22, 10022, "TCP"),
        (80, 10080, "TCP"),
        (443, 10443, "TCP"),
        (53, 10053, "UDP"),
        (22000, 22000, "TCP"),
    }
    assert gateway.hostnames == ("*.example.com",)
    assert gateway.listener_ports("ssh") == (
        Listener("ssh", 22, "TCP", 10022, "TCP", "Same", frozenset({"TCPRoute"})),
    )
    assert gateway.control_plane is not None
    assert gateway.control_plane.namespace == "network"
    assert gateway.control_plane.selector == {
        "control-plane": "envoy-gateway",
        "app.kubernetes.io/instance": "envoy-gateway",
    }
    assert gateway.control_plane.ports == (18000,)


def test_controller_namespace_mode_runs_proxies_in_the_release_namespace() -> None:
    release = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: eg, namespace: flux-system}
spec:
  targetNamespace: envoy-gateway-system
  chart: {spec: {chart: gateway-helm, sourceRef: {kind: HelmRepository, name: envoy}}}
"""
    [gateway] = read_gateways(
        {"network": _docs(CLASS + "---" + GATEWAY), "flux-system": _docs(release)}
    )
    assert gateway.pod_namespace == "envoy-gateway-system"
    assert gateway.pod_selector["gateway.envoyproxy.io/owning-gateway-namespace"] == "network"
    assert gateway.control_plane is not None
    # Flux names the release <targetNamespace>-<name>.
    assert gateway.control_plane.selector["app.kubernetes.io/instance"] == "envoy-gateway-system-eg"


def test_without_the_release_the_documented_namespace_is_assumed_and_said() -> None:
    warnings: list[str] = []
    [gateway] = read_gateways({"network": _docs(CLASS + "---" + GATEWAY)}, warnings=warnings)
    assert gateway.pod_namespace == "envoy-gateway-system"
    assert warnings == [
        "Gateway network/envoy-internal: the envoy-gateway release is not in the repository; "
        "assuming its proxies run in envoy-gateway-system"
    ]
    [explicit] = read_gateways(
        {"network": _docs(CLASS + "---" + GATEWAY)},
        envoy_gateway_namespace="gateways",
        deploy_mode="ControllerNamespace",
    )
    assert explicit.pod_namespace == "gateways"
    [beside] = read_gateways(
        {"network": _docs(CLASS + "---" + GATEWAY + "---" + RELEASE)},
        deploy_mode="ControllerNamespace",
        envoy_gateway_namespace="eg",
    )
    assert beside.pod_namespace == "eg"


def test_use_listener_port_as_container_port_keeps_privileged_ports() -> None:
    proxy = CLASS.replace(
        "provider: {type: Kubernetes}",
        "provider: {type: Kubernetes, kubernetes: {useListenerPortAsContainerPort: true}}",
    )
    [gateway] = read_gateways({"network": _docs(proxy + "---" + GATEWAY + "---" + RELEASE)})
    assert (443, 443, "TCP") in _ports(gateway)


def test_a_gateways_own_envoyproxy_takes_precedence() -> None:
    own = GATEWAY.replace(
        "  gatewayClassName: envoy\n",
        "  gatewayClassName: envoy\n"
        "  infrastructure: {parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: own}}\n",
    )
    proxy = """
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: own}
spec: {provider: {type: Kubernetes, kubernetes: {useListenerPortAsContainerPort: true}}}
"""
    [gateway] = read_gateways(
        {"network": _docs(CLASS + "---" + own + "---" + proxy + "---" + RELEASE)}
    )
    assert (80, 80, "TCP") in _ports(gateway)
    warnings: list[str] = []
    read_gateways({"network": _docs(CLASS + "---" + own + "---" + RELEASE)}, warnings=warnings)
    assert warnings == ["Gateway network/envoy-internal: EnvoyProxy network/own not found"]


def test_merged_gateways_are_selected_by_their_class() -> None:
    merged = CLASS.replace("provider: {type: Kubernetes}", "mergeGateways: true")
    [gateway] = read_gateways({"network": _docs(merged + "---" + GATEWAY + "---" + RELEASE)})
    assert gateway.pod_selector == {
        "app.kubernetes.io/name": "envoy",
        "app.kubernetes.io/component": "proxy",
        "gateway.envoyproxy.io/owning-gatewayclass": "envoy",
    }


@pytest.mark.parametrize(
    ("target", "udp"),
    [
        (
            "targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: envoy-internal}]",
            True,
        ),
        (
            "targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: envoy-internal}",
            True,
        ),
        ("targetRefs: [{kind: Gateway, name: envoy-internal, sectionName: https}]", True),
        ("targetRefs: [{kind: Gateway, name: envoy-internal, sectionName: http}]", False),
        (
            "targetSelectors: [{kind: Gateway, matchLabels: {app.kubernetes.io/name: envoy-internal}}]",
            True,
        ),
        ("targetSelectors: [{kind: Gateway, matchLabels: {app.kubernetes.io/name: other}}]", False),
        ("targetRefs: [{kind: Gateway, name: envoy-external}]", False),
    ],
)
def test_http3_client_traffic_policy_adds_udp_to_https_listeners(target: str, udp: bool) -> None:
    policy = f"""
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {{name: h3}}
spec:
  http3: {{}}
  {target}
"""
    [gateway] = read_gateways(
        {"network": _docs(CLASS + "---" + GATEWAY + "---" + RELEASE + "---" + policy)}
    )
    assert ((443, 10443, "UDP") in _ports(gateway)) is udp
    assert (80, 10080, "UDP") not in _ports(gateway)


def test_wasm_extension_policies_need_the_controllers_wasm_port() -> None:
    policy = """
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: eep}
spec:
  wasm: [{name: eep, code: {type: Image, image: {url: oci://ghcr.io/x/eep:1}}}]
"""
    [gateway] = read_gateways(
        {"network": _docs(CLASS + "---" + GATEWAY + "---" + RELEASE + "---" + policy)}
    )
    assert gateway.control_plane is not None
    assert gateway.control_plane.ports == (18000, 18002)


def _other(class_name: str, controller: str | None) -> str:
    gateway_class = (
        f"""
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: {class_name}}}
spec: {{controllerName: {controller}}}
---"""
        if controller
        else ""
    )
    return (
        gateway_class
        + f"""
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: web, namespace: edge}}
spec:
  gatewayClassName: {class_name}
  listeners: [{{name: https, protocol: HTTPS, port: 443}}]
"""
    )


@pytest.mark.parametrize(
    ("class_name", "controller", "implementation"),
    [
        ("istio", "istio.io/gateway-controller", "istio"),
        ("istio", None, "istio"),
        ("ngf", "gateway.nginx.org/nginx-gateway-controller", "nginx"),
        ("nginx", None, "nginx"),
    ],
)
def test_istio_and_nginx_gateways_run_a_deployment_per_gateway(
    class_name: str, controller: str | None, implementation: str
) -> None:
    [gateway] = read_gateways({"default": _docs(_other(class_name, controller))})
    assert gateway.implementation == implementation
    assert (gateway.namespace, gateway.pod_namespace) == ("edge", "edge")
    assert gateway.pod_selector == {"gateway.networking.k8s.io/gateway-name": "web"}
    assert _ports(gateway) == {(443, 443, "TCP")}  # no port shift
    assert gateway.control_plane is None


def test_cilium_gateways_are_the_ingress_identity() -> None:
    [gateway] = read_gateways({"default": _docs(_other("cilium", "io.cilium/gateway-controller"))})
    assert (gateway.implementation, gateway.entity) == ("cilium", "ingress")
    assert (gateway.pod_namespace, gateway.pod_selector) == (None, {})


def test_traefik_gateways_are_the_traefik_releases_pods() -> None:
    release = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik}
spec:
  chart: {spec: {chart: traefik}}
"""
    docs = {
        "default": _docs(_other("traefik", "traefik.io/gateway-controller")),
        "ingress": _docs(release),
    }
    [gateway] = read_gateways(docs)
    assert gateway.pod_namespace == "ingress"
    assert gateway.pod_selector == {
        "app.kubernetes.io/name": "traefik",
        "app.kubernetes.io/instance": "traefik-ingress",
    }
    warnings: list[str] = []
    [alone] = read_gateways({"default": docs["default"]}, warnings=warnings)
    assert (alone.pod_namespace, alone.pod_selector) == (None, {})
    assert warnings == [
        "Gateway edge/web: traefik's release is not in the repository; its pods are unknown"
    ]


def test_an_unknown_implementation_is_reported() -> None:
    warnings: list[str] = []
    [gateway] = read_gateways(
        {"default": _docs(_other("kong", "konghq.com/kic-gateway-controller"))}, warnings=warnings
    )
    assert (gateway.implementation, gateway.pod_namespace, gateway.pod_selector) == (
        "unknown",
        None,
        {},
    )
    assert warnings == [
        "Gateway edge/web: class kong is no gateway implementation netpol knows; its proxy pods are unknown"
    ]


# --------------------------------------------------------------------------- routes


def test_routes_attach_where_the_listeners_allow_them() -> None:
    gateway_doc = GATEWAY.replace(
        '{name: https, protocol: HTTPS, port: 443, hostname: "*.example.com"}',
        "{name: https, protocol: HTTPS, port: 443, allowedRoutes: {namespaces: {from: All}}}",
    ).replace(
        "{name: ssh, protocol: TCP, port: 22}",
        "{name: ssh, protocol: TCP, port: 22, allowedRoutes: {namespaces: {from: All}}}",
    )
    gateways = read_gateways({"network": _docs(CLASS + "---" + gateway_doc + "---" + RELEASE)})
    internal = RouteRef("envoy-internal", "network", None)

    def ports(ref: RouteRef, kind: str, namespace: str) -> list[tuple[int, str]]:
        return [
            (listener.target_port, listener.transport)
            for _, listener in attached_listeners(ref, kind, namespace, gateways)
        ]

    # From another namespace an HTTPRoute reaches only the listener that allows All.
    assert ports(internal, "HTTPRoute", "media") == [(10443, "TCP")]
    # From the gateway's own namespace also the `Same` (default) listener.
    assert ports(internal, "HTTPRoute", "network") == [(10080, "TCP"), (10443, "TCP")]
    assert ports(RouteRef("envoy-internal", "network", "ssh"), "TCPRoute", "git") == [
        (10022, "TCP")
    ]
    assert ports(RouteRef("envoy-internal", "network", "ssh"), "HTTPRoute", "git") == []
    assert ports(RouteRef("envoy-external", "network", None), "HTTPRoute", "media") == []
    # A parentRef without namespace means the route's own.
    assert ports(RouteRef("envoy-internal", None, "http"), "HTTPRoute", "network") == [
        (10080, "TCP")
    ]


# --------------------------------------------------------------------------- tunnels


def test_gateway_targets_follow_urls_to_listeners() -> None:
    [gateway] = read_gateways({"network": _docs(CLASS + "---" + GATEWAY + "---" + RELEASE)})
    found = gateway_targets(
        [
            "https://envoy-internal.network.svc.cluster.local:443",
            "envoy-internal:22",
            "envoy-internal",  # a parentRef's name: addresses nothing
            "envoy-internal.example.com",  # another host
        ],
        "network",
        [gateway],
    )
    assert [(g.name, listener.target_port) for g, listener in found] == [
        ("envoy-internal", 10443),
        ("envoy-internal", 10022),
    ]
    # From another namespace the host must name the gateway's namespace.
    assert gateway_targets(["envoy-internal:443"], "default", [gateway]) == []
    assert [
        listener.port
        for _, listener in gateway_targets(["http://envoy-internal.network"], "default", [gateway])
    ] == [80]


def test_tunnel_edge_is_recognised_by_image() -> None:
    assert tunnel_edge(["docker.io/cloudflare/cloudflared:2025.8.1"]) == CLOUDFLARED_EDGE
    assert tunnel_edge(["cloudflare/cloudflared@sha256:abc"]) == CLOUDFLARED_EDGE
    assert CLOUDFLARED_EDGE.ports == ((7844, "TCP"), (7844, "UDP"))
    assert tunnel_edge(["ghcr.io/home-operations/cloudflared-exporter:1"]) is None


# --------------------------------------------------------------------------- real trees


def test_deedee_envoy_gateways(shared: Path) -> None:
    network = shared / "trees" / "deedee-ops+home-ops" / "kubernetes" / "apps" / "network"
    warnings: list[str] = []
    gateways = _by_name(
        read_gateways({"network": _tree(network / "envoy-gateway")}, warnings=warnings)
    )
    assert warnings == []
    internal, external = gateways["envoy-internal"], gateways["envoy-external"]
    assert (internal.pod_namespace, external.pod_namespace) == ("network", "network")
    assert internal.pod_selector["gateway.envoyproxy.io/owning-gateway-name"] == "envoy-internal"
    # The ssh listener (22) listens on 10022; only envoy-internal has HTTP/3 (its
    # ClientTrafficPolicy), so only its 10443 is also UDP.
    assert _ports(internal) == {
        (22, 10022, "TCP"),
        (80, 10080, "TCP"),
        (443, 10443, "TCP"),
        (443, 10443, "UDP"),
        (22000, 22000, "TCP"),
    }
    assert _ports(external) == {(80, 10080, "TCP"), (443, 10443, "TCP")}
    assert internal.control_plane is not None
    assert internal.control_plane.ports == (18000, 18002)  # the eep Wasm extension
    # An app's route in another namespace reaches https (from: All; TCP, and UDP for
    # HTTP/3), never http (from: Same) nor the external gateway it does not name.
    route = RouteRef("envoy-internal", "network", None)
    assert [
        (listener.name, listener.target_port, listener.transport)
        for _, listener in attached_listeners(route, "HTTPRoute", "media", list(gateways.values()))
    ] == [("https", 10443, "TCP"), ("https", 10443, "UDP")]
    # towonel-agent tunnels envoy-external:443 (the hand-written policy allows 10443).
    towonel = _tree(network / "towonel-agent")
    strings = [s for doc in towonel for s in _strings(doc)]
    assert [
        (g.name, listener.target_port, listener.transport)
        for g, listener in gateway_targets(strings, "network", list(gateways.values()))
    ] == [("envoy-external", 10443, "TCP")]


def test_example_network_namespace() -> None:
    network = EXAMPLE / "kubernetes" / "apps" / "network"
    [gateway] = read_gateways({"network": _tree(network / "envoy-gateway")})
    assert (gateway.name, gateway.pod_namespace) == ("envoy-internal", "network")
    assert _ports(gateway) == {(80, 10080, "TCP"), (443, 10443, "TCP")}
    cloudflared = _tree(network / "cloudflared")
    strings = [s for doc in cloudflared for s in _strings(doc)]
    assert [
        (g.name, listener.target_port)
        for g, listener in gateway_targets(strings, "network", [gateway])
    ] == [("envoy-internal", 10443)]
    assert tunnel_edge(strings) == CLOUDFLARED_EDGE


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []
