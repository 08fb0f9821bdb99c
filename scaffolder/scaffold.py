"""``netpol scaffold``: turn discovered apps into a plan of policy files and kustomization edits.

For each namespace the plan

* adds the ``network-policy/baseline`` component to ``<apps>/<ns>/kustomization.yaml``;
* renders one ``cnp-netpol.yaml`` per app from the ``namespace-overlay`` template next to
  the app's manifests (pattern A gateway ingress on the pod *targetPort*, B CNPG client
  egress, C CNPG cluster ingress from its consumers, LAN clients of LoadBalancer services,
  oauth2-proxy egress to the gateway's targetPort, FQDN egress from ``--allow-fqdn``) and
  lists it in the app's ``resources:``.

It never adds default-deny, never duplicates what is there (hand-written policies, a
baseline under another path, an existing policy name) and is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .components import (
    ManagedState,
    managed_directories,
    plan_rendering,
    read_state,
    require_no_conflicts,
)
from .config import Config
from .edits import add_text_edit
from .errors import NetpolError, RepoError
from .fsutil import cached_realpaths
from .kustomize_edit import Op, normalize_entry, relative_entry
from .model import App, CnpgCluster, Namespace, Port
from .plan import Plan
from .render import OVERLAY, render, render_reusing
from .repo import Repo, validate_namespace_name

OVERLAY_FILE = "cnp-netpol.yaml"
BULK_NAMESPACES = 200  # from here on, compiling the CRD schema once pays for itself
BASELINE_POLICIES = (
    "allow-dns",
    "allow-apiserver",
    "allow-intra-namespace",
    "allow-monitoring-scrape",
    "allow-host-probes",
)
_FQDN = re.compile(
    r"^(?:(?P<app>[a-z0-9]([-a-z0-9]*[a-z0-9])?)=)?(?P<host>[A-Za-z0-9*${}_.-]+):(?P<port>\d{1,5})(?:/(?P<proto>tcp|udp|TCP|UDP))?$"
)


@dataclass(frozen=True)
class FqdnAllow:
    """``--allow-fqdn [APP=]HOST:PORT[/udp]``."""

    host: str
    port: int
    protocol: str = "TCP"
    app: str | None = None

    @classmethod
    def parse(cls, text: str) -> FqdnAllow:
        match = _FQDN.match(text.strip())
        if not match or not 1 <= int(match["port"]) <= 65535:
            raise NetpolError(
                f"--allow-fqdn {text!r}: expected [APP=]HOST:PORT[/udp]",
                hint="e.g. --allow-fqdn sonarr=api.themoviedb.org:443",
            )
        return cls(
            match["host"], int(match["port"]), (match["proto"] or "TCP").upper(), match["app"]
        )


@dataclass
class ScaffoldOptions:
    force: bool = False
    fqdns: list[FqdnAllow] = field(default_factory=list)
    fqdn_style: str = "entity"  # entity (toEntities world + port) or fqdn (toFQDNs)
    gateway_target_ports: list[int] = field(default_factory=list)


@dataclass
class NamespaceResult:
    name: str
    status: str = "planned"  # planned, up-to-date, skipped
    baseline: str = ""  # added, present, skipped: <why>
    overlays: list[str] = field(default_factory=list)
    skipped_apps: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.name,
            "status": self.status,
            "baseline": self.baseline,
            "overlays": self.overlays,
            "skipped_apps": self.skipped_apps,
            "notes": self.notes,
        }


@dataclass
class ScaffoldResult:
    plan: Plan
    namespaces: list[NamespaceResult]


def select_namespaces(repo: Repo, names: Iterable[str], all_: bool, force: bool) -> list[str]:
    """Validate the requested namespaces (or every in-scope one with ``--all``)."""
    names = list(dict.fromkeys(names))
    if all_ and names:
        raise NetpolError("give namespaces or --all, not both")
    if all_:
        return repo.in_scope_namespaces()
    if not names:
        raise NetpolError("no namespace given", hint="name one or more namespaces, or pass --all")
    for name in names:
        validate_namespace_name(name)
        repo.namespace_kustomization(name)
        if name in repo.config.out_of_scope and not force:
            raise RepoError(
                f"namespace {name!r} is out of scope (netpol.yaml out_of_scope)",
                hint="breaking it can take the rollback path down with it; pass --force if you mean it",
            )
    return names


def _ports(ports: Iterable[Port]) -> list[dict[str, Any]]:
    seen: dict[tuple[int, str], dict[str, Any]] = {}
    for p in ports:
        seen.setdefault(
            (p.target_port, p.protocol), {"port": p.target_port, "protocol": p.protocol}
        )
    return [seen[k] for k in sorted(seen)]


def _gateway_target_ports(
    namespaces: dict[str, Namespace], config: Config, opts: ScaffoldOptions
) -> list[int]:
    """The gateway pods' HTTPS listening port(s), e.g. envoy's 10443 behind Service port 443.

    oauth2-proxy reaches the OIDC issuer through its public HTTPS name, which split-horizon
    DNS and socket-LB turn into the envoy pods on their targetPort before policy is checked.
    """
    if opts.gateway_target_ports:
        return sorted(set(opts.gateway_target_ports))
    gateway = namespaces.get(config.gateway_namespace)
    if gateway is None:
        return []
    wanted = set(config.gateway_selector.items())
    return sorted(
        {
            p.target_port
            for app in gateway.apps
            if wanted <= set(app.selector.items())
            for p in app.ports
            if p.port == 443
        }
    )


class _Scaffolder:
    def __init__(self, repo: Repo, namespaces: dict[str, Namespace], opts: ScaffoldOptions) -> None:
        self.repo = repo
        self.config = repo.config
        self.namespaces = namespaces
        self.opts = opts
        self.plan = Plan()
        self.gateway_ports = _gateway_target_ports(namespaces, self.config, opts)
        self.states: dict[PurePosixPath, ManagedState] = {}

    # ------------------------------------------------------------------ namespace level
    def namespace(self, ns: Namespace) -> tuple[Plan, NamespaceResult]:
        """Plan one namespace. Namespaces touch disjoint files, so their plans are independent."""
        self.plan = Plan()
        result = NamespaceResult(ns.name)
        if ns.suspended and not self.opts.force:
            result.status = "skipped"
            result.notes.append(
                "every Flux Kustomization of this namespace is suspended (spec.suspend: true)"
            )
            self.plan.notes.append(f"{ns.name}: skipped: {'; '.join(result.notes)}")
            return self.plan, result
        for warning in ns.warnings:
            self.plan.warnings.append(f"{ns.name}: {warning}")
        ours = self._managed_policy_files(ns)
        foreign_names = {
            p.name
            for p in ns.policies
            if p.path not in ours and p.kind != "CiliumClusterwideNetworkPolicy"
        }
        self._baseline(ns, result, foreign_names)
        overlays = self._overlay_answers(ns, result, ours)
        taken = set(foreign_names) | set(BASELINE_POLICIES)
        for directory, (kustomization, answers) in sorted(overlays.items()):
            self._overlay(ns, result, directory, kustomization, answers, taken)
        if not self.plan.changes:
            result.status = "up-to-date"
        for app, why in result.skipped_apps.items():
            self.plan.notes.append(f"{ns.name}/{app}: {why}")
        return self.plan, result

    def _managed_policy_files(self, ns: Namespace) -> set[PurePosixPath]:
        files: set[PurePosixPath] = set()
        root = self.repo.root
        self.states = {}  # read once here, used again when the overlay is planned
        for directory in managed_directories(root, ns.directory):
            state = self.states[directory] = read_state(root, directory)
            files.update(directory / name for name in state.digests)
        return files

    def _baseline(self, ns: Namespace, result: NamespaceResult, foreign_names: set[str]) -> None:
        config = self.config
        component = self.repo.path(config.baseline_dir)
        if not component.is_dir():
            raise RepoError(
                f"{config.baseline_dir} does not exist",
                hint="run 'netpol init' to render the components first",
            )
        entry = relative_entry(Path(ns.kustomization), Path(config.baseline_dir))
        wanted = normalize_entry(entry)
        present = [c for c in ns.components if normalize_entry(c) == wanted]
        elsewhere = [
            c
            for c in ns.components
            if normalize_entry(c).rstrip("/").endswith("network-policy/baseline")
            and c not in present
        ]
        clash = sorted(foreign_names & set(BASELINE_POLICIES))
        if present:
            result.baseline = "present"
        elif elsewhere:
            result.baseline = (
                f"skipped: a baseline component is already included from {elsewhere[0]}"
            )
        elif clash:
            result.baseline = (
                f"skipped: policies named {', '.join(clash)} already exist in the namespace"
            )
        else:
            add_text_edit(
                self.plan,
                self.repo.root,
                ns.kustomization,
                [Op("add", "components", entry)],
                reason="add network-policy/baseline",
            )
            result.baseline = "added"

    # ------------------------------------------------------------------ per-app overlays
    def _overlay_answers(
        self, ns: Namespace, result: NamespaceResult, ours: set[PurePosixPath]
    ) -> dict[PurePosixPath, tuple[PurePosixPath, dict[str, Any]]]:
        overlays: dict[PurePosixPath, tuple[PurePosixPath, dict[str, Any]]] = {}
        fqdns = self._fqdns_by_app(ns)
        for app in ns.apps:
            hand_written = [p for p in app.existing_policies if p.path not in ours]
            if hand_written:
                names = ", ".join(sorted({p.name for p in hand_written}))
                result.skipped_apps[app.name] = (
                    f"already has its own policies ({names}); left alone"
                )
                continue
            answers = self._app_answers(ns, app, fqdns.get(app.name, []))
            if answers is None:
                result.notes.append(
                    f"{app.name}: no gateway route, database, LoadBalancer or FQDN found; the baseline covers it"
                )
                continue
            overlays[app.directory] = (app.kustomization, answers)
        for cluster in ns.cnpg_clusters:
            self._cluster_answers(ns, cluster, overlays, result)
        return overlays

    def _fqdns_by_app(self, ns: Namespace) -> dict[str, list[FqdnAllow]]:
        by_app: dict[str, list[FqdnAllow]] = {}
        names = {a.name for a in ns.apps}
        for allow in self.opts.fqdns:
            target = allow.app
            if target is None:
                if len(names) != 1:
                    raise NetpolError(
                        f"--allow-fqdn {allow.host}:{allow.port}: namespace {ns.name} has {len(names)} apps",
                        hint="say which one: --allow-fqdn APP=HOST:PORT",
                    )
                target = next(iter(names))
            if target not in names:
                continue  # belongs to another namespace given on the same command line
            by_app.setdefault(target, []).append(allow)
        return by_app

    def _base_answers(self, ns: Namespace, name: str, selector: dict[str, str]) -> dict[str, Any]:
        return {
            "app_name": name,
            "namespace": ns.name,
            "selector": dict(selector),
            "gateway_namespace": self.config.gateway_namespace,
            "gateway_selector": dict(self.config.gateway_selector),
        }

    def _app_answers(
        self, ns: Namespace, app: App, fqdns: list[FqdnAllow]
    ) -> dict[str, Any] | None:
        answers = self._base_answers(ns, app.name, app.selector)
        enabled = False
        web_ports = _route_ports(app)
        if app.routes and web_ports and ns.name != self.config.gateway_namespace:
            answers["gateway_ports"] = _ports(web_ports)
            enabled = True
        if app.cnpg_clients:
            answers["cnpg_egress"] = [
                {"namespace": c.namespace, "cluster": c.cluster, "port": 5432}
                for c in sorted(set(app.cnpg_clients), key=lambda c: (c.namespace, c.cluster))
            ]
            enabled = True
        if app.load_balancer_ports:
            answers["lan_ports"] = _ports(app.load_balancer_ports)
            enabled = True
        if app.is_oauth2_proxy:
            if self.gateway_ports:
                answers["oauth2_proxy_gateway_ports"] = list(self.gateway_ports)
                enabled = True
            else:
                self.plan.warnings.append(
                    f"{ns.name}/{app.name}: oauth2-proxy found but not the gateway's target port; "
                    "pass --gateway-target-port (e.g. 10443)"
                )
        if fqdns:
            answers["fqdn_egress"] = [
                {
                    "host": f.host,
                    "port": f.port,
                    "protocol": f.protocol,
                    "style": self.opts.fqdn_style,
                }
                for f in fqdns
            ]
            enabled = True
        return answers if enabled else None

    def _cluster_answers(
        self,
        ns: Namespace,
        cluster: CnpgCluster,
        overlays: dict[PurePosixPath, tuple[PurePosixPath, dict[str, Any]]],
        result: NamespaceResult,
    ) -> None:
        backups = [_endpoint_allow(url, self.opts.fqdn_style) for url in cluster.backup_endpoints]
        backups = [b for b in backups if b is not None]
        if not cluster.consumers and not backups:
            result.notes.append(
                f"CNPG cluster {cluster.name}: no consumer apps or backup store found; nothing rendered"
            )
            return
        consumers = [
            {"namespace": c.namespace, "selector": dict(c.selector)}
            for c in sorted(cluster.consumers, key=lambda c: (c.namespace, c.app))
        ]
        if cluster.directory in overlays:
            _, answers = overlays[cluster.directory]
        else:
            answers = self._base_answers(ns, cluster.name, {"cnpg.io/cluster": cluster.name})
            overlays[cluster.directory] = (cluster.kustomization, answers)
        if consumers:
            answers["cnpg_cluster"] = cluster.name
            answers["cnpg_consumers"] = consumers
        if backups and answers["selector"] == {"cnpg.io/cluster": cluster.name}:
            # Pattern C: the cluster's pods ship WAL and base backups to the object store.
            answers["fqdn_egress"] = [*answers.get("fqdn_egress", []), *backups]
        elif backups:
            result.notes.append(
                f"CNPG cluster {cluster.name}: shares {cluster.directory} with an app; "
                "allow its backup store with --allow-fqdn"
            )

    def _overlay(
        self,
        ns: Namespace,
        result: NamespaceResult,
        directory: PurePosixPath,
        kustomization: PurePosixPath,
        answers: dict[str, Any],
        taken: set[str],
    ) -> None:
        from .validate import validate_text

        rendering = render_reusing(OVERLAY, answers, self.repo.root / directory)
        text = rendering.files[PurePosixPath(OVERLAY_FILE)].decode("utf-8")
        names = set(re.findall(r"(?m)^  name: (\S+)$", text))
        clash = sorted(names & taken)
        app = answers["app_name"]
        if clash:
            result.skipped_apps[app] = (
                f"policy name(s) {', '.join(clash)} already exist in the namespace"
            )
            return
        taken.update(names)
        outcome = plan_rendering(
            self.repo.root,
            directory,
            rendering,
            reason=f"allow policies for {app}",
            adopt=False,
            state=self.states.get(directory),
        )
        if PurePosixPath(OVERLAY_FILE) not in outcome.as_recorded:  # else validated when written
            validate_text(text, str(directory / OVERLAY_FILE))
        require_no_conflicts(outcome, command="netpol scaffold")
        self.plan.extend(outcome.plan)
        add_text_edit(
            self.plan,
            self.repo.root,
            kustomization,
            [Op("add", "resources", _resource_entry(self.repo.root / kustomization, OVERLAY_FILE))],
            reason=f"list {OVERLAY_FILE}",
        )
        result.overlays.append(app)


def _endpoint_allow(url: str, style: str) -> dict[str, Any] | None:
    """``https://s3.${SECRET_DOMAIN}`` -> an fqdn_egress answer (host, port 443)."""
    match = re.match(r"^(https?)://([^/:]+)(?::(\d+))?", url.strip())
    if match is None:
        return None
    port = int(match[3]) if match[3] else (443 if match[1] == "https" else 80)
    return {"host": match[2], "port": port, "protocol": "TCP", "style": style}


def _route_ports(app: App) -> list[Port]:
    """The app ports its routes reach: the backendRefs' Service ports when known; otherwise
    its TCP ports, minus those only a LoadBalancer publishes (qbittorrent's torrent port)
    unless every port is behind the LoadBalancer (jellyfin)."""
    tcp = [p for p in app.ports if p.protocol == "TCP"]
    routed = [p for p in tcp if p.port in app.route_ports]
    return routed or [p for p in tcp if p not in app.load_balancer_ports] or tcp


def _resource_entry(kustomization: Path, name: str) -> str:
    """``./name`` when the file's other entries use ``./``, else ``name``."""
    text = kustomization.read_text(encoding="utf-8") if kustomization.exists() else ""
    return f"./{name}" if re.search(r"(?m)^\s*-\s*['\"]?\./", text) or "[./" in text else name


def _warm_caches() -> None:
    """Load the CRD schema and compile the overlay template (both cached per process)."""
    from .validate import validate_text

    probe = {
        "app_name": "probe",
        "namespace": "probe",
        "selector": {"app.kubernetes.io/name": "probe"},
        "gateway_ports": [{"port": 80, "protocol": "TCP"}],
    }
    validate_text(render(OVERLAY, probe).files[PurePosixPath(OVERLAY_FILE)].decode(), "probe")


def plan_scaffold(repo: Repo, names: list[str], opts: ScaffoldOptions) -> ScaffoldResult:
    """Discover the repository and plan the scaffolding of ``names``."""
    from .discovery import discover_all
    from .parallel import MIN_ITEMS_PER_JOB, map_chunked

    if opts.fqdn_style not in ("entity", "fqdn"):
        raise NetpolError(f"unknown FQDN style {opts.fqdn_style!r}", hint="use entity or fqdn")
    discovered = {
        ns.name: ns for ns in discover_all(repo.root, repo.config.apps_dir, required=names)
    }
    missing = [name for name in names if name not in discovered]
    if missing:
        raise RepoError(f"namespace {missing[0]!r} was not found by discovery")
    scaffolder = _Scaffolder(repo, discovered, opts)
    if len(names) >= BULK_NAMESPACES:
        from .render import enable_render_memo
        from .validate import enable_bulk_mode

        enable_bulk_mode()
        enable_render_memo()
    if len(names) >= 2 * MIN_ITEMS_PER_JOB:
        _warm_caches()  # once, before workers fork, instead of once per worker
    plan = Plan()
    results = []

    def plan_one(name: str) -> tuple[Plan, NamespaceResult]:
        with cached_realpaths():  # planning reads the tree, never changes it
            return scaffolder.namespace(discovered[name])

    for fragment, result in map_chunked(plan_one, names):
        plan.extend(fragment)
        results.append(result)
    return ScaffoldResult(plan, results)
