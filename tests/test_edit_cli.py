"""`netpol edit`: the comment-preserving `kustomize edit` plumbing command."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import build_file_tree

ORIGINAL = (
    "---\n"
    "# yaml-language-server: $schema=https://json.schemastore.org/kustomization\n"
    "apiVersion: kustomize.config.k8s.io/v1beta1\n"
    "kind: Kustomization\n"
    "namespace: media\n"
    "resources:\n"
    "  # the apps\n"
    "  - ./jellyfin/ks.yaml\n"
    "  - ./sonarr/ks.yaml  # tv\n"
)
COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
FLUX_KS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"


def _ns(root: Path) -> Path:
    """A repository (``.git``) whose media namespace holds ORIGINAL; entries exist."""
    build_file_tree(
        root,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "kubernetes/apps/media/kustomization.yaml": ORIGINAL,
            **{f"kubernetes/apps/media/{a}/ks.yaml": FLUX_KS for a in ("jellyfin", "sonarr")},
            **{f"kubernetes/apps/media/{a}/ks.yaml": FLUX_KS for a in ("radarr", "zz")},
            "kubernetes/components/network-policy/baseline/kustomization.yaml": COMPONENT,
        },
    )
    return root / "kubernetes/apps/media"


def test_add_component_keeps_every_other_byte(tmp_path: Path, netpol) -> None:
    ns = _ns(tmp_path)
    result = netpol(
        "edit",
        ns / "kustomization.yaml",
        "--add-component",
        "../../components/network-policy/baseline",
    )
    assert result.exit_code == 0, result.output
    assert (ns / "kustomization.yaml").read_text() == ORIGINAL.replace(
        "resources:\n", "components:\n  - ../../components/network-policy/baseline\nresources:\n"
    )


def test_repeatable_flags_and_directory_argument(tmp_path: Path, netpol) -> None:
    ns = _ns(tmp_path)
    result = netpol(
        "edit",
        ns,
        "--add-resource",
        "./radarr/ks.yaml",
        "--remove-resource",
        "./jellyfin/ks.yaml",
    )
    assert result.exit_code == 0, result.output
    text = (ns / "kustomization.yaml").read_text()
    assert "./jellyfin/ks.yaml" not in text
    assert "  - ./radarr/ks.yaml\n  - ./sonarr/ks.yaml  # tv\n" in text
    assert "# the apps\n" in text


def test_noop_exits_zero_and_says_so(tmp_path: Path, netpol) -> None:
    build_file_tree(tmp_path, {"kustomization.yaml": ORIGINAL})
    result = netpol(
        "edit", tmp_path, "--add-resource", "./jellyfin/ks.yaml/", "--remove-component", "./nope"
    )
    assert result.exit_code == 0
    assert "nothing to do" in result.stdout
    assert (tmp_path / "kustomization.yaml").read_text() == ORIGINAL


def test_dry_run_prints_diff_and_writes_nothing(tmp_path: Path, netpol) -> None:
    ns = _ns(tmp_path)
    result = netpol("edit", ns, "--add-resource", "./zz/ks.yaml", "--dry-run")
    assert result.exit_code == 0
    assert "+  - ./zz/ks.yaml\n" in result.stdout
    assert (ns / "kustomization.yaml").read_text() == ORIGINAL


def test_json_output(tmp_path: Path, netpol) -> None:
    result = netpol("edit", _ns(tmp_path), "--add-resource", "./zz/ks.yaml", "--json")
    data = json.loads(result.stdout)
    assert data["changes"][0]["path"] == "kustomization.yaml"
    assert data["changes"][0]["action"] == "update"


def test_errors_are_one_line(tmp_path: Path, netpol) -> None:
    missing = netpol("edit", tmp_path / "nope.yaml", "--add-resource", "x")
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    build_file_tree(tmp_path, {"bad/kustomization.yaml": "resources:\n  - a\n bad: [\n"})
    bad = netpol("edit", tmp_path / "bad", "--add-resource", "x")
    assert bad.exit_code == 1
    assert "kustomization.yaml:" in bad.stderr and "Traceback" not in bad.output
    build_file_tree(tmp_path, {"list/kustomization.yaml": "- a\n- b\n"})
    listy = netpol("edit", tmp_path / "list", "--add-resource", "x")
    assert listy.exit_code == 1 and listy.stderr.count("\n") == 1
    usage = netpol("edit", tmp_path / "list")
    assert usage.exit_code == 2


def test_one_entry_list_gets_the_new_entry_at_its_sorted_place(tmp_path: Path, netpol) -> None:
    """Issue #7 defect 10: a one-entry list counts as sorted."""
    build_file_tree(
        tmp_path,
        {
            "kustomization.yaml": "kind: Kustomization\nresources:\n  - ./sonarr/ks.yaml\n",
            "radarr/ks.yaml": "kind: ConfigMap\n",
        },
    )
    result = netpol("edit", tmp_path, "--add-resource", "./radarr/ks.yaml")
    assert result.exit_code == 0, result.output + result.stderr
    assert (tmp_path / "kustomization.yaml").read_text() == (
        "kind: Kustomization\nresources:\n  - ./radarr/ks.yaml\n  - ./sonarr/ks.yaml\n"
    )
