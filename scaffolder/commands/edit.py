"""``netpol edit FILE``: a comment-preserving ``kustomize edit``."""

from __future__ import annotations

from pathlib import Path

import click

from scaffolder.commands import options
from scaffolder.commands.output import report


@click.command("edit")
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "--add-component",
    "add_components",
    multiple=True,
    metavar="PATH",
    help="Add to components: (repeatable).",
)
@click.option(
    "--remove-component",
    "remove_components",
    multiple=True,
    metavar="PATH",
    help="Remove from components: (repeatable).",
)
@click.option(
    "--add-resource",
    "add_resources",
    multiple=True,
    metavar="PATH",
    help="Add to resources: (repeatable).",
)
@click.option(
    "--remove-resource",
    "remove_resources",
    multiple=True,
    metavar="PATH",
    help="Remove from resources: (repeatable).",
)
@options.dry_run
@options.json_output
def command(
    file: Path,
    add_components: tuple[str, ...],
    remove_components: tuple[str, ...],
    add_resources: tuple[str, ...],
    remove_resources: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Add or remove components:/resources: entries of a kustomization in place.

    Unlike 'kustomize edit', every comment, blank line, quote and indentation style
    is kept; only the lines of the entries change. FILE may be a kustomization file or
    its directory. Adding a present entry or removing an absent one is a no-op (exit 0).
    """
    from scaffolder.edit.edits import plan_kustomization_edit
    from scaffolder.edit.kustomization import Op

    ops = [
        *(Op("add", "components", p) for p in add_components),
        *(Op("remove", "components", p) for p in remove_components),
        *(Op("add", "resources", p) for p in add_resources),
        *(Op("remove", "resources", p) for p in remove_resources),
    ]
    if not ops:
        raise click.UsageError("nothing to do: give at least one --add-*/--remove-* option")
    plan, root = plan_kustomization_edit(file, ops)
    report(plan, root=root, dry_run=dry_run, as_json=as_json, extra={"file": str(file)})
