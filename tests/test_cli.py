"""CLI conventions every command follows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scaffolder import __version__


def test_help_does_not_import_copier_git_or_github() -> None:
    code = (
        "import sys\n"
        "from scaffolder.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'copier', 'git', 'github', 'jinja2', 'scaffolder.commands'})\n"
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
    import scaffolder.repo

    def boom(start: Path) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(scaffolder.repo.Repo, "load", classmethod(lambda cls, start: boom(start)))
    result = netpol("-C", tmp_path, "upgrade")
    assert result.exit_code == 3
    assert "internal error: RuntimeError: kaboom" in result.stderr
    assert "Traceback" not in result.stderr


def test_keyboard_interrupt_exits_130(netpol, monkeypatch, tmp_path: Path) -> None:
    import scaffolder.repo

    def interrupt(cls: object, start: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(scaffolder.repo.Repo, "load", classmethod(interrupt))
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
