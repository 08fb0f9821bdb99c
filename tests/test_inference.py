"""What scaffold infers from what the repository states (issue 9), end to end on copies of
examples/home-ops: gateways and their backends, the gateway a route names, webhooks,
tunnels, references across namespaces, external hosts, and what stays unknown."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from click.testing import Result

from scaffolder.edit.kustomization import Op, edit_text
from scaffolder.repo.model import App, Port, RouteRef
from scaffolder.workflows.needs import _route_ports

APPS = Path("kubernetes/apps")


def _policies(repo: Path, app_dir: str) -> dict[str, dict[str, Any]]:
    text = (repo / APPS / app_dir / "cnp-netpol.yaml").read_text()
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all(text) if d}


def _scaffold(repo: Path, netpol: Callable[..., Result], *args: str) -> dict[str, Any]:
    result = netpol("-C", repo, "scaffold", *args, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _ports(rule: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["port"], p["protocol"]) for tp in rule["toPorts"] for p in tp["ports"]]


def test_the_gateway_proxies_get_their_listeners_and_reach_every_backend(
    initialised_repo: Path, netpol: Callable[..., Result]
) -> None:
    _scaffold(initialised_repo, netpol, "--all")
    policies = _policies(initialised_repo, "network/envoy-gateway/config")
    listeners = policies["envoy-internal-allow-gateway-listeners"]["spec"]
    assert (
        listeners["endpointSelector"]["matchLabels"]["gateway.envoyproxy.io/owning-gateway-name"]
        == "envoy-internal"
    )
    rule = listeners["ingress"][0]
    assert rule["fromEntities"] == ["world", "host", "remote-node", "cluster"]
    assert _ports(rule) == [("10080", "TCP"), ("10443", "TCP")]  # 80/443 + 10000, not 443
    egress = policies["envoy-internal-allow-cross-namespace"]["spec"]["egress"]
    backends = {
        (r["toEndpoints"][0]["matchLabels"]["io.kubernetes.pod.namespace"],
         r["toEndpoints"][0]["matchLabels"].get("app.kubernetes.io/name")): _ports(r)
        for r in egress
    }  # fmt: skip
    assert backends[("media", "sonarr")] == [("8989", "TCP")]
    assert backends[("media", "jellyfin")] == [("8096", "TCP")]  # targetPort, not Service port
    assert ("network", "cloudflared") not in backends  # same namespace: the baseline's


def test_an_app_accepts_only_the_gateway_its_routes_name(
    initialised_repo: Path, netpol: Callable[..., Result]
) -> None:
    _scaffold(initialised_repo, netpol, "media")
    rule = _policies(initialised_repo, "media/sonarr/app")["sonarr-allow-gateway-ingress"]
    peer = rule["spec"]["ingress"][0]["fromEndpoints"][0]["matchLabels"]
    assert peer["io.kubernetes.pod.namespace"] == "network"
    assert peer["gateway.envoyproxy.io/owning-gateway-name"] == "envoy-internal"


def test_webhooks_are_called_by_the_kube_apiserver_and_tunnels_reach_their_edge(
    initialised_repo: Path, netpol: Callable[..., Result]
) -> None:
    _scaffold(initialised_repo, netpol, "databases", "network")
    cnpg = _policies(initialised_repo, "databases/cloudnative-pg/app")
    webhook = cnpg["cloudnative-pg-allow-apiserver-webhook"]["spec"]["ingress"][0]
    assert webhook["fromEntities"] == ["kube-apiserver"]
    assert _ports(webhook) == [("9443", "TCP")]
    tunnel = _policies(initialised_repo, "network/cloudflared/app")
    egress = tunnel["cloudflared-allow-fqdn-egress"]["spec"]["egress"]
    assert {p for r in egress for p in _ports(r)} == {("7844", "TCP"), ("7844", "UDP")}
    assert all(r["toEntities"] == ["world"] for r in egress)


def test_gateway_proxies_without_a_service_in_git_get_an_overlay_beside_the_gateway(
    initialised_repo: Path, netpol: Callable[..., Result]
) -> None:
    config = initialised_repo / APPS / "network/envoy-gateway/config"
    (config / "service.yaml").unlink()
    kustomization = config / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("  - ./service.yaml\n", ""))
    data = _scaffold(initialised_repo, netpol, "network")
    assert "envoy-internal" in data["namespaces"][0]["overlays"]
    policies = _policies(initialised_repo, "network/envoy-gateway/config")
    assert "envoy-internal-allow-gateway-listeners" in policies


def _add_app(repo: Path, ns: str, name: str, values: str) -> None:
    """An app-template app in namespace ``ns`` (a Flux Kustomization and a HelmRelease)."""
    base = repo / APPS / ns
    (base / name / "app").mkdir(parents=True)
    (base / name / "ks.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  path: ./kubernetes/apps/{ns}/{name}/app\n  targetNamespace: {ns}\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    (base / name / "app" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - ./helmrelease.yaml\n"
    )
    (base / name / "app" / "helmrelease.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        f"metadata:\n  name: {name}\nspec:\n  chart:\n    spec:\n      chart: app-template\n"
        f"  values:\n{values}"
    )
    listing = base / "kustomization.yaml"
    edited = edit_text(listing.read_text(), [Op("add", "resources", f"./{name}/ks.yaml")])
    listing.write_text(edited.text)


CACHE = """    controllers:
      dragonfly:
        containers:
          app:
            image: {repository: ghcr.io/dragonflydb/dragonfly}
    service:
      app:
        controller: dragonfly
        ports:
          redis: {port: 6379}
"""
CLIENT = """    controllers:
      reader:
        containers:
          app:
            image: {repository: ghcr.io/example/reader}
            env:
              CACHE_URL: redis://dragonfly.databases.svc.cluster.local:6379/0
              FEEDS_API: https://api.feedly.com/v2
              METRICS_SINK: http://collector.nowhere:4318
"""


def test_references_across_namespaces_become_egress_and_the_matching_ingress(
    initialised_repo: Path, netpol: Callable[..., Result]
) -> None:
    _add_app(initialised_repo, "databases", "dragonfly", CACHE)
    _add_app(initialised_repo, "media", "reader", CLIENT)
    data = _scaffold(initialised_repo, netpol, "databases", "media")
    client = _policies(initialised_repo, "media/reader/app")
    egress = client["reader-allow-cross-namespace"]["spec"]["egress"]
    assert egress[0]["toEndpoints"][0]["matchLabels"] == {
        "io.kubernetes.pod.namespace": "databases",
        "app.kubernetes.io/name": "dragonfly",
    }
    assert _ports(egress[0]) == [("6379", "TCP")]
    external = client["reader-allow-fqdn-egress"]["spec"]["egress"]
    assert all(rule["toEntities"] == ["world"] for rule in external)
    assert sorted(p for rule in external for p in _ports(rule)) == [("4318", "TCP"), ("443", "TCP")]
    assert (
        "api.feedly.com"
        in (initialised_repo / APPS / "media/reader/app/cnp-netpol.yaml").read_text()
    )
    server = _policies(initialised_repo, "databases/dragonfly/app")
    ingress = server["dragonfly-allow-cross-namespace-ingress"]["spec"]["ingress"][0]
    assert ingress["fromEndpoints"][0]["matchLabels"] == {
        "io.kubernetes.pod.namespace": "media",
        "app.kubernetes.io/name": "reader",
    }
    assert _ports(ingress) == [("6379", "TCP")]
    # What the repository does not say is reported, not guessed.
    media = next(n for n in data["namespaces"] if n["namespace"] == "media")
    coverage = media["coverage"]["reader"]
    assert coverage["status"] == "covered"  # collector.nowhere: no such namespace, so external
    assert "dragonfly.databases" in coverage["covered"]


def test_a_reference_to_a_missing_service_is_reported_per_app(
    initialised_repo: Path, netpol: Callable[..., Result]
) -> None:
    _add_app(
        initialised_repo,
        "media",
        "reader",
        CLIENT.replace("dragonfly.databases.svc.cluster.local", "valkey.databases.svc"),
    )
    data = _scaffold(initialised_repo, netpol, "media")
    coverage = data["namespaces"][0]["coverage"]["reader"]
    assert coverage["status"] == "partial"
    assert any("valkey.databases:6379" in u and "no such Service" in u for u in coverage["unknown"])
    result = netpol("-C", initialised_repo, "scaffold", "media", "--dry-run")
    assert "  reader: partial: valkey.databases:6379" in result.output


def test_a_route_never_opens_every_port() -> None:
    """A route with no backend port, to an app with several ports: nothing, and why."""
    app = App(
        name="multi",
        namespace="media",
        directory=PurePosixPath("a"),
        kustomization=PurePosixPath("a/kustomization.yaml"),
        source_kind="HelmRelease",
        selector={"app.kubernetes.io/name": "multi"},
        ports=(Port(8080, 8080, "TCP", "web"), Port(9000, 9000, "TCP", "admin")),
        routes=(RouteRef("envoy-internal", "network"),),
    )
    assert _route_ports(app) == ([], "several ports and no backend port in its routes")
    routed = replace(app, route_ports=(9000,))
    assert _route_ports(routed) == ([Port(9000, 9000, "TCP", "admin")], "")
    wrong = replace(app, route_ports=(80,))
    assert _route_ports(wrong)[1] == "route backend port 80 matches none of its Services' ports"
    single = replace(app, ports=(Port(80, 8080, "TCP", "http"),))
    assert _route_ports(single) == ([Port(80, 8080, "TCP", "http")], "")


CCNP = """apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: allow-cluster-egress
spec:
  endpointSelector: {}
  egress:
    - toEntities: [cluster]
"""


def test_cluster_wide_policies_are_reported_once(
    initialised_repo: Path, netpol: Callable[..., Result]
) -> None:
    app_dir = initialised_repo / APPS / "media/sonarr/app"
    (app_dir / "ccnp.yaml").write_text(CCNP)
    listing = app_dir / "kustomization.yaml"
    listing.write_text(edit_text(listing.read_text(), [Op("add", "resources", "./ccnp.yaml")]).text)
    data = _scaffold(initialised_repo, netpol, "media", "downloads")
    notes = [n for n in data["notes"] if "cluster-wide policy" in n]
    assert notes == [
        "cluster-wide policy allow-cluster-egress (kubernetes/apps/media/sonarr/app/ccnp.yaml) "
        "applies to every namespace; netpol's overlays come on top of it: check the two together"
    ]
    # sonarr's own overlay is still written: a cluster-wide policy is not the app's own
    assert "sonarr" in next(n for n in data["namespaces"] if n["namespace"] == "media")["overlays"]
