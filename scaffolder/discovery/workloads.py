"""Plain workloads (Deployments, StatefulSets, DaemonSets) and Services.

A workload's selector is ``spec.selector.matchLabels`` (else the pod template labels).
Services whose selector matches an app's pod labels give its ports; a named ``targetPort``
is resolved through the containers' ``ports``. A Service that matches no workload, in an
app directory that has no other app, becomes an App of its own (``source_kind:
"Service"``, selector = the Service selector) -- e.g. the LoadBalancer in front of Envoy
Gateway's generated proxy pods.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from scaffolder.discovery.drafts import Draft, ServiceDraft
from scaffolder.discovery.reader import (
    AppDir,
    as_int,
    as_list,
    as_map,
    as_str,
    collect_strings,
    labels_of,
)
from scaffolder.repo.model import Port


def read_workload(
    doc: dict[str, Any], file: str, app_dir: AppDir, warnings: list[str]
) -> Draft | None:
    metadata = as_map(doc.get("metadata"))
    name = as_str(metadata.get("name"))
    kind = str(doc["kind"])
    if name is None:
        warnings.append(f"{file}: {kind} without metadata.name; skipped")
        return None
    spec = as_map(doc.get("spec"))
    template = as_map(spec.get("template"))
    pod_labels = labels_of(as_map(template.get("metadata")).get("labels"))
    selector = labels_of(as_map(spec.get("selector")).get("matchLabels")) or pod_labels
    if not selector:
        warnings.append(f"{file}: {kind} {name} has no selector.matchLabels or pod labels; skipped")
        return None
    draft = Draft(
        name=name,
        namespace=as_str(metadata.get("namespace")) or app_dir.namespace,
        source_kind=kind,
        app_dir=app_dir,
        file=file,
        selector=selector,
        pod_labels={**selector, **pod_labels},
        document=doc,
    )
    pod_spec = as_map(template.get("spec"))
    for group in ("containers", "initContainers"):
        for container in as_list(pod_spec.get(group)):
            container_map = as_map(container)
            image = container_map.get("image")
            if isinstance(image, str) and "oauth2-proxy" in image:
                draft.oauth2 = True
            for port in as_list(container_map.get("ports")):
                port_map = as_map(port)
                number = as_int(port_map.get("containerPort"))
                if isinstance(port_map.get("name"), str) and number is not None:
                    draft.container_ports[port_map["name"]] = number
    collect_strings(template, draft.strings)
    draft.service_names.add(name)
    return draft


def read_service(doc: dict[str, Any], file: str, app_dir: AppDir) -> ServiceDraft | None:
    name = as_str(as_map(doc.get("metadata")).get("name"))
    spec = as_map(doc.get("spec"))
    if name is None or spec.get("type") == "ExternalName":
        return None
    return ServiceDraft(
        name=name,
        file=file,
        app_dir=app_dir,
        namespace=as_str(as_map(doc.get("metadata")).get("namespace")) or app_dir.namespace,
        selector=labels_of(spec.get("selector")),
        spec=spec,
    )


def service_ports(
    service: ServiceDraft, draft: Draft | None, warnings: list[str]
) -> Iterator[Port]:
    container_ports = draft.container_ports if draft is not None else {}
    for port in as_list(service.spec.get("ports")):
        port_map = as_map(port)
        name = port_map.get("name")
        where = f"{service.file}: Service {service.name}: port"
        resolved = service_port(
            port_map, name if isinstance(name, str) else None, container_ports, where, warnings
        )
        if resolved is not None:
            yield resolved


def service_port(
    spec: Mapping[str, Any],
    name: str | None,
    container_ports: Mapping[str, int],
    where: str,
    warnings: list[str],
) -> Port | None:
    """A Service port (``port``, ``targetPort`` number or container port name, ``protocol``)."""
    number = as_int(spec.get("port"))
    if number is None:
        warnings.append(f"{where} {spec.get('port')!r} is not a number; skipped")
        return None
    raw_target = spec.get("targetPort")
    target = number if raw_target is None else as_int(raw_target)
    if target is None and isinstance(raw_target, str):
        target = container_ports.get(raw_target)
    if target is None:
        warnings.append(f"{where}: targetPort {raw_target!r} matches no container port; skipped")
        return None
    return Port(number, target, protocol(spec.get("protocol")), name)


def protocol(value: Any) -> str:
    text = value.upper() if isinstance(value, str) else "TCP"
    return text if text in ("UDP", "SCTP") else "TCP"
