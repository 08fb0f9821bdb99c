"""The Repository model as users meet it: which directories `scaffold` treats as namespaces."""

from __future__ import annotations

import json
from pathlib import Path

from scaffolder.repo.repository import Repository

from .conftest import build_file_tree, snapshot

APPS = "kubernetes/apps"
KS = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
NAMESPACES = [
    "archive",
    "databases",
    "downloads",
    "flux-system",
    "kube-system",
    "media",
    "network",
    "observability",
    "selfhosted",
    "vpn",
]


def _shared(root: Path) -> None:
    build_file_tree(root, {f"{APPS}/_shared/kustomization.yaml": KS + "resources: []\n"})


def _listing(root: Path) -> None:
    """An apps-dir kustomization listing every namespace, vpn's entry commented out."""
    lines = [f"  # - ./{n}\n" if n == "vpn" else f"  - ./{n}\n" for n in NAMESPACES]
    build_file_tree(root, {f"{APPS}/kustomization.yaml": KS + "resources:\n" + "".join(lines)})


def _complete(netpol, root: Path, words: str):
    words = f"netpol -C {root} {words}"
    env = {
        "_NETPOL_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    return netpol(env=env)


def test_a_non_namespace_directory_is_ignored_by_all(initialised_repo: Path, netpol) -> None:
    _shared(initialised_repo)
    result = netpol("-C", initialised_repo, "scaffold", "--all", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert "_shared" not in {ns["namespace"] for ns in payload["namespaces"]}
    assert not any("_shared" in change["path"] for change in payload["changes"])


def test_a_non_namespace_directory_is_refused_by_name(initialised_repo: Path, netpol) -> None:
    _shared(initialised_repo)
    before = snapshot(initialised_repo)
    result = netpol("-C", initialised_repo, "scaffold", "_shared")
    assert result.exit_code == 1
    assert (
        "kubernetes/apps/_shared/ is not a namespace: its name is not a DNS-1123 label"
        in result.stderr
    )
    assert result.stderr.count("\n") == 1
    assert snapshot(initialised_repo) == before


def test_a_dormant_namespace_is_reported_not_scaffolded(initialised_repo: Path, netpol) -> None:
    _listing(initialised_repo)
    line = 1 + 2 + NAMESPACES.index("vpn") + 1  # two header lines, "resources:", the entries
    note = (
        "kubernetes/apps/vpn/ is dormant (its entry is commented out in "
        f"kubernetes/apps/kustomization.yaml:{line}); not scaffolded"
    )
    result = netpol("-C", initialised_repo, "scaffold", "--all", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    names = {ns["namespace"] for ns in payload["namespaces"]}
    assert "vpn" not in names and "media" in names
    assert not any(c["path"].startswith(f"{APPS}/vpn/") for c in payload["changes"])
    assert note in payload["notes"]
    text = netpol("-C", initialised_repo, "scaffold", "--all", "--dry-run")
    assert text.exit_code == 0 and note in text.stderr + text.stdout


def test_a_dormant_namespace_is_refused_by_name(initialised_repo: Path, netpol) -> None:
    _listing(initialised_repo)
    result = netpol("-C", initialised_repo, "scaffold", "vpn")
    assert result.exit_code == 1
    assert "kubernetes/apps/vpn/ is dormant: its entry is commented out in" in result.stderr


def test_completion_lists_active_namespaces(initialised_repo: Path, netpol) -> None:
    _shared(initialised_repo)
    _listing(initialised_repo)
    result = _complete(netpol, initialised_repo, "scaffold ")
    assert result.exit_code == 0
    names = [line.split(",", 1)[1] for line in result.stdout.split()]
    assert names == [n for n in NAMESPACES if n not in ("vpn", "flux-system", "kube-system")]


def test_the_layout_is_read_once_and_discovery_kept(initialised_repo: Path) -> None:
    repo = Repository.load(initialised_repo)
    assert repo.layout is repo.layout
    assert repo.namespaces() == NAMESPACES
    first = repo.discover(required=["media"])
    assert repo.discover(required=["media"]) is first
    assert [ns.name for ns in first] == NAMESPACES
    managed = repo.managed_directories()
    assert managed == []  # init renders only the components, outside the apps dir


def test_upgrade_finds_overlays_through_the_repository(initialised_repo: Path, netpol) -> None:
    assert netpol("-C", initialised_repo, "scaffold", "media").exit_code == 0
    repo = Repository.load(initialised_repo)
    media = repo.managed_directories(repo.config.apps_dir / "media")
    assert media == sorted(media) and len(media) >= 3
    assert repo.managed_directories() == media
    result = netpol("-C", initialised_repo, "upgrade", "--json", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert {f"{d}" for d in media} <= set(json.loads(result.stdout)["managed"])
