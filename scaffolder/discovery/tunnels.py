"""Tunnels and other apps that send traffic to a gateway.

- :func:`tunnel_edge`: a tunnel connector's way out, recognised by its image.
  ``cloudflared`` connects to Cloudflare's edge on port 7844 over TCP (http2) and UDP
  (quic), at region1.v2.argotunnel.com and region2.v2.argotunnel.com -- Cloudflare's
  "Tunnel with firewall" page (developers.cloudflare.com/cloudflare-one/connections/
  connect-networks/configure-tunnels/tunnel-with-firewall/).
- :func:`gateway_targets`: the gateway listeners an app addresses in its values, env or
  config (``TUNNEL_URL: https://envoy-internal.network.svc.cluster.local:443``,
  towonel-agent's ``origin: envoy-external:443``), resolved to the listeners' pod ports
  (:mod:`scaffolder.discovery.gateways`), e.g. 10443 for Envoy Gateway's 443.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scaffolder.discovery.gateways import Gateway, Listener
from scaffolder.discovery.reader import as_int


@dataclass(frozen=True)
class TunnelEdge:
    """Where a tunnel connector connects out to: ports (number, protocol) and hosts."""

    name: str
    ports: tuple[tuple[int, str], ...]
    fqdns: tuple[str, ...]


# developers.cloudflare.com .../configure-tunnels/tunnel-with-firewall/
CLOUDFLARED_EDGE = TunnelEdge(
    "cloudflared",
    ((7844, "TCP"), (7844, "UDP")),
    ("region1.v2.argotunnel.com", "region2.v2.argotunnel.com"),
)
_EDGES = {"cloudflared": CLOUDFLARED_EDGE}  # image name (last path segment) -> edge
TUNNEL_IMAGES = frozenset(_EDGES)


def _image_name(image: str) -> str:
    """The last path segment of an image reference, without tag or digest."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def tunnel_edge(images: Iterable[str]) -> TunnelEdge | None:
    """The edge a tunnel connector connects to, recognised by its image (cloudflared)."""
    return next((edge for i in images if (edge := _EDGES.get(_image_name(i)))), None)


_HOST = re.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    r"(?<![A-Za-z0-9.-])(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)"
    r"(?:\.(?P<namespace>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.svc(?:\.cluster\.local)?)?)?"
    r"(?::(?P<port>\d{1,5}))?(?![A-Za-z0-9.-])"
)
_SCHEME_PORTS = {"http": 80, "https": 443, "ssh": 22}


def gateway_targets(
    strings: Iterable[str], namespace: str, gateways: Sequence[Gateway]
) -> list[tuple[Gateway, Listener]]:
    """The gateway listeners ``strings`` (an app's values, env, config) address as
    ``[scheme://]<gateway>[.<namespace>[.svc[.cluster.local]]][:port]`` -- the Service Envoy
    Gateway creates in GatewayNamespace mode is named after the Gateway, and users name
    their own Services so. A host without namespace means ``namespace`` (the app's); a
    port picks the listener (else the scheme's default port; else every TCP listener). A
    bare name (no scheme, namespace or port, e.g. a route's parentRef) addresses nothing."""
    by_key = {(g.namespace, g.name): g for g in gateways}
    found: dict[tuple[str, str, int, str], tuple[Gateway, Listener]] = {}
    for text in strings:
        if not any(g.name in text for g in gateways):
            continue
        for match in _HOST.finditer(text):
            scheme, qualifier, port_text = match.group("scheme", "namespace", "port")
            gateway = by_key.get((qualifier or namespace, match.group("name")))
            if gateway is None or not (scheme or qualifier or port_text):
                continue  # a bare name (a parentRef's, say) addresses nothing
            port = as_int(port_text) or _SCHEME_PORTS.get(scheme or "")
            for listener in gateway.listeners:
                if listener.transport != "TCP" or (port is not None and listener.port != port):
                    continue
                key = (gateway.namespace, gateway.name, listener.target_port, listener.transport)
                found.setdefault(key, (gateway, listener))
    return list(found.values())
