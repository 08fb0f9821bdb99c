"""What ``netpol init`` finds out about the cluster before writing ``netpol.yaml``.

Defaults (``observability`` for Prometheus, ``network`` for the gateway) are guesses; a
repository usually says where these run:

* **monitoring**: the namespace with the Prometheus / VictoriaMetrics stack: a HelmRelease
  of ``kube-prometheus-stack``, ``prometheus``, ``victoria-metrics-k8s-stack``,
  ``victoria-metrics-single``, ``victoria-metrics-agent`` (or an OCIRepository naming one),
  or a ``Prometheus`` / ``VMAgent`` / ``VMSingle`` / ``VMCluster`` resource;
* **gateway**: the namespace whose pods proxy Gateway API traffic. With Envoy Gateway's
  default deployment mode the proxy pods run in the namespace of the Envoy Gateway
  controller (its HelmRelease ``gateway-helm``), whatever namespace the ``Gateway`` lives
  in; without that chart in the repository, the namespace holding the ``Gateway``
  resources.

Each finding is a note ``netpol init`` prints, naming the file that gave it away; a
command-line option always wins. The scan reads only YAML files below the apps directory
and looks for these markers in their text (no parsing: it runs once, on every file).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

# (pattern, weight): a chart or a custom resource says "Prometheus runs here".
_MONITORING = (
    (
        re.compile(
            r"(?m)^\s*(?:chart:|url:.*/)\s*['\"]?(kube-prometheus-stack|victoria-metrics-k8s-stack)\b"
        ),
        3,
    ),
    (
        re.compile(
            r"(?m)^\s*(?:chart:|url:.*/)\s*['\"]?(prometheus|victoria-metrics-single|victoria-metrics-agent)['\"]?\s*$"
        ),
        2,
    ),
    (re.compile(r"(?m)^kind:\s*(Prometheus|VMAgent|VMSingle|VMCluster)\s*$"), 2),
)
_ENVOY_GATEWAY_CHART = re.compile(r"(?m)^\s*(?:chart:|url:.*/)\s*['\"]?gateway-helm\b")
_GATEWAY = re.compile(r"(?m)^kind:\s*Gateway\s*$")
_GATEWAY_API = re.compile(r"(?m)^apiVersion:\s*gateway\.networking\.k8s\.io/")


@dataclass
class Detected:
    """Settings found in the repository (only those found), with how they were found."""

    settings: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # setting -> how it was found


def detect_settings(root: Path, apps_dir: PurePosixPath, namespaces: list[str]) -> Detected:
    """The monitoring and gateway namespaces the repository's apps directory shows."""
    detected = Detected()
    monitoring: Counter[str] = Counter()
    monitoring_where: dict[str, str] = {}
    envoy_gateway: dict[str, str] = {}
    gateways: dict[str, str] = {}
    from scaffolder.discovery.reader import Reader

    reader = Reader(root)  # the one walker: hidden entries skipped, symlinks not followed
    for namespace in namespaces:
        for rel in reader.yaml_files(str(apps_dir / namespace)):
            try:
                text = (root / rel).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for pattern, weight in _MONITORING:
                found = pattern.search(text)
                if found:
                    monitoring[namespace] += weight
                    monitoring_where.setdefault(namespace, f"{found[1]} in {rel}")
            if _ENVOY_GATEWAY_CHART.search(text):
                envoy_gateway.setdefault(namespace, rel)
            if _GATEWAY.search(text) and _GATEWAY_API.search(text):
                gateways.setdefault(namespace, rel)
    if monitoring:
        best = max(sorted(monitoring), key=lambda ns: monitoring[ns])
        detected.settings["monitoring_namespace"] = best
        detected.notes["monitoring_namespace"] = (
            f"monitoring namespace: {best} ({monitoring_where[best]})"
        )
    if envoy_gateway:
        best = sorted(envoy_gateway)[0]
        detected.settings["gateway_namespace"] = best
        detected.notes["gateway_namespace"] = (
            f"gateway namespace: {best} (Envoy Gateway controller in {envoy_gateway[best]}; "
            "its proxy pods run in its namespace)"
        )
    elif len(gateways) == 1:
        best = next(iter(gateways))
        detected.settings["gateway_namespace"] = best
        detected.notes["gateway_namespace"] = (
            f"gateway namespace: {best} (Gateway in {gateways[best]})"
        )
    return detected
