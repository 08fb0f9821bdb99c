"""scaffolder.policy.checks and schema diagnostics: structured findings with positions."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scaffolder.core.diagnostics import Severity
from scaffolder.policy import POLICY_KINDS
from scaffolder.policy import schema as schema_module
from scaffolder.policy.checks import (
    CHECKS,
    INGRESS_DNS_RULE,
    INVALID_PORT,
    MIXED_PEERS,
    SPEC_REQUIRED,
    check_policy,
)
from scaffolder.policy.parse import parse_policies
from scaffolder.policy.schema import API_VERSION_MISMATCH, SCHEMA_VIOLATION, diagnose_text

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "home-ops"

TEXT = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: broken
spec:
  endpointSelector: {}
  egress:
    - toEntities: [world]
      toCIDR: [10.0.0.0/8]
    - toEntities: [internet]
      toPorts:
        - ports:
            - port: "99999"
              protocol: TCP
  ingress:
    - fromEndpoints: [{}]
      toPorts:
        - ports: [{port: "53"}]
          rules:
            dns:
              - matchPattern: "*"
---
apiVersion: cilium.io/v1
kind: CiliumNetworkPolicy
metadata: {name: nospec}
"""


def _line(n: int) -> str:
    return TEXT.splitlines()[n - 1].strip()


def test_diagnostics_have_codes_lines_and_the_validator_messages() -> None:
    found = diagnose_text(TEXT, "apps/media/cnp.yaml")
    by_code = {(d.code, d.message.split(":")[0]): d for d in found}
    assert all(d.path == PurePosixPath("apps/media/cnp.yaml") for d in found)
    assert all(d.severity is Severity.ERROR for d in found)
    entity = by_code[(SCHEMA_VIOLATION, "spec.egress[1].toEntities[0]")]
    assert entity.line is not None and _line(entity.line) == "- toEntities: [internet]"
    assert entity.column == 20  # the flow-list item "internet"
    mixed = by_code[(MIXED_PEERS, "spec.egress[0]")]
    assert "combining toCIDR and toEntities" in mixed.message  # the API's order
    assert mixed.line is not None
    assert _line(mixed.line) == "- toEntities: [world]"
    port = by_code[(INVALID_PORT, "spec.egress[1].toPorts[0].ports[0].port")]
    assert port.line is not None and _line(port.line) == '- port: "99999"'
    dns = by_code[(INGRESS_DNS_RULE, "spec.ingress[0].toPorts[0].rules.dns")]
    assert dns.line is not None and _line(dns.line) == '- matchPattern: "*"'
    api = by_code[(API_VERSION_MISMATCH, "apiVersion")]
    assert api.line is not None and _line(api.line) == "apiVersion: cilium.io/v1"
    spec = by_code[(SPEC_REQUIRED, "(root)")]
    assert spec.line is not None and _line(spec.line) == "apiVersion: cilium.io/v1"
    assert str(port).startswith(f"apps/media/cnp.yaml:{port.line}:")
    assert port.to_json()["code"] == INVALID_PORT


def test_diagnostic_messages_match_validate_policy() -> None:
    # validate_policy (raw documents, no positions) and diagnose_text agree on the findings.
    from scaffolder.core.yamlio import parse_documents_fast

    texts = [d.message for d in diagnose_text(TEXT, "x.yaml")]
    raw = [
        m
        for doc in parse_documents_fast(TEXT, "x.yaml")
        for m in schema_module.validate_policy(doc)
    ]
    assert texts == raw


def test_checks_have_stable_distinct_codes() -> None:
    codes = [*CHECKS, API_VERSION_MISMATCH, SCHEMA_VIOLATION]
    assert len(set(codes)) == len(codes)
    assert all(c.startswith("NP") and c[2:].isdigit() for c in codes)


def test_deny_rules_may_mix_peers_and_network_policies_are_not_checked() -> None:
    text = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny}
spec:
  endpointSelector: {}
  egressDeny:
    - {toEntities: [world], toCIDR: [10.0.0.0/8]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 99999}]}]
"""
    assert [check_policy(p) for p in parse_policies(text, "d.yaml")] == [[], []]


def test_one_policy_kinds() -> None:
    assert not hasattr(schema_module, "POLICY_KINDS")
    assert set(schema_module.CRD_FILES) < POLICY_KINDS


@pytest.mark.parametrize(
    "path",
    sorted(p for p in EXAMPLE.rglob("*.yaml") if "CiliumNetworkPolicy" in p.read_text()),
    ids=lambda p: p.relative_to(EXAMPLE).as_posix(),
)
def test_the_example_repository_has_no_diagnostics(path: Path) -> None:
    assert diagnose_text(path.read_text(), path.name) == []


SCREENED = [
    {"kind": "CiliumNetworkPolicy", "metadata": {"name": "x"}},
    {"kind": "CiliumNetworkPolicy", "spec": {"egress": [{"toEndpoints": [{}], "toCIDR": ["a"]}]}},
    {"kind": "CiliumNetworkPolicy", "spec": {"egress": [{"toServices": [{}], "toPorts": [{}]}]}},
    {
        "kind": "CiliumNetworkPolicy",
        "spec": {"ingress": [{"icmps": [{"fields": [{"type": "8"}]}], "toPorts": [{}]}]},
    },
    {
        "kind": "CiliumNetworkPolicy",
        "specs": [{"egressDeny": [{"toPorts": [{"ports": [{"port": "65536"}]}]}]}],
    },
    {
        "kind": "CiliumNetworkPolicy",
        "spec": {"ingress": [{"toPorts": [{"rules": {"dns": [{"matchName": "a"}]}}]}]},
    },
    {
        "kind": "CiliumNetworkPolicy",
        "spec": {"egress": [{"toPorts": [{"ports": [{"port": "080"}]}]}]},
    },
]


@pytest.mark.parametrize("doc", SCREENED)
def test_the_bulk_screen_never_hides_a_finding(doc: dict[str, object]) -> None:
    from scaffolder.policy.checks import may_fail
    from scaffolder.policy.parse import policy_from_data

    policy = policy_from_data(doc, "x.yaml")
    assert policy is not None and check_policy(policy)
    assert may_fail(doc)


def test_the_bulk_screen_passes_the_shipped_components() -> None:
    from scaffolder.core.yamlio import parse_documents_fast
    from scaffolder.policy.checks import may_fail

    root = Path(__file__).resolve().parents[1] / "components"
    docs = [d for p in root.rglob("*.yaml") for d in parse_documents_fast(p.read_text(), p)]
    assert docs and not any(may_fail(d) for d in docs if d.get("kind") in POLICY_KINDS)
