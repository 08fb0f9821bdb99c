"""Who talks to whom, across namespaces: references resolved to pods, gateways to their
proxies and backends (issue 9).

Built once per scaffold run from every discovered namespace (:class:`Peers`), then asked
per app by :mod:`scaffolder.workflows.needs`:

* a **service reference** (``redis.databases.svc:6379``) names a Service; the app whose
  Service names include it gives the pods (its selector) and the pod port (the Service
  port's ``targetPort``). Other namespace: egress on the client, ingress on the server.
  Same namespace: the baseline's intra-namespace policy already allows it;
* a reference to a **Gateway** (its Service, ``envoy-internal.network:443``) or to a host
  of the cluster's own domain (``auth.${SECRET_DOMAIN}``, resolved by split-horizon DNS
  to the gateway's LoadBalancer, which socket-LB turns into the proxy pods and their pod
  port) is egress to the gateway's proxy pods on the listener's pod port (seed 004: the
  oauth2-proxy -> envoy:10443 fix);
* an **external** host is world egress on its port (FQDN in a comment; ``toFQDNs`` with
  ``--fqdn-style fqdn``); an **address** is a ``toCIDR`` rule;
* a **Gateway**'s proxies get their listeners opened to world/host/remote-node/cluster and
  egress to every backend its routes send traffic to.

What cannot be resolved is said per app (:attr:`AppPeers.unknown`), never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scaffolder.discovery.gateways import ENVOY_PROXY_LABELS, Gateway, read_gateways
from scaffolder.discovery.tunnels import tunnel_edge
from scaffolder.repo.model import App, Namespace, Port, Reference

# A hostname under a Flux substitution (``app.${SECRET_DOMAIN}``) is the cluster owner's
# own domain: served by their gateway.
_OWN_DOMAIN_MARK = "${"


def _ports_json(ports: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"port": p, "protocol": proto} for p, proto in sorted(set(ports))]


@dataclass
class AppPeers:
    """What one app's configuration and routes need, as overlay answer entries."""

    cross_namespace_egress: list[dict[str, Any]] = field(default_factory=list)
    fqdn_egress: list[dict[str, Any]] = field(default_factory=list)
    cidr_egress: list[dict[str, Any]] = field(default_factory=list)
    cross_namespace_ingress: list[dict[str, Any]] = field(default_factory=list)
    gateway_listener_ports: list[dict[str, Any]] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)  # what became a rule (or is baseline)
    unknown: list[str] = field(default_factory=list)  # what could not be resolved, and why


@dataclass(frozen=True)
class _Target:
    namespace: str
    app: App

    def pod_port(self, port: int | None) -> list[tuple[int, str]] | None:
        """The pod port(s) behind Service port ``port`` (None: the app's only port)."""
        if port is None:
            ports = {(p.target_port, p.protocol) for p in self.app.ports}
            return sorted(ports) if len(ports) == 1 else None
        hits = [(p.target_port, p.protocol) for p in self.app.ports if p.port == port]
        if hits:
            return sorted(set(hits))
        if not self.app.ports:
            return [(port, "TCP")]  # no Service in git: the named port is the pod's
        if any(p.target_port == port for p in self.app.ports):
            return [(port, "TCP")]
        return None


class Peers:
    """Every namespace's apps, Services and gateways, for resolving references."""

    def __init__(self, namespaces: Sequence[Namespace], *, fqdn_style: str = "entity") -> None:
        self.fqdn_style = fqdn_style
        self.warnings: list[str] = []
        self.services: dict[tuple[str, str], _Target] = {}
        # CNPG's operator creates <cluster>-rw/-ro/-r Services: handled as Pattern B/C.
        self.cnpg_services = {
            (cluster.namespace, f"{cluster.name}-{suffix}")
            for ns in namespaces
            for cluster in ns.cnpg_clusters
            for suffix in ("rw", "ro", "r")
        }
        for ns in namespaces:
            for app in ns.apps:
                for name in (*app.service_names, app.name):
                    self.services.setdefault((app.namespace, name), _Target(app.namespace, app))
        documents: dict[str, list[dict[str, Any]]] = {}
        for ns in namespaces:
            for namespace, doc in ns.gateway_documents:
                documents.setdefault(namespace, []).append(doc)
        self.gateways: list[Gateway] = (
            read_gateways(documents, warnings=self.warnings) if documents else []
        )
        self._ingress: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._backends: dict[tuple[str, str], list[App]] = {}
        for ns in namespaces:
            for app in ns.apps:
                for ref in app.routes:
                    for gateway in self._gateways_named(ref.gateway_name, ref.gateway_namespace):
                        self._backends.setdefault((gateway.namespace, gateway.name), []).append(app)
        self.https_gateways = self._https_gateways()
        self._compute_ingress(namespaces)

    # ------------------------------------------------------------------ gateways
    def _gateways_named(self, name: str, namespace: str | None) -> list[Gateway]:
        return [g for g in self.gateways if g.name == name and namespace in (None, g.namespace)]

    def gateway_peer(self, app: App) -> tuple[str, dict[str, str]] | None:
        """(namespace, selector) of the proxies of the gateways ``app``'s routes name: the
        named gateway's own pods when there is one, their common labels when several."""
        found = [
            g
            for ref in app.routes
            for g in self._gateways_named(ref.gateway_name, ref.gateway_namespace)
            if g.pod_namespace is not None and g.pod_selector
        ]
        if not found:
            return None
        namespaces = {g.pod_namespace for g in found}
        if len(namespaces) != 1:
            return None
        namespace = next(iter(namespaces))
        assert namespace is not None
        common = dict(set.intersection(*(set(g.pod_selector.items()) for g in found)))
        return namespace, common or dict(ENVOY_PROXY_LABELS)

    def gateway_of(self, app: App) -> list[Gateway]:
        """The gateways whose proxy pods ``app`` selects (its selector is theirs)."""
        wanted = set(app.selector.items())
        return [
            g
            for g in self.gateways
            if g.pod_namespace == app.namespace
            and g.pod_selector
            and wanted <= set(g.pod_selector.items())
        ]

    def _https_gateways(self) -> list[tuple[Gateway, list[tuple[int, str]]]]:
        """Gateways with known proxies and an HTTPS (443) listener, with its pod ports."""
        found = []
        for gateway in self.gateways:
            ports = [(li.target_port, li.transport) for li in gateway.listeners if li.port == 443]
            if ports and gateway.pod_namespace and gateway.pod_selector:
                found.append((gateway, ports))
        return found

    def gateway_apps(self, ns: Namespace) -> list[App]:
        """Apps standing for the proxy pods of ``ns``'s Gateways that no discovered app
        selects (the controller creates them): one per Gateway whose pods run in ``ns``, in
        the directory of the Gateway's manifest."""
        found = []
        for gateway in self.gateways:
            where = ns.gateway_directories.get(gateway.name)
            if where is None or gateway.namespace != ns.name:
                continue
            if gateway.pod_namespace != ns.name or not gateway.pod_selector:
                continue
            wanted = set(gateway.pod_selector.items())
            if any(set(a.selector.items()) <= wanted for a in ns.apps if a.selector):
                continue  # an app (its LoadBalancer Service, say) stands for them already
            found.append(
                App(
                    name=gateway.name,
                    namespace=ns.name,
                    directory=where[0],
                    kustomization=where[1],
                    source_kind="Gateway",
                    selector=dict(gateway.pod_selector),
                )
            )
        return found

    # ------------------------------------------------------------------ references
    def _service_target(
        self, app: App, ref: Reference
    ) -> tuple[_Target | None, list[tuple[int, str]] | None]:
        """The app a service reference names (None: none; itself counts as none) and the
        pod ports behind the named port (None: not found)."""
        target = self.services.get((ref.namespace or app.namespace, ref.host))
        if target is None or target.app is app:
            return None, None
        return target, target.pod_port(ref.port)

    def for_app(self, app: App) -> AppPeers:
        peers = AppPeers()
        egress: dict[tuple[str, tuple[tuple[str, str], ...]], set[tuple[int, str]]] = {}
        fqdn: dict[tuple[str, int, str], dict[str, Any]] = {}
        cidr: dict[str, set[tuple[int, str]]] = {}
        for ref in app.references:
            if ref.kind == "service":
                self._service_ref(app, ref, peers, egress)
            elif ref.kind == "external":
                if _OWN_DOMAIN_MARK in ref.host and self.https_gateways:
                    for gateway, ports in self.https_gateways:
                        key = (
                            gateway.pod_namespace or "",
                            tuple(sorted(gateway.pod_selector.items())),
                        )
                        if gateway.pod_namespace == app.namespace:
                            peers.covered.append(
                                f"{ref.host}: the gateway {gateway.name}, same namespace"
                            )
                            continue
                        egress.setdefault(key, set()).update(ports)
                    peers.covered.append(
                        f"{ref.host}: the cluster's own domain, through its gateway"
                    )
                    continue
                port = ref.port or 443
                fqdn.setdefault(
                    (ref.host, port, ref.protocol),
                    {
                        "host": ref.host,
                        "port": port,
                        "protocol": ref.protocol,
                        "style": self.fqdn_style,
                    },
                )
                peers.covered.append(f"{ref.host}:{port} (external)")
            elif ref.kind == "cidr":
                if ref.port is None:
                    peers.unknown.append(f"{ref.host} ({ref.source}): an address without a port")
                    continue
                cidr.setdefault(ref.host, set()).add((ref.port, ref.protocol))
                peers.covered.append(f"{ref.host}:{ref.port}")
        edge = tunnel_edge(app.images)
        if edge is not None:
            for host in edge.fqdns:
                for port, protocol in edge.ports:
                    fqdn.setdefault(
                        (host, port, protocol),
                        {
                            "host": host,
                            "port": port,
                            "protocol": protocol,
                            "style": self.fqdn_style,
                        },
                    )
            peers.covered.append(f"{edge.name} tunnel edge")
        for gateway in self.gateway_of(app):
            peers.gateway_listener_ports.extend(
                _ports_json((li.target_port, li.transport) for li in gateway.listeners)
            )
            peers.covered.append(f"gateway {gateway.name}: listeners and routed backends")
            for backend in self._backends.get((gateway.namespace, gateway.name), []):
                ports = _route_pod_ports(backend)
                if backend.namespace == app.namespace or not ports:
                    continue
                key = (backend.namespace, tuple(sorted(backend.selector.items())))
                egress.setdefault(key, set()).update(ports)
        peers.gateway_listener_ports = _dedupe(peers.gateway_listener_ports)
        peers.cross_namespace_egress = [
            {"namespace": ns, "selector": dict(selector), "ports": _ports_json(ports)}
            for (ns, selector), ports in sorted(egress.items())
        ]
        peers.fqdn_egress = [fqdn[k] for k in sorted(fqdn)]
        peers.cidr_egress = [
            {"cidr": c, "ports": _ports_json(ports)} for c, ports in sorted(cidr.items())
        ]
        peers.cross_namespace_ingress = self._ingress.get((app.namespace, app.name), [])
        return peers

    def _service_ref(
        self,
        app: App,
        ref: Reference,
        peers: AppPeers,
        egress: dict[tuple[str, tuple[tuple[str, str], ...]], set[tuple[int, str]]],
    ) -> None:
        namespace = ref.namespace or app.namespace
        gateways = self._gateways_named(ref.host, namespace)
        if gateways:
            for gateway in gateways:
                ports = [
                    (li.target_port, li.transport)
                    for li in gateway.listeners
                    if ref.port is None or li.port == ref.port
                ]
                if gateway.pod_namespace is None or not gateway.pod_selector or not ports:
                    peers.unknown.append(f"{ref.host}.{namespace}: gateway proxies not known")
                    continue
                if gateway.pod_namespace == app.namespace:
                    peers.covered.append(f"gateway {gateway.name} (same namespace)")
                    continue
                key = (gateway.pod_namespace, tuple(sorted(gateway.pod_selector.items())))
                egress.setdefault(key, set()).update(ports)
                peers.covered.append(f"gateway {gateway.name}")
            return
        if (namespace, ref.host) in self.cnpg_services:
            peers.covered.append(f"{ref.host}.{namespace} (CNPG database)")
            return
        named = self.services.get((namespace, ref.host))
        if named is not None and named.app is app:
            return  # itself (its own Service in its configuration)
        target, pod_ports = self._service_target(app, ref)
        where = f"{ref.host}.{namespace}" + (f":{ref.port}" if ref.port else "")
        if target is None:
            if namespace == app.namespace:  # whatever it is, the baseline allows it
                peers.covered.append(f"{where} (same namespace: baseline)")
                return
            peers.unknown.append(
                f"{where} ({ref.source}): no such Service or app in the repository"
            )
            return
        if pod_ports is None:
            peers.unknown.append(f"{where}: port not found on {target.app.name}'s Services")
            return
        if target.namespace == app.namespace:
            peers.covered.append(f"{target.app.name} (same namespace: baseline)")
            return
        key = (target.namespace, tuple(sorted(target.app.selector.items())))
        egress.setdefault(key, set()).update(pod_ports)
        peers.covered.append(f"{target.app.name}.{target.namespace}")

    def _compute_ingress(self, namespaces: Sequence[Namespace]) -> None:
        """The other side of every cross-namespace service reference and gateway route."""
        found: dict[
            tuple[str, str], dict[tuple[str, tuple[tuple[str, str], ...]], set[tuple[int, str]]]
        ] = {}
        for ns in namespaces:
            for app in ns.apps:
                for ref in app.references:
                    if ref.kind != "service":
                        continue
                    namespace = ref.namespace or app.namespace
                    if namespace == app.namespace or self._gateways_named(ref.host, namespace):
                        continue
                    target, ports = self._service_target(app, ref)
                    if target is None or not ports:
                        continue
                    key = (app.namespace, tuple(sorted(app.selector.items())))
                    found.setdefault((target.namespace, target.app.name), {}).setdefault(
                        key, set()
                    ).update(ports)
        self._ingress = {
            target: [
                {"namespace": ns, "selector": dict(selector), "ports": _ports_json(ports)}
                for (ns, selector), ports in sorted(clients.items())
            ]
            for target, clients in found.items()
        }


def _dedupe(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[int, str], dict[str, Any]] = {}
    for item in items:
        seen.setdefault((item["port"], item["protocol"]), item)
    return [seen[k] for k in sorted(seen)]


def _route_pod_ports(app: App) -> list[tuple[int, str]]:
    """The pod ports behind the Service ports an app's routes send traffic to."""
    ports: list[Port] = [p for p in app.ports if p.port in app.route_ports]
    if not ports and len({p.target_port for p in app.ports if p.protocol == "TCP"}) == 1:
        ports = [p for p in app.ports if p.protocol == "TCP"]
    return sorted({(p.target_port, p.protocol) for p in ports})
