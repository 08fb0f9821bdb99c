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

import difflib
import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import NetpolError, RepoError
from scaffolder.core.fs import cached_realpaths
from scaffolder.edit.edits import add_text_edit
from scaffolder.edit.kustomization import Op, normalize_entry, relative_entry
from scaffolder.edit.plan import Plan
from scaffolder.repo.config import Config
from scaffolder.repo.layout import find_kustomization
from scaffolder.repo.model import App, CnpgCluster, Namespace, Port
from scaffolder.repo.repository import Repository
from scaffolder.templates.managed import (
    ManagedState,
    plan_rendering,
    read_state,
    require_no_conflicts,
)
from scaffolder.templates.render import ANSWERS_FILE, OVERLAY, render, render_reusing
from scaffolder.workflows.answers import describe, entry_key, merge_answers, union

OVERLAY_FILE = "cnp-netpol.yaml"
BULK_NAMESPACES = 200  # from here on, compiling the CRD schema once pays for itself
BASELINE_POLICIES = (
    "allow-dns",
    "allow-apiserver",
    "allow-intra-namespace",
    "allow-monitoring-scrape",
    "allow-host-probes",
)
_SPEC = re.compile(
    r"^(?:(?P<app>[^=\s]*)=)?(?P<host>\[[^\]\s]*\]|[^:\s\[\]=]*):(?P<port>[0-9]+)"
    r"(?:/(?P<proto>[A-Za-z]+))?$"
)
_APP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?$")
_FLUX_VAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_SPEC_HINT = "e.g. sonarr=api.themoviedb.org:443, sonarr=1.2.3.4:443 or sonarr=[2001:db8::1]:443"


def _host_problem(host: str) -> str | None:
    """Why ``host`` is not a DNS name for toFQDNs (``*.`` prefix and ``${VAR}`` allowed)."""
    name = _FLUX_VAR.sub("x", host)
    name = name[2:] if name.startswith("*.") else name
    labels = name.split(".")
    if not name or len(host) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        return "is not a DNS name (letters, digits, '-', '_' and '.'; an optional leading '*.'; ${VAR})"
    if labels[-1].isdigit():
        return "is neither an IP address nor a DNS name (its last label is a number)"
    return None


@dataclass(frozen=True)
class FqdnAllow:
    """``--allow-fqdn`` / ``--remove-fqdn [APP=]HOST:PORT[/udp]``; HOST may be an IP address."""

    host: str  # a DNS name, or an IP address without brackets
    port: int
    protocol: str = "TCP"
    app: str | None = None

    @classmethod
    def parse(cls, text: str, flag: str = "--allow-fqdn") -> FqdnAllow:
        spec = text.strip()
        match = _SPEC.match(spec)
        if not match:
            raise NetpolError(f"{flag} {text!r}: expected [APP=]HOST:PORT[/udp]", hint=_SPEC_HINT)
        app, host, port = match["app"], match["host"], int(match["port"])
        if app is not None and not _APP_NAME.match(app):
            raise NetpolError(f"{flag} {text!r}: {app!r} is not an app name (a DNS-1123 label)")
        if not 1 <= port <= 65535:
            raise NetpolError(f"{flag} {text!r}: port {port} is not a port number 1-65535")
        proto = (match["proto"] or "tcp").upper()
        if proto not in ("TCP", "UDP"):
            raise NetpolError(f"{flag} {text!r}: protocol {match['proto']!r} is not tcp or udp")
        if host.startswith("["):
            try:
                address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv6Address(
                    host[1:-1]
                )
            except ValueError:
                raise NetpolError(
                    f"{flag} {text!r}: {host} is not an IPv6 address", hint=_SPEC_HINT
                ) from None
            mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
            return cls((mapped or address).compressed, port, proto, app)
        try:
            return cls(ipaddress.IPv4Address(host).compressed, port, proto, app)
        except ValueError:
            pass
        problem = _host_problem(host)
        if problem:
            raise NetpolError(f"{flag} {text!r}: host {host!r} {problem}", hint=_SPEC_HINT)
        return cls(host, port, proto, app)

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def target(self) -> str:
        """``HOST:PORT[/udp]`` as a user writes it (``[v6]:PORT`` for IPv6)."""
        address = self.address
        host = f"[{self.host}]" if isinstance(address, ipaddress.IPv6Address) else self.host
        return f"{host}:{self.port}" + ("/udp" if self.protocol == "UDP" else "")

    def __str__(self) -> str:
        return f"{self.app}={self.target}" if self.app else self.target

    def answer(self, style: str) -> tuple[str, dict[str, Any]]:
        """The overlay answer and entry: toCIDR for an IP address (toFQDNs never matches an
        IP literal), else an fqdn_egress host in ``style``."""
        address = self.address
        port = {"port": self.port, "protocol": self.protocol}
        if address is not None:
            return "cidr_egress", {"cidr": f"{address}/{address.max_prefixlen}", "ports": [port]}
        return "fqdn_egress", {**{"host": self.host}, **port, "style": style}

    def recorded_in(self, answers: dict[str, Any]) -> bool:
        return _without(answers, self) != answers

    def removed_from(self, answers: dict[str, Any]) -> dict[str, Any]:
        return _without(answers, self)


def _without(answers: dict[str, Any], allow: FqdnAllow) -> dict[str, Any]:
    """``answers`` minus the allowance (for an IP, just its port in the matching CIDR entry)."""
    key, wanted = allow.answer("entity")
    entries = answers.get(key)
    if not isinstance(entries, list):
        return answers
    identity = entry_key(key, wanted)
    kept: list[Any] = []
    for item in entries:
        if key == "fqdn_egress":
            if entry_key(key, item) != identity:
                kept.append(item)
            continue
        ports = item.get("ports") if isinstance(item, dict) else None
        if not isinstance(ports, list) or not _same_network(item.get("cidr"), wanted["cidr"]):
            kept.append(item)
            continue
        port = entry_key("lan_ports", wanted["ports"][0])
        rest = [p for p in ports if entry_key("lan_ports", p) != port]
        if rest:
            kept.append({**item, "ports": rest} if len(rest) != len(ports) else item)
    return answers if kept == entries else {**answers, key: kept}


def _same_network(cidr: Any, other: str) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False) == ipaddress.ip_network(other)
    except ValueError:
        return False


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


def select_namespaces(
    repo: Repository, names: Iterable[str], all_: bool, include_out_of_scope: bool = False
) -> list[str]:
    """Validate the requested namespaces (or every in-scope one with ``--all``)."""
    names = list(dict.fromkeys(names))
    if all_ and names:
        raise NetpolError("give namespaces or --all, not both")
    if all_ and include_out_of_scope:
        raise NetpolError(
            "--include-out-of-scope needs the namespaces named: --all never includes them",
            hint="e.g. 'netpol scaffold kube-system --include-out-of-scope'",
        )
    if all_:
        return repo.in_scope_namespaces()
    if not names:
        raise NetpolError("no namespace given", hint="name one or more namespaces, or pass --all")
    for name in names:
        repo.namespace(name)  # why not, when it is no active namespace
        if name in repo.config.out_of_scope and not include_out_of_scope:
            raise RepoError(
                f"namespace {name!r} is out of scope (netpol.yaml out_of_scope)",
                hint="breaking it can take the rollback path down with it; "
                f"'netpol scaffold {name} --include-out-of-scope' if you mean it",
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


Overlays = dict[PurePosixPath, tuple[PurePosixPath, dict[str, Any]]]


def recorded_overlays(
    repo: Repository, ns_directory: PurePosixPath
) -> dict[PurePosixPath, ManagedState]:
    """Every directory under a namespace that holds a rendered namespace-overlay."""
    return {
        directory: read_state(repo.root, directory)
        for directory in repo.managed_directories(ns_directory)
    }


class _Scaffolder:
    def __init__(
        self,
        repo: Repository,
        namespaces: dict[str, Namespace],
        opts: ScaffoldOptions,
        removals: dict[PurePosixPath, list[FqdnAllow]] | None = None,
    ) -> None:
        self.repo = repo
        self.config = repo.config
        self.namespaces = namespaces
        self.opts = opts
        self.removals = removals or {}
        self.plan = Plan()
        self.gateway_ports = _gateway_target_ports(namespaces, self.config, opts)
        self.states: dict[PurePosixPath, ManagedState] = {}

    # ------------------------------------------------------------------ namespace level
    def namespace(self, ns: Namespace) -> tuple[Plan, NamespaceResult]:
        """Plan one namespace. Namespaces touch disjoint files, so their plans are independent."""
        self.plan = Plan()
        result = NamespaceResult(ns.name)
        if ns.suspended and not self.opts.include_suspended:
            result.status = "skipped"
            result.notes.append(
                "every Flux Kustomization of this namespace is suspended (spec.suspend: true); "
                f"'netpol scaffold {ns.name} --include-suspended' scaffolds it anyway"
            )
            self.plan.notes.append(f"{ns.name}: skipped: {'; '.join(result.notes)}")
            return self.plan, result
        for warning in ns.warnings:
            self.plan.warnings.append(f"{ns.name}: {warning}")
        states = self.states = recorded_overlays(self.repo, ns.directory)
        ours = {d / name for d, state in states.items() for name in state.digests}
        recorded = {d: state for d, state in states.items() if state.template == OVERLAY}
        foreign_names = {
            p.name
            for p in ns.policies
            if p.path not in ours and p.kind != "CiliumClusterwideNetworkPolicy"
        }
        self._baseline(ns, result, foreign_names)
        overlays = self._overlay_answers(ns, result, ours, recorded)
        taken = set(foreign_names) | set(BASELINE_POLICIES)
        for directory, (kustomization, answers) in sorted(overlays.items()):
            self._overlay(ns, result, directory, kustomization, answers, taken)
        if not self.plan.changes:
            result.status = "up-to-date"
        for app, why in result.skipped_apps.items():
            self.plan.notes.append(f"{ns.name}/{app}: {why}")
        return self.plan, result

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
        self,
        ns: Namespace,
        result: NamespaceResult,
        ours: set[PurePosixPath],
        recorded: dict[PurePosixPath, ManagedState],
    ) -> Overlays:
        """Each overlay directory's answers: discovered, merged with the recorded ones, plus
        this command line's --allow-fqdn and minus its --remove-fqdn."""
        overlays: Overlays = {}
        targets: dict[PurePosixPath, str] = {}  # directory -> the name --allow-fqdn APP= uses
        explicit = self._fqdns_by_app(ns)
        for app in ns.apps:
            hand_written = [p for p in app.existing_policies if p.path not in ours]
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
            answers = self._app_answers(ns, app)
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
            spec = _removal_spec(key, item)
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

    def _app_answers(self, ns: Namespace, app: App) -> dict[str, Any] | None:
        """What discovery finds for ``app`` (None: nothing)."""
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
            for b in (
                _endpoint_allow(url, self.opts.fqdn_style) for url in cluster.backup_endpoints
            )
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

    def _overlay(
        self,
        ns: Namespace,
        result: NamespaceResult,
        directory: PurePosixPath,
        kustomization: PurePosixPath,
        answers: dict[str, Any],
        taken: set[str],
    ) -> None:
        from scaffolder.policy.schema import validate_text

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
            overwrite=self.opts.overwrite,
            state=self.states.get(directory),
        )
        if PurePosixPath(OVERLAY_FILE) not in outcome.as_recorded:  # else validated when written
            validate_text(text, str(directory / OVERLAY_FILE))
        require_no_conflicts(outcome, command=self.opts.command)
        self.plan.extend(outcome.plan)
        add_text_edit(
            self.plan,
            self.repo.root,
            kustomization,
            [Op("add", "resources", _resource_entry(self.repo.root / kustomization, OVERLAY_FILE))],
            reason=f"list {OVERLAY_FILE}",
        )
        result.overlays.append(app)


def _removal_spec(key: str, item: Any) -> str | None:
    """The ``HOST:PORT[/udp]`` that ``--remove-fqdn`` takes for a recorded entry, if any."""
    if not isinstance(item, dict):
        return None
    if key == "fqdn_egress":
        return describe(key, item)
    ports = item.get("ports")
    if key != "cidr_egress" or not isinstance(ports, list) or len(ports) != 1:
        return None
    try:
        network = ipaddress.ip_network(str(item.get("cidr")))
    except ValueError:
        return None
    if network.prefixlen != network.max_prefixlen:
        return None
    host = network.network_address.compressed
    host = f"[{host}]" if network.version == 6 else host
    return f"{host}:{describe('lan_ports', ports[0])}"


def _in(entries: Any, key: str, identity: str) -> bool:
    return isinstance(entries, list) and any(entry_key(key, e) == identity for e in entries)


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
    from scaffolder.policy.schema import validate_text

    probe = {
        "app_name": "probe",
        "namespace": "probe",
        "selector": {"app.kubernetes.io/name": "probe"},
        "gateway_ports": [{"port": 80, "protocol": "TCP"}],
    }
    validate_text(render(OVERLAY, probe).files[PurePosixPath(OVERLAY_FILE)].decode(), "probe")


def plan_scaffold(repo: Repository, names: list[str], opts: ScaffoldOptions) -> ScaffoldResult:
    """Discover the repository and plan the scaffolding of ``names``."""
    from scaffolder.core.parallel import MIN_ITEMS_PER_JOB, map_chunked

    if opts.fqdn_style not in ("entity", "fqdn"):
        raise NetpolError(f"unknown FQDN style {opts.fqdn_style!r}", hint="use entity or fqdn")
    discovered = {ns.name: ns for ns in repo.discover(required=names)}
    missing = [name for name in names if name not in discovered]
    if missing:
        raise RepoError(f"namespace {missing[0]!r} was not found by discovery")
    selected = [discovered[name] for name in names]
    recorded = _check_targets(repo, selected, opts)
    removals = _plan_removals(selected, recorded, opts.removals)
    scaffolder = _Scaffolder(repo, discovered, opts, removals)
    if len(names) >= BULK_NAMESPACES:
        from scaffolder.policy.schema import enable_bulk_mode
        from scaffolder.templates.render import enable_render_memo

        enable_bulk_mode()
        enable_render_memo()
    if len(names) >= 2 * MIN_ITEMS_PER_JOB:
        _warm_caches()  # once, before workers fork, instead of once per worker
    repo.managed_directories()  # found once, before workers fork
    plan = Plan()
    results = []

    def plan_one(name: str) -> tuple[Plan, NamespaceResult]:
        with cached_realpaths():  # planning reads the tree, never changes it
            return scaffolder.namespace(discovered[name])

    for fragment, result in map_chunked(plan_one, names):
        plan.extend(fragment)
        results.append(result)
    return ScaffoldResult(plan, results)


def _check_targets(
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


def _plan_removals(
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
                    for spec in [_removal_spec(key, item)]
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
