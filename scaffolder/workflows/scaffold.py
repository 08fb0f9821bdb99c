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
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import NetpolError, RepoError
from scaffolder.core.fs import cached_realpaths
from scaffolder.edit.edits import add_text_edit
from scaffolder.edit.kustomization import Op, normalize_entry, relative_entry
from scaffolder.edit.plan import Plan
from scaffolder.repo.model import Namespace
from scaffolder.repo.repository import Repository
from scaffolder.templates.managed import ManagedState, plan_rendering, require_no_conflicts
from scaffolder.templates.render import OVERLAY, render, render_reusing
from scaffolder.workflows.fqdn import FqdnAllow
from scaffolder.workflows.needs import (
    OVERLAY_FILE,
    NamespaceResult,
    Needs,
    ScaffoldOptions,
    check_targets,
    plan_removals,
    recorded_overlays,
)

__all__ = [
    "OVERLAY_FILE",
    "FqdnAllow",
    "NamespaceResult",
    "ScaffoldOptions",
    "ScaffoldResult",
    "plan_scaffold",
    "recorded_overlays",
    "select_namespaces",
]

BULK_NAMESPACES = 200  # from here on, compiling the CRD schema once pays for itself
BASELINE_POLICIES = (
    "allow-dns",
    "allow-apiserver",
    "allow-intra-namespace",
    "allow-monitoring-scrape",
    "allow-host-probes",
)


@dataclass
class ScaffoldResult:
    """``plan`` is every namespace's plan merged (for ``--all`` and output); each
    :class:`NamespaceResult` carries its own plan and commit message."""

    plan: Plan
    namespaces: list[NamespaceResult]

    @property
    def plans(self) -> dict[str, Plan]:
        """One plan per namespace, in the order planned: each touches only its namespace."""
        return {r.name: r.plan for r in self.namespaces}


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
        self.needs = Needs(repo, namespaces, opts, removals)
        self.plan = Plan()
        self.states: dict[PurePosixPath, ManagedState] = {}

    # ------------------------------------------------------------------ namespace level
    def namespace(self, ns: Namespace) -> NamespaceResult:
        """Plan one namespace. Namespaces touch disjoint files, so their plans are independent."""
        self.plan = Plan()
        result = NamespaceResult(ns.name, plan=self.plan)
        if ns.suspended and not self.opts.include_suspended:
            result.status = "skipped"
            result.notes.append(
                "every Flux Kustomization of this namespace is suspended (spec.suspend: true); "
                f"'netpol scaffold {ns.name} --include-suspended' scaffolds it anyway"
            )
            self.plan.notes.append(f"{ns.name}: skipped: {'; '.join(result.notes)}")
            return result
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
        overlays = self.needs.overlay_answers(ns, result, ours, recorded, self.plan)
        taken = set(foreign_names) | set(BASELINE_POLICIES)
        for directory, (kustomization, answers) in sorted(overlays.items()):
            self._overlay(ns, result, directory, kustomization, answers, taken)
        if not self.plan.changes:
            result.status = "up-to-date"
        for app, why in result.skipped_apps.items():
            self.plan.notes.append(f"{ns.name}/{app}: {why}")
        return result

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
    repo.managed_directories()  # found once, before workers fork
    missing = [name for name in names if name not in discovered]
    if missing:
        raise RepoError(f"namespace {missing[0]!r} was not found by discovery")
    selected = [discovered[name] for name in names]
    recorded = check_targets(repo, selected, opts)
    removals = plan_removals(selected, recorded, opts.removals)
    scaffolder = _Scaffolder(repo, discovered, opts, removals)
    if len(names) >= BULK_NAMESPACES:
        from scaffolder.policy.schema import enable_bulk_mode
        from scaffolder.templates.render import enable_render_memo

        enable_bulk_mode()
        enable_render_memo()
    if len(names) >= 2 * MIN_ITEMS_PER_JOB:
        _warm_caches()  # once, before workers fork, instead of once per worker
    plan = Plan()
    results = []

    def plan_one(name: str) -> NamespaceResult:
        with cached_realpaths():  # planning reads the tree, never changes it
            return scaffolder.namespace(discovered[name])

    for result in map_chunked(plan_one, names):
        plan.extend(result.plan)
        results.append(result)
    plan.notes.extend(_clusterwide_notes(discovered.values()))
    return ScaffoldResult(plan, results)


def _clusterwide_notes(namespaces: Iterable[Namespace]) -> list[str]:
    """Cluster-wide policies found in the repository: they apply to every namespace, so
    what they allow is not repeated per app; each is named once, for review."""
    found = sorted(
        {
            (str(p.path), p.name)
            for ns in namespaces
            for p in ns.policies
            if p.kind == "CiliumClusterwideNetworkPolicy"
        }
    )
    return [
        f"cluster-wide policy {name} ({path}) applies to every namespace; netpol's "
        "overlays come on top of it: check the two together"
        for path, name in found
    ]
