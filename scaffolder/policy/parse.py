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
    def pos(self) -> Position | None:
        mark = self.node.start_mark
        return Position(self.path, mark.line + 1, mark.column + 1)

    @property
    def kind(self) -> str:
        return str(self.node.id)  # scalar | sequence | mapping

    def _child(self, node: Any) -> _Node:
        return _Node(node, self.path)

    def get(self, key: str) -> _Node | None:
        if self.kind != "mapping":
            return None
        for k, v in self.node.value:
            if k.id == "scalar" and k.value == key:
                return self._child(v)
        return None

    def items(self) -> Iterator[tuple[str, _Node]]:
        if self.kind == "mapping":
            for k, v in self.node.value:
                if k.id == "scalar":
                    yield str(k.value), self._child(v)

    def elements(self) -> list[_Node]:
        return [self._child(item) for item in self.node.value] if self.kind == "sequence" else []

    def seq(self, key: str) -> list[_Node]:
        child = self.get(key)
        return [] if child is None else child.elements()

    def text(self, key: str) -> str | None:
        child = self.get(key)
        if child is None or child.kind != "scalar" or child.is_null:
            return None
        return child.text_value

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
            return {str(k.value): self._child(v).data() for k, v in self.node.value}
        if self.kind == "sequence":
            return [self._child(item).data() for item in self.node.value]
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


class _DataNode(_Node):
    """The same accessors over already-parsed data (dicts, lists, scalars): no positions.
    (Mappings must be ``dict``: what every netpol loader returns; much faster than
    ``isinstance(x, Mapping)``.)

    Lets the checks run on documents a caller has parsed already (the validators' fast
    path) without composing the text again.
    """

    __slots__ = ()

    @property
    def pos(self) -> Position | None:
        return None

    @property
    def kind(self) -> str:
        node = self.node
        if isinstance(node, dict):
            return "mapping"
        return "sequence" if isinstance(node, list) else "scalar"

    def _child(self, node: Any) -> _Node:
        return _DataNode(node, self.path)

    def get(self, key: str) -> _Node | None:
        node = self.node
        if not isinstance(node, dict) or key not in node:
            return None
        return _DataNode(node[key], self.path)

    def items(self) -> Iterator[tuple[str, _Node]]:
        if isinstance(self.node, dict):
            for k, v in self.node.items():
                if isinstance(k, str):
                    yield k, _DataNode(v, self.path)

    def elements(self) -> list[_Node]:
        if not isinstance(self.node, list):
            return []
        return [_DataNode(item, self.path) for item in self.node]

    @property
    def is_null(self) -> bool:
        return self.node is None

    @property
    def text_value(self) -> str:
        value = self.node
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def data(self) -> Any:
        return self.node


def _strings(node: _Node | None) -> tuple[str, ...]:
    if node is None or node.kind != "sequence":
        return ()
    return tuple(
        text
        for item in node.elements()
        if item.kind == "scalar" and (text := item.text_value) != ""
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


def _port_rule(node: _Node, at: str) -> PortRule:
    ports = []
    for j, p in enumerate(node.seq("ports")):
        end = p.text("endPort")
        ports.append(
            PortProtocol(
                port=p.text("port") or "0",
                end_port=int(end) if end and end.isdigit() else None,
                protocol=(p.text("protocol") or "ANY").upper(),
                pos=p.pos,
                at=f"{at}.ports[{j}]",
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
    return PortRule(tuple(ports), dns, l7, _strings(node.get("serverNames")), node.pos, at)


def _cidrs(node: _Node, plain: str, sets: str) -> tuple[CidrRule, ...]:
    out = [CidrRule(item.text_value, pos=item.pos) for item in node.seq(plain) if item.is_scalar]
    out.extend(
        CidrRule(
            entry.text("cidr"),
            _strings(entry.get("except")),
            entry.text("cidrGroupRef"),
            entry.pos,
            from_set=True,
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


def _peer_rule(node: _Node, direction: str, deny: bool, at: str) -> PeerRule:
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
        ports=tuple(_port_rule(p, f"{at}.toPorts[{i}]") for i, p in enumerate(node.seq("toPorts"))),
        icmps=_icmps(node),
        pos=node.pos,
        at=at,
    )


def _cilium_rule(node: _Node, at: str) -> Rule:
    sections = {
        key: tuple(
            _peer_rule(r, direction, deny, f"{at}.{key}[{i}]")
            for i, r in enumerate(node.seq(key))
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
        at=at,
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
        if is_policy_document(data):
            policies.append(_typed(doc, data, where, position, strict=True))
    return policies


def policy_from_data(doc: Any, path: PurePosixPath | str, index: int = 0) -> TypedPolicy | None:
    """``doc`` (one already-parsed document) typed, without positions; ``None`` if it is not
    a policy. Lenient: a policy without a name gets ``""`` (the schema check reports it)."""
    if not isinstance(doc, dict) or not is_policy_document(doc):
        return None
    where = path if isinstance(path, PurePosixPath) else PurePosixPath(path)
    return _typed(_DataNode(doc, where), doc, where, index, False)


def _typed(doc: _Node, data: Any, where: PurePosixPath, index: int, strict: bool) -> TypedPolicy:
    metadata = doc.get("metadata")
    name = metadata.text("name") if metadata is not None else None
    if not name and strict:
        pos = doc.pos
        line = pos.line if pos is not None else None
        raise YamlError(str(where), f"{data['kind']} has no metadata.name", line=line)
    kind = str(data["kind"])
    namespace = metadata.text("namespace") if metadata is not None else None
    if kind == "CiliumClusterwideNetworkPolicy":
        namespace = None
    if kind == "NetworkPolicy":
        spec = doc.get("spec")
        rules: tuple[Rule, ...] = (_k8s_spec(spec, namespace),) if spec is not None else ()
    else:
        specs = [("spec", doc.get("spec"))]
        specs.extend((f"specs[{i}]", s) for i, s in enumerate(doc.seq("specs")))
        rules = tuple(
            _cilium_rule(s, at) for at, s in specs if s is not None and s.kind == "mapping"
        )
    return TypedPolicy(kind, name or "", namespace, where, index, rules, doc.pos, data)
