"""What a namespace's manifests say beyond apps and ports (issue 9): the peers each app's
configuration names, the webhooks the kube-apiserver calls, the chart an app comes from.

Called by :func:`scaffolder.discovery.assemble.read_namespace` once the namespace's apps
are assembled. Everything here is per namespace; what needs every namespace (gateways,
which Service a reference names) is resolved later, by the scaffold workflow, over the
whole model (:mod:`scaffolder.workflows.peers`).

* **References** (:mod:`~scaffolder.discovery.references`): an app's HelmRelease values or
  workload spec, plus the ConfigMaps, Secrets and ExternalSecrets of its directory and the
  files its kustomization's ``configMapGenerator``/``secretGenerator`` read. A directory
  holding several apps shares its config documents among them.
* **Webhooks** (:mod:`~scaffolder.discovery.webhooks`): webhook configurations in the
  directory, resolved through the namespace's Services to the pods and pod port; and the
  webhooks of well-known charts (cloudnative-pg, cert-manager, external-secrets...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from scaffolder.core.errors import YamlError
from scaffolder.core.yamlio import read_text
from scaffolder.discovery.drafts import Draft, ServiceDraft
from scaffolder.discovery.reader import AppDir, Reader, as_list, as_map, join, parent_of
from scaffolder.discovery.references import references_in_document, references_in_text
from scaffolder.discovery.tunnels import TUNNEL_IMAGES
from scaffolder.discovery.webhooks import Webhook, known_webhook, resolve_webhook
from scaffolder.repo.model import App, Namespace, Reference, WebhookServer

CONFIG_KINDS = frozenset({"ConfigMap", "Secret", "ExternalSecret"})
GATEWAY_CHARTS = frozenset({"gateway-helm", "traefik"})
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"})
WEBHOOK_KINDS = frozenset(
    {
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "CustomResourceDefinition",
        "APIService",
    }
)
_GENERATED_MAX_BYTES = 512 * 1024  # config files beyond this are data, not configuration


@dataclass
class Extras:
    """What an app directory holds besides apps: config documents, generated config
    files, webhook configurations."""

    config: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    generated: list[tuple[str, str]] = field(default_factory=list)  # (file, text)
    webhooks: list[Webhook] = field(default_factory=list)


def generated_files(reader: Reader, app_dir: AppDir, warnings: list[str]) -> list[tuple[str, str]]:
    """(file, text) of the files the app directory's kustomization turns into ConfigMaps or
    Secrets (``configMapGenerator`` / ``secretGenerator``: ``files`` and ``envs``)."""
    docs = reader.try_docs(app_dir.kustomization, [])
    if not docs or not isinstance(docs[0], dict):
        return []
    base = parent_of(app_dir.kustomization)
    found: list[tuple[str, str]] = []
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in as_list(docs[0].get(key)):
            entries = [
                *as_list(as_map(generator).get("files")),
                *as_list(as_map(generator).get("envs")),
            ]
            for entry in entries:
                if not isinstance(entry, str) or not entry:
                    continue
                rel = join(base, entry.split("=", 1)[-1] if "=" in entry else entry)
                absolute = reader.inside(rel)
                if absolute is None:
                    warnings.append(
                        f"{app_dir.kustomization}: {key} file {entry} resolves outside the repository; skipped"
                    )
                    continue
                try:
                    text = read_text(absolute)
                except YamlError:
                    continue  # missing or binary: kustomize reports it; nothing to read here
                if len(text) <= _GENERATED_MAX_BYTES:
                    found.append((rel, text))
    return found


def _references(draft: Draft, extra: Extras | None, known: frozenset[str]) -> tuple[Reference, ...]:
    found: dict[tuple[str, str, str | None, int | None, str], Reference] = {}

    def add(refs: Iterable[Reference]) -> None:
        for ref in refs:
            found.setdefault((ref.kind, ref.host, ref.namespace, ref.port, ref.protocol), ref)

    if draft.document is not None:
        add(references_in_document(draft.document, draft.file, known_namespaces=known))
    if extra is not None:
        for file, doc in extra.config:
            add(references_in_document(doc, file, known_namespaces=known))
        for file, text in extra.generated:
            add(references_in_text(text, file, known_namespaces=known))
    return tuple(found.values())


def _service_document(service: ServiceDraft) -> dict[str, Any]:
    return {
        "kind": "Service",
        "metadata": {"name": service.name, "namespace": service.namespace},
        "spec": service.spec,
    }


def _webhook_servers(
    draft: Draft,
    extra: Extras | None,
    services: list[ServiceDraft],
    warnings: list[str],
) -> tuple[WebhookServer, ...]:
    servers: dict[tuple[tuple[tuple[str, str], ...], int], WebhookServer] = {}
    if draft.chart is not None and draft.document is not None:
        values = as_map(as_map(draft.document.get("spec")).get("values"))
        known = known_webhook(
            draft.chart, [], values, release=draft.release, namespace=draft.namespace
        )
        if known is not None and isinstance(known.target_port, int):
            selector = tuple(sorted((known.selector or draft.selector).items()))
            servers[(selector, known.target_port)] = WebhookServer(
                selector, known.target_port, known.source
            )
    for webhook in extra.webhooks if extra is not None else ():
        if webhook.service is None or webhook.service not in draft.service_names:
            continue
        if (webhook.namespace or draft.namespace) != draft.namespace:
            continue
        resolved = resolve_webhook(
            webhook,
            [_service_document(s) for s in services if s.name == webhook.service],
            namespace=draft.namespace,
            container_ports=draft.container_ports,
            warnings=warnings,
        )
        if isinstance(resolved.target_port, int):
            selector = tuple(sorted(draft.selector.items()))
            servers[(selector, resolved.target_port)] = WebhookServer(
                selector, resolved.target_port, resolved.source
            )
    return tuple(servers[k] for k in sorted(servers))


def add_inferences(
    ns: Namespace,
    apps: list[App],
    drafts: list[Draft],
    services: list[ServiceDraft],
    extras: Mapping[PurePosixPath, Extras],
    known_namespaces: frozenset[str],
) -> None:
    """Fill each app's chart, images, Service names, references and webhooks."""
    by_name = {draft.name: draft for draft in drafts}
    for app in apps:
        draft = by_name.get(app.name)
        if draft is None:  # pragma: no cover - apps are made from these drafts
            continue
        extra = extras.get(draft.app_dir.directory_path)
        app.chart = draft.chart
        app.images = tuple(  # the images tunnels are recognised by (see tunnels.py)
            dict.fromkeys(s for s in draft.strings if any(n in s for n in TUNNEL_IMAGES))
        )
        app.service_names = tuple(sorted(draft.service_names))
        app.references = _references(draft, extra, known_namespaces)
        app.webhooks = _webhook_servers(draft, extra, services, ns.warnings)
    for extra in extras.values():
        for webhook in extra.webhooks:
            if (
                webhook.service
                and not any(webhook.service in a.service_names for a in apps)
                and (webhook.namespace or ns.name) == ns.name
            ):
                ns.warnings.append(
                    f"{webhook.source}: the kube-apiserver calls Service {webhook.service}, "
                    f"which selects no app found in {ns.name}"
                )
