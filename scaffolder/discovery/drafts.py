"""Apps, Services and routes being assembled, before they become the model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scaffolder.discovery.reader import AppDir
from scaffolder.repo.model import Port, RouteRef

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
CONTROLLER_LABEL = "app.kubernetes.io/controller"


@dataclass
class Draft:
    """An app being assembled; becomes a :class:`~scaffolder.repo.model.App`."""

    name: str
    namespace: str
    source_kind: str
    app_dir: AppDir  # its directory, kustomization and Flux Kustomization
    file: str  # repo-relative
    selector: dict[str, str]
    pod_labels: dict[str, str]
    controllers: frozenset[str] = frozenset()
    service_names: set[str] = field(default_factory=set)
    container_ports: dict[str, int] = field(default_factory=dict)
    ports: list[Port] = field(default_factory=list)
    lb_ports: list[Port] = field(default_factory=list)
    routes: list[RouteRef] = field(default_factory=list)
    route_ports: set[int] = field(default_factory=set)  # Service ports routes send traffic to
    oauth2: bool = False
    strings: list[str] = field(default_factory=list)
    chart: str | None = None
    release: str | None = None
    document: dict[str, Any] | None = None  # the HelmRelease or workload it was read from

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
class ServiceDraft:
    name: str
    file: str  # repo-relative
    app_dir: AppDir
    namespace: str
    selector: dict[str, str]
    spec: dict[str, Any]


@dataclass
class RouteDraft:
    name: str
    file: str  # repo-relative
    app_dir: AppDir
    parent_refs: list[RouteRef]
    backends: list[str]
    backend_ports: list[int] = field(default_factory=list)  # Service ports the rules target


@dataclass(frozen=True)
class Pending:
    """An unresolved CNPG reference of an app: ``cluster`` in ``namespace`` (None: unknown)."""

    app: str
    cluster: str
    namespace: str | None
