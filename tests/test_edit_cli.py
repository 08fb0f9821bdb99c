"""`netpol edit`: the comment-preserving `kustomize edit` plumbing command."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import build_file_tree, snapshot
from .test_editor import (
    ACCEPTED,
    KUSTOMIZATION,
    REFUSED_BY_KUSTOMIZE,
    REFUSED_BY_NETPOL_ONLY,
    kustomize_tree,
)

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
CM_TEXT = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"


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


# --------------------------------------------------------------------------- issue #7, defect 6


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--add-resource", ""), "cannot add '' to resources: the entry is empty"),
        (("--add-component", "a\nb"), "cannot add 'a\\nb' to components: it contains a line"),
        (("--add-resource", "./sonarr/ks.yaml "), "leading or trailing whitespace"),
        (("--add-resource", "../../../../../../etc/passwd"), "'..' leave the repository"),
        (("--add-resource", "/etc/passwd"), "an absolute path; kustomize refuses them"),
        (("--add-resource", "./nope/ks.yaml"), "does not exist"),
        (("--add-resource", "../../components/network-policy/baseline"), "is a Component"),
        (("--add-component", "./jellyfin/ks.yaml"), "it is a file; a component is a directory"),
        (("--remove-resource", ""), "cannot remove '' from resources: the entry is empty"),
        # one bad entry among good ones: nothing is written
        (("--add-resource", "./radarr/ks.yaml", "--add-resource", "#x"), "starts a YAML comment"),
    ],
)
def test_bad_entries_are_refused_and_nothing_changes(
    tmp_path: Path, netpol, args: tuple[str, ...], needle: str
) -> None:
    ns = _ns(tmp_path)
    before = snapshot(tmp_path)
    result = netpol("edit", ns, *args)
    assert result.exit_code == 1, result.output
    assert needle in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("rel", "text", "needle"),
    [
        (
            "helmrelease.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n",
            "helmrelease.yaml is a HelmRelease, not a kustomization",
        ),
        ("ks.yaml", FLUX_KS, "ks.yaml is a Flux Kustomization"),
        (
            "two/kustomization.yaml",
            "resources:\n  - ./a\n---\nresources: []\n",
            "kustomization.yaml:4: 2 YAML documents",
        ),
        ("bad/kustomization.yaml", "resources:\n  - a\n bad: [\n", "kustomization.yaml:3: "),
        (
            "anchor/kustomization.yaml",
            "resources: &res\n  - ./a\n",
            "kustomization.yaml:1: resources uses the YAML anchor &res",
        ),
        (
            "alias/kustomization.yaml",
            "x: &x ./a\nresources:\n  - *x\n",
            "kustomization.yaml:3: resources uses the YAML alias *x",
        ),
    ],
)
def test_files_netpol_cannot_edit_say_why(
    tmp_path: Path, netpol, rel: str, text: str, needle: str
) -> None:
    build_file_tree(tmp_path, {rel: text, "x/kustomization.yaml": "resources: []\n"})
    before = snapshot(tmp_path)
    result = netpol("edit", tmp_path / rel, "--add-resource", "./x")
    assert result.exit_code == 1, result.output
    assert needle in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "expected a mapping, found mapping" not in result.stderr
    assert snapshot(tmp_path) == before


def test_directory_without_kustomization_and_missing_file(tmp_path: Path, netpol) -> None:
    (tmp_path / "empty").mkdir()
    result = netpol("edit", tmp_path / "empty", "--add-resource", "./x")
    assert result.exit_code == 1
    assert "a directory without kustomization.yaml" in result.stderr
    result = netpol("edit", tmp_path / "nope.yaml", "--remove-resource", "./x")
    assert result.exit_code == 1 and "nope.yaml: no such file" in result.stderr


def test_present_entries_are_not_checked_against_the_tree(tmp_path: Path, netpol) -> None:
    """A no-op add (the entry is there, spelled differently) writes nothing and vets nothing."""
    build_file_tree(tmp_path, {"kustomization.yaml": ORIGINAL})
    result = netpol("edit", tmp_path, "--add-resource", "jellyfin/ks.yaml")
    assert result.exit_code == 0 and "already present" in result.stdout


def test_yaml_special_entries_are_quoted(tmp_path: Path, netpol) -> None:
    ns = _ns(tmp_path)
    build_file_tree(ns, {"null": CM_TEXT, "a, b.yaml": CM_TEXT})
    result = netpol("edit", ns, "--add-resource", "null", "--add-resource", "a, b.yaml")
    assert result.exit_code == 0, result.stderr
    text = (ns / "kustomization.yaml").read_text()
    assert '  - "a, b.yaml"\n' in text and '  - "null"\n' in text


# --------------------------------------------------------------------------- kubectl agrees


def _build(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.kubectl
def test_kustomize_builds_what_netpol_accepts_and_refuses_what_it_refuses(
    tmp_path: Path, netpol
) -> None:
    """Every entry netpol accepts builds; every one it refuses, written by hand, does not
    build (except the deliberate ones leaving the repository: they build here only)."""
    refused = [(k, e, True) for k, e, _ in REFUSED_BY_KUSTOMIZE]
    refused += [(k, e, False) for k, e, _ in REFUSED_BY_NETPOL_ONLY]
    refused += [("resources", e, True) for e in (" cm.yaml", "cm.yaml ", "#cm.yaml", "a\tb")]
    builds: list[tuple[str, Path, bool]] = []  # (entry, directory, must build)
    for index, (key, entry) in enumerate(ACCEPTED):
        media = kustomize_tree(tmp_path / f"accepted{index}")
        result = netpol("edit", media, f"--add-{key[:-1]}", entry)
        assert result.exit_code == 0, (entry, result.stderr)
        builds.append((entry, media, True))
    for index, (key, entry, kustomize_refuses) in enumerate(refused):
        root = tmp_path / f"refused{index}"
        media = kustomize_tree(root)
        entry = entry.replace("{repo}", str(root / "repo"))
        before = snapshot(root)
        result = netpol("edit", media, f"--add-{key[:-1]}", entry)
        assert result.exit_code == 1 and "cannot add" in result.stderr, (entry, result.output)
        assert snapshot(root) == before
        # the same entry written by hand: kustomize refuses it too
        text = KUSTOMIZATION + f"{key}:\n  - {json.dumps(entry)}\n"
        (media / "kustomization.yaml").write_text(text)
        builds.append((entry, media, not kustomize_refuses))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: _build(b[1]), builds))
    for (entry, _, must_build), built in zip(builds, results, strict=True):
        assert (built.returncode == 0) == must_build, (entry, built.stderr)
