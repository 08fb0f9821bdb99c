"""HelmReleases: the app a release deploys, its pod selector, ports and routes.

*bjw-s app-template* HelmReleases (``chart.spec.chart: app-template`` or a ``chartRef``
named ``app-template`` / to an OCIRepository whose URL ends in ``app-template``, or any
``chartRef`` release whose values have ``controllers:``): the chart labels every pod of
the release ``app.kubernetes.io/name: <name>`` and ``app.kubernetes.io/instance:
<release>`` where ``<name>`` is ``global.nameOverride`` (or a top-level ``nameOverride``)
and defaults to the release name. The app selector is ``{app.kubernetes.io/name: <name>}``,
plus ``app.kubernetes.io/instance`` when a ``nameOverride`` makes the name differ from the
release (two releases could then share the name). ``app.kubernetes.io/controller`` is
never added: one App covers every controller of its release (a worker controller needs
the same database egress as the web one), so selecting by name is both sufficient and
the least surprising. ``fullnameOverride`` only changes resource (Service) names and is
used to match HTTPRoute backendRefs. Ports come from ``service.<id>.ports.<name>``:
``port``, ``targetPort`` (defaults to ``port``), ``protocol`` (HTTP/HTTPS/TCP -> TCP);
``type: LoadBalancer`` services also fill ``load_balancer_ports``; ``route.<id>.parentRefs``
fill ``routes``. Disabled (``enabled: false``) controllers, services, ports and routes are
skipped.

Other charts: selector ``{app.kubernetes.io/name: <nameOverride or chart name>,
app.kubernetes.io/instance: <release>}`` (the Helm convention). Ports are not guessed
from chart values, except for a few charts with a fixed Service -> pod mapping
(``_KNOWN_CHART_PORTS``: grafana 80 -> 3000, oauth2-proxy 80 -> 4180, honouring their
value overrides); otherwise they come from plain Services in the repo, if any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scaffolder.discovery.drafts import INSTANCE_LABEL, NAME_LABEL, Draft
from scaffolder.discovery.reader import (
    SCALAR_TYPES,
    AppDir,
    as_int,
    as_map,
    as_str,
)
from scaffolder.discovery.routes import routes_from_values
from scaffolder.discovery.workloads import service_port
from scaffolder.repo.model import Port


def _release_name(spec: Mapping[str, Any], name: str) -> str:
    explicit = spec.get("releaseName")
    if isinstance(explicit, str) and explicit:
        return explicit
    target = spec.get("targetNamespace")
    return f"{target}-{name}" if isinstance(target, str) and target else name


def _chart(
    spec: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]
) -> tuple[str | None, bool]:
    """(chart name, referenced via chartRef)."""
    chart = as_str(as_map(as_map(spec.get("chart")).get("spec")).get("chart"))
    if chart:
        return chart.rsplit("/", 1)[-1], False
    ref = as_map(spec.get("chartRef"))
    ref_name = as_str(ref.get("name"))
    if ref_name is None:
        return None, False
    url = (
        as_str(sources.get(ref_name, {}).get("url"))
        if ref.get("kind", "OCIRepository") == "OCIRepository"
        else None
    )
    if url:
        return url.rstrip("/").rsplit("/", 1)[-1], True
    return ref_name, True


def _override(values: Mapping[str, Any], glob: Mapping[str, Any], key: str) -> str | None:
    """``global.<key>`` or ``<key>`` of the values (``glob``: the ``global`` mapping)."""
    value = glob.get(key) if glob else None
    if not (isinstance(value, str) and value):
        value = values.get(key)
        if not (isinstance(value, str) and value):
            return None
    return value if "{{" not in value else None


def _strings_and_oauth2(values: Any, out: list[str]) -> bool:
    """:func:`collect_strings` of the values (same order), in the same pass telling whether
    an image in them (``image: str`` or ``image: {repository: str}``) is oauth2-proxy."""
    oauth2 = False
    stack = [values]
    pop, push, add = stack.pop, stack.extend, out.append
    while stack:
        item = pop()
        cls = item.__class__
        if cls is str:
            add(item)
        elif cls is dict or (cls not in SCALAR_TYPES and isinstance(item, dict)):
            if not oauth2 and "image" in item:
                image = item["image"]
                if isinstance(image, dict):
                    image = image.get("repository")
                oauth2 = isinstance(image, str) and "oauth2-proxy" in image
            push(item.values())
        elif cls is list:
            push(item)
        elif cls in SCALAR_TYPES:
            continue
        elif isinstance(item, str):
            add(item)
        elif isinstance(item, list):
            push(item)
    return oauth2


def read_helm_release(
    doc: dict[str, Any],
    file: str,
    app_dir: AppDir,
    sources: Mapping[str, Mapping[str, Any]],
    warnings: list[str],
) -> Draft | None:
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        warnings.append(f"{file}: HelmRelease without metadata.name; skipped")
        return None
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        warnings.append(f"{file}: HelmRelease {name}: spec.values is not a mapping; skipped")
        return None
    values = values or {}
    release = _release_name(spec, name)
    chart, via_ref = _chart(spec, sources)
    app_template = chart == "app-template" or (
        via_ref and isinstance(values.get("controllers"), dict)
    )
    namespace = (
        as_str(spec.get("targetNamespace"))
        or as_str(metadata.get("namespace"))
        or app_dir.namespace
    )
    glob = values.get("global")
    glob = glob if isinstance(glob, dict) else {}
    name_override = _override(values, glob, "nameOverride")
    fullname_override = _override(values, glob, "fullnameOverride")
    draft = Draft(
        name=name,
        namespace=namespace,
        source_kind="HelmRelease",
        app_dir=app_dir,
        file=file,
        selector={},
        pod_labels={},
        chart=chart,
        release=release,
        document=doc,
    )
    oauth2_image = _strings_and_oauth2(values, draft.strings)
    draft.oauth2 = chart == "oauth2-proxy" or oauth2_image
    if app_template:
        label = name_override or release
        draft.selector = (
            {NAME_LABEL: label}
            if label == release
            else {NAME_LABEL: label, INSTANCE_LABEL: release}
        )
        draft.pod_labels = {NAME_LABEL: label, INSTANCE_LABEL: release}
        fullname = fullname_override or (release if label in release else f"{release}-{label}")
        _app_template(values, draft, fullname, file, warnings)
    else:
        label = name_override or chart or release
        draft.selector = {NAME_LABEL: label, INSTANCE_LABEL: release}
        draft.pod_labels = dict(draft.selector)
        draft.service_names.update(
            n
            for n in (
                release,
                label,
                fullname_override,
                f"{release}-{label}",
                as_str(as_map(values.get("service")).get("name")),
            )
            if n
        )
        routes_from_values(values, draft)
        _known_chart_ports(chart, values, draft)
    draft.service_names.update((name, release))
    return draft


# Charts whose Service -> container port mapping is fixed by the chart: (values path of
# the Service port, its default, values path of the container port, its default).
_KNOWN_CHART_PORTS: dict[str, tuple[tuple[str, ...], int, tuple[str, ...], int]] = {
    "grafana": (("service", "port"), 80, ("service", "targetPort"), 3000),
    "oauth2-proxy": (("service", "portNumber"), 80, ("containerPort",), 4180),
}


def _known_chart_ports(chart: str | None, values: Mapping[str, Any], draft: Draft) -> None:
    """The ``http`` port of a few well-known charts (their defaults, or the values' overrides)."""
    known = _KNOWN_CHART_PORTS.get(chart or "")
    if known is None:
        return
    port_path, port_default, target_path, target_default = known

    def lookup(path: tuple[str, ...], default: int) -> int:
        node: Any = values
        for key in path:
            node = as_map(node).get(key)
        return as_int(node) or default

    draft.add_port(
        Port(lookup(port_path, port_default), lookup(target_path, target_default), "TCP", "http"),
        False,
    )


def _app_template(
    values: Mapping[str, Any],
    draft: Draft,
    fullname: str,
    file: str,
    warnings: list[str],
) -> None:
    controllers: dict[str, Any] = {}
    raw = values.get("controllers")
    if isinstance(raw, dict):
        for cid, controller in raw.items():
            if isinstance(controller, dict) and controller.get("enabled", True) is not False:
                controllers[str(cid)] = controller
    draft.controllers = frozenset(controllers)
    container_ports = draft.container_ports
    for controller in controllers.values():
        for group in ("containers", "initContainers"):
            containers = controller.get(group)
            if not isinstance(containers, dict):
                continue
            for container in containers.values():
                ports = container.get("ports") if isinstance(container, dict) else None
                if not isinstance(ports, list):
                    continue
                for port in ports:
                    if not isinstance(port, dict):
                        continue
                    number = as_int(port.get("containerPort"))
                    port_name = port.get("name")
                    if isinstance(port_name, str) and number is not None:
                        container_ports[port_name] = number
    service_names = draft.service_names
    service_names.add(fullname)
    raw = values.get("service")
    services = {
        str(sid): service
        for sid, service in (raw.items() if isinstance(raw, dict) else ())
        if isinstance(service, dict) and service.get("enabled", True) is not False
    }
    for sid, service in services.items():
        service_names.add(f"{fullname}-{sid}")
        suffix = as_str(service.get("nameOverride")) or as_str(service.get("suffix"))
        if suffix:
            service_names.add(f"{fullname}-{suffix}")
        load_balancer = service.get("type") == "LoadBalancer"
        ports = service.get("ports")
        for port_name, port in ports.items() if isinstance(ports, dict) else ():
            if not isinstance(port, dict) or port.get("enabled", True) is False:
                continue
            where = f"{file}: {draft.name}: service.{sid}.ports.{port_name}"
            resolved = service_port(port, str(port_name), container_ports, where, warnings)
            if resolved is not None:
                draft.add_port(resolved, load_balancer)
    routes_from_values(values, draft)
