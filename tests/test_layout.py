"""Which directories are namespaces: DNS labels with a kustomization, listed when listing."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scaffolder.core.errors import RepoError
from scaffolder.repo.layout import Status, scan

from .conftest import build_file_tree

APPS = PurePosixPath("kubernetes/apps")
KS = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def _tree(tmp_path: Path, extra: dict[str, str]) -> Path:
    return build_file_tree(
        tmp_path,
        {
            "kubernetes/apps/media/kustomization.yaml": KS,
            "kubernetes/apps/network/kustomization.yaml": KS,
            "kubernetes/apps/_shared/kustomization.yaml": KS,
            "kubernetes/apps/.templates/kustomization.yaml": KS,
            "kubernetes/apps/notes/README.md": "no kustomization: not an entry at all\n",
            **extra,
        },
    )


def test_without_a_listing_every_dns_named_directory_is_a_namespace(tmp_path: Path) -> None:
    layout = scan(_tree(tmp_path, {}), APPS)
    assert layout.namespaces() == ["media", "network"]
    assert [(e.name, e.status) for e in layout.ignored()] == [
        (".templates", Status.NOT_A_NAMESPACE),
        ("_shared", Status.NOT_A_NAMESPACE),
    ]
    assert layout.entry("notes") is None


def test_a_listing_makes_the_unlisted_and_commented_out_dormant(tmp_path: Path) -> None:
    listing = KS + "resources:\n  - ./media\n  # - ./network\n  - ./_shared\n"
    root = _tree(
        tmp_path,
        {
            "kubernetes/apps/kustomization.yaml": listing,
            "kubernetes/apps/archive/kustomization.yaml": KS,
        },
    )
    layout = scan(root, APPS)
    assert layout.namespaces() == ["media"]
    assert {e.name: e.reason for e in layout.dormant()} == {
        "archive": "kubernetes/apps/kustomization.yaml does not list it",
        "network": "its entry is commented out in kubernetes/apps/kustomization.yaml:5",
    }
    with pytest.raises(RepoError, match="network/ is dormant: its entry is commented out"):
        layout.namespace("network")


def test_asking_for_a_non_namespace_by_name_says_why(tmp_path: Path) -> None:
    layout = scan(_tree(tmp_path, {}), APPS)
    with pytest.raises(RepoError, match="_shared/ is not a namespace: its name is not a DNS-1123"):
        layout.namespace("_shared")
    with pytest.raises(RepoError, match="did you mean media"):
        layout.namespace("medai")
    with pytest.raises(RepoError, match="not a valid namespace name"):
        layout.namespace("Media")
    assert layout.namespace("media").kustomization == APPS / "media/kustomization.yaml"


def test_a_missing_apps_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RepoError, match="apps directory kubernetes/apps does not exist"):
        scan(tmp_path, APPS)
