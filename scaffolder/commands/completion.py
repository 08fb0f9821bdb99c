"""``netpol completion bash|zsh|fish``: print the shell completion script."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

SHELLS = ("bash", "zsh", "fish")
PROG = "netpol"
COMPLETE_VAR = "_NETPOL_COMPLETE"


@click.command("completion")
@click.argument("shell", metavar="SHELL", type=click.Choice(SHELLS))
def command(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
      bash:  eval "$(netpol completion bash)"        (in ~/.bashrc)
      zsh:   eval "$(netpol completion zsh)"         (in ~/.zshrc)
      fish:  netpol completion fish > ~/.config/fish/completions/netpol.fish

    Commands, options and the namespaces of the repository complete.
    """
    from click.shell_completion import get_completion_class

    from scaffolder.cli import cli

    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # click warns when it cannot find bash's version
        source = completion_class(cli, {}, PROG, COMPLETE_VAR).source()
    click.echo(source)


def complete_namespaces(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The repository's namespaces starting with ``incomplete``; never fails (a completion
    that errors would print a traceback into the user's prompt)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = _namespaces(ctx)
        given = set(ctx.params.get(param.name or "") or ())
        return [CompletionItem(n) for n in names if n.startswith(incomplete) and n not in given]
    except Exception:
        return []


def _namespaces(ctx: click.Context) -> list[str]:
    from scaffolder.repo.repository import Repository

    repo_option: Any = ctx.find_root().params.get("repo")
    repo = Repository.load(Path(repo_option) if repo_option else Path.cwd())
    names = repo.namespaces()
    if ctx.params.get("include_out_of_scope"):
        return names
    return [n for n in names if n not in repo.config.out_of_scope]
