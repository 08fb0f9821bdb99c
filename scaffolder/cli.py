"""Command-line wiring only: the ``netpol`` group, global options, error handling.

Subcommands are loaded lazily (``netpol --help`` imports neither copier, git nor
github, nor any command module). Every option can also be set through an
environment variable ``NETPOL_<COMMAND>_<OPTION>`` / ``NETPOL_<OPTION>``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import NetpolError

# name -> (module, short help); modules expose ``command``.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "scaffolder.commands.init",
        "Set up netpol in a Flux repo: write netpol.yaml, render the components.",
    ),
    "upgrade": (
        "scaffolder.commands.upgrade",
        "Re-render the components from the current templates, keeping answers.",
    ),
    "scaffold": (
        "scaffolder.commands.scaffold",
        "Add the baseline and per-app allow policies to namespaces.",
    ),
    "edit": (
        "scaffolder.commands.edit",
        "Add/remove kustomization entries in place, keeping every comment.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked, and which maps
    errors to one line and an exit code (so CliRunner tests see exactly what users see)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> None:
        argv = list(args) if args is not None else sys.argv[1:]
        debug = "--debug" in argv
        try:
            super().main(argv, prog_name or "netpol", complete_var, standalone_mode=False, **extra)
        except NetpolError as exc:
            click.echo(f"netpol: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("netpol: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except Exception as exc:
            if debug:
                raise
            click.echo(
                f"netpol: internal error: {type(exc).__name__}: {exc} "
                "(rerun with --debug and report it)",
                err=True,
            )
            sys.exit(3)
        sys.exit(0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        command: click.Command = module.command
        _environment_names(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from the registry, so ``--help`` imports none of them."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _environment_names(command: click.Command, cmd_name: str) -> None:
    """Every option reads ``NETPOL_<COMMAND>_<OPTION>`` and, failing that, ``NETPOL_<OPTION>``
    (``NETPOL_DRY_RUN=1`` makes every writing command a dry run)."""
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar is None and param.name:
            option = param.name.upper()
            command_name = cmd_name.upper().replace("-", "_")
            param.envvar = [f"NETPOL_{command_name}_{option}", f"NETPOL_{option}"]


@dataclass
class AppContext:
    """Global state shared by every command via ``click.Context.obj``."""

    repo_option: Path | None
    debug: bool

    def start(self) -> Path:
        return self.repo_option if self.repo_option is not None else Path.cwd()

    def load_repo(self) -> Any:
        from .repo import Repo

        return Repo.load(self.start())


@click.group(
    cls=LazyGroup,
    context_settings={"auto_envvar_prefix": "NETPOL", "help_option_names": ["-h", "--help"]},
)
@click.option(
    "-C",
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run as if started in this directory (default: the nearest directory upward "
    "holding netpol.yaml, else the git top level).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.version_option(__version__, "--version", prog_name="netpol")
@click.pass_context
def cli(ctx: click.Context, repo: Path | None, debug: bool) -> None:
    """Roll out Cilium network policies in a Flux/Kustomize GitOps repository,
    one namespace and one pull request at a time.

    \b
    Typical use:
      netpol init                  write netpol.yaml, render the components
      netpol scaffold media        baseline + per-app allow policies for a namespace
      netpol edit FILE --add-component ../../components/x

    Every option can be set in the environment: NETPOL_<OPTION> or
    NETPOL_<COMMAND>_<OPTION> (e.g. NETPOL_REPO, NETPOL_DRY_RUN=1).

    Shell completion: eval "$(_NETPOL_COMPLETE=bash_source netpol)"
    (zsh_source / fish_source for other shells).
    """
    ctx.obj = AppContext(repo, debug)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="netpol")
