"""Gateways: where the proxy pods of each Gateway API ``Gateway`` run, how to select them,
and the pod ports its listeners really listen on.

Pure functions over parsed documents (dicts), grouped by the namespace they default to:
``Gateway``, ``GatewayClass``, Envoy Gateway's ``EnvoyProxy``, ``ClientTrafficPolicy`` and
``EnvoyExtensionPolicy``, and the HelmRelease (with its OCIRepository) that installs a
gateway controller. Nothing is read from disk.

Implementation, from the GatewayClass's ``spec.controllerName`` (else, when the class is
not in the repository, from the class names the controllers create themselves):

- ``envoy-gateway`` (``gateway.envoyproxy.io/...``). Proxy pods carry
  ``app.kubernetes.io/name: envoy`` and ``app.kubernetes.io/component: proxy``
  (``EnvoyAppLabel`` in envoyproxy/gateway ``internal/infrastructure/kubernetes/proxy/
  resource.go``) plus the owner labels ``gateway.envoyproxy.io/owning-gateway-name`` and
  ``gateway.envoyproxy.io/owning-gateway-namespace`` -- or, when the class's EnvoyProxy has
  ``mergeGateways: true``, ``gateway.envoyproxy.io/owning-gatewayclass`` (``OwnerLabels`` /
  ``GatewayOwnerLabels`` in ``internal/gatewayapi/helpers.go``). They run in the Gateway's
  namespace when the controller is configured with ``provider.kubernetes.deploy.type:
  GatewayNamespace``, else in the controller's namespace (``infra.Proxy.Namespace`` in
  ``internal/gatewayapi/translator.go``): the namespace of the ``gateway-helm`` release
  (``namespaceOverride``, else the release namespace, ``eg.namespace`` in the chart's
  ``_helpers.tpl``), ``envoy-gateway-system`` (the documented install namespace) when the
  release is not in the repository. A listener port below 1024 listens on port + 10000
  in the pod (``servicePortToContainerPort``, ``minEphemeralPort = 1024``,
  ``wellKnownPortShift = 10000`` in ``internal/gatewayapi/listener.go`` and
  ``translator.go``) unless the EnvoyProxy sets ``provider.kubernetes.
  useListenerPortAsContainerPort: true``. An ``HTTPS`` listener that a
  ``ClientTrafficPolicy`` with ``http3`` targets also listens on UDP (the ``-h3`` Service
  port in ``resource_provider.go``). The proxies fetch their configuration from the
  controller (xDS, port 18000: ``DefaultXdsServerPort`` in ``internal/xds/bootstrap/
  bootstrap.go``) and, when an EnvoyExtensionPolicy loads Wasm, the modules from its Wasm
  HTTP server (port 18002, ``internal/wasm/httpserver.go``); the controller's pods carry
  ``control-plane: envoy-gateway`` and ``app.kubernetes.io/instance: <release>``
  (``envoy-gateway-deployment.yaml``).
- ``istio`` (``istio.io/gateway-controller``): one Deployment per Gateway in its namespace,
  pods labelled ``gateway.networking.k8s.io/gateway-name: <gateway>``, listening on the
  listener port itself (``net.ipv4.ip_unprivileged_port_start: 0``; istio/istio
  ``manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml``).
- ``nginx`` (``gateway.nginx.org/...``, NGINX Gateway Fabric 2): likewise one Deployment per
  Gateway in its namespace, selected by ``gateway.networking.k8s.io/gateway-name``, target
  port = listener port (``buildNginxService`` in nginx/nginx-gateway-fabric
  ``internal/controller/provisioner/objects.go``).
- ``traefik`` (``traefik.io/gateway-controller``): the pods of the traefik chart release,
  ``app.kubernetes.io/name: <nameOverride or traefik>`` and ``app.kubernetes.io/instance:
  <instanceLabelOverride or release-namespace>`` (``traefik.labelselector`` in the chart's
  ``_helpers.tpl``); a listener port must be an entryPoint port, so it is the pod port.
- ``cilium`` (``io.cilium/gateway-controller``): no pods -- the node's Envoy proxies the
  traffic, and backends see it coming from the reserved ``ingress`` identity
  (:attr:`Gateway.entity`).
- ``unknown``: anything else; no selector, and a warning.

Gateway proxies receive traffic from outside the cluster (a LoadBalancer's traffic enters
through the node: ``world``, ``host``, ``remote-node``) and from pods (``cluster``):
:data:`GATEWAY_INGRESS_ENTITIES`.

Which listeners a route reaches: :func:`attached_listeners`. Tunnels and other apps that
send traffic to a gateway: :mod:`scaffolder.discovery.tunnels`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from scaffolder.discovery.reader import api_group, as_int, as_list, as_map, as_str, labels_of
from scaffolder.repo.model import RouteRef

GATEWAY_GROUP = "gateway.networking.k8s.io"
ENVOY_GROUP = "gateway.envoyproxy.io"

# envoyproxy/gateway internal/gatewayapi/translator.go
OWNING_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNING_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
OWNING_GATEWAY_CLASS = "gateway.envoyproxy.io/owning-gatewayclass"
# envoyproxy/gateway internal/infrastructure/kubernetes/proxy/resource.go (EnvoyAppLabel)
ENVOY_PROXY_LABELS = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy"}
# Gateway API's own label, set by Istio and NGINX Gateway Fabric on a Gateway's pods.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"

# internal/gatewayapi/translator.go: minEphemeralPort, wellKnownPortShift.
MIN_UNPRIVILEGED_PORT = 1024
ENVOY_PORT_SHIFT = 10000
# Envoy Gateway's control plane: xDS (internal/xds/bootstrap/bootstrap.go
# DefaultXdsServerPort) and the Wasm module HTTP server (internal/wasm/httpserver.go).
ENVOY_GATEWAY_XDS_PORT = 18000
ENVOY_GATEWAY_WASM_PORT = 18002
# The namespace Envoy Gateway's install guide uses (helm install ... -n envoy-gateway-system).
ENVOY_GATEWAY_DEFAULT_NAMESPACE = "envoy-gateway-system"
ENVOY_GATEWAY_CHART = "gateway-helm"

GATEWAY_INGRESS_ENTITIES = ("world", "host", "remote-node", "cluster")

# The route kinds a listener accepts when its allowedRoutes.kinds names none (Gateway API
# spec: HTTP/HTTPS carry HTTPRoute and GRPCRoute, TLS carries TLSRoute (and TCPRoute
# when it terminates TLS), TCP TCPRoute, UDP UDPRoute).
_PROTOCOL_ROUTE_KINDS = {
    "HTTP": frozenset({"HTTPRoute", "GRPCRoute"}),
    "HTTPS": frozenset({"HTTPRoute", "GRPCRoute"}),
    "TLS": frozenset({"TLSRoute", "TCPRoute"}),
    "TCP": frozenset({"TCPRoute"}),
    "UDP": frozenset({"UDPRoute"}),
}

# GatewayClass spec.controllerName -> implementation (prefix match).
_CONTROLLERS = (
    ("gateway.envoyproxy.io/", "envoy-gateway"),
    ("io.cilium/", "cilium"),
    ("istio.io/", "istio"),
    ("gateway.nginx.org/", "nginx"),
    ("traefik.io/", "traefik"),
)
# GatewayClasses the controllers (or their charts) create themselves, so a repository often
# does not hold them: `cilium` (cilium-operator, with gatewayAPI.enabled) and `istio`
# (istiod). `nginx` and `traefik` are the names NGINX Gateway Fabric's and Traefik's charts
# give theirs by default -- taken from their documentation, not checked in the charts.
_BUILTIN_CLASSES = {"cilium": "cilium", "istio": "istio", "nginx": "nginx", "traefik": "traefik"}


@dataclass(frozen=True)
class Listener:
    """A Gateway listener: its ``port`` (the Service port), ``protocol`` (HTTP, HTTPS, TLS,
    TCP, UDP) and the pod port it listens on (``target_port``) over ``transport``.
    ``allowed_from`` and ``route_kinds`` are its ``allowedRoutes``: the namespaces routes
    may attach from (``Same``, the Gateway API default; ``All``; ``Selector``) and the
    route kinds (by default those its protocol carries)."""

    name: str | None
    port: int
    protocol: str
    target_port: int
    transport: str = "TCP"  # TCP or UDP
    allowed_from: str = "Same"
    route_kinds: frozenset[str] = frozenset()

    def accepts(self, kind: str, namespace: str, gateway_namespace: str) -> bool:
        """Could a route of ``kind`` in ``namespace`` attach here? (A ``Selector`` is
        taken to match: namespace labels are not in the repository.)"""
        if kind not in self.route_kinds:
            return False
        return self.allowed_from != "Same" or namespace == gateway_namespace


@dataclass(frozen=True)
class ControlPlane:
    """Pods a gateway's proxies must reach (Envoy Gateway's controller)."""

    namespace: str
    selector: dict[str, str]
    ports: tuple[int, ...]


@dataclass(frozen=True)
class Gateway:
    """A Gateway and where its proxy pods run (``pod_namespace``/``pod_selector``; both
    empty when unknown, or when ``entity`` names the Cilium identity that carries its
    traffic instead)."""

    name: str
    namespace: str
    class_name: str | None
    implementation: str  # envoy-gateway, cilium, istio, nginx, traefik, unknown
    pod_namespace: str | None
    pod_selector: dict[str, str]
    listeners: tuple[Listener, ...]
    hostnames: tuple[str, ...] = ()
    entity: str | None = None
    control_plane: ControlPlane | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def listener_ports(self, section: str | None = None) -> tuple[Listener, ...]:
        """The listeners a parentRef's ``sectionName`` selects (all of them for None)."""
        if section is None:
            return self.listeners
        return tuple(listener for listener in self.listeners if listener.name == section)


# --------------------------------------------------------------------------- reading


@dataclass
class _Index:
    classes: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    proxies: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    gateways: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    traffic_policies: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    wasm: bool = False
    releases: list[_Release] = field(default_factory=list)


@dataclass(frozen=True)
class _Release:
    chart: str | None
    name: str
    namespace: str
    values: Mapping[str, Any]


def _namespace(doc: Mapping[str, Any], default: str) -> str:
    return as_str(as_map(doc.get("metadata")).get("namespace")) or default


def _name(doc: Mapping[str, Any]) -> str | None:
    return as_str(as_map(doc.get("metadata")).get("name"))


def release_name(doc: Mapping[str, Any]) -> str:
    """Flux's Helm release name: ``spec.releaseName``, else ``<targetNamespace>-<name>``
    when a targetNamespace is set, else the HelmRelease's name."""
    spec = as_map(doc.get("spec"))
    name = _name(doc) or "?"
    target = as_str(spec.get("targetNamespace"))
    return as_str(spec.get("releaseName")) or (f"{target}-{name}" if target else name)


def chart_name(doc: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The chart a HelmRelease installs: ``chart.spec.chart`` (last path segment), or the
    last segment of the URL of the OCIRepository its ``chartRef`` names (``sources``: the
    OCIRepositories of its namespace by name), else the chartRef's name."""
    spec = as_map(doc.get("spec"))
    chart = as_str(as_map(as_map(spec.get("chart")).get("spec")).get("chart"))
    if chart:
        return chart.rstrip("/").rsplit("/", 1)[-1]
    ref = as_map(spec.get("chartRef"))
    ref_name = as_str(ref.get("name"))
    if ref_name is None:
        return None
    url = as_str(as_map(sources.get(ref_name)).get("url"))
    return url.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0] if url else ref_name


def _index(docs_by_namespace: Mapping[str, Sequence[Mapping[str, Any]]]) -> _Index:
    index = _Index()
    for default_ns, docs in docs_by_namespace.items():
        sources = {
            name: as_map(doc.get("spec"))
            for doc in docs
            if isinstance(doc, Mapping)
            and doc.get("kind") == "OCIRepository"
            and (name := _name(doc)) is not None
        }
        for doc in docs:
            if not isinstance(doc, Mapping):
                continue
            kind, group, name = doc.get("kind"), api_group(doc), _name(doc)
            namespace = _namespace(doc, default_ns)
            if group == GATEWAY_GROUP and kind == "GatewayClass" and name:
                index.classes[name] = doc
            elif group == GATEWAY_GROUP and kind == "Gateway" and name:
                index.gateways.append((namespace, doc))
            elif group == ENVOY_GROUP and kind == "EnvoyProxy" and name:
                index.proxies[(namespace, name)] = doc
            elif group == ENVOY_GROUP and kind == "ClientTrafficPolicy":
                index.traffic_policies.append((namespace, doc))
            elif group == ENVOY_GROUP and kind == "EnvoyExtensionPolicy":
                index.wasm = index.wasm or bool(as_list(as_map(doc.get("spec")).get("wasm")))
            elif kind == "HelmRelease" and group == "helm.toolkit.fluxcd.io" and name:
                spec = as_map(doc.get("spec"))
                index.releases.append(
                    _Release(
                        chart_name(doc, sources),
                        release_name(doc),
                        as_str(spec.get("targetNamespace")) or namespace,
                        as_map(spec.get("values")),
                    )
                )
    return index


def _path(values: Any, *keys: str) -> Any:
    for key in keys:
        values = as_map(values).get(key)
    return values


def _is_envoy_gateway(release: _Release) -> bool:
    return release.chart == ENVOY_GATEWAY_CHART or isinstance(
        _path(release.values, "config", "envoyGateway"), dict
    )


def read_gateways(
    docs_by_namespace: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    envoy_gateway_namespace: str | None = None,
    deploy_mode: str | None = None,
    warnings: list[str] | None = None,
) -> list[Gateway]:
    """Every Gateway of ``docs_by_namespace`` (documents by the namespace they default to),
    with its implementation, proxy pods and listeners (see the module docstring).

    ``envoy_gateway_namespace`` and ``deploy_mode`` (``GatewayNamespace`` or
    ``ControllerNamespace``) override what the envoy-gateway HelmRelease says. Problems
    (an unknown implementation, an assumed namespace) are appended to ``warnings``."""
    notes = warnings if warnings is not None else []
    index = _index(docs_by_namespace)
    eg_release = next((r for r in index.releases if _is_envoy_gateway(r)), None)
    eg_values = eg_release.values if eg_release else {}
    eg_namespace = (
        envoy_gateway_namespace
        or as_str(eg_values.get("namespaceOverride"))
        or (eg_release.namespace if eg_release else None)
    )
    mode = deploy_mode or as_str(
        _path(eg_values, "config", "envoyGateway", "provider", "kubernetes", "deploy", "type")
    )
    gateways: list[Gateway] = []
    for namespace, doc in index.gateways:
        name = _name(doc) or "?"
        spec = as_map(doc.get("spec"))
        class_name = as_str(spec.get("gatewayClassName"))
        gateway_class = index.classes.get(class_name or "")
        implementation = _implementation(gateway_class, class_name)
        base = Gateway(
            name=name,
            namespace=namespace,
            class_name=class_name,
            implementation=implementation,
            pod_namespace=namespace,
            pod_selector={},
            listeners=(),
            hostnames=tuple(
                dict.fromkeys(
                    h
                    for listener in as_list(spec.get("listeners"))
                    if (h := as_str(as_map(listener).get("hostname")))
                )
            ),
            labels=labels_of(as_map(doc.get("metadata")).get("labels")),
        )
        if implementation == "envoy-gateway":
            gateways.append(
                _envoy_gateway(
                    base, doc, gateway_class, index, eg_release, eg_namespace, mode, notes
                )
            )
            continue
        listeners = tuple(_listeners(spec, shift=False, http3=frozenset()))
        if implementation in ("istio", "nginx"):
            gateways.append(
                replace(base, pod_selector={GATEWAY_NAME_LABEL: name}, listeners=listeners)
            )
        elif implementation == "cilium":
            gateways.append(
                replace(base, pod_namespace=None, listeners=listeners, entity="ingress")
            )
        elif implementation == "traefik":
            gateways.append(_traefik(base, listeners, index.releases, notes))
        else:
            notes.append(
                f"Gateway {namespace}/{name}: class {class_name or '?'} is no gateway "
                "implementation netpol knows; its proxy pods are unknown"
            )
            gateways.append(replace(base, pod_namespace=None, listeners=listeners))
    return gateways


def _implementation(gateway_class: Mapping[str, Any] | None, class_name: str | None) -> str:
    if gateway_class is None:
        return _BUILTIN_CLASSES.get(class_name or "", "unknown")
    controller = as_str(as_map(gateway_class.get("spec")).get("controllerName")) or ""
    return next((impl for prefix, impl in _CONTROLLERS if controller.startswith(prefix)), "unknown")


def _listeners(
    spec: Mapping[str, Any], *, shift: bool, http3: frozenset[str | None]
) -> Iterable[Listener]:
    """``spec.listeners`` with their pod ports: port + 10000 below 1024 when ``shift``;
    HTTPS listeners named in ``http3`` (None: every listener) also on UDP."""
    for item in as_list(spec.get("listeners")):
        listener = as_map(item)
        port = as_int(listener.get("port"))
        if port is None:
            continue
        name = as_str(listener.get("name"))
        protocol = (as_str(listener.get("protocol")) or "HTTP").upper()
        target = port + ENVOY_PORT_SHIFT if shift and port < MIN_UNPRIVILEGED_PORT else port
        transport = "UDP" if protocol == "UDP" else "TCP"
        allowed = as_map(listener.get("allowedRoutes"))
        origin = as_str(as_map(allowed.get("namespaces")).get("from")) or "Same"
        kinds = frozenset(
            kind for k in as_list(allowed.get("kinds")) if (kind := as_str(as_map(k).get("kind")))
        ) or _PROTOCOL_ROUTE_KINDS.get(protocol, frozenset())
        yield Listener(name, port, protocol, target, transport, origin, kinds)
        if protocol == "HTTPS" and (None in http3 or name in http3):
            yield Listener(name, port, protocol, target, "UDP", origin, kinds)


def _proxy_ref(ref: Any, default_namespace: str | None) -> tuple[str, str] | None:
    ref_map = as_map(ref)
    name = as_str(ref_map.get("name"))
    namespace = as_str(ref_map.get("namespace")) or default_namespace
    if name is None or namespace is None or ref_map.get("kind", "EnvoyProxy") != "EnvoyProxy":
        return None
    return namespace, name


def _http3_sections(index: _Index, gateway: Gateway) -> frozenset[str | None]:
    """Listener names (None: all) of ``gateway`` that a ClientTrafficPolicy enables
    HTTP/3 on (``targetRef``, ``targetRefs`` or ``targetSelectors`` of kind Gateway, in
    the Gateway's namespace)."""
    sections: set[str | None] = set()
    for namespace, policy in index.traffic_policies:
        spec = as_map(policy.get("spec"))
        if namespace != gateway.namespace or spec.get("http3") is None:
            continue
        refs = [as_map(spec.get("targetRef")), *map(as_map, as_list(spec.get("targetRefs")))]
        for ref in refs:
            if ref.get("kind") == "Gateway" and ref.get("name") == gateway.name:
                sections.add(as_str(ref.get("sectionName")))
        for selector in map(as_map, as_list(spec.get("targetSelectors"))):
            labels = labels_of(selector.get("matchLabels"))
            if (
                selector.get("kind") == "Gateway"
                and labels
                and all(gateway.labels.get(k) == v for k, v in labels.items())
            ):
                sections.add(None)
    return frozenset(sections)


def _envoy_gateway(
    base: Gateway,
    doc: Mapping[str, Any],
    gateway_class: Mapping[str, Any] | None,
    index: _Index,
    release: _Release | None,
    controller_namespace: str | None,
    mode: str | None,
    notes: list[str],
) -> Gateway:
    spec = as_map(doc.get("spec"))
    class_ref = _proxy_ref(as_map(as_map(gateway_class).get("spec")).get("parametersRef"), None)
    gateway_ref = _proxy_ref(
        as_map(spec.get("infrastructure")).get("parametersRef"), base.namespace
    )
    class_proxy = as_map(index.proxies.get(class_ref)) if class_ref else {}
    # A Gateway's own EnvoyProxy (infrastructure.parametersRef) takes precedence.
    proxy = as_map(index.proxies.get(gateway_ref)) if gateway_ref else class_proxy
    notes.extend(
        f"Gateway {base.namespace}/{base.name}: EnvoyProxy {ref[0]}/{ref[1]} not found"
        for ref in (class_ref, gateway_ref)
        if ref is not None and ref not in index.proxies
    )
    keep_ports = (
        _path(proxy, "spec", "provider", "kubernetes", "useListenerPortAsContainerPort") is True
    )
    if as_map(class_proxy.get("spec")).get("mergeGateways") is True:
        selector = {**ENVOY_PROXY_LABELS, OWNING_GATEWAY_CLASS: base.class_name or "?"}
    else:
        selector = {
            **ENVOY_PROXY_LABELS,
            OWNING_GATEWAY_NAME: base.name,
            OWNING_GATEWAY_NAMESPACE: base.namespace,
        }
    if mode == "GatewayNamespace":
        pod_namespace = base.namespace
    elif controller_namespace is not None:
        pod_namespace = controller_namespace
    else:
        pod_namespace = ENVOY_GATEWAY_DEFAULT_NAMESPACE
        notes.append(
            f"Gateway {base.namespace}/{base.name}: the envoy-gateway release is not in the "
            f"repository; assuming its proxies run in {pod_namespace}"
        )
    listeners = tuple(_listeners(spec, shift=not keep_ports, http3=_http3_sections(index, base)))
    control_selector = {"control-plane": "envoy-gateway"}
    if release is not None:
        control_selector["app.kubernetes.io/instance"] = release.name
    ports = (
        (ENVOY_GATEWAY_XDS_PORT, ENVOY_GATEWAY_WASM_PORT)
        if index.wasm
        else (ENVOY_GATEWAY_XDS_PORT,)
    )
    control = ControlPlane(
        controller_namespace or ENVOY_GATEWAY_DEFAULT_NAMESPACE, control_selector, ports
    )
    return replace(
        base,
        pod_namespace=pod_namespace,
        pod_selector=selector,
        listeners=listeners,
        control_plane=control,
    )


def _traefik(
    base: Gateway, listeners: tuple[Listener, ...], releases: Sequence[_Release], notes: list[str]
) -> Gateway:
    release = next((r for r in releases if r.chart == "traefik"), None)
    if release is None:
        notes.append(
            f"Gateway {base.namespace}/{base.name}: traefik's release is not in the "
            "repository; its pods are unknown"
        )
        return replace(base, pod_namespace=None, listeners=listeners)
    values = release.values
    namespace = as_str(values.get("namespaceOverride")) or release.namespace
    instance = as_str(values.get("instanceLabelOverride")) or f"{release.name}-{namespace}"
    selector = {
        "app.kubernetes.io/name": as_str(values.get("nameOverride")) or "traefik",
        "app.kubernetes.io/instance": instance,
    }
    return replace(base, pod_namespace=namespace, pod_selector=selector, listeners=listeners)


# --------------------------------------------------------------------------- routes


def attached_listeners(
    ref: RouteRef, kind: str, route_namespace: str, gateways: Sequence[Gateway]
) -> list[tuple[Gateway, Listener]]:
    """The listeners a route's parentRef attaches to: the Gateway it names (a route trusts
    its own parentRefs -- an internal-only app never accepts the external gateway), the
    listener its ``sectionName`` names (else every listener), kept only where the
    listener's ``allowedRoutes`` accept the route's kind and namespace. Empty when the
    Gateway is not in ``gateways``."""
    namespace = ref.gateway_namespace or route_namespace
    return [
        (gateway, listener)
        for gateway in gateways
        if (gateway.namespace, gateway.name) == (namespace, ref.gateway_name)
        for listener in gateway.listener_ports(ref.section_name)
        if listener.accepts(kind, route_namespace, gateway.namespace)
    ]
