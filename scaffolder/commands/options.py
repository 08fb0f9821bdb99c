"""Options shared by every command that writes (one definition, one behaviour)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def dry_run(func: F) -> F:
    return click.option(
        "--dry-run", "-n", is_flag=True, help="Print a unified diff of every change; write nothing."
    )(func)


def json_output(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print a machine-readable result.")(
        func
    )


def overwrite(help_text: str) -> Callable[[F], F]:
    """``--overwrite``: replace files netpol renders that were edited or written by hand.

    One meaning in every command (init, upgrade, scaffold); nothing else is called --force.
    """

    def decorate(func: F) -> F:
        return click.option("--overwrite", is_flag=True, help=help_text)(func)

    return decorate
