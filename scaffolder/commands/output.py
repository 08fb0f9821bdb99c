"""How results reach the user: rich text on a terminal, plain text in pipes, JSON on request."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from scaffolder.edit.plan import Plan


def _console(err: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if err else sys.stdout
    return Console(file=stream, highlight=False, soft_wrap=True)


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner on stderr while long work runs, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    with _console(err=True).status(message):
        yield


def info(message: str) -> None:
    click.echo(message)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def show_diff(plan: Plan) -> None:
    """Print the plan's unified diff, coloured on a terminal only."""
    diff = plan.diff()
    if not diff:
        return
    if not sys.stdout.isatty():
        click.echo(diff, nl=False)
        return
    from rich.syntax import Syntax

    _console().print(Syntax(diff, "diff", theme="ansi_dark", background_color="default"))


def summarize(plan: Plan, *, verb: str) -> None:
    """A short table of what was (or would be) written."""
    changes = plan.effective
    if not changes:
        return
    if not sys.stdout.isatty():  # one write: a plan can have 10,000 lines
        click.echo("".join(f"{verb} {c.action.value:<6} {c.path}\n" for c in changes), nl=False)
        return
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("action")
    table.add_column("file")
    table.add_column("why")
    for change in changes:
        table.add_row(change.action.value, str(change.path), change.reason)
    _console().print(table)


def report(
    plan: Plan, *, root: Path, dry_run: bool, as_json: bool, extra: dict[str, Any] | None = None
) -> None:
    """The standard ending of every writing command: apply or show the plan, then say so."""
    if as_json:
        payload: dict[str, Any] = {"dry_run": dry_run, "root": str(root), **(extra or {})}
        payload.update(plan.to_json())
        if not dry_run:
            plan.apply(root)
        emit_json(payload)
        return
    for warning in plan.warnings:
        warn(warning)
    if dry_run:
        show_diff(plan)
    else:
        plan.apply(root)
        summarize(plan, verb="wrote")
    for note in plan.notes:
        info(note)
    if not plan:
        info("nothing to do: everything is already in place")
    elif dry_run:
        info(f"dry run: {len(plan.effective)} file(s) would change; nothing was written")
