"""The bad-input table: every way a user can hold netpol wrong gets one clear line.

Each case runs one ``netpol`` command line on a fresh fixture tree and checks what a user
sees: the exit code (1 for bad input, 2 for usage), a fragment of the message, a single
line on stderr, no traceback, and a tree left exactly as it was. Cases whose command line
has ``--json`` must also print a JSON error object on stdout.

Cases are grouped by area, one list each; add a case to the list of its area.
"""

from __future__ import annotations

import json
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
_MEDIA = "{repo}/kubernetes/apps/media/kustomization.yaml"


def _edit(id: str, flag: str, entry: str, fragment: str, *, file: str = _MEDIA) -> Case:
    return Case(id, "initialised", ("edit", file, flag, entry), 1, fragment)


EDIT_CASES = [
    Case(
        "edit-nothing-to-do",
        "initialised",
        ("edit", "{repo}/kubernetes/apps/media/kustomization.yaml"),
        2,
        "nothing to do",
    ),
    _edit(
        "edit-empty-entry", "--add-resource", "", "cannot add '' to resources: the entry is empty"
    ),
    _edit("edit-whitespace-entry", "--add-component", "  ", "the entry is only whitespace"),
    _edit("edit-newline-entry", "--add-resource", "./a\n./b", "contains a line break"),
    _edit("edit-tab-entry", "--add-resource", "./a\tb", "control character U+0009"),
    _edit(
        "edit-leading-space-entry",
        "--add-resource",
        " ./jellyfin/ks.yaml",
        "leading or trailing whitespace",
    ),
    _edit("edit-comment-entry", "--add-resource", "#comment", "starts a YAML comment"),
    _edit(
        "edit-escaping-path",
        "--add-resource",
        "../../../../../../etc/passwd",
        "'..' leave the repository",
    ),
    _edit("edit-absolute-path", "--add-resource", "/etc/passwd", "an absolute path"),
    _edit("edit-missing-target", "--add-resource", "./nope/ks.yaml", "does not exist"),
    _edit(
        "edit-file-outside-kustomization-root",
        "--add-resource",
        "../../flux/cluster/ks.yaml",
        "LoadRestrictionsRootOnly",
    ),
    _edit("edit-file-as-component", "--add-component", "./jellyfin/ks.yaml", "it is a file"),
    _edit(
        "edit-kustomization-as-component",
        "--add-component",
        "./jellyfin/app",
        "components: takes kind Component",
    ),
    _edit(
        "edit-component-as-resource", "--add-resource", "../../components/common", "is a Component"
    ),
    _edit("edit-cycle", "--add-resource", "..", "own directory or a parent of it"),
    _edit(
        "edit-directory-without-kustomization-entry",
        "--add-resource",
        "./jellyfin",
        "no kustomization.yaml",
    ),
    _edit("edit-remove-empty", "--remove-component", "", "cannot remove '' from components"),
    _edit(
        "edit-helmrelease-file",
        "--add-resource",
        "./x.yaml",
        "helmrelease.yaml is a HelmRelease, not a kustomization",
        file="{repo}/kubernetes/apps/media/jellyfin/app/helmrelease.yaml",
    ),
    _edit(
        "edit-flux-kustomization-file",
        "--add-resource",
        "./app",
        "ks.yaml is a Flux Kustomization",
        file="{repo}/kubernetes/apps/media/jellyfin/ks.yaml",
    ),
    _edit(
        "edit-missing-file",
        "--add-resource",
        "./x",
        "nope.yaml: no such file",
        file="{repo}/kubernetes/apps/media/nope.yaml",
    ),
    _edit(
        "edit-directory-without-kustomization",
        "--add-resource",
        "./app",
        "a directory without kustomization.yaml",
        file="{repo}/kubernetes/apps/media/jellyfin",
    ),
    Case(
        "edit-invalid-yaml",
        "initialised",
        ("edit", "{repo}/broken/kustomization.yaml", "--add-resource", "./x"),
        1,
        "kustomization.yaml:3: ",
        prepare=_write("broken/kustomization.yaml", "resources:\n  - ./a\n bad: [\n"),
    ),
    Case(
        "edit-several-documents",
        "initialised",
        ("edit", "{repo}/two", "--remove-resource", "./a"),
        1,
        "kustomization.yaml:4: 2 YAML documents",
        prepare=_write("two/kustomization.yaml", "resources:\n  - ./a\n---\nresources: []\n"),
    ),
    Case(
        "edit-anchor-on-key",
        "initialised",
        ("edit", "{repo}/anchored", "--remove-resource", "./a"),
        1,
        "resources uses the YAML anchor &res",
        prepare=_write("anchored/kustomization.yaml", "resources: &res\n  - ./a\n"),
    ),
    Case(
        "edit-alias-entry",
        "initialised",
        ("edit", "{repo}/aliased", "--remove-resource", "./a"),
        1,
        "resources uses the YAML alias *x",
        prepare=_write("aliased/kustomization.yaml", "x: &x ./b\nresources:\n  - ./a\n  - *x\n"),
    ),
]

# --------------------------------------------------------------------------- writes and faults
APPLY_CASES: list[Case] = []

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
