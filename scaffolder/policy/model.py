"""The typed policy model: one representation for scaffold, the linter and the evaluator.

CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and Kubernetes NetworkPolicy all parse
into the same dataclasses (:mod:`scaffolder.policy.parse`). Every node carries a
:class:`Position` (file, 1-based line and column of the YAML node it came from), so a
diagnostic can point at the exact rule, peer or port, and ``at``, the node's field path
(``spec.egress[0].toPorts[1]``) as the CRD schema names it.

Field names follow Cilium's API (``pkg/policy/api``); values are normalised only where
the meaning is certain (ports are strings as in the CRD, protocols upper-case, a missing
protocol is ``ANY``). Anything the model does not type stays available in ``raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

# Entities Cilium knows (docs: Policy Language > Layer 3 > Entities Based).
ENTITIES = frozenset(
    {
        "all",
        "cluster",
        "host",
        "remote-node",
        "kube-apiserver",
        "ingress",
        "init",
        "health",
        "unmanaged",
        "world",
        "world-ipv4",
        "world-ipv6",
    }
)
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"


@dataclass(frozen=True, order=True)
class Position:
    """Where a node starts: repo-relative file, 1-based line and column."""

    path: PurePosixPath
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Requirement:
    """One ``matchExpressions`` entry: In, NotIn, Exists, DoesNotExist."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selector:
    """A label selector. The empty selector (``{}``) selects everything in its scope."""

    match_labels: Mapping[str, str] = field(default_factory=dict)
    match_expressions: tuple[Requirement, ...] = ()
    pos: Position | None = field(default=None, compare=False)

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    @property
    def namespace(self) -> str | None:
        """The namespace a peer selector pins with ``io.kubernetes.pod.namespace``, if any."""
        return self.match_labels.get(NAMESPACE_LABEL) or self.match_labels.get(
            f"k8s:{NAMESPACE_LABEL}"
        )


@dataclass(frozen=True)
class PortProtocol:
    """``{port, endPort, protocol}``. ``port`` is a number or a named port, as a string;
    ``"0"`` or empty means every port."""

    port: str
    end_port: int | None = None
    protocol: str = "ANY"
    pos: Position | None = field(default=None, compare=False)
    at: str = field(default="", compare=False)  # field path: spec.egress[0].toPorts[0].ports[0]

    @property
    def number(self) -> int | None:
        return int(self.port) if self.port.isdigit() else None


@dataclass(frozen=True)
class DnsRule:
    """An L7 DNS rule (``rules.dns``): which names pods may look up."""

    match_name: str | None = None
    match_pattern: str | None = None
    pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PortRule:
    """A ``toPorts`` entry: ports plus optional L7 rules."""

    ports: tuple[PortProtocol, ...] = ()
    dns: tuple[DnsRule, ...] = ()
    l7: Mapping[str, Any] = field(default_factory=dict)  # http, kafka, l7proto...: untyped
    server_names: tuple[str, ...] = ()
    pos: Position | None = field(default=None, compare=False)
    at: str = field(default="", compare=False)

    @property
    def has_dns_rule(self) -> bool:
        return bool(self.dns)


@dataclass(frozen=True)
class CidrRule:
    """``fromCIDR``/``toCIDR`` (no except) or a ``*CIDRSet`` entry."""

    cidr: str | None
    except_: tuple[str, ...] = ()
    group_ref: str | None = None
    pos: Position | None = field(default=None, compare=False)
    from_set: bool = field(default=False, compare=False)  # a ``*CIDRSet`` entry


@dataclass(frozen=True)
class FqdnSelector:
    """A ``toFQDNs`` entry."""

    match_name: str | None = None
    match_pattern: str | None = None
    pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class IcmpField:
    type: str
    family: str = "IPv4"


@dataclass(frozen=True)
class PeerRule:
    """One ingress or egress rule (allow or deny) of a policy.

    ``endpoints`` are ``fromEndpoints``/``toEndpoints``; ``requires`` the ``*Requires``
    selectors; ``fqdns`` and ``services`` are egress only. A rule with no L3 peer at all
    (only ports) applies to every peer.
    """

    direction: str  # ingress | egress
    deny: bool
    endpoints: tuple[Selector, ...] = ()
    requires: tuple[Selector, ...] = ()
    entities: tuple[str, ...] = ()
    cidrs: tuple[CidrRule, ...] = ()
    fqdns: tuple[FqdnSelector, ...] = ()
    nodes: tuple[Selector, ...] = ()
    services: tuple[Mapping[str, Any], ...] = ()
    groups: tuple[Mapping[str, Any], ...] = ()
    ports: tuple[PortRule, ...] = ()
    icmps: tuple[IcmpField, ...] = ()
    pos: Position | None = field(default=None, compare=False)
    at: str = field(default="", compare=False)  # field path: spec.egress[0]

    @property
    def has_peer(self) -> bool:
        return bool(
            self.endpoints
            or self.entities
            or self.cidrs
            or self.fqdns
            or self.nodes
            or self.services
            or self.groups
        )

    @property
    def is_empty(self) -> bool:
        """``{}``: as a deny rule it denies everything in its direction."""
        return not self.has_peer and not self.ports and not self.icmps and not self.requires


@dataclass(frozen=True)
class DefaultDeny:
    """``enableDefaultDeny``: ``None`` means unset (Cilium's default: enabled)."""

    ingress: bool | None = None
    egress: bool | None = None
    pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Rule:
    """One rule set: a CNP's ``spec`` or one of its ``specs``, or a NetworkPolicy's spec."""

    endpoint_selector: Selector | None
    node_selector: Selector | None = None
    ingress: tuple[PeerRule, ...] = ()
    ingress_deny: tuple[PeerRule, ...] = ()
    egress: tuple[PeerRule, ...] = ()
    egress_deny: tuple[PeerRule, ...] = ()
    default_deny: DefaultDeny = field(default_factory=DefaultDeny)
    description: str | None = None
    # NetworkPolicy's policyTypes, or for Cilium the directions the rule has a section for.
    directions: frozenset[str] = frozenset()
    pos: Position | None = field(default=None, compare=False)
    at: str = field(default="", compare=False)  # field path: spec or specs[1]

    @property
    def rules(self) -> tuple[PeerRule, ...]:
        return (*self.ingress, *self.ingress_deny, *self.egress, *self.egress_deny)


@dataclass(frozen=True)
class TypedPolicy:
    """A policy document, typed. ``namespace`` is ``None`` for cluster-wide policies and
    for namespaced ones without ``metadata.namespace`` (kustomize sets it later)."""

    kind: str
    name: str
    namespace: str | None
    path: PurePosixPath
    doc_index: int
    rules: tuple[Rule, ...]
    pos: Position | None  # None only for policies typed from already-parsed data
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def clusterwide(self) -> bool:
        return self.kind == "CiliumClusterwideNetworkPolicy"
