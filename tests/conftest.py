"""Shared fixtures: the example repository, the CLI runner, and file-tree builders."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "home-ops"
SHARED = ROOT.parent / "shared"


def build_file_tree(root: Path, spec: Mapping[str, str | bytes]) -> Path:
    """Create files from ``{relative path: content}`` (bytes are written verbatim)."""
    for rel, content in spec.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (except .git) with its bytes: to prove 'nothing changed'."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A private copy of examples/home-ops."""
    dest = tmp_path / "home-ops"
    shutil.copytree(EXAMPLE, dest, symlinks=True)
    return dest


@pytest.fixture
def netpol() -> Callable[..., Result]:
    """Run ``netpol ARGS...`` through click's CliRunner (stderr kept separate)."""
    from scaffolder.cli import cli

    def run(*args: str | Path, env: Mapping[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli, [str(a) for a in args], env=dict(env or {}), catch_exceptions=False
        )

    return run


@pytest.fixture
def initialised_repo(example_repo: Path, netpol: Callable[..., Result]) -> Path:
    """The example repository after ``netpol init``."""
    result = netpol("init", example_repo)
    assert result.exit_code == 0, result.output + result.stderr
    return example_repo


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("kubectl") is None:
        skip = pytest.mark.skip(reason="kubectl not on PATH")
        for item in items:
            if "kubectl" in item.keywords:
                item.add_marker(skip)


__all__ = ["EXAMPLE", "ROOT", "SHARED", "build_file_tree", "snapshot"]
