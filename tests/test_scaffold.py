"""`netpol scaffold` on the example repository."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from scaffolder.core.yamlio import parse_documents
from scaffolder.policy.schema import validate_text

from .conftest import build_file_tree, snapshot

GOLDEN = Path(__file__).parent / "golden"
MEDIA = Path("kubernetes/apps/media")


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NETPOL_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text(), (
        f"differs from tests/golden/{name} (NETPOL_UPDATE_GOLDEN=1 updates it)"
    )


def _policies(path: Path) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in parse_documents(path.read_text(), str(path))}


def test_scaffold_media_golden_diff(initialised_repo: Path, netpol) -> None:
    result = netpol("-C", initialised_repo, "scaffold", "media", "--dry-run")
    assert result.exit_code == 0, result.output
    diff = result.stdout[result.stdout.index("---") :]
    _golden("scaffold-media.diff", diff[: diff.rindex("dry run:")])


def test_scaffold_media_writes_policies_and_is_idempotent(initialised_repo: Path, netpol) -> None:
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.output
    ns_kustomization = (initialised_repo / MEDIA / "kustomization.yaml").read_text()
    assert "  - ../../components/network-policy/baseline\n" in ns_kustomization
    assert "default-deny" not in ns_kustomization
    sonarr = _policies(initialised_repo / MEDIA / "sonarr/app/cnp-netpol.yaml")
    assert set(sonarr) == {"sonarr-allow-gateway-ingress", "sonarr-allow-cnpg-egress"}
    egress = sonarr["sonarr-allow-cnpg-egress"]["spec"]["egress"][0]
    assert egress["toEndpoints"][0]["matchLabels"] == {
        "io.kubernetes.pod.namespace": "databases",
        "cnpg.io/cluster": "postgres16",
    }
    # Pattern A uses the pod's targetPort (svc 80 -> 8080), not the Service port.
    landing = _policies(initialised_repo / MEDIA / "landing/app/cnp-netpol.yaml")
    ports = landing["landing-allow-gateway-ingress"]["spec"]["ingress"][0]["toPorts"][0]["ports"]
    assert ports == [{"port": "8080", "protocol": "TCP"}]
    jellyfin = _policies(initialised_repo / MEDIA / "jellyfin/app/cnp-netpol.yaml")
    lan = jellyfin["jellyfin-allow-lan-clients"]["spec"]["ingress"][0]
    assert lan["fromEntities"] == ["world", "host", "remote-node"]
    for policy in (*sonarr.values(), *landing.values(), *jellyfin.values()):
        assert policy["spec"]["enableDefaultDeny"] == {"ingress": False, "egress": False}
    assert (
        "./cnp-netpol.yaml"
        in (initialised_repo / MEDIA / "sonarr/app/kustomization.yaml").read_text()
    )
    before = snapshot(initialised_repo)
    again = netpol("-C", initialised_repo, "scaffold", "media")
    assert again.exit_code == 0
    assert "nothing to do" in again.stdout
    assert snapshot(initialised_repo) == before


def test_scaffold_all_covers_patterns_and_validates(initialised_repo: Path, netpol) -> None:
    result = netpol("-C", initialised_repo, "scaffold", "--all")
    assert result.exit_code == 0, result.output
    # out of scope and suspended namespaces are untouched
    for ns in ("flux-system", "kube-system", "archive"):
        assert (
            "network-policy/baseline"
            not in (initialised_repo / "kubernetes/apps" / ns / "kustomization.yaml").read_text()
        )
    assert "archive: skipped" in result.stdout
    # Pattern C: the CNPG cluster accepts its consumers on 5432
    cluster = _policies(
        initialised_repo / "kubernetes/apps/databases/cloudnative-pg/cluster/cnp-netpol.yaml"
    )
    clients = cluster["postgres16-allow-cnpg-clients"]["spec"]
    assert clients["endpointSelector"] == {"matchLabels": {"cnpg.io/cluster": "postgres16"}}
    sources = [r["fromEndpoints"][0]["matchLabels"] for r in clients["ingress"]]
    assert {"io.kubernetes.pod.namespace": "media", "app.kubernetes.io/name": "sonarr"} in sources
    # ... and reaches its barman S3 store (canonical FQDN: world entity + 443, seed 004)
    backup = cluster["postgres16-allow-fqdn-egress"]["spec"]
    assert backup["endpointSelector"] == {"matchLabels": {"cnpg.io/cluster": "postgres16"}}
    assert backup["egress"][0]["toEntities"] == ["world"]
    assert backup["egress"][0]["toPorts"][0]["ports"] == [{"port": "443", "protocol": "TCP"}]
    assert (
        "s3.${SECRET_DOMAIN}"
        in (
            initialised_repo / "kubernetes/apps/databases/cloudnative-pg/cluster/cnp-netpol.yaml"
        ).read_text()
    )
    # oauth2-proxy goes to envoy on its targetPort 10443, not to world:443
    oauth = _policies(
        initialised_repo / "kubernetes/apps/selfhosted/oauth2-proxy/app/cnp-netpol.yaml"
    )
    rule = oauth["oauth2-proxy-allow-oauth2-gateway"]["spec"]["egress"][0]
    assert rule["toEndpoints"][0]["matchLabels"]["io.kubernetes.pod.namespace"] == "network"
    assert rule["toPorts"][0]["ports"] == [{"port": "10443", "protocol": "TCP"}]
    # hand-written policies are respected
    assert not (initialised_repo / "kubernetes/apps/vpn/pod-gateway/app/cnp-netpol.yaml").exists()
    assert not (initialised_repo / "kubernetes/apps/selfhosted/glance/app/cnp-netpol.yaml").exists()
    assert "already has its own policies" in result.stdout
    for path in initialised_repo.rglob("cnp-netpol.yaml"):
        validate_text(path.read_text(), str(path))


@pytest.mark.kubectl
def test_every_kustomization_still_builds(initialised_repo: Path, netpol) -> None:
    dirs = sorted(
        {p.parent for p in (initialised_repo / "kubernetes/apps").rglob("kustomization.yaml")}
    )
    assert netpol("-C", initialised_repo, "scaffold", "--all").exit_code == 0
    for directory in dirs:
        proc = subprocess.run(
            ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"{directory}: {proc.stderr}"


@pytest.mark.kubectl
def test_verify_flag(initialised_repo: Path, netpol) -> None:
    result = netpol("-C", initialised_repo, "scaffold", "media", "--verify")
    assert result.exit_code == 0, result.output
    assert "verified: kubectl kustomize builds" in result.stdout


def test_styles_survive_scaffolding(initialised_repo: Path, netpol) -> None:
    crlf = initialised_repo / "kubernetes/apps/downloads/kustomization.yaml"
    no_eol = initialised_repo / "kubernetes/apps/selfhosted/kustomization.yaml"
    assert netpol("-C", initialised_repo, "scaffold", "downloads", "selfhosted").exit_code == 0
    data = crlf.read_bytes()
    assert b"network-policy/baseline\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert not no_eol.read_bytes().endswith(b"\n")
    assert b"network-policy/baseline" in no_eol.read_bytes()


def test_dry_run_and_json_write_nothing(initialised_repo: Path, netpol) -> None:
    before = snapshot(initialised_repo)
    dry = netpol("-C", initialised_repo, "scaffold", "media", "--dry-run")
    assert "+++ b/kubernetes/apps/media/sonarr/app/cnp-netpol.yaml" in dry.stdout
    plan = json.loads(
        netpol("-C", initialised_repo, "scaffold", "media", "--dry-run", "--json").stdout
    )
    assert plan["namespaces"][0]["namespace"] == "media"
    assert {c["path"] for c in plan["changes"]} >= {"kubernetes/apps/media/kustomization.yaml"}
    assert snapshot(initialised_repo) == before


def test_allow_fqdn(initialised_repo: Path, netpol) -> None:
    result = netpol(
        "-C",
        initialised_repo,
        "scaffold",
        "media",
        "--allow-fqdn",
        "sonarr=api.themoviedb.org:443",
        "--allow-fqdn",
        "radarr=s3.${SECRET_DOMAIN}:443",
    )
    assert result.exit_code == 0, result.output
    sonarr = _policies(initialised_repo / MEDIA / "sonarr/app/cnp-netpol.yaml")
    rule = sonarr["sonarr-allow-fqdn-egress"]["spec"]["egress"][0]
    assert rule["toEntities"] == ["world"]
    assert (
        "api.themoviedb.org"
        in (initialised_repo / MEDIA / "sonarr/app/cnp-netpol.yaml").read_text()
    )
    fqdn = netpol(
        "-C",
        initialised_repo,
        "scaffold",
        "media",
        "--fqdn-style",
        "fqdn",
        "--allow-fqdn",
        "sonarr=api.themoviedb.org:443",
    )
    assert fqdn.exit_code == 0
    sonarr = _policies(initialised_repo / MEDIA / "sonarr/app/cnp-netpol.yaml")
    assert sonarr["sonarr-allow-fqdn-egress"]["spec"]["egress"][0]["toFQDNs"] == [
        {"matchName": "api.themoviedb.org"}
    ]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (("medai",), "unknown namespace 'medai'", 1),
        (("medai",), "did you mean media?", 1),
        (("Media_1",), "is not a valid namespace name", 1),
        (("kube-system",), "out of scope", 1),
        (("media", "--allow-fqdn", "nonsense"), "expected [APP=]HOST:PORT", 1),
        (("media", "--allow-fqdn", "api.example.com:443"), "say which one", 1),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    initialised_repo: Path, netpol, args, message, code
) -> None:
    before = snapshot(initialised_repo)
    result = netpol("-C", initialised_repo, "scaffold", *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(initialised_repo) == before


def test_missing_namespace_kustomization(initialised_repo: Path, netpol) -> None:
    (initialised_repo / "kubernetes/apps/empty").mkdir()
    result = netpol("-C", initialised_repo, "scaffold", "empty")
    assert result.exit_code == 1
    assert "has no kustomization.yaml" in result.stderr


def test_malformed_kustomization_names_file_and_line(initialised_repo: Path, netpol) -> None:
    path = initialised_repo / MEDIA / "kustomization.yaml"
    path.write_text(path.read_text() + "resources: [unclosed\n")
    before = snapshot(initialised_repo)
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 1
    assert "kubernetes/apps/media/kustomization.yaml:" in result.stderr
    assert snapshot(initialised_repo) == before


def test_kustomization_that_is_a_list(initialised_repo: Path, netpol) -> None:
    build_file_tree(initialised_repo, {"kubernetes/apps/listy/kustomization.yaml": "- a\n- b\n"})
    result = netpol("-C", initialised_repo, "scaffold", "listy")
    assert result.exit_code == 1
    assert "listy/kustomization.yaml" in result.stderr


def test_duplicate_keys_in_kustomization(initialised_repo: Path, netpol) -> None:
    path = initialised_repo / MEDIA / "kustomization.yaml"
    path.write_text(path.read_text() + "namespace: again\n")
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 1
    assert "duplicate key" in result.stderr


def test_symlinked_kustomization_escaping_the_repo(
    initialised_repo: Path, tmp_path: Path, netpol
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: []\n")
    (initialised_repo / "kubernetes/apps/escape").mkdir()
    (initialised_repo / "kubernetes/apps/escape/kustomization.yaml").symlink_to(
        outside / "kustomization.yaml"
    )
    result = netpol("-C", initialised_repo, "scaffold", "escape")
    assert result.exit_code == 1
    assert "outside the repository" in result.stderr
    assert (outside / "kustomization.yaml").read_text() == "resources: []\n"


def test_conflicting_local_edit_in_overlay(initialised_repo: Path, netpol) -> None:
    assert netpol("-C", initialised_repo, "scaffold", "media").exit_code == 0
    overlay = initialised_repo / MEDIA / "sonarr/app/cnp-netpol.yaml"
    overlay.write_text(overlay.read_text() + "# my edit\n")
    before = snapshot(initialised_repo)
    result = netpol(
        "-C", initialised_repo, "scaffold", "media", "--allow-fqdn", "sonarr=api.example.com:443"
    )
    assert result.exit_code == 1
    assert "local edits in kubernetes/apps/media/sonarr/app/cnp-netpol.yaml" in result.stderr
    assert snapshot(initialised_repo) == before


def test_existing_policy_name_is_never_duplicated(initialised_repo: Path, netpol) -> None:
    build_file_tree(
        initialised_repo,
        {
            "kubernetes/apps/media/sonarr/app/extra.yaml": (
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: allow-dns\n"
                "spec:\n  endpointSelector: {}\n  egress:\n    - toEntities: [world]\n"
            )
        },
    )
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.output
    assert "policies named allow-dns already exist" in result.stdout
    assert (
        "network-policy/baseline"
        not in (initialised_repo / MEDIA / "kustomization.yaml").read_text()
    )


def test_scaffold_needs_init(example_repo: Path, netpol) -> None:
    (example_repo / "netpol.yaml").write_text("version: 1\n")
    result = netpol("-C", example_repo, "scaffold", "media")
    assert result.exit_code == 1
    assert "run 'netpol init'" in result.stderr


def test_upgrade_rerenders_overlays(initialised_repo: Path, netpol) -> None:
    assert netpol("-C", initialised_repo, "scaffold", "media").exit_code == 0
    result = netpol("-C", initialised_repo, "upgrade")
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.stdout
    assert "managed directories" in result.stdout


def test_scaffold_works_with_adopted_components(example_repo: Path, netpol) -> None:
    hand_made = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./dns.yaml\n"
    dns = (
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: allow-kube-dns\n"
        "spec:\n  endpointSelector: {}\n  enableDefaultDeny: {ingress: false, egress: false}\n"
        "  egress:\n    - toEntities: [cluster]\n"
    )
    build_file_tree(
        example_repo,
        {
            "kubernetes/components/network-policy/baseline/kustomization.yaml": hand_made,
            "kubernetes/components/network-policy/baseline/dns.yaml": dns,
        },
    )
    assert "not template-managed" in netpol("init", example_repo).stdout
    result = netpol("-C", example_repo, "scaffold", "media")
    assert result.exit_code == 0, result.output
    assert (
        "../../components/network-policy/baseline"
        in (example_repo / MEDIA / "kustomization.yaml").read_text()
    )
    base = example_repo / "kubernetes/components/network-policy/baseline"
    assert (base / "kustomization.yaml").read_text() == hand_made
    assert (base / "dns.yaml").read_text() == dns


def test_gateway_ingress_opens_only_the_routed_port(initialised_repo: Path, netpol) -> None:
    build_file_tree(
        initialised_repo,
        {
            "kubernetes/apps/tools/kustomization.yaml": "resources:\n  - ./wiki/ks.yaml\n",
            "kubernetes/apps/tools/wiki/ks.yaml": (
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: wiki\n"
                "spec:\n  path: ./kubernetes/apps/tools/wiki/app\n  targetNamespace: tools\n"
            ),
            "kubernetes/apps/tools/wiki/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
            "kubernetes/apps/tools/wiki/app/helmrelease.yaml": (
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: wiki\n"
                "spec:\n  chartRef: {kind: OCIRepository, name: app-template}\n  values:\n"
                "    controllers:\n      wiki:\n        containers:\n          app:\n            image: {repository: x}\n"
                "    service:\n      app:\n        controller: wiki\n        ports:\n"
                "          metrics:\n            port: 9090\n          web:\n            port: 80\n            targetPort: 3000\n"
                "    route:\n      app:\n        parentRefs: [{name: envoy-internal, namespace: network}]\n"
                "        rules:\n          - backendRefs: [{identifier: app, port: 80}]\n"
            ),
        },
    )
    result = netpol("-C", initialised_repo, "scaffold", "tools")
    assert result.exit_code == 0, result.output
    wiki = _policies(initialised_repo / "kubernetes/apps/tools/wiki/app/cnp-netpol.yaml")
    ports = wiki["wiki-allow-gateway-ingress"]["spec"]["ingress"][0]["toPorts"][0]["ports"]
    assert ports == [{"port": "3000", "protocol": "TCP"}]


def test_a_broken_unrelated_namespace_does_not_block_scaffolding(
    initialised_repo: Path, netpol
) -> None:
    broken = initialised_repo / "kubernetes/apps/observability/kustomization.yaml"
    broken.write_text("resources: [unclosed\n")
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.output
    assert "observability: not discovered" not in result.stderr  # not our namespace: no noise
    assert (
        "network-policy/baseline" in (initialised_repo / MEDIA / "kustomization.yaml").read_text()
    )
    own = netpol("-C", initialised_repo, "scaffold", "observability")
    assert own.exit_code == 1
    assert "kubernetes/apps/observability/kustomization.yaml:" in own.stderr


# --------------------------------------------------------------------------- issue #7
SONARR = MEDIA / "sonarr/app"


def _answers(root: Path, directory: Path) -> str:
    return (root / directory / ".netpol-answers.yaml").read_text()


def test_allow_fqdn_survives_a_plain_scaffold(initialised_repo: Path, netpol) -> None:
    first = netpol(
        "-C", initialised_repo, "scaffold", "media", "--allow-fqdn", "sonarr=api.sonarr.tv:443"
    )
    assert first.exit_code == 0, first.output
    assert "sonarr-allow-fqdn-egress" in _policies(initialised_repo / SONARR / "cnp-netpol.yaml")
    before = snapshot(initialised_repo)
    again = netpol("-C", initialised_repo, "scaffold", "media")
    assert again.exit_code == 0, again.output
    assert snapshot(initialised_repo) == before  # nothing removed, nothing to do
    assert "nothing to do" in again.stdout
    assert "media/sonarr: kept recorded fqdn_egress api.sonarr.tv:443" in again.stdout
    assert "--remove-fqdn sonarr=api.sonarr.tv:443" in again.stdout


def test_hand_edited_answers_survive_upgrade_then_scaffold(initialised_repo: Path, netpol) -> None:
    assert netpol("-C", initialised_repo, "scaffold", "media").exit_code == 0
    answers = initialised_repo / SONARR / ".netpol-answers.yaml"
    answers.write_text(
        answers.read_text().replace(
            "fqdn_egress: []", 'fqdn_egress: [{"host": "api.themoviedb.org", "port": 443}]'
        )
    )
    upgraded = netpol("-C", initialised_repo, "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "sonarr-allow-fqdn-egress" in _policies(initialised_repo / SONARR / "cnp-netpol.yaml")
    before = snapshot(initialised_repo)
    again = netpol("-C", initialised_repo, "scaffold", "media")
    assert again.exit_code == 0, again.output
    assert snapshot(initialised_repo) == before
    assert "api.themoviedb.org" in (initialised_repo / SONARR / "cnp-netpol.yaml").read_text()


def test_discovery_adds_to_recorded_answers(initialised_repo: Path, netpol) -> None:
    """A recorded port discovery no longer finds is kept; discovered ones are added after it."""
    assert netpol("-C", initialised_repo, "scaffold", "media").exit_code == 0
    answers = initialised_repo / SONARR / ".netpol-answers.yaml"
    answers.write_text(
        answers.read_text().replace(
            'gateway_ports: [{"port": 8989, "protocol": "TCP"}]', "gateway_ports: [9999]"
        )
    )
    assert netpol("-C", initialised_repo, "upgrade").exit_code == 0
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.output
    assert 'gateway_ports: [9999, {"port": 8989, "protocol": "TCP"}]' in answers.read_text()
    assert "media/sonarr: kept recorded gateway_ports 9999 (not rediscovered" in result.stdout
    assert "run 'netpol upgrade' to drop it" in result.stdout
    before = snapshot(initialised_repo)
    assert "nothing to do" in netpol("-C", initialised_repo, "scaffold", "media").stdout
    assert snapshot(initialised_repo) == before


def test_remove_fqdn_then_scaffold_stays_removed(initialised_repo: Path, netpol) -> None:
    assert (
        netpol(
            "-C",
            initialised_repo,
            "scaffold",
            "media",
            "--allow-fqdn",
            "sonarr=api.sonarr.tv:443",
            "--allow-fqdn",
            "sonarr=api.trakt.tv:443",
        ).exit_code
        == 0
    )
    removed = netpol(
        "-C", initialised_repo, "scaffold", "media", "--remove-fqdn", "sonarr=api.sonarr.tv:443"
    )
    assert removed.exit_code == 0, removed.output
    text = (initialised_repo / SONARR / "cnp-netpol.yaml").read_text()
    assert "api.sonarr.tv" not in text and "api.trakt.tv" in text
    before = snapshot(initialised_repo)
    again = netpol("-C", initialised_repo, "scaffold", "media")
    assert again.exit_code == 0
    assert snapshot(initialised_repo) == before
    assert "api.sonarr.tv" not in (initialised_repo / SONARR / "cnp-netpol.yaml").read_text()
    # The last one: the fqdn policy disappears, the rest of the overlay stays.
    assert (
        netpol(
            "-C", initialised_repo, "scaffold", "media", "--remove-fqdn", "api.trakt.tv:443"
        ).exit_code
        == 0
    )
    assert set(_policies(initialised_repo / SONARR / "cnp-netpol.yaml")) == {
        "sonarr-allow-gateway-ingress",
        "sonarr-allow-cnpg-egress",
    }


def test_remove_fqdn_not_recorded_names_what_is(initialised_repo: Path, netpol) -> None:
    assert (
        netpol(
            "-C", initialised_repo, "scaffold", "media", "--allow-fqdn", "sonarr=api.sonarr.tv:443"
        ).exit_code
        == 0
    )
    before = snapshot(initialised_repo)
    result = netpol(
        "-C", initialised_repo, "scaffold", "media", "--remove-fqdn", "sonarr=api.sonar.tv:443"
    )
    assert result.exit_code == 1
    assert "not recorded for media/sonarr (recorded: sonarr=api.sonarr.tv:443)" in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(initialised_repo) == before


def test_undiscovered_app_keeps_its_overlay(initialised_repo: Path, netpol) -> None:
    assert (
        netpol(
            "-C", initialised_repo, "scaffold", "media", "--allow-fqdn", "sonarr=api.sonarr.tv:443"
        ).exit_code
        == 0
    )
    ns = initialised_repo / MEDIA / "kustomization.yaml"
    ns.write_text(ns.read_text().replace("  - ./sonarr/ks.yaml\n", ""))
    overlay = (initialised_repo / SONARR / "cnp-netpol.yaml").read_bytes()
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.output
    assert "sonarr: not discovered any more; kept its allow policies" in result.stdout
    assert (initialised_repo / SONARR / "cnp-netpol.yaml").read_bytes() == overlay


def test_ip_literal_becomes_to_cidr_in_either_style(initialised_repo: Path, netpol) -> None:
    result = netpol(
        "-C",
        initialised_repo,
        "scaffold",
        "media",
        "--fqdn-style",
        "fqdn",
        "--allow-fqdn",
        "sonarr=1.2.3.4:443",
        "--allow-fqdn",
        "radarr=[2001:db8::1]:53/udp",
    )
    assert result.exit_code == 0, result.output
    sonarr = _policies(initialised_repo / SONARR / "cnp-netpol.yaml")
    rule = sonarr["sonarr-allow-cidr-egress"]["spec"]["egress"][0]
    assert rule["toCIDR"] == ["1.2.3.4/32"]
    assert rule["toPorts"][0]["ports"] == [{"port": "443", "protocol": "TCP"}]
    assert "toFQDNs" not in (initialised_repo / SONARR / "cnp-netpol.yaml").read_text()
    radarr = _policies(initialised_repo / MEDIA / "radarr/app/cnp-netpol.yaml")
    rule = radarr["radarr-allow-cidr-egress"]["spec"]["egress"][0]
    assert rule["toCIDR"] == ["2001:db8::1/128"]
    assert rule["toPorts"][0]["ports"] == [{"port": "53", "protocol": "UDP"}]
    for path in (SONARR, MEDIA / "radarr/app"):
        file = initialised_repo / path / "cnp-netpol.yaml"
        validate_text(file.read_text(), str(file))


def test_fqdn_style_change_replaces_the_recorded_entry(initialised_repo: Path, netpol) -> None:
    args = ("-C", initialised_repo, "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:443")
    assert netpol(*args).exit_code == 0
    assert netpol(*args, "--fqdn-style", "fqdn").exit_code == 0
    answers = _answers(initialised_repo, SONARR)
    assert answers.count("api.x.com") == 1 and '"style": "fqdn"' in answers


def test_overwrite_hint_works(initialised_repo: Path, netpol) -> None:
    assert netpol("-C", initialised_repo, "scaffold", "media").exit_code == 0
    overlay = initialised_repo / SONARR / "cnp-netpol.yaml"
    overlay.write_text(overlay.read_text() + "# my edit\n")
    failed = netpol("-C", initialised_repo, "scaffold", "media")
    assert failed.exit_code == 1
    hint = "'netpol scaffold media --overwrite'"
    assert hint in failed.stderr and "--force" not in failed.stderr
    followed = netpol("-C", initialised_repo, *hint.strip("'").split()[1:])
    assert followed.exit_code == 0, followed.output
    assert "# my edit" not in overlay.read_text()


def test_conflict_hint_repeats_the_command_line(initialised_repo: Path, netpol) -> None:
    assert netpol("-C", initialised_repo, "scaffold", "media").exit_code == 0
    overlay = initialised_repo / SONARR / "cnp-netpol.yaml"
    overlay.write_text(overlay.read_text() + "# my edit\n")
    failed = netpol(
        "-C", initialised_repo, "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:443"
    )
    assert "'netpol scaffold media --allow-fqdn sonarr=api.x.com:443 --overwrite'" in failed.stderr


def test_out_of_scope_and_suspended_hints_work(initialised_repo: Path, netpol) -> None:
    refused = netpol("-C", initialised_repo, "scaffold", "kube-system")
    assert refused.exit_code == 1
    assert "'netpol scaffold kube-system --include-out-of-scope'" in refused.stderr
    ok = netpol("-C", initialised_repo, "scaffold", "kube-system", "--include-out-of-scope")
    assert ok.exit_code == 0, ok.output
    skipped = netpol("-C", initialised_repo, "scaffold", "archive")
    assert "'netpol scaffold archive --include-suspended'" in skipped.stdout
    included = netpol("-C", initialised_repo, "scaffold", "archive", "--include-suspended")
    assert included.exit_code == 0, included.output
    assert (
        "network-policy/baseline"
        in (initialised_repo / "kubernetes/apps/archive/kustomization.yaml").read_text()
    )


def test_force_is_gone(initialised_repo: Path, netpol) -> None:
    for command in ("scaffold", "upgrade", "init"):
        result = netpol("-C", initialised_repo, command, "--force")
        assert result.exit_code != 0
        assert "No such option" in result.stderr and "--force" in result.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("typo=api.x.com:443", "no app 'typo' in namespace(s) media"),
        ("sonar=api.x.com:443", "did you mean sonarr?"),
        ("sonarr=bad_host!:443", "host 'bad_host!' is not a DNS name"),
        ("sonarr=api.x.com:0", "port 0 is not a port number 1-65535"),
        ("sonarr=[::zz]:443", "is not an IPv6 address"),
    ],
)
def test_allow_fqdn_rejects_what_it_cannot_honour(
    initialised_repo: Path, netpol, spec: str, message: str
) -> None:
    before = snapshot(initialised_repo)
    result = netpol("-C", initialised_repo, "scaffold", "media", "--allow-fqdn", spec)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(initialised_repo) == before


def test_wildcard_and_flux_variable_hosts(initialised_repo: Path, netpol) -> None:
    result = netpol(
        "-C",
        initialised_repo,
        "scaffold",
        "media",
        "--fqdn-style",
        "fqdn",
        "--allow-fqdn",
        "sonarr=*.trakt.tv:443",
        "--allow-fqdn",
        "sonarr=s3.${SECRET_DOMAIN}:443",
    )
    assert result.exit_code == 0, result.output
    rules = _policies(initialised_repo / SONARR / "cnp-netpol.yaml")["sonarr-allow-fqdn-egress"]
    assert [r["toFQDNs"] for r in rules["spec"]["egress"]] == [
        [{"matchPattern": "*.trakt.tv"}],
        [{"matchName": "s3.${SECRET_DOMAIN}"}],
    ]
