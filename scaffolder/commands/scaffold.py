"""``netpol scaffold NAMESPACE... | --all``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import click

from scaffolder.commands import options
from scaffolder.commands.completion import complete_namespaces
from scaffolder.commands.output import report, working

if TYPE_CHECKING:
    from scaffolder.cli import AppContext


@click.command("scaffold")
@click.argument("namespaces", nargs=-1, shell_complete=complete_namespaces)
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Every in-scope namespace (netpol.yaml out_of_scope excluded).",
)
@click.option(
    "--allow-fqdn",
    "fqdns",
    multiple=True,
    metavar="[APP=]HOST:PORT[/udp]",
    help="Allow an app egress to an external host (repeatable).",
)
@click.option(
    "--remove-fqdn",
    "removals",
    multiple=True,
    metavar="[APP=]HOST:PORT[/udp]",
    help="Remove an external host recorded by an earlier --allow-fqdn (repeatable).",
)
@click.option(
    "--fqdn-style",
    type=click.Choice(["entity", "fqdn"]),
    default="entity",
    show_default=True,
    help="entity: toEntities [world] + port (works for canonical FQDNs); fqdn: toFQDNs matchName. "
    "IP addresses always become toCIDR.",
)
@click.option(
    "--gateway-target-port",
    "gateway_ports",
    type=click.IntRange(1, 65535),
    multiple=True,
    help="The gateway pods' listening port for oauth2-proxy egress (default: discovered, e.g. 10443).",
)
@click.option(
    "--verify", is_flag=True, help="Build every touched kustomization with kubectl before writing."
)
@click.option(
    "--include-out-of-scope",
    is_flag=True,
    help="Scaffold the named namespaces even if netpol.yaml lists them as out of scope.",
)
@click.option(
    "--include-suspended",
    is_flag=True,
    help="Scaffold namespaces whose Flux Kustomizations are all suspended.",
)
@options.overwrite("Replace locally edited overlays (cnp-netpol.yaml) with netpol's rendering.")
@options.dry_run
@options.json_output
@click.pass_obj
def command(
    app: AppContext,
    namespaces: tuple[str, ...],
    all_: bool,
    fqdns: tuple[str, ...],
    removals: tuple[str, ...],
    fqdn_style: str,
    gateway_ports: tuple[int, ...],
    verify: bool,
    include_out_of_scope: bool,
    include_suspended: bool,
    overwrite: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Add the baseline component and per-app allow policies to namespaces.

    Discovers each namespace's apps (HelmReleases, workloads, HTTPRoutes, CNPG clusters,
    LoadBalancer services, oauth2-proxy) and renders their allow policies next to them.
    Never adds default-deny. Idempotent: a second run has nothing to do. What an app's
    answers file records (earlier --allow-fqdn, hand edits) is kept; --remove-fqdn removes
    an external host.
    """
    from scaffolder.workflows.scaffold import (
        FqdnAllow,
        ScaffoldOptions,
        plan_scaffold,
        select_namespaces,
    )

    if all_ and namespaces:
        raise click.UsageError("give namespaces or --all, not both")
    if not all_ and not namespaces:
        raise click.UsageError("no namespace given: name one or more namespaces, or pass --all")
    allows = [FqdnAllow.parse(f) for f in fqdns]
    removes = [FqdnAllow.parse(r, "--remove-fqdn") for r in removals]
    repo = app.load_repo()
    names = select_namespaces(repo, namespaces, all_, include_out_of_scope)
    rerun = ["netpol", "scaffold", *(namespaces or ["--all"])]
    rerun += [arg for f in fqdns for arg in ("--allow-fqdn", f)]
    rerun += [arg for r in removals for arg in ("--remove-fqdn", r)]
    rerun += ["--fqdn-style", fqdn_style] if fqdn_style != "entity" else []
    rerun += [arg for p in gateway_ports for arg in ("--gateway-target-port", str(p))]
    rerun += ["--include-out-of-scope"] if include_out_of_scope else []
    rerun += ["--include-suspended"] if include_suspended else []
    opts = ScaffoldOptions(
        overwrite=overwrite,
        include_suspended=include_suspended,
        fqdns=allows,
        removals=removes,
        fqdn_style=fqdn_style,
        gateway_target_ports=list(gateway_ports),
        command=shlex.join(rerun),
    )
    with working(f"planning {len(names)} namespace(s)"):
        result = plan_scaffold(repo, names, opts)
    if all_:
        result.plan.notes.extend(repo.dormant_notes())  # left out of --all, and why
    if verify and result.plan:
        from scaffolder.workflows.verify import verify_plan

        built = verify_plan(repo.root, result.plan, [repo.config.apps_dir / n for n in names])
        result.plan.notes.append(f"verified: kubectl kustomize builds {len(built)} director(ies)")
    extra = {"namespaces": [r.to_json() for r in result.namespaces]}
    if as_json:
        report(result.plan, root=repo.root, dry_run=dry_run, as_json=True, extra=extra)
        return
    lines = []  # printed at once: one write for a thousand namespaces
    for r in result.namespaces:
        overlays = ", ".join(r.overlays) or "none"
        if r.status == "up-to-date":
            lines.append(f"{r.name}: up to date\n")
        elif r.status != "skipped":
            lines.append(f"{r.name}: baseline {r.baseline or 'n/a'}; allow policies: {overlays}\n")
        for app_name, coverage in sorted(r.coverage.items()):
            if coverage.unknown:  # what the repository does not say: never hidden
                lines.append(
                    f"  {app_name}: {coverage.status}: {'; '.join(coverage.unknown[:3])}"
                    + (f" (+{len(coverage.unknown) - 3} more)" if len(coverage.unknown) > 3 else "")
                    + "\n"
                )
    if lines:
        click.echo("".join(lines), nl=False)
    report(result.plan, root=repo.root, dry_run=dry_run, as_json=False)
