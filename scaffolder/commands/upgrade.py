"""``netpol upgrade``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from scaffolder.commands import options
from scaffolder.commands.output import info, report

if TYPE_CHECKING:
    from scaffolder.cli import AppContext


@click.command("upgrade")
@options.overwrite("Replace locally edited files and take over hand-made components.")
@options.dry_run
@options.json_output
@click.pass_obj
def command(app: AppContext, overwrite: bool, dry_run: bool, as_json: bool) -> None:
    """Re-render every netpol-managed file from the current templates.

    Recorded answers are kept. A file edited by hand since netpol wrote it is a
    conflict: nothing is written and the files are listed (--overwrite replaces them).
    """
    from scaffolder.templates.managed import RenderOutcome, require_no_conflicts
    from scaffolder.workflows.lifecycle import plan_upgrade

    repo = app.load_repo()
    result = plan_upgrade(repo, overwrite=overwrite)
    require_no_conflicts(RenderOutcome(result.plan, result.conflicts), command="netpol upgrade")
    extra = {
        "managed": [str(p) for p in result.managed],
        "adopted": [str(p) for p in result.adopted],
    }
    if as_json:
        report(result.plan, root=repo.root, dry_run=dry_run, as_json=True, extra=extra)
        return
    info(f"{len(result.managed)} managed director{'y' if len(result.managed) == 1 else 'ies'}")
    report(result.plan, root=repo.root, dry_run=dry_run, as_json=False)
