"""Shared fixtures: the example repository, the CLI runner, and file-tree builders."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "home-ops"
# The project's shared test data (a corpus of real repositories, CRDs, flows) sits beside
# the project's own checkout, not inside it: a user's clone has none. Every test that needs
# it asks for the ``shared`` fixture, which skips with the reason when it is absent (and
# fails instead when NETPOL_REQUIRE_SHARED is set, as the project's CI does).
SHARED = Path(os.environ.get("NETPOL_SHARED") or ROOT.parent / "shared")
CORPUS = SHARED / "corpus"


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
def shared() -> Path:
    """The shared test data directory; skips the test when this clone has none beside it."""
    if not SHARED.is_dir():
        reason = f"needs the shared test data at {SHARED} (not part of a clone of netpol)"
        if os.environ.get("NETPOL_REQUIRE_SHARED"):
            pytest.fail(reason + "; NETPOL_REQUIRE_SHARED is set")
        pytest.skip(reason)
    return SHARED


def shared_params(paths: Iterable[Path], *, base: Path = SHARED) -> list[Any]:
    """Parameters for a test over shared files, named by their path below ``base``.

    Without the shared data there is one ``None`` parameter: the test's ``shared`` fixture
    then skips it (with the reason) instead of pytest collecting an empty set."""
    params = [pytest.param(p, id=p.relative_to(base).as_posix()) for p in sorted(paths)]
    return params or [pytest.param(None, id="no-shared-data")]


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


__all__ = ["CORPUS", "EXAMPLE", "ROOT", "SHARED", "build_file_tree", "shared_params", "snapshot"]
