"""The typed policy model: every field typed, every node where it is in the file."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scaffolder.core.errors import YamlError
from scaffolder.policy.model import CidrRule, DnsRule, PortProtocol, Requirement, TypedPolicy
from scaffolder.policy.parse import parse_policies

from .conftest import CORPUS, EXAMPLE, shared_params

CNP = """\
# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-policy}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: web
  namespace: media
spec:
  endpointSelector:
    matchLabels:
      app.kubernetes.io/name: sonarr
    matchExpressions:
      - {key: tier, operator: In, values: [web, api]}
  enableDefaultDeny:
    ingress: false
    egress: true
  ingress:
    - fromEndpoints:
        - matchLabels:
            io.kubernetes.pod.namespace: network
      fromEntities: [host, remote-node]
      toPorts:
        - ports:
            - port: 8989
              protocol: tcp
            - port: "9000"
              endPort: 9010
  ingressDeny:
    - fromEntities: [world]
  egress:
    - toFQDNs:
        - matchName: api.example.com
        - matchPattern: "*.example.com"
      toPorts:
        - ports: [{port: "443"}]
    - toCIDRSet:
        - cidr: 10.0.0.0/8
          except: [10.96.0.0/12]
      toCIDR: [192.168.1.10/32]
    - toEndpoints:
        - matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}
      toPorts:
        - ports: [{port: "53", protocol: ANY}]
          rules:
            dns:
              - matchPattern: "*"
  egressDeny:
    - {}
"""


def _line(text: str, line: int) -> str:
    return text.splitlines()[line - 1]


def test_a_cilium_policy_is_typed_with_positions() -> None:
    [policy] = parse_policies(CNP, "apps/media/np.yaml")
    assert (policy.kind, policy.name, policy.namespace) == ("CiliumNetworkPolicy", "web", "media")
    assert policy.doc_index == 1  # the ConfigMap is document 0
    assert _line(CNP, policy.pos.line) == "apiVersion: cilium.io/v2"
    [rule] = policy.rules
    assert rule.endpoint_selector is not None
    assert rule.endpoint_selector.match_labels == {"app.kubernetes.io/name": "sonarr"}
    assert rule.endpoint_selector.match_expressions == (Requirement("tier", "In", ("web", "api")),)
    assert (rule.default_deny.ingress, rule.default_deny.egress) == (False, True)
    assert rule.directions == {"ingress", "egress"}

    [ingress] = rule.ingress
    assert ingress.entities == ("host", "remote-node")
    assert ingress.endpoints[0].namespace == "network"
    assert [p for pr in ingress.ports for p in pr.ports] == [
        PortProtocol("8989", None, "TCP"),
        PortProtocol("9000", 9010, "ANY"),
    ]
    first_port = ingress.ports[0].ports[0]
    assert first_port.pos is not None and _line(CNP, first_port.pos.line).strip() == "- port: 8989"
    assert ingress.pos is not None
    assert _line(CNP, ingress.pos.line).strip() == "- fromEndpoints:"
    assert ingress.pos.column == 7  # the mapping after "- "

    [deny] = rule.ingress_deny
    assert deny.deny and deny.entities == ("world",)
    fqdn, cidr, dns = rule.egress
    assert [(f.match_name, f.match_pattern) for f in fqdn.fqdns] == [
        ("api.example.com", None),
        (None, "*.example.com"),
    ]
    assert fqdn.fqdns[1].pos is not None
    assert "matchPattern" in _line(CNP, fqdn.fqdns[1].pos.line)
    assert cidr.cidrs == (
        CidrRule("192.168.1.10/32"),
        CidrRule("10.0.0.0/8", ("10.96.0.0/12",)),
    )
    assert dns.endpoints[0].namespace == "kube-system"
    assert dns.ports[0].has_dns_rule and dns.ports[0].dns == (DnsRule(None, "*"),)
    [everything] = rule.egress_deny
    assert everything.deny and everything.is_empty


def test_a_kubernetes_network_policy_maps_to_the_same_model() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: glance, namespace: selfhosted}
spec:
  podSelector:
    matchLabels: {app: glance}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {matchLabels: {app: envoy}}
          namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: network}}
        - podSelector: {}
        - ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}
      ports:
        - {port: 8080}
"""
    [policy] = parse_policies(text, "np.yaml")
    [rule] = policy.rules
    assert rule.directions == {"ingress"}
    [ingress] = rule.ingress
    gateway, same_namespace = ingress.endpoints
    assert gateway.match_labels == {
        "app": "envoy",
        "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name": "network",
    }
    assert same_namespace.namespace == "selfhosted"  # no namespaceSelector: its own namespace
    assert ingress.cidrs == (CidrRule("192.168.0.0/16", ("192.168.1.0/24",)),)
    assert ingress.ports[0].ports == (PortProtocol("8080", None, "TCP"),)


def test_clusterwide_policies_have_no_namespace_and_specs_are_all_rules() -> None:
    text = """\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: cw, namespace: ignored}
specs:
  - endpointSelector: {}
    egress: [{toEntities: [cluster]}]
  - nodeSelector: {matchLabels: {role: worker}}
    ingress: [{fromEntities: [health]}]
"""
    [policy] = parse_policies(text, "cw.yaml")
    assert policy.clusterwide and policy.namespace is None
    first, second = policy.rules
    assert first.endpoint_selector is not None and first.endpoint_selector.is_empty
    assert second.node_selector is not None
    assert second.node_selector.match_labels == {"role": "worker"}
    assert _line(text, second.pos.line).strip().startswith("- nodeSelector")  # type: ignore[union-attr]


def test_invalid_yaml_names_the_file_and_line() -> None:
    with pytest.raises(YamlError, match=r"bad.yaml:2"):
        parse_policies("kind: CiliumNetworkPolicy\n  metadata: [\n", "bad.yaml")


def _check_positions(text: str, policies: list[TypedPolicy]) -> None:
    """Read every position back: it must point at the node it claims to be."""
    for policy in policies:
        assert _line(text, policy.pos.line).lstrip("- ").split(":")[0] in {
            "apiVersion",
            "kind",
            "metadata",
        }
        for rule in policy.rules:
            for peer in rule.rules:
                assert peer.pos is not None
                at = _line(text, peer.pos.line)[peer.pos.column - 1 :]
                assert at.startswith(("from", "to", "{", "ports", "icmps")), (policy.name, at)
                for port_rule in peer.ports:
                    for port in port_rule.ports:
                        assert port.pos is not None
                        # the port's mapping starts here ({port, protocol} in any order)
                        block = text.splitlines()[port.pos.line - 1 : port.pos.line + 2]
                        assert "port:" in "\n".join(block), (policy.name, port.pos)
                for fqdn in peer.fqdns:
                    assert fqdn.pos is not None
                    assert "match" in _line(text, fqdn.pos.line)


POLICY_FILES = sorted(
    p for p in EXAMPLE.rglob("*.yaml") if "NetworkPolicy" in p.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.relative_to(EXAMPLE).as_posix())
def test_positions_in_the_example_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    policies = parse_policies(text, PurePosixPath(path.relative_to(EXAMPLE).as_posix()))
    assert policies
    _check_positions(text, policies)


CORPUS_POLICY_FILES = (
    sorted(
        p
        for p in CORPUS.rglob("*.y*ml")
        if "NetworkPolicy" in p.read_text(encoding="utf-8", errors="replace")
    )
    if CORPUS.is_dir()
    else []
)


@pytest.mark.parametrize("path", shared_params(CORPUS_POLICY_FILES, base=CORPUS))
def test_positions_in_the_corpus(shared: Path, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    from scaffolder.core.yamlio import parse_documents
    from scaffolder.policy import policies_in_documents

    untyped = policies_in_documents(parse_documents(text, path), path.name)
    typed = parse_policies(text, path.name)
    assert [(p.kind, p.name, p.doc_index) for p in typed] == [
        (p.kind, p.name, p.doc_index) for p in untyped
    ]
    for t, u in zip(typed, untyped, strict=True):
        assert len(t.rules) == len(u.specs) or t.kind == "NetworkPolicy"
        for rule, spec in zip(t.rules, u.specs, strict=False):
            for key, typed_rules in (
                ("ingress", rule.ingress),
                ("egress", rule.egress),
                ("ingressDeny", rule.ingress_deny),
                ("egressDeny", rule.egress_deny),
            ):
                if t.kind != "NetworkPolicy":
                    assert len(typed_rules) == len(spec.get(key) or []), (t.name, key)
    _check_positions(text, typed)
