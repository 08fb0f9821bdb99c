"""``netpol init [REPO]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import options
from ..output import info, report


@click.command("init")
@click.argument("repo", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--apps-dir",
    help="Namespaces directory, relative to the repo (default: detected, e.g. kubernetes/apps).",
)
@click.option(
    "--components-dir", help="Where to render components (default: <apps-dir>/../components)."
)
@click.option("--monitoring-namespace", help="Namespace of Prometheus (default: observability).")
@click.option("--dns-namespace", help="Namespace of cluster DNS (default: kube-system).")
@click.option(
    "--gateway-namespace", help="Namespace of the Gateway API data plane (default: network)."
)
@click.option(
    "--apiserver-port", type=int, help="kube-apiserver port after socket-LB (default: 6443)."
)
@click.option(
    "--mode", type=click.Choice(["enforce", "audit"]), help="default-deny mode (default: enforce)."
)
@click.option(
    "--github-repo", help="owner/name for pull requests (default: from the origin remote)."
)
@click.option("--base", "github_base", help="Base branch for pull requests (default: main).")
@options.overwrite("Rewrite netpol.yaml and replace locally edited or hand-made components.")
@options.dry_run
@options.json_output
@click.pass_obj
def command(
    app: Any,
    /,
    repo: Path | None,
    apps_dir: str | None,
    components_dir: str | None,
    overwrite: bool,
    dry_run: bool,
    as_json: bool,
    **answers: Any,
) -> None:
    """Set up netpol in a Flux repository.

    Detects the layout (kubernetes/apps/<ns>/kustomization.yaml by default), writes a
    commented netpol.yaml and renders the network-policy/baseline and
    network-policy/default-deny components with copier. Components that already exist
    without netpol's answers file are adopted: kept byte for byte. Running it again
    changes nothing.
    """
    from ..lifecycle import plan_init
    from ..repo import find_root

    root = (repo or app.start()).resolve()
    if repo is None:
        root = find_root(root)
    overrides = _overrides(answers)
    result = plan_init(
        root,
        apps_dir=apps_dir,
        components_dir=components_dir,
        overwrite=overwrite,
        overrides=overrides,
    )
    extra = {
        "config": result.config.to_json(),
        "namespaces": list(result.layout.namespaces),
        "adopted": [str(p) for p in result.adopted],
    }
    if as_json:
        report(result.plan, root=root, dry_run=dry_run, as_json=True, extra=extra)
        return
    info(f"repository: {root}")
    info(
        f"apps dir: {result.layout.apps_dir} ({len(result.layout.namespaces)} namespaces); "
        f"components dir: {result.config.components_dir}"
    )
    report(result.plan, root=root, dry_run=dry_run, as_json=False)
    if not dry_run and result.plan:
        info("next: 'netpol scaffold <namespace>' adds the baseline and per-app allow policies")


def _overrides(answers: dict[str, Any]) -> dict[str, Any]:
    """Validated config overrides from the command line (bad values fail like a bad netpol.yaml)."""
    from pathlib import Path as _Path

    from ..config import Config, config_from_mapping, render_config
    from ..yamlio import parse_documents

    mapping = {
        "monitoring_namespace": answers.get("monitoring_namespace"),
        "dns_namespace": answers.get("dns_namespace"),
        "gateway_namespace": answers.get("gateway_namespace"),
        "apiserver_port": answers.get("apiserver_port"),
        "mode": answers.get("mode"),
        "github_repo": answers.get("github_repo"),
        "github_base": answers.get("github_base"),
    }
    overrides = {k: v for k, v in mapping.items() if v is not None}
    # Round-trip through the config schema so a bad value gets the same one-line error.
    candidate = Config(**overrides)
    config_from_mapping(
        parse_documents(render_config(candidate), "options")[0], _Path("command line")
    )
    return overrides
