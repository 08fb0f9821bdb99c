"""The bad-input table: every way a user can hold netpol wrong gets one clear line.

Each case runs one ``netpol`` command line on a fresh fixture tree and checks what a user
sees: the exit code (1 for bad input, 2 for usage), a fragment of the message, a single
line on stderr, no traceback, and a tree left exactly as it was. Cases whose command line
has ``--json`` must also print a JSON error object on stdout.

Cases are grouped by area, one list each; add a case to the list of its area.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from .conftest import snapshot


@dataclass(frozen=True)
class Case:
    """``netpol ARGS`` run in a ``setup`` tree must exit ``code`` saying ``fragment``.

    ``setup`` is one of ``empty`` (an empty directory), ``example`` (a copy of
    examples/home-ops, not initialised), ``initialised`` (after ``netpol init``) or
    ``scaffolded`` (after ``netpol init`` and ``netpol scaffold media``). In ``args``,
    ``{repo}`` stands for the tree's path. ``env`` adds environment variables.
    """

    id: str
    setup: str
    args: tuple[str, ...]
    code: int
    fragment: str
    env: tuple[tuple[str, str], ...] = ()
    prepare: Callable[[Path], None] | None = None


def _write(rel: str, text: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return prepare


# --------------------------------------------------------------------------- global / CLI / config
CLI_CASES = [
    Case("unknown-command", "initialised", ("frobnicate",), 2, "No such command"),
    Case("upgrade-without-config", "empty", ("-C", "{repo}", "upgrade"), 1, "no netpol.yaml"),
]

# --------------------------------------------------------------------------- scaffold
SCAFFOLD_CASES = [
    Case(
        "scaffold-invalid-namespace-name",
        "initialised",
        ("-C", "{repo}", "scaffold", "Media_"),
        1,
        "not a valid namespace name",
    ),
    Case(
        "scaffold-bad-fqdn-syntax",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "no-port"),
        1,
        "expected [APP=]HOST:PORT",
    ),
]

# --------------------------------------------------------------------------- edit
EDIT_CASES = [
    Case(
        "edit-nothing-to-do",
        "initialised",
        ("edit", "{repo}/kubernetes/apps/media/kustomization.yaml"),
        2,
        "nothing to do",
    ),
]


# --------------------------------------------------------------------------- writes and faults
def _jobs(id: str, value: str, *extra: str) -> Case:
    return Case(
        id,
        "initialised",
        ("-C", "{repo}", "scaffold", *extra),
        1,
        f"NETPOL_JOBS must be a whole number >= 1 (got {value!r})",
        env=(("NETPOL_JOBS", value),),
    )


def _symlink_outside(rel: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        outside = root.parent / "outside.yaml"
        outside.write_text("kind: NotYours\n")
        (root / rel).symlink_to(outside)

    return prepare


def _chmod_denies() -> bool:
    """Whether a read-only mode stops this process (not for root, which overrides it)."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        probe.touch(mode=0o444)
        return not os.access(probe, os.W_OK)


def _read_only(*rels: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        for rel in rels:
            (root / rel).chmod(0o555 if (root / rel).is_dir() else 0o444)

    return prepare


APPLY_CASES: list[Case] = [
    _jobs("scaffold-netpol-jobs-letters", "abc", "media"),
    _jobs("scaffold-netpol-jobs-zero", "0", "media"),
    _jobs("scaffold-netpol-jobs-negative", "-3", "media"),
    _jobs("scaffold-all-netpol-jobs-fraction", "1.5", "--all"),
    _jobs("scaffold-dry-run-netpol-jobs-word", "two", "media", "--dry-run"),
    Case(
        "scaffold-policy-file-symlinked-outside",
        "initialised",
        ("-C", "{repo}", "scaffold", "media"),
        1,
        "resolves outside the repository",
        prepare=_symlink_outside("kubernetes/apps/media/sonarr/app/cnp-netpol.yaml"),
    ),
    # root writes through chmod: only an unprivileged run can show a read-only file refused
    *(
        [
            Case(
                "scaffold-read-only-kustomization",
                "initialised",
                ("-C", "{repo}", "scaffold", "media"),
                1,
                "cannot write kubernetes/apps/media/kustomization.yaml: permission denied; "
                "nothing was written",
                prepare=_read_only("kubernetes/apps/media/kustomization.yaml"),
            ),
            Case(
                "scaffold-read-only-app-directory",
                "initialised",
                ("-C", "{repo}", "scaffold", "media"),
                1,
                "permission denied; nothing was written",
                prepare=_read_only("kubernetes/apps/media/radarr/app"),
            ),
        ]
        if _chmod_denies()
        else []
    ),
]

CASES = [*CLI_CASES, *SCAFFOLD_CASES, *EDIT_CASES, *APPLY_CASES]


@pytest.fixture
def tree(
    request: pytest.FixtureRequest, tmp_path: Path, netpol: Callable[..., Result]
) -> Callable[[str], Path]:
    def make(setup: str) -> Path:
        if setup == "empty":
            root = tmp_path / "empty"
            root.mkdir()
            return root
        root: Path = request.getfixturevalue("example_repo")
        if setup in {"initialised", "scaffolded"}:
            result = netpol("init", root)
            assert result.exit_code == 0, result.output
        if setup == "scaffolded":
            result = netpol("-C", root, "scaffold", "media")
            assert result.exit_code == 0, result.output
        return root

    return make


def test_the_table_is_large() -> None:
    assert len(CASES) >= 60, len(CASES)
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case, tree: Callable[[str], Path], netpol: Callable[..., Result], monkeypatch
) -> None:
    root = tree(case.setup)
    if case.prepare is not None:
        case.prepare(root)
    monkeypatch.chdir(root)
    before = snapshot(root)
    args = [a.replace("{repo}", str(root)) for a in case.args]
    result = netpol(*args, env=dict(case.env))
    assert result.exit_code == case.code, result.output + result.stderr
    assert case.fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output + result.stderr
    if case.code == 1:
        assert result.stderr.count("\n") == 1, result.stderr
    if "--json" in args and case.code == 1:
        payload = json.loads(result.stdout)
        assert case.fragment in payload["error"]
    assert snapshot(root) == before, "the tree changed"
