"""The domain model every command shares: plain data, no behaviour beyond small helpers.

Paths in the model are relative to the repository root (POSIX style), so a model
can be compared, serialised to JSON and rendered into messages without leaking
the absolute location of a checkout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal


@dataclass(frozen=True)
class Port:
    """A port an app serves. ``port`` is the Service port, ``target_port`` the container port.

    Cilium evaluates L4 policy against the pod's port after socket-LB translation, so
    policies must use ``target_port`` (seed 004's envoy 443 -> 10443 lesson).
    """

    port: int
    target_port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True)
class RouteRef:
    """An HTTPRoute (or app-template ``route:``) parentRef pointing at a Gateway."""

    gateway_name: str
    gateway_namespace: str | None = None
    section_name: str | None = None


@dataclass(frozen=True)
class CnpgRef:
    """A CloudNativePG cluster an app connects to."""

    namespace: str
    cluster: str


@dataclass(frozen=True)
class Reference:
    """A peer an app's configuration names (values, env, ConfigMaps, Secrets, config files):
    see :mod:`scaffolder.discovery.references`."""

    kind: Literal["service", "external", "cidr"]
    host: str  # Service name (service), hostname (external), CIDR such as 1.2.3.4/32 (cidr)
    namespace: str | None  # service: the namespace named; None for the same-namespace forms
    port: int | None  # explicit, else a sibling key's, the scheme's or the key's default
    protocol: str  # TCP, UDP or ICMP
    source: str  # "<file>:<key.path>" (documents) or "<file>:<line>" (raw text)


@dataclass(frozen=True)
class WebhookServer:
    """Pods the kube-apiserver calls (an admission or conversion webhook), on a pod port."""

    selector: tuple[tuple[str, str], ...]  # the webhook pods (may differ from the app's)
    port: int
    source: str  # what showed it: the configuration's file, or the chart


@dataclass(frozen=True)
class PolicyRef:
    """A network policy that already exists in the repository."""

    kind: str  # CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy
    name: str
    namespace: str | None
    path: PurePosixPath


@dataclass(frozen=True)
class FluxKustomization:
    """A Flux ``Kustomization`` (``ks.yaml``) and where it points."""

    name: str
    namespace: str | None
    path: PurePosixPath | None  # spec.path, repo-relative, normalised (no leading ./)
    target_namespace: str | None
    suspend: bool
    file: PurePosixPath


@dataclass
class App:
    """One deployable app: a directory with its own kustomization.yaml."""

    name: str
    namespace: str
    directory: PurePosixPath  # holds the app's kustomization.yaml; overlays go here
    kustomization: PurePosixPath
    source_kind: str  # HelmRelease, Deployment, StatefulSet, DaemonSet
    selector: dict[str, str]  # pod labels that select the app's pods
    flux_kustomization: str | None = None
    ports: tuple[Port, ...] = ()
    routes: tuple[RouteRef, ...] = ()
    route_ports: tuple[int, ...] = ()  # Service ports the routes target (backendRefs)
    load_balancer_ports: tuple[Port, ...] = ()
    is_oauth2_proxy: bool = False
    cnpg_clients: tuple[CnpgRef, ...] = ()
    existing_policies: tuple[PolicyRef, ...] = ()
    chart: str | None = None  # HelmRelease: the chart's name
    images: tuple[str, ...] = ()  # container images (tunnel connectors, webhook servers)
    service_names: tuple[str, ...] = ()  # Services (and names) that reach its pods
    references: tuple[Reference, ...] = ()  # peers its configuration names
    webhooks: tuple[WebhookServer, ...] = ()  # pods and ports the kube-apiserver calls
    notes: tuple[str, ...] = ()  # what discovery could not work out about it


@dataclass
class CnpgCluster:
    """A CloudNativePG ``Cluster`` and the apps (any namespace) that connect to it."""

    name: str
    namespace: str
    directory: PurePosixPath
    kustomization: PurePosixPath
    consumers: list[CnpgConsumer] = field(default_factory=list)
    # Object-store endpoints (barman backups, recovery sources), e.g. https://s3.${SECRET_DOMAIN}
    backup_endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class CnpgConsumer:
    namespace: str
    app: str
    selector: tuple[tuple[str, str], ...]


@dataclass
class Namespace:
    """A namespace directory under the apps dir (``kubernetes/apps/<ns>``)."""

    name: str
    directory: PurePosixPath
    kustomization: PurePosixPath
    flux_kustomizations: list[FluxKustomization] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    cnpg_clusters: list[CnpgCluster] = field(default_factory=list)
    policies: list[PolicyRef] = field(default_factory=list)  # every policy found under the ns dir
    components: list[str] = field(
        default_factory=list
    )  # entries of the ns kustomization components:
    warnings: list[str] = field(default_factory=list)
    # Gateway API and gateway-controller documents (Gateway, GatewayClass, EnvoyProxy,
    # ClientTrafficPolicy, the controller's HelmRelease), with the namespace they default
    # to: gateways are resolved across namespaces (scaffolder.discovery.gateways).
    gateway_documents: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Gateway name -> the app directory (and kustomization) holding it.
    gateway_directories: dict[str, tuple[PurePosixPath, PurePosixPath]] = field(
        default_factory=dict
    )

    @property
    def suspended(self) -> bool:
        """True when every Flux Kustomization of the namespace is suspended."""
        return bool(self.flux_kustomizations) and all(k.suspend for k in self.flux_kustomizations)

    @property
    def policy_names(self) -> set[str]:
        return {p.name for p in self.policies if p.kind != "CiliumClusterwideNetworkPolicy"}
