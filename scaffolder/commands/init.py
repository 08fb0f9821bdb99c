"""``netpol init [REPO]``."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import click

from scaffolder.commands import options
from scaffolder.commands.output import info, report
from scaffolder.core.errors import RepoError
from scaffolder.repo.config import DNS1123_LABEL, GITHUB_REPO, NAMESPACE_WORDS

if TYPE_CHECKING:
    from scaffolder.cli import AppContext

    _ParamType = click.ParamType[str, Any]  # generic since click 8.2
else:
    _ParamType = click.ParamType


class _Checked(_ParamType):
    """A string option checked like its netpol.yaml key, explained in the same words
    (a bad value is a usage error blamed on the option)."""

    def __init__(self, name: str, valid: Any, description: str) -> None:
        self.name = name
        self.valid = valid
        self.description = description

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, str) and self.valid(value):
            return value
        self.fail(f"{value!r} is not {self.description}", param, ctx)


NAMESPACE = _Checked(
    "namespace", lambda v: len(v) <= 63 and DNS1123_LABEL.match(v) is not None, NAMESPACE_WORDS
)
GITHUB = _Checked(
    "owner/name",
    lambda v: GITHUB_REPO.match(v) is not None,
    "a GitHub repository as owner/name, e.g. me/home-ops",
)
BRANCH = _Checked(
    "branch",
    lambda v: re.fullmatch(r"(?!-)(?!.*\.\.)[^\s~^:?*\[\\]+(?<![/.])", v) is not None,
    "a branch name (no spaces, no '..', none of ~^:?*[\\), e.g. main",
)


@click.command("init")
@click.argument(
    "repo", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--apps-dir",
    help="Namespaces directory, relative to the repo (default: detected, e.g. kubernetes/apps).",
)
@click.option(
    "--components-dir", help="Where to render components (default: <apps-dir>/../components)."
)
@click.option(
    "--monitoring-namespace",
    type=NAMESPACE,
    help="Namespace of Prometheus (default: observability).",
)
@click.option(
    "--dns-namespace", type=NAMESPACE, help="Namespace of cluster DNS (default: kube-system)."
)
@click.option(
    "--gateway-namespace",
    type=NAMESPACE,
    help="Namespace of the Gateway API data plane (default: network).",
)
@click.option(
    "--apiserver-port",
    type=click.IntRange(1, 65535),
    help="kube-apiserver port after socket-LB (default: 6443).",
)
@click.option(
    "--mode", type=click.Choice(["enforce", "audit"]), help="default-deny mode (default: enforce)."
)
@click.option(
    "--github-repo",
    type=GITHUB,
    help="owner/name for pull requests (default: from the origin remote).",
)
@click.option(
    "--base", "github_base", type=BRANCH, help="Base branch for pull requests (default: main)."
)
@options.overwrite("Rewrite netpol.yaml and replace locally edited or hand-made components.")
@options.dry_run
@options.json_output
@click.pass_obj
def command(
    app: AppContext,
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
    from scaffolder.repo.repository import find_root
    from scaffolder.workflows.lifecycle import plan_init

    root = (repo or app.start()).resolve()
    if repo is None:
        root = find_root(root)
    overrides = _overrides(answers)
    if apps_dir is not None:
        apps_dir = _directory_inside(root, apps_dir, "--apps-dir", must_exist=True)
    if components_dir is not None:
        components_dir = _directory_inside(root, components_dir, "--components-dir")
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
    """Config overrides from the command line (their option types validated them)."""
    return {k: v for k, v in answers.items() if v is not None}


def _directory_inside(root: Path, value: str, option: str, *, must_exist: bool = False) -> str:
    """``value`` as a path relative to ``root``, refusing paths outside the repository and,
    for ``must_exist``, missing directories (an absolute path inside the repo is accepted)."""
    given = Path(value).expanduser()
    absolute = Path(os.path.normpath(given if given.is_absolute() else root / given))
    real_root = os.path.realpath(root)
    real = os.path.realpath(absolute)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise RepoError(
            f"{option} {value}: must be a directory inside the repository {root}",
            hint="give a path relative to the repository root, e.g. "
            + ("kubernetes/apps" if option == "--apps-dir" else "kubernetes/components"),
        )
    rel = PurePosixPath(Path(os.path.relpath(absolute, root)).as_posix())
    # Every existing part of the path must be a directory (a file in the way breaks writes).
    for part in (*reversed(rel.parents), rel):
        here = root / part
        if here.exists() and not here.is_dir():
            raise RepoError(f"{option} {value}: {part} is not a directory")
    if must_exist and not absolute.is_dir():
        raise RepoError(
            f"{option} {value}: the directory {rel} does not exist in {root}",
            hint="give the directory holding <namespace>/kustomization.yaml, relative to the "
            "repository root",
        )
    return str(rel)
