"""`netpol init` and `netpol upgrade` on the example repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, build_file_tree, snapshot

BASELINE = Path("kubernetes/components/network-policy/baseline")
DEFAULT_DENY = Path("kubernetes/components/network-policy/default-deny")


def test_init_writes_config_and_components(example_repo: Path, netpol) -> None:
    result = netpol("init", example_repo)
    assert result.exit_code == 0, result.output
    assert (example_repo / "netpol.yaml").is_file()
    for rel in (
        "kustomization.yaml",
        "allow-dns.yaml",
        "allow-apiserver.yaml",
        ".netpol-answers.yaml",
    ):
        assert (example_repo / BASELINE / rel).is_file()
    assert (example_repo / DEFAULT_DENY / "default-deny.yaml").is_file()
    # The defaults rendered into a repo are exactly what components/ ships.
    for path in (ROOT / "components").rglob("*"):
        if path.is_file():
            rel = path.relative_to(ROOT / "components")
            assert (example_repo / "kubernetes/components" / rel).read_bytes() == path.read_bytes()
    assert "kubernetes/apps" in result.stdout


def test_init_is_idempotent(initialised_repo: Path, netpol) -> None:
    before = snapshot(initialised_repo)
    result = netpol("init", initialised_repo)
    assert result.exit_code == 0
    assert "nothing to do" in result.stdout
    assert snapshot(initialised_repo) == before


def test_init_dry_run_writes_nothing_and_shows_diff(example_repo: Path, netpol) -> None:
    before = snapshot(example_repo)
    result = netpol("init", "--dry-run", example_repo)
    assert result.exit_code == 0
    assert "+++ b/netpol.yaml" in result.stdout
    assert f"+++ b/{BASELINE}/allow-dns.yaml" in result.stdout
    assert "nothing was written" in result.stdout
    assert snapshot(example_repo) == before


def test_init_json(example_repo: Path, netpol) -> None:
    result = netpol("init", "--json", "--dry-run", example_repo)
    data = json.loads(result.stdout)
    assert data["dry_run"] is True
    assert "media" in data["namespaces"]
    assert {c["path"] for c in data["changes"]} >= {"netpol.yaml", f"{BASELINE}/allow-dns.yaml"}


def test_init_refuses_to_clobber_local_edits(initialised_repo: Path, netpol) -> None:
    edited = initialised_repo / BASELINE / "allow-dns.yaml"
    edited.write_text(edited.read_text() + "# my local tweak\n")
    before = snapshot(initialised_repo)
    result = netpol("init", initialised_repo)
    assert result.exit_code == 1
    assert f"local edits in {BASELINE}/allow-dns.yaml" in result.stderr
    assert "--overwrite" in result.stderr
    assert snapshot(initialised_repo) == before
    forced = netpol("init", "--overwrite", initialised_repo)
    assert forced.exit_code == 0, forced.output
    assert "my local tweak" not in edited.read_text()


def test_init_adopts_hand_made_components(example_repo: Path, netpol) -> None:
    hand_made = {
        f"{BASELINE}/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./mine.yaml\n",
        f"{BASELINE}/mine.yaml": "# hand written\n",
    }
    build_file_tree(example_repo, hand_made)
    result = netpol("init", example_repo)
    assert result.exit_code == 0, result.output
    assert "not template-managed" in result.stdout
    for rel, content in hand_made.items():
        assert (example_repo / rel).read_text() == content
    assert not (example_repo / BASELINE / ".netpol-answers.yaml").exists()
    assert (example_repo / DEFAULT_DENY / "default-deny.yaml").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--monitoring-namespace", "Media_1"),
            "Invalid value for '--monitoring-namespace': 'Media_1' is not a valid namespace name "
            "(lower-case letters, digits and '-', at most 63 characters)",
        ),
        (("--apiserver-port", "70000"), "Invalid value for '--apiserver-port'"),
        (("--apiserver-port", "0"), "Invalid value for '--apiserver-port'"),
        (("--gateway-namespace", "-bad-"), "Invalid value for '--gateway-namespace': '-bad-'"),
        (("--github-repo", "nope"), "Invalid value for '--github-repo': 'nope' is not a GitHub"),
        (("--base", ""), "Invalid value for '--base': '' is not a branch name"),
    ],
)
def test_init_rejects_bad_answers(
    example_repo: Path, netpol, args: tuple[str, ...], message: str
) -> None:
    """A bad option value is a usage error blamed on the option, not on netpol.yaml."""
    before = snapshot(example_repo)
    result = netpol("init", *args, example_repo)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Usage: netpol init" in result.stderr
    assert "netpol.yaml" not in result.stderr and "command line" not in result.stderr
    assert snapshot(example_repo) == before


def test_init_with_invalid_existing_config_fails_clearly(example_repo: Path, netpol) -> None:
    (example_repo / "netpol.yaml").write_text("version: 1\nmode: loud\n")
    result = netpol("init", example_repo)
    assert result.exit_code == 1
    assert "netpol.yaml: mode: 'loud' is not a valid mode (audit or enforce)" in result.stderr
    assert "--force" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--apps-dir", "/etc"), "--apps-dir /etc: must be a directory inside the repository"),
        (("--apps-dir", "../outside"), "--apps-dir ../outside: must be a directory inside"),
        (("--apps-dir", "clusters/apps"), "the directory clusters/apps does not exist"),
        (("--apps-dir", "README.md"), "--apps-dir README.md: README.md is not a directory"),
        (("--components-dir", "/tmp"), "--components-dir /tmp: must be a directory inside"),
        (("--components-dir", "../x"), "--components-dir ../x: must be a directory inside"),
        (("--components-dir", "README.md/c"), "README.md is not a directory"),
    ],
)
def test_init_directories_must_be_inside_the_repository(
    example_repo: Path, netpol, args: tuple[str, ...], message: str
) -> None:
    """Regression: '--apps-dir /etc' was an internal error (FileNotFoundError, exit 3)."""
    before = snapshot(example_repo)
    result = netpol("init", *args, example_repo)
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "internal error" not in result.stderr
    assert snapshot(example_repo) == before


def test_init_accepts_an_absolute_apps_dir_inside_the_repository(
    example_repo: Path, netpol
) -> None:
    result = netpol("init", "--apps-dir", example_repo / "kubernetes/apps/", example_repo)
    assert result.exit_code == 0, result.stderr
    assert "apps_dir: kubernetes/apps\n" in (example_repo / "netpol.yaml").read_text()


def test_init_apps_dir_symlinked_outside_is_refused(
    example_repo: Path, tmp_path: Path, netpol
) -> None:
    outside = tmp_path / "outside"
    (outside / "web").mkdir(parents=True)
    (outside / "web/kustomization.yaml").write_text("resources: []\n")
    (example_repo / "elsewhere").symlink_to(outside)
    result = netpol("init", "--apps-dir", "elsewhere", example_repo)
    assert result.exit_code == 1
    assert "must be a directory inside the repository" in result.stderr


@pytest.mark.parametrize("where", ["missing", "file"])
def test_init_on_a_missing_directory_or_a_file_is_a_usage_error(
    tmp_path: Path, netpol, where: str
) -> None:
    target = tmp_path / "nope"
    if where == "file":
        target.write_text("x\n")
    result = netpol("init", target)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr if where == "missing" else "is a file" in result.stderr


def test_init_on_a_repo_without_apps_dir(tmp_path: Path, netpol) -> None:
    result = netpol("init", tmp_path)
    assert result.exit_code == 1
    assert "no Flux apps directory" in result.stderr and "--apps-dir" in result.stderr


def test_init_detects_a_nonstandard_layout(tmp_path: Path, netpol) -> None:
    build_file_tree(
        tmp_path,
        {"clusters/main/apps/web/kustomization.yaml": "resources: []\n"},
    )
    result = netpol("init", tmp_path)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "netpol.yaml").read_text()
    assert "apps_dir: clusters/main/apps" in text
    assert "components_dir: clusters/main/components" in text
    assert (tmp_path / "clusters/main/components/network-policy/baseline/allow-dns.yaml").is_file()


def test_upgrade_reapplies_changed_answers(initialised_repo: Path, netpol) -> None:
    answers = initialised_repo / DEFAULT_DENY / ".netpol-answers.yaml"
    answers.write_text(answers.read_text().replace("mode: enforce", "mode: audit"))
    dry = netpol("-C", initialised_repo, "upgrade", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "enableDefaultDeny" in dry.stdout
    result = netpol("-C", initialised_repo, "upgrade")
    assert result.exit_code == 0, result.output
    assert (
        "enableDefaultDeny" in (initialised_repo / DEFAULT_DENY / "default-deny.yaml").read_text()
    )
    assert (
        netpol("-C", initialised_repo, "upgrade")
        .stdout.strip()
        .endswith("nothing to do: everything is already in place")
    )


def test_upgrade_reports_conflicts_and_writes_nothing(initialised_repo: Path, netpol) -> None:
    answers = initialised_repo / DEFAULT_DENY / ".netpol-answers.yaml"
    answers.write_text(answers.read_text().replace("mode: enforce", "mode: audit"))
    policy = initialised_repo / DEFAULT_DENY / "default-deny.yaml"
    policy.write_text(policy.read_text() + "# hand edit\n")
    before = snapshot(initialised_repo)
    result = netpol("-C", initialised_repo, "upgrade")
    assert result.exit_code == 1
    assert f"local edits in {DEFAULT_DENY}/default-deny.yaml" in result.stderr
    assert "<<<<<<<" not in policy.read_text()
    assert snapshot(initialised_repo) == before
    forced = netpol("-C", initialised_repo, "upgrade", "--overwrite")
    assert forced.exit_code == 0
    assert "# hand edit" not in policy.read_text()


def test_upgrade_takes_over_adopted_components_only_with_overwrite(
    example_repo: Path, netpol
) -> None:
    build_file_tree(
        example_repo,
        {
            f"{BASELINE}/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        },
    )
    assert netpol("init", example_repo).exit_code == 0
    plain = netpol("-C", example_repo, "upgrade")
    assert "not template-managed" in plain.stdout
    assert not (example_repo / BASELINE / "allow-dns.yaml").exists()
    forced = netpol("-C", example_repo, "upgrade", "--overwrite")
    assert forced.exit_code == 0, forced.output
    assert (example_repo / BASELINE / "allow-dns.yaml").is_file()


@pytest.mark.kubectl
@pytest.mark.parametrize("component", [BASELINE, DEFAULT_DENY])
def test_rendered_components_build_with_kubectl(
    initialised_repo: Path, tmp_path: Path, component: Path
) -> None:
    consumer = tmp_path / "consumer"
    build_file_tree(
        consumer,
        {
            "kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: media\n"
                f"resources:\n  - ./cm.yaml\ncomponents:\n  - {os.path.relpath(initialised_repo / component, consumer)}\n"
            ),
            "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        },
    )
    proc = subprocess.run(
        ["kubectl", "kustomize", str(consumer)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "kind: CiliumNetworkPolicy" in proc.stdout
    assert "namespace: media" in proc.stdout


def test_installed_wheel_renders_components(tmp_path: Path) -> None:
    """Build the wheel, install it outside the checkout, and render from the packaged templates."""
    import sys

    if shutil.which("git") is None:
        pytest.skip("git needed by the build backend's file selection")
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("netpol-*.whl"))
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    repo = tmp_path / "repo"
    build_file_tree(repo, {"kubernetes/apps/web/kustomization.yaml": "resources: []\n"})
    code = (
        "import scaffolder, scaffolder.templates.render as r\n"
        "print(scaffolder.__file__)\n"
        "print(r.templates_root())\n"
        "from scaffolder.cli import main\n"
        f"main(['init', {str(repo)!r}])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    module_file, templates = proc.stdout.splitlines()[:2]
    assert module_file.startswith(str(target))
    assert templates == str(target / "scaffolder" / "_templates")
    assert (repo / "kubernetes/components/network-policy/baseline/allow-dns.yaml").is_file()
    assert (target / "scaffolder" / "data" / "crds" / "ciliumnetworkpolicies.yaml").is_file()


def test_init_options_are_not_silently_ignored(initialised_repo: Path, netpol) -> None:
    result = netpol("init", "--mode", "audit", initialised_repo)
    assert result.exit_code == 0
    assert "ignored because netpol.yaml exists" in result.stderr
    assert "mode: enforce" in (initialised_repo / "netpol.yaml").read_text()
    forced = netpol("init", "--overwrite", "--mode", "audit", initialised_repo)
    assert forced.exit_code == 0, forced.output
    assert "mode: audit" in (initialised_repo / "netpol.yaml").read_text()
    assert (
        "enableDefaultDeny" in (initialised_repo / DEFAULT_DENY / "default-deny.yaml").read_text()
    )


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("kubernetes/components", "kubernetes/components is a file, but netpol renders"),
        (
            "kubernetes/components/network-policy/baseline",
            "kubernetes/components/network-policy/baseline is a file, but netpol renders",
        ),
    ],
)
def test_init_with_a_file_where_a_component_goes(
    example_repo: Path, netpol, file: str, message: str
) -> None:
    """Regression: an internal error (NotADirectoryError, exit 3)."""
    target = example_repo / file
    if target.is_dir():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("not a directory\n")
    before = snapshot(example_repo)
    result = netpol("init", example_repo)
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(example_repo) == before


def test_init_with_a_directory_named_netpol_yaml(example_repo: Path, netpol) -> None:
    """Regression: an internal error (IsADirectoryError, exit 3)."""
    (example_repo / "netpol.yaml").mkdir()
    result = netpol("init", example_repo)
    assert result.exit_code == 1, result.stderr
    assert "netpol.yaml is not a file" in result.stderr
