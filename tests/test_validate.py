"""scaffolder.policy.schema: Cilium policies checked offline against the vendored CRD schema."""

from __future__ import annotations

import copy
import hashlib
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from scaffolder.core.errors import PolicyValidationError, YamlError
from scaffolder.core.yamlio import load_documents
from scaffolder.policy.schema import (
    SCHEMA_VERSION,
    validate_documents,
    validate_policy,
    validate_text,
)

from .conftest import CORPUS, shared_params


def cnp(spec: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "test"},
    }
    if spec is not None:
        doc["spec"] = spec
    doc.update(top)
    return doc


def egress(rule: dict[str, Any]) -> dict[str, Any]:
    return cnp({"endpointSelector": {}, "egress": [rule]})


def ports(*specs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"ports": [{"port": port, "protocol": proto} for port, proto in specs]}]


ALLOW_DNS = cnp(
    {
        "endpointSelector": {},
        "enableDefaultDeny": {"ingress": False, "egress": False},
        "egress": [
            {
                "toEndpoints": [
                    {
                        "matchLabels": {
                            "io.kubernetes.pod.namespace": "kube-system",
                            "k8s-app": "kube-dns",
                        }
                    }
                ],
                "toPorts": [
                    {
                        "ports": [
                            {"port": "53", "protocol": "UDP"},
                            {"port": "53", "protocol": "TCP"},
                        ],
                        "rules": {"dns": [{"matchPattern": "*"}]},
                    }
                ],
            }
        ],
    }
)


def only_problem(doc: dict[str, Any]) -> str:
    problems = validate_policy(doc)
    assert len(problems) == 1, problems
    return problems[0]


# --------------------------------------------------------------------------- valid policies


def test_schema_version_names_the_vendored_commit() -> None:
    assert SCHEMA_VERSION == "cilium v1.20.0-pre.3 (b0ac676c)"


@pytest.mark.parametrize(
    ("name", "blob"),
    [
        ("ciliumnetworkpolicies.yaml", "885e41d14282149cc0b9e7d45ae4f94ab6dd790b"),
        ("ciliumclusterwidenetworkpolicies.yaml", "d57a7f4e625b26b1ca495c3a14f62321b5a31d84"),
    ],
)
def test_vendored_crds_are_the_upstream_blobs(name: str, blob: str) -> None:
    data = (files("scaffolder") / "data" / "crds" / name).read_bytes()
    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob


@pytest.mark.parametrize(
    "doc",
    [
        ALLOW_DNS,
        cnp({"endpointSelector": {}, "ingressDeny": [{}], "egressDeny": [{}]}),
        egress({"toEntities": ["kube-apiserver"], "toPorts": ports(("6443", "TCP"))}),
        egress({"toCIDR": ["192.168.5.0/24", "fd00::/8"], "toPorts": ports(("554", "TCP"))}),
        egress({"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}]}),
        egress({"toFQDNs": [{"matchName": "api.example.com"}, {"matchPattern": "*.example.com"}]}),
        egress({"toEndpoints": [{}], "toPorts": ports(("http", "TCP"), ("0", "ANY"))}),
        cnp({"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}]}], "log": {"value": "x"}}),
        cnp(specs=[{"endpointSelector": {}, "ingress": [{"fromEntities": ["host"]}]}]),
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": "nodes"},
            "spec": {"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]},
        },
    ],
    ids=[
        "allow-dns",
        "default-deny",
        "apiserver",
        "cidr-v4-v6",
        "cidrset-except",
        "fqdn",
        "named-and-zero-port",
        "log-value",
        "specs-list",
        "ccnp-node-selector",
    ],
)
def test_valid_policies_have_no_problems(doc: dict[str, Any]) -> None:
    assert validate_policy(doc) == []


def test_other_kinds_are_not_our_business() -> None:
    assert validate_policy({"apiVersion": "v1", "kind": "ConfigMap", "data": {"x": 1}}) == []
    assert validate_policy({"kind": "NetworkPolicy", "spec": {"bogus": True}}) == []
    assert validate_policy({"no": "kind"}) == []


# --------------------------------------------------------------------------- invalid policies


def test_bad_cidr_names_the_field() -> None:
    problem = only_problem(egress({"toCIDR": ["10.0.0.0/33"]}))
    assert problem.startswith("spec.egress[0].toCIDR[0]: '10.0.0.0/33'")
    assert "cidr" in problem


@pytest.mark.parametrize("cidr", ["10.0.0.1", "not-a-cidr", "300.0.0.0/8", "10.0.0.0/8/8"])
def test_cidr_format_follows_go_parse_cidr(cidr: str) -> None:
    # The API server checks ``format: cidr`` with net.ParseCIDR: a prefix length is required.
    problem = only_problem(egress({"toCIDRSet": [{"cidr": cidr}]}))
    assert problem.startswith("spec.egress[0].toCIDRSet[0].cidr:")


def test_port_above_65535_is_rejected_although_the_schema_pattern_accepts_it() -> None:
    problem = only_problem(egress({"toEntities": ["world"], "toPorts": ports(("99999", "TCP"))}))
    assert problem.startswith("spec.egress[0].toPorts[0].ports[0].port: '99999'")
    assert "65535" in problem


def test_port_abc_is_a_valid_named_port() -> None:
    # Cilium accepts IANA service names (RFC 6335) as ports and resolves them to the
    # pod's named container port, so "abc" is valid.
    assert validate_policy(egress({"toEndpoints": [{}], "toPorts": ports(("abc", "TCP"))})) == []


@pytest.mark.parametrize(
    "port", ["-abc", "a_b", "http--alt", "averyveryverylongname", "1.5", "080", "65536"]
)
def test_ports_that_are_neither_numbers_nor_service_names_are_rejected(port: str) -> None:
    problems = validate_policy(egress({"toEndpoints": [{}], "toPorts": ports((port, "TCP"))}))
    assert problems
    assert all(p.startswith("spec.egress[0].toPorts[0].ports[0].port:") for p in problems)


def test_unknown_entity_is_rejected_by_the_schema_enum() -> None:
    problem = only_problem(egress({"toEntities": ["internet"]}))
    assert problem.startswith("spec.egress[0].toEntities[0]: 'internet' is not one of")
    assert "kube-apiserver" in problem


def test_missing_spec_violates_the_crd_cel_rule() -> None:
    assert validate_policy(cnp()) == ["(root): spec or specs must be provided"]


def test_spec_without_any_rule_direction() -> None:
    problem = only_problem(cnp({"endpointSelector": {}}))
    assert problem == "spec: must set at least one of ingress, ingressDeny, egress, egressDeny"


def test_spec_with_both_selectors() -> None:
    doc = cnp({"endpointSelector": {}, "nodeSelector": {}, "egress": [{"toEntities": ["all"]}]})
    assert only_problem(doc) == (
        "spec: must set only one of endpointSelector, nodeSelector "
        "(found endpointSelector, nodeSelector)"
    )


@pytest.mark.parametrize(
    ("direction", "rule", "peers"),
    [
        ("egress", {"toEndpoints": [{}], "toCIDR": ["10.0.0.0/8"]}, "toEndpoints and toCIDR"),
        (
            "egress",
            {"toEntities": ["world"], "toFQDNs": [{"matchName": "a.b"}]},
            "toEntities and toFQDNs",
        ),
        (
            "ingress",
            {"fromEndpoints": [{}], "fromEntities": ["host"]},
            "fromEndpoints and fromEntities",
        ),
    ],
)
def test_mixed_peer_types_in_one_rule_are_rejected(
    direction: str, rule: dict[str, Any], peers: str
) -> None:
    problem = only_problem(cnp({"endpointSelector": {}, direction: [rule]}))
    assert problem.startswith(f"spec.{direction}[0]: combining {peers}")


def test_mixed_peer_types_in_separate_rules_are_fine() -> None:
    doc = cnp(
        {
            "endpointSelector": {},
            "egress": [{"toEndpoints": [{}]}, {"toCIDR": ["10.0.0.0/8"]}],
        }
    )
    assert validate_policy(doc) == []


def test_dns_rules_on_ingress_are_rejected() -> None:
    rule = {
        "fromEndpoints": [{}],
        "toPorts": [{"ports": [{"port": "53"}], "rules": {"dns": [{"matchPattern": "*"}]}}],
    }
    problem = only_problem(cnp({"endpointSelector": {}, "ingress": [rule]}))
    assert problem.startswith("spec.ingress[0].toPorts[0].rules.dns:")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("hello world", None),
        ("ünïcödé is printable", None),
        ("bell\x07", "does not match"),
        ("line\nbreak", "does not match"),
        ("x" * 33, "is too long"),
        (42, "is not of type 'string'"),
    ],
)
def test_log_value_re2_pattern_never_raises(value: object, fragment: str | None) -> None:
    # spec.log.value uses the RE2 pattern ^\PC*$ that Python's re cannot compile.
    doc = cnp({"endpointSelector": {}, "ingress": [{}], "log": {"value": value}})
    problems = validate_policy(doc)
    if fragment is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problems[0].startswith("spec.log.value: ")
        assert fragment in problems[0]


def test_wrong_api_version() -> None:
    doc = copy.deepcopy(ALLOW_DNS)
    doc["apiVersion"] = "cilium.io/v1"
    assert validate_policy(doc) == ["apiVersion: 'cilium.io/v1' is not 'cilium.io/v2'"]


def test_flux_substitutions_skip_value_checks() -> None:
    doc = egress(
        {
            "toCIDRSet": [{"cidr": "${VPS_IP}/32"}],
            "toPorts": ports(("${PORT}", "TCP")),
        }
    )
    assert validate_policy(doc) == []
    fqdn = egress({"toFQDNs": [{"matchName": "bao.${ROOT_DOMAIN}"}]})
    assert validate_policy(fqdn) == []


def test_problems_are_all_reported_in_a_stable_order() -> None:
    doc = cnp(
        {
            "endpointSelector": {},
            "egress": [
                {"toEntities": ["internet"], "toPorts": ports(("99999", "TCP"))},
                {"toCIDR": ["10.0.0.0/33"]},
            ],
        }
    )
    assert [p.split(":")[0] for p in validate_policy(doc)] == [
        "spec.egress[0].toEntities[0]",
        "spec.egress[1].toCIDR[0]",
        "spec.egress[0].toPorts[0].ports[0].port",
    ]
    assert validate_policy(doc) == validate_policy(copy.deepcopy(doc))


# --------------------------------------------------------------------------- documents and text


def test_validate_documents_raises_with_source_kind_name_and_count() -> None:
    bad = cnp({"endpointSelector": {}, "egress": [{"toEntities": ["internet", "nowhere"]}]})
    bad["metadata"]["name"] = "broken"
    with pytest.raises(PolicyValidationError) as info:
        validate_documents([ALLOW_DNS, {"kind": "ConfigMap"}, bad], "apps/media/cnp.yaml")
    message = info.value.message
    assert message.startswith(
        "apps/media/cnp.yaml: CiliumNetworkPolicy/broken: spec.egress[0].toEntities[0]: 'internet'"
    )
    assert message.endswith(" (+1 more)")
    assert SCHEMA_VERSION in str(info.value)


def test_validate_documents_accepts_valid_input() -> None:
    validate_documents([ALLOW_DNS, ALLOW_DNS], "x.yaml")
    validate_documents([], "empty.yaml")


def test_validate_text_parses_multi_document_yaml() -> None:
    text = (
        "---\n# comment\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n"
        "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: p\n"
        "spec:\n  endpointSelector: {}\n  egress:\n    - toEntities:\n        - world\n"
        '      toPorts:\n        - ports:\n            - port: "70000"\n'
    )
    with pytest.raises(
        PolicyValidationError,
        match=r"^x\.yaml: CiliumNetworkPolicy/p: "
        r"spec\.egress\[0\]\.toPorts\[0\]\.ports\[0\]\.port: '70000'",
    ):
        validate_text(text, "x.yaml")
    validate_text(text.replace("70000", "7000"), "x.yaml")


def test_validate_text_reports_yaml_errors_as_yaml_errors() -> None:
    with pytest.raises(YamlError):
        validate_text("kind: [unclosed\n", "broken.yaml")


def test_validation_is_fast_once_loaded() -> None:
    import time

    validate_policy(ALLOW_DNS)  # loads and compiles the schema once
    start = time.perf_counter()
    for _ in range(200):
        assert validate_policy(ALLOW_DNS) == []
    assert time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------- real-world corpus

POLICY_KIND = re.compile(r"^kind:\s*Cilium(Clusterwide)?NetworkPolicy\s*$", re.MULTILINE)
# Real policies that legitimately fail validation, with the reason. Empty: all 91 pass.
KNOWN_FAILURES: dict[str, str] = {}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*.y*ml")
        if p.is_file() and POLICY_KIND.search(p.read_text(encoding="utf-8", errors="replace"))
    )


def corpus_params() -> list[Any]:
    params = shared_params(corpus_files(), base=CORPUS)
    for i, param in enumerate(params):
        if param.id in KNOWN_FAILURES:
            mark = pytest.mark.xfail(reason=KNOWN_FAILURES[param.id], strict=True)
            params[i] = pytest.param(*param.values, id=param.id, marks=[mark])
    return params


def test_corpus_has_the_expected_policy_files(shared: Path) -> None:
    by_repo: dict[str, int] = {}
    for path in corpus_files():
        repo = path.relative_to(CORPUS).parts[0]
        by_repo[repo] = by_repo.get(repo, 0) + 1
    # The per-repository counts of the corpus README.
    assert by_repo == {"Diaoul+home-ops": 2, "coolguy1771+home-ops": 12, "deedee-ops+home-ops": 59}


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_policies_validate(shared: Path, path: Path) -> None:
    docs = load_documents(path)
    policies = [
        d for d in docs if isinstance(d, dict) and str(d.get("kind", "")).startswith("Cilium")
    ]
    assert policies, "no Cilium policy parsed"
    for doc in policies:
        assert validate_policy(doc) == [], doc.get("metadata", {}).get("name")
    validate_documents(docs, str(path))
