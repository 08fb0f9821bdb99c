"""CLI conventions every command follows."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import click
import pytest

from scaffolder import __version__
from scaffolder.core.errors import ConfigError

from .conftest import ROOT, snapshot


def test_help_does_not_import_copier_git_or_github() -> None:
    code = (
        "import sys\n"
        "from scaffolder.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'copier', 'git', 'github', 'jinja2', 'rich'})\n"
        "heavy += sorted(m for m in sys.modules if m.startswith('scaffolder.commands.'))\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "Commands:" in out and "scaffold" in out and "init" in out
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_version(netpol) -> None:
    result = netpol("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"netpol, version {__version__}"


def test_unknown_command_is_a_usage_error(netpol) -> None:
    result = netpol("frobnicate")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_missing_config_is_one_line_exit_1(netpol, tmp_path: Path) -> None:
    result = netpol("-C", tmp_path, "upgrade")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("netpol: error: no netpol.yaml")
    assert "netpol init" in result.stderr
    assert "Traceback" not in result.output


def test_repo_option_from_environment(netpol, tmp_path: Path) -> None:
    result = netpol("upgrade", env={"NETPOL_REPO": str(tmp_path)})
    assert result.exit_code == 1
    assert str(tmp_path) in result.stderr


def test_console_script_runs_as_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scaffolder", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_internal_errors_are_one_line_without_traceback(
    netpol, monkeypatch, tmp_path: Path
) -> None:
    import scaffolder.repo.repository

    def boom(start: Path) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(
        scaffolder.repo.repository.Repository, "load", classmethod(lambda cls, start: boom(start))
    )
    result = netpol("-C", tmp_path, "upgrade")
    assert result.exit_code == 3
    assert "internal error: RuntimeError: kaboom" in result.stderr
    assert "Traceback" not in result.stderr


def test_keyboard_interrupt_exits_130(netpol, monkeypatch, tmp_path: Path) -> None:
    import scaffolder.repo.repository

    def interrupt(cls: object, start: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(scaffolder.repo.repository.Repository, "load", classmethod(interrupt))
    result = netpol("-C", tmp_path, "upgrade")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def test_command_options_from_environment(netpol, tmp_path: Path) -> None:
    kustomization = tmp_path / "kustomization.yaml"
    kustomization.write_text("resources:\n  - ./a\n")
    (tmp_path / "b").write_text("apiVersion: v1\nkind: ConfigMap\n")  # edit refuses missing entries
    for env in ({"NETPOL_DRY_RUN": "1"}, {"NETPOL_EDIT_DRY_RUN": "true"}):
        result = netpol("edit", kustomization, "--add-resource", "./b", env=env)
        assert result.exit_code == 0
        assert "+  - ./b" in result.stdout
        assert kustomization.read_text() == "resources:\n  - ./a\n"


# --------------------------------------------------------------------------- hints name real commands
_COMMAND_IN_TEXT = re.compile(r"""['"`]netpol ([a-z][a-z-]*)([^'"`]*)""")
_GLOBAL_FLAGS = {"--repo", "--debug", "--help", "--version"}


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module (f-string pieces included), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_every_message_names_an_existing_command_and_its_flags() -> None:
    """Regression: the unknown-namespace hint told users to run 'netpol status', which does
    not exist. Every 'netpol <word> --flag' quoted in scaffolder/ must name a registered
    command and an option it has."""
    from scaffolder.cli import COMMANDS, cli

    ctx = click.Context(cli)
    flags: dict[str, set[str]] = {}
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        flags[name] = {
            opt for p in command.params for opt in (*p.opts, *p.secondary_opts)
        } | _GLOBAL_FLAGS
    problems = []
    seen = 0
    for path in sorted((ROOT / "scaffolder").rglob("*.py")):
        for line, text in _strings(path):
            for match in _COMMAND_IN_TEXT.finditer(text):
                seen += 1
                word, tail = match.groups()
                where = f"{path.relative_to(ROOT)}:{line}: {match.group(0)!r}"
                if word not in COMMANDS:
                    problems.append(f"{where}: no command {word!r}")
                    continue
                named = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", tail)
                problems.extend(
                    f"{where}: 'netpol {word}' has no {flag}"
                    for flag in named
                    if flag not in flags[word]
                )
    assert seen > 10  # the scan finds the hints
    assert not problems, "\n".join(problems)


def test_unknown_namespace_hint_names_no_missing_command(initialised_repo: Path, netpol) -> None:
    result = netpol("-C", initialised_repo, "scaffold", "zzzzzz")
    assert result.exit_code == 1
    assert "netpol status" not in result.stderr
    assert "kubernetes/apps/" in result.stderr


# --------------------------------------------------------------------------- -C / REPO
@pytest.mark.parametrize("args", [("-C", "{missing}", "upgrade"), ("init", "{missing}")])
def test_a_missing_directory_is_a_usage_error(netpol, tmp_path: Path, args) -> None:
    missing = tmp_path / "nonexistent"
    result = netpol(*[a.replace("{missing}", str(missing)) for a in args])
    assert result.exit_code == 2
    assert f"Directory '{missing}' does not exist" in result.stderr
    assert "Usage: netpol" in result.stderr


def test_repo_option_pointing_at_a_file_is_a_usage_error(netpol, tmp_path: Path) -> None:
    file = tmp_path / "netpol.yaml"
    file.write_text("version: 1\n")
    result = netpol("-C", file, "upgrade")
    assert result.exit_code == 2
    assert "is a file" in result.stderr


# --------------------------------------------------------------------------- usage errors exit 2
@pytest.mark.parametrize(
    ("args", "message"),
    [((), "no namespace given"), (("media", "--all"), "give namespaces or --all, not both")],
)
def test_scaffold_usage_errors_exit_2(initialised_repo: Path, netpol, args, message) -> None:
    before = snapshot(initialised_repo)
    result = netpol("-C", initialised_repo, "scaffold", *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Usage: netpol scaffold" in result.stderr
    assert snapshot(initialised_repo) == before


def test_scaffold_usage_error_comes_before_loading_the_repository(netpol, tmp_path: Path) -> None:
    result = netpol("-C", tmp_path, "scaffold")
    assert result.exit_code == 2
    assert "no namespace given" in result.stderr


# --------------------------------------------------------------------------- --json errors
def test_json_error_object_on_stdout(netpol, tmp_path: Path) -> None:
    result = netpol("-C", tmp_path, "upgrade", "--json")
    assert result.exit_code == 1
    assert result.stderr.startswith("netpol: error: no netpol.yaml")
    assert result.stderr.count("\n") == 1
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 1
    assert payload["error"].startswith("no netpol.yaml in ")
    assert "netpol init" in payload["hint"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("init", "--json", "--apiserver-port", "0"), "'--apiserver-port'"),
        (("scaffold", "--json"), "no namespace given"),
        (("edit", "kustomization.yaml", "--json"), "nothing to do"),
        (("upgrade", "--json", "--frobnicate"), "No such option"),
    ],
)
def test_json_usage_errors(netpol, tmp_path: Path, monkeypatch, args, fragment) -> None:
    monkeypatch.chdir(tmp_path)
    result = netpol(*args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 2
    assert fragment in payload["error"]
    assert payload["hint"].startswith("see 'netpol ")


def test_json_from_the_environment(netpol, tmp_path: Path) -> None:
    result = netpol("-C", tmp_path, "upgrade", env={"NETPOL_UPGRADE_JSON": "1"})
    assert result.exit_code == 1
    assert json.loads(result.stdout)["exit_code"] == 1


def test_json_after_double_dash_is_not_an_option(netpol, tmp_path: Path) -> None:
    result = netpol("-C", tmp_path, "upgrade", "--", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_json_internal_error(netpol, monkeypatch, tmp_path: Path) -> None:
    import scaffolder.repo.repository

    def boom(cls: object, start: Path) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(scaffolder.repo.repository.Repository, "load", classmethod(boom))
    result = netpol("-C", tmp_path, "upgrade", "--json")
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload == {
        "error": "internal error: RuntimeError: kaboom",
        "hint": "rerun with --debug and report it",
        "exit_code": 3,
    }


# --------------------------------------------------------------------------- --debug, secrets
def test_debug_shows_the_traceback_and_keeps_the_exit_code(
    netpol, monkeypatch, tmp_path: Path
) -> None:
    import scaffolder.repo.repository

    def boom(cls: object, start: Path) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(scaffolder.repo.repository.Repository, "load", classmethod(boom))
    result = netpol("--debug", "-C", tmp_path, "upgrade")
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "RuntimeError: kaboom" in result.stderr


def test_debug_shows_the_traceback_of_input_errors(netpol, tmp_path: Path) -> None:
    result = netpol("--debug", "-C", tmp_path, "upgrade")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("netpol: error: no netpol.yaml")


def test_errors_never_print_tokens(netpol, monkeypatch, tmp_path: Path) -> None:
    import scaffolder.repo.repository

    token = "ghp_" + "a1B2c3D4e5" * 4
    secret = "s3cr3t-value-from-env"

    def fail(cls: object, start: Path) -> None:
        raise ConfigError(
            f"push to https://x-access-token:{token}@github.com/me/repo failed ({secret})",
            hint=f"token {token} was refused",
        )

    monkeypatch.setattr(scaffolder.repo.repository.Repository, "load", classmethod(fail))
    for debug in ((), ("--debug",)):
        result = netpol(*debug, "-C", tmp_path, "upgrade", "--json", env={"GITHUB_TOKEN": secret})
        assert result.exit_code == 1
        for text in (result.stdout, result.stderr):
            assert token not in text and secret not in text
            assert "***" in text


def test_permission_errors_are_input_errors(netpol, monkeypatch, tmp_path: Path) -> None:
    import scaffolder.repo.repository

    def denied(cls: object, start: Path) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "kubernetes"))

    monkeypatch.setattr(scaffolder.repo.repository.Repository, "load", classmethod(denied))
    result = netpol("-C", tmp_path, "upgrade")
    assert result.exit_code == 1
    assert f"cannot access {tmp_path / 'kubernetes'}: permission denied" in result.stderr
    assert result.stderr.count("\n") == 1


# --------------------------------------------------------------------------- library warnings
def test_library_warnings_never_reach_the_terminal(tmp_path: Path) -> None:
    """Regression: ruamel.yaml's ReusedAnchorWarning printed a multi-line warning with
    source lines. A subprocess: pytest's own warning capture would hide it in-process."""
    (tmp_path / "netpol.yaml").write_text(
        "version: 1\ndns:\n  namespace: &ns kube-system\nmonitoring:\n  namespace: &ns observability\n"
    )

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scaffolder", *extra, "-C", str(tmp_path), "upgrade", "-n"],
            capture_output=True,
            text=True,
            check=False,
        )

    quiet = run()
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    loud = run("--debug")
    assert loud.returncode == 0
    assert "ReusedAnchorWarning" in loud.stderr


def test_warnings_raised_in_a_command_are_hidden(netpol, monkeypatch, tmp_path: Path) -> None:
    import scaffolder.repo.repository

    def noisy(cls: object, start: Path) -> None:
        warnings.warn("a library is unhappy", UserWarning, stacklevel=1)
        raise ConfigError("no netpol.yaml here")

    monkeypatch.setattr(scaffolder.repo.repository.Repository, "load", classmethod(noisy))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = netpol("-C", tmp_path, "upgrade")
    assert result.exit_code == 1
    assert "unhappy" not in result.stderr
    assert not [w for w in caught if "unhappy" in str(w.message)]


# --------------------------------------------------------------------------- completion
@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete --no-files")],
)
def test_completion_prints_the_script(netpol, shell: str, marker: str) -> None:
    result = netpol("completion", shell)
    assert result.exit_code == 0, result.stderr
    assert "_NETPOL_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout
    assert marker in result.stdout
    assert result.stderr == ""


def test_completion_of_an_unknown_shell_is_a_usage_error(netpol) -> None:
    result = netpol("completion", "powershell")
    assert result.exit_code == 2
    assert "'powershell' is not one of" in result.stderr


def test_completion_is_listed_without_being_imported(netpol) -> None:
    result = netpol("--help")
    assert "completion" in result.stdout
    assert "netpol completion bash" in result.stdout


def _complete(netpol, words: str, cwd: Path | None = None, *, repo: Path | None = None):
    words = f"netpol {'-C ' + str(repo) + ' ' if repo else ''}{words}"
    env = {
        "_NETPOL_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    return netpol(env=env)


def test_scaffold_completes_namespaces(initialised_repo: Path, netpol, monkeypatch) -> None:
    monkeypatch.chdir(initialised_repo)
    result = _complete(netpol, "scaffold me")
    assert result.exit_code == 0
    assert result.stdout.split() == ["plain,media"]
    everything = _complete(netpol, "scaffold ")
    names = [line.split(",", 1)[1] for line in everything.stdout.split()]
    assert "media" in names and "flux-system" not in names  # out of scope
    with_repo = _complete(netpol, "scaffold me", repo=initialised_repo)
    assert with_repo.stdout.split() == ["plain,media"]


def test_namespace_completion_never_fails(netpol, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "netpol.yaml").write_text("version: [\n")
    result = _complete(netpol, "scaffold ")
    assert result.exit_code == 0
    assert result.stdout.strip() == "" and result.stderr == ""
    (tmp_path / "netpol.yaml").unlink()
    result = _complete(netpol, "scaffold ")
    assert result.exit_code == 0
    assert result.stdout.strip() == "" and result.stderr == ""


def test_commands_complete(netpol) -> None:
    result = _complete(netpol, "comp")
    assert result.stdout.split() == ["plain,completion"]
