"""``--allow-fqdn`` / ``--remove-fqdn``: parsing ``[APP=]HOST:PORT[/udp]`` and turning it into
(or taking it out of) overlay answers; also the answer for a CNPG backup endpoint URL."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from scaffolder.core.errors import NetpolError
from scaffolder.workflows.answers import describe, entry_key

_SPEC = re.compile(
    r"^(?:(?P<app>[^=\s]*)=)?(?P<host>\[[^\]\s]*\]|[^:\s\[\]=]*):(?P<port>[0-9]+)"
    r"(?:/(?P<proto>[A-Za-z]+))?$"
)
_APP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?$")
_FLUX_VAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_SPEC_HINT = "e.g. sonarr=api.themoviedb.org:443, sonarr=1.2.3.4:443 or sonarr=[2001:db8::1]:443"


def _host_problem(host: str) -> str | None:
    """Why ``host`` is not a DNS name for toFQDNs (``*.`` prefix and ``${VAR}`` allowed)."""
    name = _FLUX_VAR.sub("x", host)
    name = name[2:] if name.startswith("*.") else name
    labels = name.split(".")
    if not name or len(host) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        return "is not a DNS name (letters, digits, '-', '_' and '.'; an optional leading '*.'; ${VAR})"
    if labels[-1].isdigit():
        return "is neither an IP address nor a DNS name (its last label is a number)"
    return None


@dataclass(frozen=True)
class FqdnAllow:
    """``--allow-fqdn`` / ``--remove-fqdn [APP=]HOST:PORT[/udp]``; HOST may be an IP address."""

    host: str  # a DNS name, or an IP address without brackets
    port: int
    protocol: str = "TCP"
    app: str | None = None

    @classmethod
    def parse(cls, text: str, flag: str = "--allow-fqdn") -> FqdnAllow:
        spec = text.strip()
        match = _SPEC.match(spec)
        if not match:
            raise NetpolError(f"{flag} {text!r}: expected [APP=]HOST:PORT[/udp]", hint=_SPEC_HINT)
        app, host, port = match["app"], match["host"], int(match["port"])
        if app is not None and not _APP_NAME.match(app):
            raise NetpolError(f"{flag} {text!r}: {app!r} is not an app name (a DNS-1123 label)")
        if not 1 <= port <= 65535:
            raise NetpolError(f"{flag} {text!r}: port {port} is not a port number 1-65535")
        proto = (match["proto"] or "tcp").upper()
        if proto not in ("TCP", "UDP"):
            raise NetpolError(f"{flag} {text!r}: protocol {match['proto']!r} is not tcp or udp")
        if host.startswith("["):
            try:
                address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv6Address(
                    host[1:-1]
                )
            except ValueError:
                raise NetpolError(
                    f"{flag} {text!r}: {host} is not an IPv6 address", hint=_SPEC_HINT
                ) from None
            mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
            return cls((mapped or address).compressed, port, proto, app)
        try:
            return cls(ipaddress.IPv4Address(host).compressed, port, proto, app)
        except ValueError:
            pass
        problem = _host_problem(host)
        if problem:
            raise NetpolError(f"{flag} {text!r}: host {host!r} {problem}", hint=_SPEC_HINT)
        return cls(host, port, proto, app)

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def target(self) -> str:
        """``HOST:PORT[/udp]`` as a user writes it (``[v6]:PORT`` for IPv6)."""
        address = self.address
        host = f"[{self.host}]" if isinstance(address, ipaddress.IPv6Address) else self.host
        return f"{host}:{self.port}" + ("/udp" if self.protocol == "UDP" else "")

    def __str__(self) -> str:
        return f"{self.app}={self.target}" if self.app else self.target

    def answer(self, style: str) -> tuple[str, dict[str, Any]]:
        """The overlay answer and entry: toCIDR for an IP address (toFQDNs never matches an
        IP literal), else an fqdn_egress host in ``style``."""
        address = self.address
        port = {"port": self.port, "protocol": self.protocol}
        if address is not None:
            return "cidr_egress", {"cidr": f"{address}/{address.max_prefixlen}", "ports": [port]}
        return "fqdn_egress", {**{"host": self.host}, **port, "style": style}

    def recorded_in(self, answers: dict[str, Any]) -> bool:
        return _without(answers, self) != answers

    def removed_from(self, answers: dict[str, Any]) -> dict[str, Any]:
        return _without(answers, self)


def _without(answers: dict[str, Any], allow: FqdnAllow) -> dict[str, Any]:
    """``answers`` minus the allowance (for an IP, just its port in the matching CIDR entry)."""
    key, wanted = allow.answer("entity")
    entries = answers.get(key)
    if not isinstance(entries, list):
        return answers
    identity = entry_key(key, wanted)
    kept: list[Any] = []
    for item in entries:
        if key == "fqdn_egress":
            if entry_key(key, item) != identity:
                kept.append(item)
            continue
        ports = item.get("ports") if isinstance(item, dict) else None
        if not isinstance(ports, list) or not _same_network(item.get("cidr"), wanted["cidr"]):
            kept.append(item)
            continue
        port = entry_key("lan_ports", wanted["ports"][0])
        rest = [p for p in ports if entry_key("lan_ports", p) != port]
        if rest:
            kept.append({**item, "ports": rest} if len(rest) != len(ports) else item)
    return answers if kept == entries else {**answers, key: kept}


def _same_network(cidr: Any, other: str) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False) == ipaddress.ip_network(other)
    except ValueError:
        return False


def removal_spec(key: str, item: Any) -> str | None:
    """The ``HOST:PORT[/udp]`` that ``--remove-fqdn`` takes for a recorded entry, if any."""
    if not isinstance(item, dict):
        return None
    if key == "fqdn_egress":
        return describe(key, item)
    ports = item.get("ports")
    if key != "cidr_egress" or not isinstance(ports, list) or len(ports) != 1:
        return None
    try:
        network = ipaddress.ip_network(str(item.get("cidr")))
    except ValueError:
        return None
    if network.prefixlen != network.max_prefixlen:
        return None
    host = network.network_address.compressed
    host = f"[{host}]" if network.version == 6 else host
    return f"{host}:{describe('lan_ports', ports[0])}"


def endpoint_allow(url: str, style: str) -> dict[str, Any] | None:
    """``https://s3.${SECRET_DOMAIN}`` -> an fqdn_egress answer (host, port 443)."""
    match = re.match(r"^(https?)://([^/:]+)(?::(\d+))?", url.strip())
    if match is None:
        return None
    port = int(match[3]) if match[3] else (443 if match[1] == "https" else 80)
    return {"host": match[2], "port": port, "protocol": "TCP", "style": style}
