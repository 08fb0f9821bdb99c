"""Admission webhooks (and other API-server callbacks): pods the ``kube-apiserver`` entity
must reach, on which pod port.

Pure functions over parsed documents and chart values:

- :func:`webhooks_in_documents`: ``ValidatingWebhookConfiguration`` and
  ``MutatingWebhookConfiguration`` (``admissionregistration.k8s.io``) -- each webhook's
  ``clientConfig.service`` -- plus the two other ways the API server calls a Service: a
  ``CustomResourceDefinition``'s conversion webhook (``spec.conversion.webhook.clientConfig.
  service``) and an aggregated ``APIService`` (``apiregistration.k8s.io``, ``spec.service``).
  ``port`` is the *Service* port (443 when omitted, the Kubernetes API default);
  :func:`resolve_webhook` turns it into the pod port (``target_port``) and pod selector
  through the Service's manifest. ``clientConfig.url`` webhooks call no Service and are
  skipped.
- :func:`known_webhook`: the webhooks well-known charts render (their manifests are not in
  a GitOps repository), with the pod port and pod labels read from each chart's source,
  honouring the values that change the port:

  ================== ============================================= ======= ================
  chart              pod port (values key)                         default pods
  ================== ============================================= ======= ================
  cloudnative-pg     ``webhook.port``                              9443    name/instance
  cert-manager       ``webhook.config.securePort``,                10250   webhook pods
                     ``webhook.securePort``
  external-secrets   ``webhook.port`` (``webhook.create``)         10250   <name>-webhook
  gateway-helm       fixed (``topologyInjector.enabled``)          9443    control-plane
  kyverno            ``admissionController.webhookServer.port``    9443    admission-ctrl
  kube-prometheus-   ``prometheusOperator.tls.internalPort``       10250   <name>-operator
  stack              (``...admissionWebhooks.enabled``)
  trust-manager      ``app.webhook.port``                          6443    app: <name>
  ingress-nginx      ``controller.admissionWebhooks.port``         8443    controller
  ================== ============================================= ======= ================

  Sources (chart templates and values, read 2026-08): cloudnative-pg/charts
  ``charts/cloudnative-pg/values.yaml`` (``webhook.port: 9443``) and ``templates/
  deployment.yaml`` (``--webhook-port``, ``cloudnative-pg.selectorLabels``);
  cert-manager/cert-manager ``deploy/charts/cert-manager/values.yaml``
  (``webhook.securePort: 10250``) and ``templates/webhook-deployment.yaml``
  (``app.kubernetes.io/name: webhook``, ``component: webhook``; ``config.securePort``
  first); external-secrets/external-secrets ``deploy/charts/external-secrets/values.yaml``
  (``webhook.port: 10250``) and ``_helpers.tpl`` (``external-secrets-webhook.
  selectorLabels``); envoyproxy/gateway ``charts/gateway-helm/templates/
  envoy-proxy-topology-injector-webhook.yaml`` and ``envoy-gateway-service.yaml``
  (port 9443, ``control-plane: envoy-gateway``); kyverno/kyverno ``charts/kyverno/
  values.yaml`` (``webhookServer.port: 9443``) and ``templates/admission-controller/
  _helpers.tpl`` (``component: admission-controller``); prometheus-community/helm-charts
  ``charts/kube-prometheus-stack/values.yaml`` (``tls.internalPort: 10250``) and
  ``templates/prometheus-operator/deployment.yaml`` (``app: <name>-operator``,
  ``release``); cert-manager/trust-manager ``deploy/charts/trust-manager/values.yaml``
  (``app.webhook.port: 6443``, pods ``app: trust-manager``); kubernetes/ingress-nginx
  ``charts/ingress-nginx/values.yaml`` (``admissionWebhooks.port: 8443``) and
  ``templates/controller-deployment.yaml`` (``component: controller``).

  The selector includes ``app.kubernetes.io/instance: <release>`` (or ``release``) when
  the release is given. A chart that is none of these but whose image is one of theirs
  (an app-template or plain Deployment running the cnpg operator...) gets the default
  port and no selector: its app's own selector is the better one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scaffolder.discovery.reader import api_group, as_int, as_list, as_map, as_str, labels_of

ADMISSION_GROUP = "admissionregistration.k8s.io"
WEBHOOK_KINDS = frozenset({"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"})
DEFAULT_SERVICE_PORT = 443  # admissionregistration/v1 ServiceReference.port default
NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"


@dataclass(frozen=True)
class Webhook:
    """An API-server callback: the Service it calls (``service``/``namespace``/``port``,
    None when unknown) and, once known, the pods behind it (``selector``) and their port
    (``target_port``: a number, or a container port name the Service names)."""

    service: str | None
    namespace: str | None
    port: int | None
    selector: dict[str, str] | None
    source: str
    target_port: int | str | None = None


# --------------------------------------------------------------------------- manifests


def _service_ref(value: Any, namespace: str | None, source: str) -> Webhook | None:
    service = as_map(value)
    name = as_str(service.get("name"))
    if name is None:
        return None
    port = as_int(service.get("port"))
    return Webhook(
        name,
        as_str(service.get("namespace")) or namespace,
        DEFAULT_SERVICE_PORT if port is None else port,
        None,
        source,
    )


def webhooks_in_documents(
    docs: Iterable[Mapping[str, Any]], namespace: str | None = None
) -> list[Webhook]:
    """The Services the API server calls, per the webhook configurations, CRD conversion
    webhooks and APIServices among ``docs`` (``namespace``: for references that name
    none), once per Service and port, first source kept."""
    found: dict[tuple[str | None, str | None, int | None], Webhook] = {}
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        kind, group = doc.get("kind"), api_group(doc)
        name = as_str(as_map(doc.get("metadata")).get("name")) or "?"
        spec = as_map(doc.get("spec"))
        refs: list[Webhook | None] = []
        if kind in WEBHOOK_KINDS and group == ADMISSION_GROUP:
            for hook in map(as_map, as_list(doc.get("webhooks"))):
                source = f"{kind} {name}: {as_str(hook.get('name')) or '?'}"
                refs.append(
                    _service_ref(as_map(hook.get("clientConfig")).get("service"), namespace, source)
                )
        elif kind == "CustomResourceDefinition" and group == "apiextensions.k8s.io":
            client = as_map(
                as_map(as_map(spec.get("conversion")).get("webhook")).get("clientConfig")
            )
            refs.append(
                _service_ref(client.get("service"), namespace, f"{kind} {name}: conversion")
            )
        elif kind == "APIService" and group == "apiregistration.k8s.io":
            refs.append(_service_ref(spec.get("service"), namespace, f"{kind} {name}"))
        for ref in refs:
            if ref is not None:
                found.setdefault((ref.service, ref.namespace, ref.port), ref)
    return list(found.values())


def resolve_webhook(
    webhook: Webhook,
    services: Iterable[Mapping[str, Any]],
    *,
    namespace: str | None = None,
    container_ports: Mapping[str, int] | None = None,
    warnings: list[str] | None = None,
) -> Webhook:
    """``webhook`` with the selector and target port of the Service manifest it calls
    (``services``; ``namespace`` for manifests that name none). A named targetPort is
    resolved through ``container_ports`` when given, else kept as the name. Unchanged,
    with a warning, when the Service or its port is not found."""
    notes = warnings if warnings is not None else []
    for doc in services:
        metadata = as_map(doc.get("metadata"))
        if doc.get("kind") != "Service" or as_str(metadata.get("name")) != webhook.service:
            continue
        if (as_str(metadata.get("namespace")) or namespace) != webhook.namespace:
            continue
        spec = as_map(doc.get("spec"))
        for port in map(as_map, as_list(spec.get("ports"))):
            if as_int(port.get("port")) != webhook.port:
                continue
            raw = port.get("targetPort")
            target: int | str | None = webhook.port if raw is None else as_int(raw)
            if target is None and isinstance(raw, str):
                target = (container_ports or {}).get(raw, raw)
            return replace(webhook, selector=labels_of(spec.get("selector")), target_port=target)
        notes.append(
            f"{webhook.source}: Service {webhook.namespace}/{webhook.service} has no port "
            f"{webhook.port}; its pods' port is unknown"
        )
        return webhook
    notes.append(
        f"{webhook.source}: Service {webhook.namespace}/{webhook.service} is not in the "
        "repository; its pods are unknown"
    )
    return webhook


# --------------------------------------------------------------------------- known charts


def _at(values: Any, path: str) -> Any:
    for key in path.split("."):
        values = as_map(values).get(key)
    return values


def _on(values: Mapping[str, Any], path: str) -> bool:
    """A boolean chart value that defaults to true."""
    return _at(values, path) is not False


def _name(values: Mapping[str, Any], chart: str) -> str:
    return as_str(values.get("nameOverride")) or chart


@dataclass(frozen=True)
class _Known:
    ports: tuple[str, ...]  # values paths of the pod port, first set wins
    default: int
    enabled: Callable[[Mapping[str, Any]], bool]
    pods: Callable[[Mapping[str, Any], str | None], dict[str, str]]  # (values, release)
    images: tuple[str, ...] = ()  # image repository suffixes that identify the server


def _with(labels: dict[str, str], key: str, release: str | None) -> dict[str, str]:
    return {**labels, key: release} if release else labels


def _kps_operator(values: Mapping[str, Any], release: str | None) -> dict[str, str]:
    # admissionWebhooks.deployment.enabled (default false) moves the webhook to its own pods.
    own = _at(values, "prometheusOperator.admissionWebhooks.deployment.enabled") is True
    suffix = "-operator-webhook" if own else "-operator"
    return _with({"app": _name(values, "kube-prometheus-stack") + suffix}, "release", release)


def _kps_port(values: Mapping[str, Any]) -> tuple[str, ...]:
    if _at(values, "prometheusOperator.admissionWebhooks.deployment.enabled") is True:
        return ("prometheusOperator.admissionWebhooks.deployment.tls.internalPort",)
    return ("prometheusOperator.tls.internalPort",)


KNOWN_WEBHOOKS: dict[str, _Known] = {
    "cloudnative-pg": _Known(
        ("webhook.port",),
        9443,
        lambda v: _on(v, "webhook.mutating.create") or _on(v, "webhook.validating.create"),
        lambda v, r: _with({NAME: _name(v, "cloudnative-pg")}, INSTANCE, r),
        ("cloudnative-pg/cloudnative-pg",),
    ),
    "cert-manager": _Known(
        ("webhook.config.securePort", "webhook.securePort"),
        10250,
        lambda v: True,
        lambda v, r: _with({NAME: "webhook", COMPONENT: "webhook"}, INSTANCE, r),
        ("cert-manager-webhook",),
    ),
    "external-secrets": _Known(
        ("webhook.port",),
        10250,
        lambda v: _on(v, "webhook.create"),
        lambda v, r: _with({NAME: _name(v, "external-secrets") + "-webhook"}, INSTANCE, r),
    ),
    "gateway-helm": _Known(
        (),
        9443,
        lambda v: _on(v, "topologyInjector.enabled"),
        lambda v, r: _with({"control-plane": "envoy-gateway"}, INSTANCE, r),
        ("envoyproxy/gateway",),
    ),
    "kyverno": _Known(
        ("admissionController.webhookServer.port",),
        9443,
        lambda v: True,
        lambda v, r: _with({COMPONENT: "admission-controller"}, INSTANCE, r),
        ("kyverno/kyverno",),
    ),
    "kube-prometheus-stack": _Known(
        (),  # see _kps_port
        10250,
        lambda v: (
            _on(v, "prometheusOperator.enabled")
            and _on(v, "prometheusOperator.admissionWebhooks.enabled")
            and _on(v, "prometheusOperator.tls.enabled")
        ),
        _kps_operator,
    ),
    "trust-manager": _Known(
        ("app.webhook.port",),
        6443,
        lambda v: True,
        lambda v, r: {"app": _name(v, "trust-manager")},
        ("jetstack/trust-manager",),
    ),
    "ingress-nginx": _Known(
        ("controller.admissionWebhooks.port",),
        8443,
        lambda v: _on(v, "controller.admissionWebhooks.enabled"),
        lambda v, r: _with({NAME: _name(v, "ingress-nginx"), COMPONENT: "controller"}, INSTANCE, r),
        ("ingress-nginx/controller",),
    ),
}


def _repository(image: str) -> str:
    """``registry/path/name`` of an image reference, without tag or digest."""
    ref = image.split("@", 1)[0]
    head, _, tail = ref.rpartition("/")
    return f"{head}/{tail.split(':', 1)[0]}" if head else ref.split(":", 1)[0]


def known_webhook(
    chart: str | None,
    images: Sequence[str],
    values: Mapping[str, Any],
    *,
    release: str | None = None,
    namespace: str | None = None,
) -> Webhook | None:
    """The admission webhook a well-known chart (or, failing that, image) serves, with its
    pod port and pods (see the module docstring); None when it serves none (or turns it
    off in ``values``)."""
    known = KNOWN_WEBHOOKS.get(chart or "")
    if known is not None:
        if not known.enabled(values):
            return None
        paths = _kps_port(values) if chart == "kube-prometheus-stack" else known.ports
        port = next(
            (p for path in paths if (p := as_int(_at(values, path))) is not None), known.default
        )
        return Webhook(
            None,
            namespace,
            None,
            known.pods(values, release),
            f"chart {chart}: admission webhook on pod port {port}",
            port,
        )
    for image in images:
        repository = _repository(image)
        for name, candidate in KNOWN_WEBHOOKS.items():
            if any(repository.endswith(suffix) for suffix in candidate.images):
                return Webhook(
                    None,
                    namespace,
                    None,
                    None,
                    f"image {repository} ({name}): admission webhook on pod port "
                    f"{candidate.default} (the chart's default)",
                    candidate.default,
                )
    return None
