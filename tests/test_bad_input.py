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


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        with (root / rel).open("a") as handle:
            handle.write(text)

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
    Case(
        "scaffold-allow-fqdn-unknown-app",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "typo=api.x.com:443"),
        1,
        "no app 'typo' in namespace(s) media",
    ),
    Case(
        "scaffold-allow-fqdn-close-match",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "downloads", "--allow-fqdn", "sonar=api.x.com:443"),
        1,
        "in namespace(s) media, downloads (did you mean sonarr?)",
    ),
    Case(
        "scaffold-allow-fqdn-bad-host",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=bad_host!:443"),
        1,
        "host 'bad_host!' is not a DNS name",
    ),
    Case(
        "scaffold-allow-fqdn-middle-wildcard",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=a.*.example.com:443"),
        1,
        "is not a DNS name",
    ),
    Case(
        "scaffold-allow-fqdn-numeric-host",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=1.2.3:443"),
        1,
        "neither an IP address nor a DNS name",
    ),
    Case(
        "scaffold-allow-fqdn-port-0",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:0"),
        1,
        "port 0 is not a port number 1-65535",
    ),
    Case(
        "scaffold-allow-fqdn-port-70000",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:70000"),
        1,
        "port 70000 is not a port number 1-65535",
    ),
    Case(
        "scaffold-allow-fqdn-bad-protocol",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:443/sctp"),
        1,
        "protocol 'sctp' is not tcp or udp",
    ),
    Case(
        "scaffold-allow-fqdn-bad-ipv6",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=[2001:db8::zz]:443"),
        1,
        "is not an IPv6 address",
    ),
    Case(
        "scaffold-allow-fqdn-unbracketed-ipv6",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=2001:db8::1:443"),
        1,
        "expected [APP=]HOST:PORT",
    ),
    Case(
        "scaffold-allow-fqdn-bad-app-name",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "Sonarr=api.x.com:443"),
        1,
        "'Sonarr' is not an app name",
    ),
    Case(
        "scaffold-allow-fqdn-which-app",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "api.x.com:443"),
        1,
        "say which one",
    ),
    Case(
        "scaffold-allow-fqdn-hand-written-app",
        "initialised",
        ("-C", "{repo}", "scaffold", "selfhosted", "--allow-fqdn", "glance=api.x.com:443"),
        1,
        "selfhosted/glance has its own policies",
    ),
    Case(
        "scaffold-ip-with-fqdn-style-is-fine",
        "initialised",
        (
            "-C",
            "{repo}",
            "scaffold",
            "media",
            "--dry-run",
            "--fqdn-style",
            "fqdn",
            "--allow-fqdn",
            "sonarr=1.2.3.4:443",
        ),
        0,
        "",
    ),
    Case(
        "scaffold-remove-fqdn-not-recorded",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media", "--remove-fqdn", "sonarr=api.x.com:443"),
        1,
        "not recorded for media/sonarr (recorded: none)",
    ),
    Case(
        "scaffold-remove-fqdn-unknown-app",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media", "--remove-fqdn", "typo=api.x.com:443"),
        1,
        "no app 'typo'",
    ),
    Case(
        "scaffold-remove-fqdn-bad-spec",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media", "--remove-fqdn", "sonarr=api.x.com"),
        1,
        "--remove-fqdn 'sonarr=api.x.com': expected",
    ),
    Case(
        "scaffold-allow-and-remove-the-same",
        "scaffolded",
        (
            "-C",
            "{repo}",
            "scaffold",
            "media",
            "--allow-fqdn",
            "sonarr=api.x.com:443",
            "--remove-fqdn",
            "sonarr=api.x.com:443",
        ),
        1,
        "both name sonarr=api.x.com:443",
    ),
    Case(
        "scaffold-out-of-scope-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold", "kube-system"),
        1,
        "'netpol scaffold kube-system --include-out-of-scope'",
    ),
    Case(
        "scaffold-unknown-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold", "medai"),
        1,
        "unknown namespace 'medai'",
    ),
    Case(
        "scaffold-hand-edited-overlay",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media"),
        1,
        "'netpol scaffold media --overwrite' replaces them",
        prepare=_append("kubernetes/apps/media/sonarr/app/cnp-netpol.yaml", "# my edit\n"),
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
