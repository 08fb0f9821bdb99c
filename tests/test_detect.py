"""netpol init reads where Prometheus and the gateway run from the repository, says how it
found them, and lets the command line win."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from scaffolder.repo.config import load_config

from .conftest import build_file_tree

KS = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./app\n"
HR = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  chart:
    spec:
      chart: {chart}
"""
GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: internal
spec:
  gatewayClassName: envoy
"""


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    spec = {}
    for ns in ("o11y", "edge", "media", "gw"):
        spec[f"kubernetes/apps/{ns}/kustomization.yaml"] = KS
        spec[f"kubernetes/apps/{ns}/app/kustomization.yaml"] = KS.replace("./app", "./x.yaml")
        spec[f"kubernetes/apps/{ns}/app/x.yaml"] = (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
        )
    spec.update(files)
    return build_file_tree(tmp_path / "repo", spec)


def test_init_finds_prometheus_and_the_envoy_gateway_controller(
    tmp_path: Path, netpol: Callable[..., Result]
) -> None:
    root = _repo(
        tmp_path,
        {
            "kubernetes/apps/o11y/app/hr.yaml": HR.format(
                name="kps", chart="kube-prometheus-stack"
            ),
            "kubernetes/apps/edge/app/hr.yaml": HR.format(
                name="envoy-gateway", chart="gateway-helm"
            ),
            "kubernetes/apps/gw/app/gateway.yaml": GATEWAY,  # Gateways elsewhere: the proxies follow the controller
        },
    )
    result = netpol("init", str(root))
    assert result.exit_code == 0, result.output
    assert (
        "monitoring namespace: o11y (kube-prometheus-stack in kubernetes/apps/o11y/app/hr.yaml)"
        in result.output
    )
    assert (
        "gateway namespace: edge (Envoy Gateway controller in kubernetes/apps/edge/app/hr.yaml"
        in result.output
    )
    config = load_config(root / "netpol.yaml")
    assert (config.monitoring_namespace, config.gateway_namespace) == ("o11y", "edge")
    baseline = root / "kubernetes/components/network-policy/baseline/allow-monitoring-scrape.yaml"
    assert "io.kubernetes.pod.namespace: o11y" in baseline.read_text()


def test_without_a_controller_the_gateway_namespace_is_where_the_gateways_are(
    tmp_path: Path, netpol: Callable[..., Result]
) -> None:
    root = _repo(
        tmp_path,
        {
            "kubernetes/apps/gw/app/gateway.yaml": GATEWAY,
            "kubernetes/apps/o11y/app/vm.yaml": "apiVersion: operator.victoriametrics.com/v1beta1\nkind: VMAgent\nmetadata:\n  name: vm\n",
        },
    )
    result = netpol("init", str(root))
    assert result.exit_code == 0, result.output
    config = load_config(root / "netpol.yaml")
    assert (config.monitoring_namespace, config.gateway_namespace) == ("o11y", "gw")


def test_the_command_line_wins_and_nothing_found_keeps_the_defaults(
    tmp_path: Path, netpol: Callable[..., Result]
) -> None:
    root = _repo(
        tmp_path,
        {"kubernetes/apps/o11y/app/hr.yaml": HR.format(name="kps", chart="kube-prometheus-stack")},
    )
    result = netpol("init", str(root), "--monitoring-namespace", "media")
    assert result.exit_code == 0, result.output
    assert "monitoring namespace: o11y" not in result.output
    config = load_config(root / "netpol.yaml")
    assert (config.monitoring_namespace, config.gateway_namespace) == ("media", "network")
