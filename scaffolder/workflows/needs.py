"""What each app needs: discovered apps and CNPG clusters turned into overlay answers.

For every app of a namespace: the answers discovery implies (gateway ingress on the pod
targetPort, CNPG client egress and cluster ingress, LAN clients of LoadBalancer services,
oauth2-proxy egress to the gateway), merged with the answers recorded next to a rendered
overlay, plus the command line's ``--allow-fqdn`` and minus its ``--remove-fqdn``.
:mod:`scaffolder.workflows.scaffold` turns these answers into a plan (rendering,
kustomization edits, conflicts).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from scaffolder.core.errors import NetpolError
from scaffolder.core.fs import find_kustomization
from scaffolder.edit.plan import Plan
from scaffolder.repo.config import Config
from scaffolder.repo.model import App, CnpgCluster, Namespace, Port
from scaffolder.repo.repository import Repository
from scaffolder.templates.managed import ManagedState, read_state
from scaffolder.templates.render import ANSWERS_FILE, OVERLAY
from scaffolder.workflows.answers import describe, entry_key, merge_answers, union
from scaffolder.workflows.fqdn import FqdnAllow, endpoint_allow, removal_spec
from scaffolder.workflows.peers import Peers

OVERLAY_FILE = "cnp-netpol.yaml"


@dataclass
class ScaffoldOptions:
    overwrite: bool = False  # replace locally edited overlays
    include_suspended: bool = False
    fqdns: list[FqdnAllow] = field(default_factory=list)
    removals: list[FqdnAllow] = field(default_factory=list)
    fqdn_style: str = "entity"  # entity (toEntities world + port) or fqdn (toFQDNs)
    gateway_target_ports: list[int] = field(default_factory=list)
    command: str = "netpol scaffold"  # the command line, for hints that say "rerun with ..."


@dataclass
class Coverage:
    """How much of what an app needs the repository showed (issue 9's per-app report)."""

    covered: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.unknown:
            return "partial" if self.covered else "unknown"
        return "covered"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "covered": self.covered, "unknown": self.unknown}


@dataclass
class NamespaceResult:
    name: str
    status: str = "planned"  # planned, up-to-date, skipped
    baseline: str = ""  # added, present, skipped: <why>
    overlays: list[str] = field(default_factory=list)
    skipped_apps: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)  # per app
    plan: Plan = field(default_factory=Plan, repr=False)  # this namespace's changes only

    @property
    def commit_message(self) -> str:
        """The commit that would carry :attr:`plan` on its own branch (the planned PR-per-namespace command)."""
        return f"feat(netpol): baseline allow policies for {self.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.name,
            "status": self.status,
            "baseline": self.baseline,
            "overlays": self.overlays,
            "skipped_apps": self.skipped_apps,
            "notes": self.notes,
            "coverage": {app: c.to_json() for app, c in sorted(self.coverage.items())},
        }


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


Overlays = dict[PurePosixPath, tuple[PurePosixPath, dict[str, Any]]]


def recorded_overlays(
    repo: Repository, ns_directory: PurePosixPath
) -> dict[PurePosixPath, ManagedState]:
    """Every directory under a namespace that holds a rendered namespace-overlay."""
    return {
        directory: read_state(repo.root, directory)
        for directory in repo.managed_directories(ns_directory)
    }


class Needs:
    """The answers of each overlay of a namespace (one instance serves every namespace)."""

    def __init__(
        self,
        repo: Repository,
        namespaces: dict[str, Namespace],
        opts: ScaffoldOptions,
        removals: dict[PurePosixPath, list[FqdnAllow]] | None = None,
    ) -> None:
        self.repo = repo
        self.config = repo.config
        self.opts = opts
        self.removals = removals or {}
        self.gateway_ports = _gateway_target_ports(namespaces, self.config, opts)
        self.peers = Peers(list(namespaces.values()), fqdn_style=opts.fqdn_style)
        self.plan = Plan()

    def overlay_answers(
        self,
        ns: Namespace,
        result: NamespaceResult,
        ours: set[PurePosixPath],
        recorded: dict[PurePosixPath, ManagedState],
        plan: Plan,
    ) -> Overlays:
        """Each overlay directory's answers: discovered, merged with the recorded ones, plus
        this command line's --allow-fqdn and minus its --remove-fqdn. Notes and warnings
        go to ``plan``."""
        self.plan = plan
        overlays: Overlays = {}
        targets: dict[PurePosixPath, str] = {}  # directory -> the name --allow-fqdn APP= uses
        explicit = self._fqdns_by_app(ns)
        for app in [*ns.apps, *self.peers.gateway_apps(ns)]:
            hand_written = [
                p
                for p in app.existing_policies
                if p.path not in ours and p.kind != "CiliumClusterwideNetworkPolicy"
            ]
            if hand_written:
                names = ", ".join(sorted({p.name for p in hand_written}))
                if app.name in explicit:
                    raise NetpolError(
                        f"--allow-fqdn {explicit[app.name][0]}: {ns.name}/{app.name} has its own "
                        f"policies ({names}), which netpol leaves alone",
                        hint="add the egress rule to those policies",
                    )
                result.skipped_apps[app.name] = (
                    f"already has its own policies ({names}); left alone"
                )
                continue
            answers = self._app_answers(ns, app, result)
            if answers is None and app.name not in explicit and app.directory not in recorded:
                result.notes.append(
                    f"{app.name}: no gateway route, database, LoadBalancer or FQDN found; the baseline covers it"
                )
                continue
            base = self._base_answers(ns, app.name, app.selector)
            overlays[app.directory] = (app.kustomization, answers or base)
            targets.setdefault(app.directory, app.name)
        for cluster in ns.cnpg_clusters:
            self._cluster_answers(ns, cluster, overlays, targets, explicit, recorded, result)
        skipped = set(result.skipped_apps)
        for directory, state in sorted(recorded.items()):
            name = str(state.answers.get("app_name") or directory.name)
            if directory in overlays or name in skipped:
                continue
            listing = find_kustomization(self.repo.root / directory)
            if listing is None:
                continue
            # Never deleted silently: the overlay stays as the user last asked for it.
            overlays[directory] = (
                PurePosixPath(listing.relative_to(self.repo.root).as_posix()),
                {},
            )
            targets[directory] = name
            self.plan.notes.append(
                f"{ns.name}/{name}: not discovered any more; kept its allow policies in "
                f"{directory}/{OVERLAY_FILE} (delete it and {ANSWERS_FILE} by hand if the app is gone)"
            )
        merged: Overlays = {}
        for directory, (kustomization, discovered) in overlays.items():
            name = targets.get(directory, str(discovered.get("app_name", directory.name)))
            merged[directory] = (
                kustomization,
                self._merge(
                    ns,
                    result,
                    directory,
                    name,
                    recorded.get(directory),
                    discovered,
                    explicit.get(name, []),
                ),
            )
        return merged

    def _merge(
        self,
        ns: Namespace,
        result: NamespaceResult,
        directory: PurePosixPath,
        name: str,
        state: ManagedState | None,
        discovered: dict[str, Any],
        explicit: list[FqdnAllow],
    ) -> dict[str, Any]:
        removals = self.removals.get(directory, [])
        for removal in removals:
            if removal.recorded_in(discovered):
                raise NetpolError(
                    f"--remove-fqdn {removal}: {ns.name}/{name} gets {removal.target} from "
                    "discovery (a CNPG backup store), so it would come back",
                    hint="change the cluster's backup configuration instead",
                )
        merge = merge_answers(state.answers if state else {}, discovered)
        answers = merge.answers
        added = []
        for allow in explicit:
            key, entry = allow.answer(self.opts.fqdn_style)
            identity = entry_key(key, entry)
            current = answers.get(key) or []
            # The command line's allowance replaces a recorded one for the same host and port
            # (--fqdn-style changes it), in place, so the order stays stable.
            replaced = [entry if entry_key(key, item) == identity else item for item in current]
            answers[key] = union(key, replaced, [entry])
            added.append(identity)
        for removal in removals:
            answers = removal.removed_from(answers)
        gone = {entry_key(k, v) for r in removals for k, v in [r.answer("entity")]}
        where = f"{ns.name}/{name}"
        # A kept overlay (nothing discovered) was noted as a whole, not entry by entry.
        for key, item in merge.kept if discovered else []:
            identity = entry_key(key, item)
            if identity in added or identity in gone or not _in(answers.get(key), key, identity):
                continue
            spec = removal_spec(key, item)
            if spec:
                how = f"'--remove-fqdn {name}={spec}' removes it"
            else:
                how = f"edit {directory}/{ANSWERS_FILE} and run 'netpol upgrade' to drop it"
            self.plan.notes.append(
                f"{where}: kept recorded {key} {describe(key, item)} (not rediscovered; {how})"
            )
        for key, kept, found in merge.scalars:
            self.plan.notes.append(
                f"{where}: kept recorded {key} {json.dumps(kept, sort_keys=True)} "
                f"(discovery found {json.dumps(found, sort_keys=True)}; edit {directory}/{ANSWERS_FILE} to change it)"
            )
        return answers

    def _fqdns_by_app(self, ns: Namespace) -> dict[str, list[FqdnAllow]]:
        by_app: dict[str, list[FqdnAllow]] = {}
        names = {a.name for a in ns.apps}
        for allow in self.opts.fqdns:
            target = allow.app
            if target is None:
                if len(names) != 1:
                    raise NetpolError(
                        f"--allow-fqdn {allow.target}: namespace {ns.name} has {len(names)} apps",
                        hint="say which one: --allow-fqdn APP=HOST:PORT",
                    )
                target = next(iter(names))
            # Names not in this namespace were checked against the others (plan_scaffold).
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
        self, ns: Namespace, app: App, result: NamespaceResult
    ) -> dict[str, Any] | None:
        """What discovery finds for ``app`` (None: nothing), and its coverage."""
        answers = self._base_answers(ns, app.name, app.selector)
        enabled = False
        coverage = Coverage()
        peer = self.peers.gateway_peer(app)
        if peer is not None:
            answers["gateway_namespace"], answers["gateway_selector"] = peer[0], dict(peer[1])
        gateway_namespace = peer[0] if peer is not None else self.config.gateway_namespace
        if app.routes:
            web_ports, why = _route_ports(app)
            if not web_ports:
                coverage.unknown.append(f"gateway ingress: {why}")
            elif ns.name == gateway_namespace:
                coverage.covered.append("gateway ingress (same namespace: baseline)")
            else:
                answers["gateway_ports"] = _ports(web_ports)
                coverage.covered.append("gateway ingress")
                enabled = True
        if app.cnpg_clients:
            answers["cnpg_egress"] = [
                {"namespace": c.namespace, "cluster": c.cluster, "port": 5432}
                for c in sorted(set(app.cnpg_clients), key=lambda c: (c.namespace, c.cluster))
            ]
            coverage.covered.append("CNPG database egress")
            enabled = True
        if app.load_balancer_ports:
            answers["lan_ports"] = _ports(app.load_balancer_ports)
            coverage.covered.append("LoadBalancer clients")
            enabled = True
        if app.is_oauth2_proxy:
            if self.gateway_ports:
                answers["oauth2_proxy_gateway_ports"] = list(self.gateway_ports)
                enabled = True
            else:
                coverage.unknown.append("oauth2-proxy: the gateway's target port is unknown")
                self.plan.warnings.append(
                    f"{ns.name}/{app.name}: oauth2-proxy found but not the gateway's target port; "
                    "pass --gateway-target-port (e.g. 10443)"
                )
        peers = self.peers.for_app(app)
        for key in (
            "cross_namespace_egress",
            "fqdn_egress",
            "cidr_egress",
            "cross_namespace_ingress",
            "gateway_listener_ports",
        ):
            value = getattr(peers, key)
            if value:
                answers[key] = value
                enabled = True
        if peers.gateway_listener_ports and "lan_ports" in answers:
            listeners = {(p["port"], p["protocol"]) for p in peers.gateway_listener_ports}
            lan = [p for p in answers["lan_ports"] if (p["port"], p["protocol"]) not in listeners]
            if lan:
                answers["lan_ports"] = lan
            else:
                del answers["lan_ports"]
        coverage.covered.extend(peers.covered)
        coverage.unknown.extend(peers.unknown)
        servers = sorted({(w.selector, w.port) for w in app.webhooks})
        if servers:
            selectors = {selector for selector, _ in servers}
            answers["apiserver_ingress_ports"] = sorted({port for _, port in servers})
            selector = dict(next(iter(selectors))) if len(selectors) == 1 else dict(app.selector)
            if selector != app.selector:
                answers["apiserver_ingress_selector"] = selector
            coverage.covered.append("webhook calls from the kube-apiserver")
            enabled = True
        result.coverage[app.name] = coverage
        return answers if enabled else None

    def _cluster_answers(
        self,
        ns: Namespace,
        cluster: CnpgCluster,
        overlays: Overlays,
        targets: dict[PurePosixPath, str],
        explicit: dict[str, list[FqdnAllow]],
        recorded: dict[PurePosixPath, ManagedState],
        result: NamespaceResult,
    ) -> None:
        backups = [
            b
            for b in (endpoint_allow(url, self.opts.fqdn_style) for url in cluster.backup_endpoints)
            if b is not None
        ]
        own = cluster.directory not in overlays
        wanted = own and (cluster.name in explicit or cluster.directory in recorded)
        if not cluster.consumers and not backups and not wanted:
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
            targets[cluster.directory] = cluster.name
        if consumers:
            answers["cnpg_cluster"] = cluster.name
            answers["cnpg_consumers"] = consumers
        if backups and answers["selector"] == {"cnpg.io/cluster": cluster.name}:
            # Pattern C: the cluster's pods ship WAL and base backups to the object store.
            answers["fqdn_egress"] = [*answers.get("fqdn_egress", []), *backups]
        elif backups:
            result.notes.append(
                f"CNPG cluster {cluster.name}: shares {cluster.directory} with "
                f"{answers['app_name']}; allow its backup store with "
                f"'--allow-fqdn {answers['app_name']}={backups[0]['host']}:{backups[0]['port']}'"
            )


def _in(entries: Any, key: str, identity: str) -> bool:
    return isinstance(entries, list) and any(entry_key(key, e) == identity for e in entries)


def _route_ports(app: App) -> tuple[list[Port], str]:
    """The app ports its routes reach: the backendRefs' Service ports when known, else its
    one TCP port (besides those only a LoadBalancer publishes). Never every port: with
    several candidates and no backend port, nothing, and why."""
    tcp = [p for p in app.ports if p.protocol == "TCP"]
    routed = [p for p in tcp if p.port in app.route_ports]
    if routed:
        return routed, ""
    if app.route_ports:
        wanted = ", ".join(str(p) for p in app.route_ports)
        return [], f"route backend port {wanted} matches none of its Services' ports"
    candidates = [p for p in tcp if p not in app.load_balancer_ports] or tcp
    if len({p.target_port for p in candidates}) == 1:
        return candidates, ""
    if not candidates:
        return [], "no Service port found in the repository (chart not understood)"
    return [], "several ports and no backend port in its routes"


def check_targets(
    repo: Repository, selected: list[Namespace], opts: ScaffoldOptions
) -> dict[str, dict[PurePosixPath, ManagedState]]:
    """Every ``APP=`` of --allow-fqdn/--remove-fqdn names an app of the given namespaces.

    Returns the recorded overlays of the namespaces when they had to be read (removals, or
    a name only a kept overlay has)."""
    for removal in opts.removals:
        for allow in opts.fqdns:
            if (removal.app, removal.target) == (allow.app, allow.target):
                raise NetpolError(f"--allow-fqdn and --remove-fqdn both name {allow}")
    recorded: dict[str, dict[PurePosixPath, ManagedState]] = {}

    def overlays_of(ns: Namespace) -> dict[PurePosixPath, ManagedState]:
        if ns.name not in recorded:
            found = recorded_overlays(repo, ns.directory)
            recorded[ns.name] = {d: s for d, s in found.items() if s.template == OVERLAY}
        return recorded[ns.name]

    discovered = {a.name for ns in selected for a in ns.apps}
    discovered |= {c.name for ns in selected for c in ns.cnpg_clusters}
    if opts.removals:
        for ns in selected:
            overlays_of(ns)
    for allow, flag in [
        *((a, "--allow-fqdn") for a in opts.fqdns),
        *((r, "--remove-fqdn") for r in opts.removals),
    ]:
        if allow.app is None or allow.app in discovered:
            continue
        known = set(discovered)
        for ns in selected:
            known |= {str(s.answers.get("app_name")) for s in overlays_of(ns).values()}
        if allow.app in known:
            continue
        where = ", ".join(ns.name for ns in selected)
        close = difflib.get_close_matches(allow.app, sorted(known), n=3)
        raise NetpolError(
            f"{flag} {allow}: no app {allow.app!r} in namespace(s) {where}",
            hint=f"did you mean {' or '.join(close)}?"
            if close
            else f"apps there: {', '.join(sorted(known)[:10]) or 'none'}",
        )
    return recorded


def plan_removals(
    selected: list[Namespace],
    recorded: dict[str, dict[PurePosixPath, ManagedState]],
    removals: list[FqdnAllow],
) -> dict[PurePosixPath, list[FqdnAllow]]:
    """Which overlay directory each --remove-fqdn applies to; it must be recorded there."""
    by_dir: dict[PurePosixPath, list[FqdnAllow]] = {}
    for removal in removals:
        candidates = [
            (ns.name, directory, state)
            for ns in selected
            for directory, state in recorded.get(ns.name, {}).items()
            if removal.app is None or state.answers.get("app_name") == removal.app
        ]
        hits = [c for c in candidates if removal.recorded_in(c[2].answers)]
        if not hits:
            listed = sorted(
                {
                    f"{state.answers.get('app_name')}={spec}"
                    for _, _, state in candidates
                    for key in ("fqdn_egress", "cidr_egress")
                    for item in state.answers.get(key) or []
                    for spec in [removal_spec(key, item)]
                    if spec
                }
            )
            where = ", ".join(
                sorted({f"{ns}/{state.answers.get('app_name')}" for ns, _, state in candidates})
            ) or ", ".join(ns.name for ns in selected)
            raise NetpolError(
                f"--remove-fqdn {removal}: not recorded for {where} "
                f"(recorded: {', '.join(listed) or 'none'})"
            )
        if len(hits) > 1 and removal.app is None:
            apps = ", ".join(f"{ns}/{state.answers.get('app_name')}" for ns, _, state in hits)
            raise NetpolError(
                f"--remove-fqdn {removal}: recorded for {apps}",
                hint="say which one: --remove-fqdn APP=HOST:PORT",
            )
        for _, directory, _ in hits:
            by_dir.setdefault(directory, []).append(removal)
    return by_dir
