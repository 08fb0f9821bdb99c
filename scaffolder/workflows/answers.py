"""Merging an overlay's recorded answers with what discovery finds now.

What a user asked for is recorded in the overlay's answers file (``--allow-fqdn``, a hand
edit followed by ``netpol upgrade``). A later ``netpol scaffold`` must keep it:

* every list-valued answer (allowances: ports, databases, consumers, hosts, CIDRs) becomes
  the union of the recorded and the discovered entries: recorded entries first, in their
  order, then newly discovered ones; duplicates (same identity) appear once, so a second
  run renders the same bytes;
* a scalar answer keeps its recorded value unless that is the template default (then
  discovery fills it in, e.g. ``cnpg_cluster`` once consumers appear);
* recorded entries that discovery no longer finds, and scalars where discovery disagrees,
  are reported so the user sees them; nothing is dropped without an explicit request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from scaffolder.templates.render import OVERLAY, question_defaults

# Answers whose entries are ports (a number, or {port, protocol}).
PORT_LISTS = frozenset(
    {"gateway_ports", "lan_ports", "cluster_egress_ports", "oauth2_proxy_gateway_ports"}
)


@cache
def _defaults() -> dict[str, Any]:
    return question_defaults(OVERLAY)


def _port_key(item: Any) -> Any:
    if isinstance(item, dict) and "port" in item:
        port = item["port"]
        number = int(port) if isinstance(port, str) and port.isdigit() else port
        return {"port": number, "protocol": item.get("protocol", "TCP")}
    if isinstance(item, str) and item.isdigit():
        return {"port": int(item), "protocol": "TCP"}
    if isinstance(item, int) and not isinstance(item, bool):
        return {"port": item, "protocol": "TCP"}
    return item


def entry_key(answer: str, item: Any) -> str:
    """The identity of a list entry: two entries with the same key are the same allowance."""
    if answer in PORT_LISTS:
        item = _port_key(item)
    elif answer == "fqdn_egress" and isinstance(item, dict):
        # One entry per host and port; its style is a property of the allowance.
        item = {
            "host": str(item.get("host", "")).lower(),
            "port": _port_key(item).get("port"),
            "protocol": item.get("protocol", "TCP"),
        }
    elif answer == "cidr_egress" and isinstance(item, dict):
        ports = item.get("ports")
        item = {
            "cidr": item.get("cidr"),
            "ports": [_port_key(p) for p in ports] if isinstance(ports, list) else ports,
        }
    return json.dumps(item, sort_keys=True, default=str)


def describe(answer: str, item: Any) -> str:
    """A short human form of one entry, for notes."""
    if answer in PORT_LISTS:
        key = _port_key(item)
        if isinstance(key, dict):
            proto = key.get("protocol", "TCP")
            return f"{key.get('port')}" + ("" if proto == "TCP" else f"/{str(proto).lower()}")
    if isinstance(item, dict):
        if answer == "fqdn_egress":
            proto = item.get("protocol", "TCP")
            suffix = "" if proto == "TCP" else f"/{str(proto).lower()}"
            return f"{item.get('host')}:{item.get('port')}{suffix}"
        if answer == "cidr_egress":
            ports = ",".join(describe("lan_ports", p) for p in item.get("ports") or [])
            return f"{item.get('cidr')} port {ports}"
        if answer == "cnpg_egress":
            return f"{item.get('namespace')}/{item.get('cluster')}"
        if answer in {"cnpg_consumers", "cross_namespace_egress"}:
            selector = item.get("selector") or {}
            labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            return f"{item.get('namespace')}/{labels or '*'}"
    return json.dumps(item, sort_keys=True, default=str)


def union(answer: str, first: list[Any], then: list[Any]) -> list[Any]:
    """``first`` then the entries of ``then`` not in it, each identity once, order kept."""
    seen: set[str] = set()
    result = []
    for item in [*first, *then]:
        identity = entry_key(answer, item)
        if identity not in seen:
            seen.add(identity)
            result.append(item)
    return result


@dataclass
class Merged:
    answers: dict[str, Any]
    kept: list[tuple[str, Any]] = field(default_factory=list)  # recorded, not rediscovered
    scalars: list[tuple[str, Any, Any]] = field(default_factory=list)  # (key, kept, discovered)


def merge_answers(recorded: dict[str, Any], discovered: dict[str, Any]) -> Merged:
    """Recorded answers plus discovered ones (see the module docstring for the rule)."""
    defaults = _defaults()
    merged = Merged({})
    for key in [*discovered, *(k for k in recorded if k not in discovered)]:
        if key not in recorded:
            merged.answers[key] = discovered[key]
            continue
        old = recorded[key]
        if key not in discovered:
            merged.answers[key] = old
            if isinstance(old, list):
                merged.kept.extend((key, item) for item in old)
            continue
        new = discovered[key]
        if isinstance(old, list) and isinstance(new, list):
            found = {entry_key(key, item) for item in new}
            merged.answers[key] = union(key, old, new)
            merged.kept.extend((key, item) for item in old if entry_key(key, item) not in found)
        elif old == defaults.get(key, object()) or old == new:
            merged.answers[key] = new
        else:
            merged.answers[key] = old
            merged.scalars.append((key, old, new))
    return merged
