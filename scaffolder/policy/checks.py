"""Cilium semantic checks: what the API server or the Cilium agent rejects although the CRD
schema (:mod:`scaffolder.policy.schema`) accepts it.

Written on the typed model (:mod:`scaffolder.policy.model`), each check yields
:class:`~scaffolder.core.diagnostics.Diagnostic` values with a stable code: they become lint
rules of the planned check command. The message starts with the field path, as the schema's do
(``spec.egress[0]: ...``); line and column come from the node's position when the policy
was parsed from text (:func:`scaffolder.policy.parse.parse_policies`).

Sources: the CRD's CEL rule ``has(self.spec) || has(self.specs)``,
``pkg/policy/api/rule_validation.go`` (one L3 peer type per allow rule, toServices without
toPorts, icmps without toPorts, no DNS rules on ingress) and ``PortProtocol.sanitize``
(numeric ports up to 65535, else an IANA service name).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

from scaffolder.core.diagnostics import Diagnostic, Severity
from scaffolder.policy.document import CILIUM_KINDS
from scaffolder.policy.model import PeerRule, Position, TypedPolicy

# Stable codes: lint rule ids (SARIF ruleId) once the check command lands. Never renumber.
SPEC_REQUIRED = "NP101"
INVALID_PORT = "NP102"
MIXED_PEERS = "NP103"
SERVICES_WITH_PORTS = "NP104"
ICMPS_WITH_PORTS = "NP105"
INGRESS_DNS_RULE = "NP106"

CHECKS: dict[str, str] = {
    SPEC_REQUIRED: "a Cilium policy must have spec or specs (the CRD's CEL rule)",
    INVALID_PORT: "a port is a number 0-65535 or an IANA service name",
    MIXED_PEERS: "one L3 peer type per allow rule",
    SERVICES_WITH_PORTS: "toServices cannot be combined with toPorts",
    ICMPS_WITH_PORTS: "icmps cannot be combined with toPorts",
    INGRESS_DNS_RULE: "DNS rules are egress only",
}

_SUBSTITUTION = "${"
_MAX_PORT = 65535
# RFC 6335 service names, as Cilium's pkg/iana matches them (case-insensitive).
_SVC_NAME = re.compile(r"^([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$")


def port_problem(port: str) -> str | None:
    """Cilium's ``PortProtocol.sanitize``: an IANA service name or a number 0-65535."""
    if _SUBSTITUTION in port or port == "":
        return None
    if len(port) <= 15 and _SVC_NAME.match(port):
        return None
    if port.isdigit():
        # strconv.ParseUint(port, 0, 16): a leading 0 means octal, so "080" is an error.
        try:
            number = int(port, 8) if len(port) > 1 and port.startswith("0") else int(port)
        except ValueError:
            number = _MAX_PORT + 1
        if number <= _MAX_PORT:
            return None
    return (
        f"{port!r} is not a valid port: use a number 1-{_MAX_PORT} "
        "(0 means all ports) or an IANA service name"
    )


def _peer_types(rule: PeerRule) -> list[str]:
    """The L3 peer keys ``rule`` uses, in the order Cilium's API lists them."""
    side = "from" if rule.direction == "ingress" else "to"
    plain = any(not c.from_set for c in rule.cidrs)
    sets = any(c.from_set for c in rule.cidrs)
    used = {
        f"{side}Endpoints": bool(rule.endpoints),
        f"{side}CIDR": plain,
        f"{side}CIDRSet": sets,
        f"{side}Entities": bool(rule.entities),
    }
    if side == "from":
        used.update(fromNodes=bool(rule.nodes), fromGroups=bool(rule.groups))
    else:
        used.update(
            toServices=bool(rule.services),
            toFQDNs=bool(rule.fqdns),
            toGroups=bool(rule.groups),
            toNodes=bool(rule.nodes),
        )
    return [key for key, present in used.items() if present]


class _Emit:
    def __init__(self, path: PurePosixPath) -> None:
        self.path = path

    def __call__(
        self, code: str, at: str, problem: str, pos: Position | None, hint: str | None = None
    ) -> Diagnostic:
        return Diagnostic(
            path=self.path,
            line=pos.line if pos is not None else None,
            column=pos.column if pos is not None else None,
            code=code,
            severity=Severity.ERROR,
            message=f"{at}: {problem}",
            hint=hint,
        )


def _rule_checks(rule: PeerRule, emit: _Emit) -> Iterator[Diagnostic]:
    if not rule.deny:  # Cilium sanitizes allow rules only
        used = _peer_types(rule)
        if len(used) > 1:
            yield emit(
                MIXED_PEERS,
                rule.at,
                f"combining {' and '.join(used)} in one rule is not supported by Cilium; "
                "split them into separate rules",
                rule.pos,
            )
        if "toServices" in used and rule.ports:
            yield emit(
                SERVICES_WITH_PORTS,
                rule.at,
                "combining toServices and toPorts is not supported by Cilium",
                rule.pos,
            )
        if rule.icmps and rule.ports:
            yield emit(
                ICMPS_WITH_PORTS,
                rule.at,
                "icmps may only be used without toPorts; use a separate rule",
                rule.pos,
            )
    for port_rule in rule.ports:
        if rule.direction == "ingress" and port_rule.dns:
            yield emit(
                INGRESS_DNS_RULE,
                f"{port_rule.at}.rules.dns",
                "DNS rules are not allowed on ingress",
                port_rule.dns[0].pos or port_rule.pos,
            )
        for port in port_rule.ports:
            problem = port_problem(port.port)
            if problem:
                yield emit(INVALID_PORT, f"{port.at}.port", problem, port.pos)


def check_policy(policy: TypedPolicy, path: PurePosixPath | None = None) -> list[Diagnostic]:
    """Every semantic problem of one Cilium policy (``[]`` for other kinds), in document
    order: the CEL rule, then per rule set its ingress, ingressDeny, egress, egressDeny."""
    if policy.kind not in CILIUM_KINDS:
        return []
    emit = _Emit(path if path is not None else policy.path)
    found: list[Diagnostic] = []
    if "spec" not in policy.raw and "specs" not in policy.raw:
        found.append(
            emit(
                SPEC_REQUIRED,
                "(root)",
                "spec or specs must be provided",
                policy.pos,
                hint="add a spec with an endpointSelector and ingress/egress rules",
            )
        )
    for rule_set in policy.rules:
        for rules in (
            rule_set.ingress,
            rule_set.ingress_deny,
            rule_set.egress,
            rule_set.egress_deny,
        ):
            for rule in rules:
                found.extend(_rule_checks(rule, emit))
    return found


def check_policies(policies: Sequence[TypedPolicy]) -> list[Diagnostic]:
    return [d for policy in policies for d in check_policy(policy)]


# --------------------------------------------------------------------------- screening

_PEER_KEYS = frozenset(
    {
        "fromEndpoints",
        "fromCIDR",
        "fromCIDRSet",
        "fromEntities",
        "fromNodes",
        "fromGroups",
        "toEndpoints",
        "toCIDR",
        "toCIDRSet",
        "toEntities",
        "toServices",
        "toFQDNs",
        "toGroups",
        "toNodes",
    }
)
_DIRECTIONS = ("ingress", "ingressDeny", "egress", "egressDeny")


def _rule_may_fail(rule: Any, ingress: bool) -> bool:
    if not isinstance(rule, dict):
        return False
    if "toServices" in rule or "icmps" in rule:
        return True
    if sum(1 for key in rule if key in _PEER_KEYS and rule[key]) > 1:
        return True
    to_ports = rule.get("toPorts")
    if not isinstance(to_ports, list):
        return to_ports is not None
    for port_rule in to_ports:
        if not isinstance(port_rule, dict):
            continue
        if ingress and "rules" in port_rule:
            return True
        for entry in port_rule.get("ports") or ():
            port = entry.get("port") if isinstance(entry, dict) else None
            if port is not None and (not isinstance(port, str) or port_problem(port)):
                return True
    return False


def may_fail(doc: dict[str, Any]) -> bool:
    """A conservative screen on a parsed document, for bulk validation: ``False`` only when
    no check of this module can report anything, so typing the document can be skipped
    (typing costs ~15x this walk). Anything unusual answers ``True``."""
    if "spec" not in doc and "specs" not in doc:
        return True
    specs = doc.get("specs")
    rule_sets = [doc.get("spec"), *(specs if isinstance(specs, list) else ())]
    for spec in rule_sets:
        if not isinstance(spec, dict):
            continue
        for direction in _DIRECTIONS:
            rules = spec.get(direction)
            if isinstance(rules, list):
                ingress = direction.startswith("ingress")
                if any(_rule_may_fail(rule, ingress) for rule in rules):
                    return True
    return False
