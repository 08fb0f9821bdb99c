"""Parse policy documents into the typed model, with the source position of every node.

libyaml composes the file into a node tree (each node has its start mark); the walker
below reads CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy specs and Kubernetes
NetworkPolicies from it. Shapes the CRD schema would reject (a string where a list
belongs...) are skipped here rather than guessed at: the schema check reports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from scaffolder.core.errors import YamlError
from scaffolder.policy.document import is_policy_document
from scaffolder.policy.model import (
    NAMESPACE_LABEL,
    CidrRule,
    DefaultDeny,
    DnsRule,
    FqdnSelector,
    IcmpField,
    PeerRule,
    PortProtocol,
    PortRule,
    Position,
    Requirement,
    Rule,
    Selector,
    TypedPolicy,
)

_TRUE = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}


class _Node:
    """A libyaml node with typed accessors and its position."""

    __slots__ = ("node", "path")

    def __init__(self, node: Any, path: PurePosixPath) -> None:
        self.node = node
        self.path = path

    @property
    def pos(self) -> Position:
        mark = self.node.start_mark
        return Position(self.path, mark.line + 1, mark.column + 1)

    @property
    def kind(self) -> str:
        return str(self.node.id)  # scalar | sequence | mapping

    def get(self, key: str) -> _Node | None:
        if self.kind != "mapping":
            return None
        for k, v in self.node.value:
            if k.id == "scalar" and k.value == key:
                return _Node(v, self.path)
        return None

    def items(self) -> Iterator[tuple[str, _Node]]:
        if self.kind == "mapping":
            for k, v in self.node.value:
                if k.id == "scalar":
                    yield str(k.value), _Node(v, self.path)

    def seq(self, key: str) -> list[_Node]:
        child = self.get(key)
        if child is None or child.kind != "sequence":
            return []
        return [_Node(item, self.path) for item in child.node.value]

    def text(self, key: str) -> str | None:
        child = self.get(key)
        if child is None or child.kind != "scalar" or child.is_null:
            return None
        return str(child.node.value)

    @property
    def is_scalar(self) -> bool:
        return self.kind == "scalar" and not self.is_null

    @property
    def text_value(self) -> str:
        return str(self.node.value)

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.node.tag.endswith(":null")

    def flag(self, key: str) -> bool | None:
        value = self.text(key)
        return None if value is None else value in _TRUE

    def data(self) -> Any:
        """Plain Python data of this node (scalars resolved by their YAML tag)."""
        if self.kind == "mapping":
            return {str(k.value): _Node(v, self.path).data() for k, v in self.node.value}
        if self.kind == "sequence":
            return [_Node(item, self.path).data() for item in self.node.value]
        tag, value = self.node.tag, self.node.value
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool"):
            return value in _TRUE
        if tag.endswith(":int"):
            try:
                return int(value, 0)
            except ValueError:
                return value
        if tag.endswith(":float"):
            try:
                return float(value)
            except ValueError:
                return value
        return value


def _strings(node: _Node | None) -> tuple[str, ...]:
    if node is None or node.kind != "sequence":
        return ()
    return tuple(
        str(item.value) for item in node.node.value if item.id == "scalar" and item.value != ""
    )


def _selector(node: _Node | None) -> Selector | None:
    if node is None or node.kind != "mapping":
        return None
    labels = node.get("matchLabels")
    match_labels = {k: str(v.data()) for k, v in labels.items()} if labels else {}
    expressions = tuple(
        Requirement(
            key=expr.text("key") or "",
            operator=expr.text("operator") or "",
            values=_strings(expr.get("values")),
        )
        for expr in node.seq("matchExpressions")
    )
    return Selector(match_labels, expressions, node.pos)


def _selectors(nodes: list[_Node]) -> tuple[Selector, ...]:
    return tuple(s for s in (_selector(n) for n in nodes) if s is not None)


def _port_rule(node: _Node) -> PortRule:
    ports = []
    for p in node.seq("ports"):
        end = p.text("endPort")
        ports.append(
            PortProtocol(
                port=p.text("port") or "0",
                end_port=int(end) if end and end.isdigit() else None,
                protocol=(p.text("protocol") or "ANY").upper(),
                pos=p.pos,
            )
        )
    rules = node.get("rules")
    dns: tuple[DnsRule, ...] = ()
    l7: dict[str, Any] = {}
    if rules is not None:
        dns = tuple(
            DnsRule(d.text("matchName"), d.text("matchPattern"), d.pos) for d in rules.seq("dns")
        )
        l7 = {k: v.data() for k, v in rules.items() if k != "dns"}
    return PortRule(tuple(ports), dns, l7, _strings(node.get("serverNames")), node.pos)


def _cidrs(node: _Node, plain: str, sets: str) -> tuple[CidrRule, ...]:
    out = [CidrRule(item.text_value, pos=item.pos) for item in node.seq(plain) if item.is_scalar]
    out.extend(
        CidrRule(
            entry.text("cidr"), _strings(entry.get("except")), entry.text("cidrGroupRef"), entry.pos
        )
        for entry in node.seq(sets)
    )
    return tuple(out)


def _icmps(node: _Node) -> tuple[IcmpField, ...]:
    return tuple(
        IcmpField(f.text("type") or "", f.text("family") or "IPv4")
        for icmp in node.seq("icmps")
        for f in icmp.seq("fields")
    )


def _peer_rule(node: _Node, direction: str, deny: bool) -> PeerRule:
    side = "from" if direction == "ingress" else "to"
    return PeerRule(
        direction=direction,
        deny=deny,
        endpoints=_selectors(node.seq(f"{side}Endpoints")),
        requires=_selectors(node.seq(f"{side}Requires")),
        entities=_strings(node.get(f"{side}Entities")),
        cidrs=_cidrs(node, f"{side}CIDR", f"{side}CIDRSet"),
        fqdns=tuple(
            FqdnSelector(f.text("matchName"), f.text("matchPattern"), f.pos)
            for f in node.seq("toFQDNs")
        )
        if direction == "egress"
        else (),
        nodes=_selectors(node.seq(f"{side}Nodes")),
        services=tuple(s.data() for s in node.seq("toServices")) if direction == "egress" else (),
        groups=tuple(g.data() for g in node.seq(f"{side}Groups")),
        ports=tuple(_port_rule(p) for p in node.seq("toPorts")),
        icmps=_icmps(node),
        pos=node.pos,
    )


def _cilium_rule(node: _Node) -> Rule:
    sections = {
        key: tuple(
            _peer_rule(r, direction, deny)
            for r in node.seq(key)
            if r.kind == "mapping" or (r.kind == "scalar" and r.is_null)
        )
        for key, direction, deny in (
            ("ingress", "ingress", False),
            ("ingressDeny", "ingress", True),
            ("egress", "egress", False),
            ("egressDeny", "egress", True),
        )
    }
    edd = node.get("enableDefaultDeny")
    default_deny = (
        DefaultDeny(edd.flag("ingress"), edd.flag("egress"), edd.pos)
        if edd is not None
        else DefaultDeny()
    )
    directions = frozenset(
        d
        for d, keys in (
            ("ingress", ("ingress", "ingressDeny")),
            ("egress", ("egress", "egressDeny")),
        )
        if any(node.get(k) is not None for k in keys)
    )
    return Rule(
        endpoint_selector=_selector(node.get("endpointSelector")),
        node_selector=_selector(node.get("nodeSelector")),
        ingress=sections["ingress"],
        ingress_deny=sections["ingressDeny"],
        egress=sections["egress"],
        egress_deny=sections["egressDeny"],
        default_deny=default_deny,
        description=node.text("description"),
        directions=directions,
        pos=node.pos,
    )


# --------------------------------------------------------------------------- NetworkPolicy


def _k8s_peer(peer: _Node, namespace: str | None) -> tuple[list[Selector], list[CidrRule]]:
    """A NetworkPolicy peer as Cilium sees it: pod/namespace selectors or an ipBlock."""
    block = peer.get("ipBlock")
    if block is not None:
        return [], [CidrRule(block.text("cidr"), _strings(block.get("except")), pos=block.pos)]
    pods = _selector(peer.get("podSelector"))
    spaces = _selector(peer.get("namespaceSelector"))
    labels = dict(pods.match_labels) if pods else {}
    expressions = list(pods.match_expressions) if pods else []
    if spaces is None:
        if namespace:
            labels[NAMESPACE_LABEL] = namespace
    else:
        labels.update(
            {f"io.cilium.k8s.namespace.labels.{k}": v for k, v in spaces.match_labels.items()}
        )
        expressions.extend(
            Requirement(f"io.cilium.k8s.namespace.labels.{r.key}", r.operator, r.values)
            for r in spaces.match_expressions
        )
    return [Selector(labels, tuple(expressions), peer.pos)], []


def _k8s_rule(node: _Node, direction: str, namespace: str | None) -> PeerRule:
    key = "from" if direction == "ingress" else "to"
    endpoints: list[Selector] = []
    cidrs: list[CidrRule] = []
    for peer in node.seq(key):
        selectors, blocks = _k8s_peer(peer, namespace)
        endpoints.extend(selectors)
        cidrs.extend(blocks)
    ports = tuple(
        PortRule(
            (
                PortProtocol(
                    port=p.text("port") or "0",
                    end_port=int(e) if (e := p.text("endPort")) and e.isdigit() else None,
                    protocol=(p.text("protocol") or "TCP").upper(),
                    pos=p.pos,
                ),
            ),
            pos=p.pos,
        )
        for p in node.seq("ports")
    )
    return PeerRule(
        direction, False, tuple(endpoints), cidrs=tuple(cidrs), ports=ports, pos=node.pos
    )


def _k8s_spec(spec: _Node, namespace: str | None) -> Rule:
    types = set(_strings(spec.get("policyTypes")))
    if not types:
        types = {"ingress"} | ({"egress"} if spec.get("egress") is not None else set())
    else:
        types = {t.lower() for t in types}
    return Rule(
        endpoint_selector=_selector(spec.get("podSelector")) or Selector(pos=spec.pos),
        ingress=tuple(_k8s_rule(r, "ingress", namespace) for r in spec.seq("ingress")),
        egress=tuple(_k8s_rule(r, "egress", namespace) for r in spec.seq("egress")),
        directions=frozenset(types),
        pos=spec.pos,
    )


# --------------------------------------------------------------------------- documents


def parse_policies(text: str, path: PurePosixPath | str) -> list[TypedPolicy]:
    """Every policy document in ``text`` (the file ``path``), typed, with positions.

    Documents that are not policies are skipped; ``doc_index`` counts non-empty documents,
    as :func:`scaffolder.policy.document.policies_in_documents` does.
    """
    import yaml

    where = PurePosixPath(path)
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlError(
            str(where), "invalid YAML", line=mark.line + 1 if mark is not None else None
        ) from exc
    policies = []
    index = 0
    for raw in nodes:
        if raw is None:
            continue
        doc = _Node(raw, where)
        if doc.is_null:
            continue
        data = doc.data()
        position = index
        index += 1
        if not is_policy_document(data):
            continue
        metadata = doc.get("metadata")
        name = metadata.text("name") if metadata is not None else None
        if not name:
            raise YamlError(str(where), f"{data['kind']} has no metadata.name", line=doc.pos.line)
        kind = str(data["kind"])
        namespace = metadata.text("namespace") if metadata is not None else None
        if kind == "CiliumClusterwideNetworkPolicy":
            namespace = None
        if kind == "NetworkPolicy":
            spec = doc.get("spec")
            rules: tuple[Rule, ...] = (_k8s_spec(spec, namespace),) if spec is not None else ()
        else:
            specs = [doc.get("spec"), *doc.seq("specs")]
            rules = tuple(_cilium_rule(s) for s in specs if s is not None and s.kind == "mapping")
        policies.append(TypedPolicy(kind, name, namespace, where, position, rules, doc.pos, data))
    return policies
