"""Command-line wiring only: the ``netpol`` group, global options, error handling.

Subcommands are loaded lazily (``netpol --help`` imports neither copier, git nor
github, nor any command module). Every option can also be set through an
environment variable ``NETPOL_<COMMAND>_<OPTION>`` / ``NETPOL_<OPTION>``.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import sys
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scaffolder import __version__
from scaffolder.core.errors import NetpolError

if TYPE_CHECKING:
    from scaffolder.repo.repository import Repository

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
    "completion": (
        "scaffolder.commands.completion",
        "Print the shell completion script (bash, zsh or fish).",
    ),
}

_TRUE = {"1", "true", "t", "yes", "y", "on"}
# GitHub tokens (classic and fine-grained), credentials in URLs.
_SECRETS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"
)
_TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "NETPOL_GITHUB_TOKEN", "NETPOL_TOKEN")


def redact(text: str) -> str:
    """``text`` with anything that looks like a token or URL credential replaced by ``***``."""
    text = _SECRETS.sub("***", text)
    for name in _TOKEN_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= 8:
            text = text.replace(value, "***")
    return text


def _json_requested(argv: Sequence[str]) -> bool:
    """``--json`` on the command line (before ``--``); the environment is checked once the
    command is known (:meth:`LazyGroup.resolve_command`)."""
    words = list(argv)
    if "--" in words:
        words = words[: words.index("--")]
    return "--json" in words


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked, and which maps
    errors to one line and an exit code (so CliRunner tests see exactly what users see).

    With ``--json``, an error is also a JSON object on stdout:
    ``{"error": ..., "hint": ..., "exit_code": ...}``.
    """

    json_errors = False

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> None:
        argv = list(args) if args is not None else sys.argv[1:]
        debug = "--debug" in argv or os.environ.get("NETPOL_DEBUG", "").lower() in _TRUE
        self.json_errors = _json_requested(argv)
        with warnings.catch_warnings():
            # Library warnings (ruamel.yaml's ReusedAnchorWarning, deprecations) are not the
            # user's business; --debug shows them.
            warnings.simplefilter("default" if debug else "ignore")
            code = self._run(argv, complete_var, debug, **extra)
        sys.exit(code)

    def _run(
        self,
        argv: list[str],
        complete_var: str | None,
        debug: bool,
        **extra: Any,
    ) -> int:
        """Run the command; every failure becomes one line on stderr and an exit code."""
        try:
            # Always "netpol" (CliRunner would say "cli"): messages and _NETPOL_COMPLETE.
            super().main(argv, "netpol", complete_var, standalone_mode=False, **extra)
        except NetpolError as exc:
            if debug:
                self._traceback(exc)
            return self._fail(exc.message, exc.hint, exc.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt):
            return self._fail("interrupted", None, 130, prefix="netpol: ")
        except click.ClickException as exc:
            if self.json_errors:
                self._json(exc.format_message(), _usage_hint(exc), exc.exit_code)
            shown = io.StringIO()
            exc.show(file=shown)
            click.echo(redact(shown.getvalue()), err=True, nl=False)
            return exc.exit_code
        except click.exceptions.Exit as exc:
            return exc.exit_code
        except PermissionError as exc:
            if debug:
                self._traceback(exc)
            where = exc.filename or "a file"
            return self._fail(
                f"cannot access {where}: permission denied",
                "check the permissions of the repository's files",
                1,
            )
        except Exception as exc:
            if debug:
                self._traceback(exc)
            return self._fail(
                f"internal error: {type(exc).__name__}: {exc}",
                "rerun with --debug and report it",
                3,
                prefix="netpol: ",
            )
        return 0

    def _fail(
        self, message: str, hint: str | None, code: int, *, prefix: str = "netpol: error: "
    ) -> int:
        line = f"{message} ({hint})" if hint else message
        click.echo(redact(f"{prefix}{line}"), err=True)
        if self.json_errors:
            self._json(message, hint, code)
        return code

    @staticmethod
    def _json(message: str, hint: str | None, code: int) -> None:
        payload = {
            "error": redact(message),
            "hint": redact(hint) if hint else None,
            "exit_code": code,
        }
        click.echo(json.dumps(payload, indent=2))

    @staticmethod
    def _traceback(exc: BaseException) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        click.echo(redact(text), err=True, nl=False)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        command: click.Command = module.command
        _environment_names(command, cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and _wants_json_from_environment(command, name):
            self.json_errors = True
        return name, command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from the registry, so ``--help`` imports none of them."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _usage_hint(exc: click.ClickException) -> str | None:
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return None
    return f"see '{ctx.command_path} --help'"


def _wants_json_from_environment(command: click.Command, name: str | None) -> bool:
    """The command has ``--json`` and its environment variable turns it on."""
    for param in command.params:
        if isinstance(param, click.Option) and "--json" in param.opts:
            envvars = param.envvar if isinstance(param.envvar, list) else [param.envvar]
            return any(
                os.environ.get(str(var), "").strip().lower() in _TRUE for var in envvars if var
            )
    return False


def _environment_names(command: click.Command, cmd_name: str) -> None:
    """Every option reads ``NETPOL_<COMMAND>_<OPTION>`` and, failing that, ``NETPOL_<OPTION>``,
    named after its long flag (``NETPOL_DRY_RUN=1`` makes every writing command a dry run,
    ``NETPOL_JSON=1`` is ``--json``)."""
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar is None and param.name:
            flags = [o for o in param.opts if o.startswith("--")]
            option = (max(flags, key=len)[2:] if flags else param.name).upper().replace("-", "_")
            command_name = cmd_name.upper().replace("-", "_")
            param.envvar = [f"NETPOL_{command_name}_{option}", f"NETPOL_{option}"]


@dataclass
class AppContext:
    """Global state shared by every command via ``click.Context.obj``."""

    repo_option: Path | None
    debug: bool

    def start(self) -> Path:
        return self.repo_option if self.repo_option is not None else Path.cwd()

    def load_repo(self) -> Repository:
        """The repository of the command, loaded once per call."""
        from scaffolder.repo.repository import Repository

        return Repository.load(self.start())


@click.group(
    cls=LazyGroup,
    context_settings={"auto_envvar_prefix": "NETPOL", "help_option_names": ["-h", "--help"]},
)
@click.option(
    "-C",
    "--repo",
    "repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Run as if started in this directory (default: the nearest directory upward "
    "holding netpol.yaml, else the git top level).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and library warnings for every error.")
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

    Shell completion: eval "$(netpol completion bash)" (or zsh, fish).
    """
    ctx.obj = AppContext(repo, debug)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="netpol")
