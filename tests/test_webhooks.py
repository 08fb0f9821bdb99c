"""Admission webhooks: which pods the kube-apiserver calls, on which pod port."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from scaffolder.core.yamlio import parse_documents_fast
from scaffolder.discovery.gateways import chart_name, release_name
from scaffolder.discovery.webhooks import (
    Webhook,
    known_webhook,
    resolve_webhook,
    webhooks_in_documents,
)


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in parse_documents_fast(text, "test.yaml") if isinstance(d, dict)]


# As cert-manager's chart renders them (webhook-validating-webhook.yaml, webhook-service.yaml,
# webhook-deployment.yaml): the configuration names no port (443), the Service maps 443 to
# the container port named https.
CERT_MANAGER = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: cert-manager-webhook}
webhooks:
  - name: webhook.cert-manager.io
    clientConfig:
      service: {name: cert-manager-webhook, namespace: cert-manager, path: /validate}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: cert-manager-webhook}
webhooks:
  - name: webhook.cert-manager.io
    clientConfig:
      service: {name: cert-manager-webhook, namespace: cert-manager, path: /mutate}
  - name: external.example.com
    clientConfig: {url: "https://hooks.example.com/mutate"}
---
apiVersion: v1
kind: Service
metadata: {name: cert-manager-webhook, namespace: cert-manager}
spec:
  selector:
    app.kubernetes.io/name: webhook
    app.kubernetes.io/instance: cert-manager
    app.kubernetes.io/component: webhook
  ports:
    - {name: https, port: 443, protocol: TCP, targetPort: https}
"""


def test_webhook_configurations_name_their_service_port_443_by_default() -> None:
    assert webhooks_in_documents(_docs(CERT_MANAGER)) == [
        Webhook(
            "cert-manager-webhook",
            "cert-manager",
            443,
            None,
            "ValidatingWebhookConfiguration cert-manager-webhook: webhook.cert-manager.io",
        )
    ]  # once per Service and port; the url webhook calls no Service


def test_resolving_through_the_service_gives_pods_and_target_port() -> None:
    docs = _docs(CERT_MANAGER)
    [hook] = webhooks_in_documents(docs)
    resolved = resolve_webhook(hook, docs, container_ports={"https": 10250})
    assert resolved.selector == {
        "app.kubernetes.io/name": "webhook",
        "app.kubernetes.io/instance": "cert-manager",
        "app.kubernetes.io/component": "webhook",
    }
    assert resolved.target_port == 10250
    assert resolve_webhook(hook, docs).target_port == "https"  # the name, when ports are unknown
    warnings: list[str] = []
    assert resolve_webhook(hook, [], warnings=warnings) == hook
    assert warnings == [
        "ValidatingWebhookConfiguration cert-manager-webhook: webhook.cert-manager.io: Service "
        "cert-manager/cert-manager-webhook is not in the repository; its pods are unknown"
    ]


def test_explicit_ports_numeric_target_and_default_namespace() -> None:
    docs = _docs("""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
  - name: a
    clientConfig: {service: {name: op, port: 9443}}
---
apiVersion: v1
kind: Service
metadata: {name: op}
spec:
  selector: {app: op}
  ports: [{port: 9443}]
""")
    [hook] = webhooks_in_documents(docs, namespace="ops")
    assert (hook.namespace, hook.port) == ("ops", 9443)
    resolved = resolve_webhook(hook, docs, namespace="ops")
    assert (resolved.selector, resolved.target_port) == ({"app": "op"}, 9443)
    warnings: list[str] = []
    other = resolve_webhook(
        Webhook("op", "ops", 443, None, "x"), docs, namespace="ops", warnings=warnings
    )
    assert other.target_port is None
    assert warnings == ["x: Service ops/op has no port 443; its pods' port is unknown"]


def test_crd_conversion_webhooks_and_api_services() -> None:
    docs = _docs("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig: {service: {name: things-webhook, namespace: things, path: /convert}}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  service: {name: metrics-server, namespace: kube-system}
  group: metrics.k8s.io
""")
    assert [(w.service, w.namespace, w.port, w.source) for w in webhooks_in_documents(docs)] == [
        (
            "things-webhook",
            "things",
            443,
            "CustomResourceDefinition things.example.com: conversion",
        ),
        ("metrics-server", "kube-system", 443, "APIService v1beta1.metrics.k8s.io"),
    ]


@pytest.mark.parametrize(
    ("chart", "values", "port", "selector"),
    [
        (
            "cloudnative-pg",
            {},
            9443,
            {"app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "rel"},
        ),
        ("cloudnative-pg", {"webhook": {"port": 9444}, "nameOverride": "cnpg"}, 9444, None),
        (
            "cert-manager",
            {},
            10250,
            {
                "app.kubernetes.io/name": "webhook",
                "app.kubernetes.io/component": "webhook",
                "app.kubernetes.io/instance": "rel",
            },
        ),
        ("cert-manager", {"webhook": {"securePort": 6443}}, 6443, None),
        (
            "cert-manager",
            {"webhook": {"securePort": 6443, "config": {"securePort": 7443}}},
            7443,
            None,
        ),
        (
            "external-secrets",
            {},
            10250,
            {
                "app.kubernetes.io/name": "external-secrets-webhook",
                "app.kubernetes.io/instance": "rel",
            },
        ),
        (
            "gateway-helm",
            {},
            9443,
            {"control-plane": "envoy-gateway", "app.kubernetes.io/instance": "rel"},
        ),
        (
            "kyverno",
            {"admissionController": {"webhookServer": {"port": 9444}}},
            9444,
            {
                "app.kubernetes.io/component": "admission-controller",
                "app.kubernetes.io/instance": "rel",
            },
        ),
        (
            "kube-prometheus-stack",
            {},
            10250,
            {"app": "kube-prometheus-stack-operator", "release": "rel"},
        ),
        (
            "kube-prometheus-stack",
            {
                "prometheusOperator": {
                    "admissionWebhooks": {
                        "deployment": {"enabled": True, "tls": {"internalPort": 8443}}
                    }
                }
            },
            8443,
            {"app": "kube-prometheus-stack-operator-webhook", "release": "rel"},
        ),
        ("trust-manager", {}, 6443, {"app": "trust-manager"}),
        (
            "ingress-nginx",
            {},
            8443,
            {
                "app.kubernetes.io/name": "ingress-nginx",
                "app.kubernetes.io/component": "controller",
                "app.kubernetes.io/instance": "rel",
            },
        ),
    ],
)
def test_known_charts(
    chart: str, values: dict[str, Any], port: int, selector: dict[str, str] | None
) -> None:
    hook = known_webhook(chart, [], values, release="rel", namespace="ns")
    assert hook is not None
    assert (hook.target_port, hook.namespace) == (port, "ns")
    if selector is not None:
        assert hook.selector == selector
    assert hook.source == f"chart {chart}: admission webhook on pod port {port}"


@pytest.mark.parametrize(
    ("chart", "values"),
    [
        ("external-secrets", {"webhook": {"create": False}}),
        ("gateway-helm", {"topologyInjector": {"enabled": False}}),
        ("ingress-nginx", {"controller": {"admissionWebhooks": {"enabled": False}}}),
        (
            "kube-prometheus-stack",
            {"prometheusOperator": {"admissionWebhooks": {"enabled": False}}},
        ),
        (
            "cloudnative-pg",
            {"webhook": {"mutating": {"create": False}, "validating": {"create": False}}},
        ),
        ("grafana", {}),
    ],
)
def test_webhooks_switched_off_or_absent(chart: str, values: dict[str, Any]) -> None:
    assert known_webhook(chart, [], values, release="rel") is None


def test_known_images_give_the_default_port_without_a_selector() -> None:
    hook = known_webhook("app-template", ["ghcr.io/cloudnative-pg/cloudnative-pg:1.27.0"], {})
    assert hook == Webhook(
        None,
        None,
        None,
        None,
        "image ghcr.io/cloudnative-pg/cloudnative-pg (cloudnative-pg): admission webhook on pod "
        "port 9443 (the chart's default)",
        9443,
    )
    assert known_webhook(None, ["quay.io/jetstack/cert-manager-webhook:v1.18.0"], {}) is not None
    assert known_webhook(None, ["ghcr.io/home-operations/radarr:5"], {}) is None
    # No selector without a release: the instance label is left out.
    hook = known_webhook("cert-manager", [], {})
    assert hook is not None and hook.selector == {
        "app.kubernetes.io/name": "webhook",
        "app.kubernetes.io/component": "webhook",
    }


def test_deedee_webhook_servers(shared: Path) -> None:
    apps = shared / "trees" / "deedee-ops+home-ops" / "kubernetes" / "apps"
    found: dict[str, tuple[str, int | str | None]] = {}
    for release_file in sorted(apps.rglob("helmrelease.yaml")):
        with warnings.catch_warnings():  # ruamel.yaml's ReusedAnchorWarning: the tree's style
            warnings.simplefilter("ignore")
            docs = [
                d
                for path in (release_file, release_file.parent / "ocirepository.yaml")
                if path.is_file()
                for d in parse_documents_fast(path.read_text(encoding="utf-8"), str(path))
                if isinstance(d, dict)
            ]
        sources = {
            d["metadata"]["name"]: d.get("spec", {})
            for d in docs
            if d.get("kind") == "OCIRepository"
        }
        namespace = release_file.relative_to(apps).parts[0]
        for doc in docs:
            if doc.get("kind") != "HelmRelease":
                continue
            hook = known_webhook(
                chart_name(doc, sources), [], doc["spec"].get("values") or {},
                release=release_name(doc), namespace=namespace,
            )  # fmt: skip
            if hook is not None:
                found[doc["metadata"]["name"]] = (namespace, hook.target_port)
    assert found == {
        "cert-manager": ("cert-manager", 10250),
        "trust-manager": ("cert-manager", 6443),
        "external-secrets": ("external-secrets", 10250),
        "cloudnative-pg": ("database", 9443),
        "envoy-gateway": ("network", 9443),
        "kube-prometheus-stack": ("observability", 10250),
    }
