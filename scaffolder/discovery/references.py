"""Egress an app's configuration states (issue #9): service DNS names, URLs, ``host:port``
pairs and addresses in HelmRelease values, env vars, ConfigMaps, Secrets and config files.

Pure functions. A string is read only where its key path can name a peer the pod connects to
(not images, chart sources, the app's own hostnames, links, icons, schemas, listen addresses,
probes, allow-lists, volumes, paths), and loopback addresses, e-mail domains, API groups,
versions and template expressions are never references. In-cluster names are ``service``
references (never external); dotted public-looking hosts in URLs and ``host:port`` are
``external`` (a bare host only under a key naming a host, ``SMTP_HOST``); IPv4 addresses are
``cidr``. The port is the explicit one, else a sibling key's (``SMTP_PORT``), the scheme's
(:data:`SCHEME_PORTS`) or that of a store the key names (``REDIS_HOST``), else ``None``.
Flux substitutions stay verbatim (``auth.${SECRET_DOMAIN}``) but ``${VAR:=default}`` gives
its default; a host that is only a variable gives nothing.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from typing import Any

import yaml

from scaffolder.repo.model import Reference

__all__ = ["SCHEME_PORTS", "Reference", "references_in_document", "references_in_text"]


SCHEME_PORTS: dict[str, int] = {
    "http": 80, "https": 443, "ws": 80, "wss": 443, "postgres": 5432, "postgresql": 5432,
    "redis": 6379, "rediss": 6379, "valkey": 6379, "dragonfly": 6379, "mysql": 3306,
    "mariadb": 3306, "mongodb": 27017, "amqp": 5672, "amqps": 5671, "mqtt": 1883, "mqtts": 8883,
    "ldap": 389, "ldaps": 636, "smtp": 25, "smtps": 465, "submission": 587, "imap": 143,
    "imaps": 993, "pop3": 110, "pop3s": 995, "nats": 4222, "ftp": 21, "sftp": 22, "ssh": 22,
    "git": 9418, "dns": 53, "ntp": 123, "syslog": 514, "memcached": 11211, "kafka": 9092,
    "sqlserver": 1433, "mssql": 1433, "rtsp": 554, "rtmp": 1935, "irc": 6667, "ircs": 6697,
    "clickhouse": 9000, "influxdb": 8086, "sentinel": 26379, "xmpp": 5222,
}  # fmt: skip
# Stores a key may name (``REDIS_HOST``): their port when nothing else gives one.
_KEY_PORTS = {
    "redis": 6379, "dragonfly": 6379, "valkey": 6379, "keydb": 6379, "postgres": 5432, "pg": 5432,
    "postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mongo": 27017, "mongodb": 27017,
    "memcached": 11211, "nats": 4222, "mqtt": 1883, "rabbitmq": 5672, "amqp": 5672, "ldap": 389,
}  # fmt: skip


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_UDP_SCHEMES = _set("udp dns ntp syslog statsd tftp")
_BARE_SCHEMES = _set("tcp tls grpc grpcs h2c icmp rtsps zmq ssl")
# Schemes naming no network peer of the pod (files, registries, buckets, secret stores).
_NOT_NETWORK = _set(
    "file sqlite sqlite3 oci docker s3 s3a gs gcs az azblob abfs abfss hdfs unix data blob "
    "about javascript chrome vault op awssm gcpsm k8s kubernetes env secret ref urn jar "
    "mailto tel npm pypi github ipfs magnet ed2k"
)
# Keys whose subtree never names an egress peer (compared lower-case without - _ . /): the
# app's own routes and Service, images, probes, scheduling, volumes (kubelet mounts them).
_SKIP_TREES = _set(
    "annotations labels podannotations podlabels commonlabels commonannotations "
    "serviceannotations servicelabels image images chart chartref sourceref probes "
    "livenessprobe readinessprobe startupprobe route routes ingress ingresses httproute "
    "hostnames hostaliases tls securitycontext podsecuritycontext resources affinity "
    "nodeselector tolerations dnsconfig servicemonitor podmonitor metadata selector matchlabels "
    "imagepullsecrets persistence volumes volumemounts globalmounts advancedmounts "
    "networkpolicy networkpolicies serviceaccount rbac gatus homepage externaldns service "
    "topologyspreadconstraints clusterip clusterips loadbalancerip externalips "
    "loadbalancersourceranges storageclass storageclasses"
)
# Key words making a value a link, an allow-list, a listen address, a path or the app's own
# public address (browser-side URLs: styles, scripts, fonts, redirects).
_SKIP_WORDS = _set(
    "schema href icon icons logo avatar favicon link links homepage docs documentation website "
    "repository repo registry tag digest version apiversion kind path paths mountpath subpath "
    "file dir directory allowed allow allowlist whitelist trusted trust cors origins csrf "
    "redirect redirection redir callback listen bind pass deny block blocklist blacklist ban "
    "xff proxies noproxy public description title help image thumbnail banner style "
    "stylesheet css font fonts script published advertise advertised announce candidates"
)
_TARGET_WORDS = _set("target targets destination destinations peer peers")
# Whole keys and last two key words naming the app's own address (APP_URL, DOMAIN,
# server.externalDomain) or a browser-side one (OAuth's auth_url); subtrees by key ending.
_SELF_KEYS = _set(
    "appurl baseurl rooturl siteurl weburl externalurl domain appdomain frontendurl "
    "uiurl applicationurl canonicalurl instanceurl"
)
_SELF_PAIRS = {
    (a, b)
    for a in _set("external root site app canonical frontend")
    for b in _set("url uri domain host hostname address origin")
} | {("auth", "url"), ("authorization", "url"), ("authorization", "address")}
_SELF_PAIRS |= {("authorization", "endpoint"), ("nextauth", "url"), ("authorize", "url")}
_SKIP_ENDINGS = ("annotations", "labels", "volumes", "volumemounts", "probe", "securitycontext")
# Last key words saying the value is a host (only then is a bare host name read).
_HOST_WORDS = _set(
    "host hosts hostname hostnames server servers endpoint endpoints url uri urls addr address "
    "addresses broker brokers upstream relay smarthost proxy dsn"
)
_FILE_TLDS = _set(
    "yaml yml json toml ini conf cfg txt md py js ts sh go rs rb php html htm css xml db log "
    "pem crt key csr jpg jpeg png gif svg ico tar gz tgz zip lock sock pid env properties "
    "service socket mount timer"
)
_NOT_HOSTS = _set(
    "localhost localhost.localdomain ip6-localhost host.docker.internal true false yes no on "
    "off none null nil enabled disabled auto default"
)
_PLACEHOLDERS = ("example.com", "example.org", "example.net", "example", "invalid", "test")

_VAR = r"\$\$?\{[^{}\s]*\}"
_HOSTCH = rf"(?:[A-Za-z0-9_-]|{_VAR})"
_HOST = rf"(?:{_HOSTCH}+(?:\.{_HOSTCH}+)*\.?)"
_PORT = rf"(?:\d{{1,5}}|{_VAR})"
_ITEM = re.compile(rf"(?P<host>\[[0-9A-Fa-f:.]+\]|{_HOST})(?::(?P<port>{_PORT}))?")
_URL = re.compile(
    rf"(?<![\w+.-])(?:jdbc:)?(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    rf"(?:(?:\{{\{{[^{{}}]*\}}\}}|\{{(?!\{{)|[^\s/?#'\"<>{{])*@)?"
    rf"(?P<hosts>(?:\[[0-9A-Fa-f:.]+\]|{_HOST})(?::{_PORT})?(?:,{_HOST}(?::{_PORT})?)*)"
)
_HOSTPORT = re.compile(rf"(?<![\w.$/@:{{}}-])(?P<host>{_HOST}):(?P<port>{_PORT})(?![\w.:}}])")
_IPV4 = re.compile(
    r"(?<![\w.:/$-])(?P<ip>(?:\d{1,3}\.){3}\d{1,3})(?:/(?P<prefix>\d{1,2}))?"
    r"(?::(?P<port>\d{1,5}))?(?![\w.]|/\d)"
)
_BARE = re.compile(rf"{_HOST}(?::{_PORT})?(?:(?:\s*,\s*|\s+){_HOST}(?::{_PORT})?)*")
_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?[=-]([^{}]*)\}")
_VAR_SPLIT = re.compile(r"(\$\{[^{}]*\})")
_FLUX_VAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?")
_SERVICE = re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?")
_TLD = re.compile(r"[a-z]{2,63}|\$\{[A-Za-z_]\w*\}")
# Markup around a URL that makes it a link for a browser, not a connection of the pod.
_LINK_BEFORE = re.compile(
    r"(?:\b(?:href|src|srcset|action|poster|xmlns(?::\w+)?)\s*[$^*~|]?=\s*[\"']?|\]\(|"
    r"url\(\s*[\"']?)$",
    re.IGNORECASE,
)
# Line syntax of raw config files: "key: value", "key = value", "KEY=value", '"key": value'.
_LINE_KEY = re.compile(
    r"""^\s*(?:-\s+)?(?:export\s+)?["']?(?P<key>[A-Za-z_$][\w.$/-]*)["']?"""
    r"""(?:\s*=\s*|:\s+|:$|"\s*:\s*)(?P<value>.*)$"""
)
_DIRECTIVE = re.compile(r"^\s*(?P<key>[A-Za-z_][\w.-]*)\s+(?P<value>[^=:\s].*)$")
_FLAG = re.compile(r"^--?(?P<key>[A-Za-z][\w.-]*)=(?P<value>\S+)$")
_FLAGS = re.compile(r"(?:^|\s)--?(?P<key>[A-Za-z][\w-]*)\s+[\"']?(?P<value>[^\s\"'\\-][^\s\"'\\]*)")
_PAIR = re.compile(r"([A-Za-z_][\w.-]*)=('[^']*'|\"[^\"]*\"|[^\s'\"]+)")
_PAIRS = re.compile(rf"{_PAIR.pattern}(?:\s+{_PAIR.pattern})*")
_INLINE_KEY = re.compile(r"([A-Za-z_][\w.-]*)[\"']?\s*(?::(?!//)|=)")
_RELEASE = re.compile(r"\{\{-?\s*\.Release\.Name\s*-?\}\}")
_SITE = re.compile(r"^\s*[^\s{},]+(?:[,\s]+[^\s{},]+)*\s*\{\s*$")  # a Caddy site block: listens
_COMMENT = re.compile(r"^\s*(?:#|//|;).*$|\s+#.*$|\s+//\s.*$")
_WORKLOADS = _set("Deployment StatefulSet DaemonSet Job CronJob Pod ReplicaSet")
_READ_KINDS = _WORKLOADS | {"HelmRelease", "ConfigMap", "Secret", "ExternalSecret"}
_CONFIG_FILE = re.compile(r"\.(ya?ml|json|toml|ini|conf|cfg|env|properties|txt|php|js)$", re.I)


@lru_cache(maxsize=8192)
def _norm(key: str) -> str:
    return re.sub(r"[-_.\s/]", "", key).lower()


@lru_cache(maxsize=8192)
def _words(key: str) -> tuple[str, ...]:
    """``SMTP_HOST`` / ``smtpHost`` / ``smtp-host1`` -> ``("smtp", "host")``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key.rsplit("/", 1)[-1])
    return tuple(w.rstrip("0123456789") or w for w in re.split(r"[^\w]+|_", spaced.lower()) if w)


@lru_cache(maxsize=8192)
def _skip_key(key: str) -> bool:
    words, norm = _words(key), _norm(key)
    if key == "HOSTNAME" or words[-2:] in _SELF_PAIRS or norm.endswith(_SKIP_ENDINGS):
        return True  # HOSTNAME: the pod's own name
    return bool(set(words) & _SKIP_WORDS) or norm in _SELF_KEYS | _SKIP_TREES | _SKIP_WORDS


@lru_cache(maxsize=8192)
def _names_host(key: str) -> bool:
    """Whether the key's last word names a host: ``SMTP_HOST``, ``dbHost``, ``PAPERLESS_DBHOST``."""
    words = _words(key)
    return bool(words) and any(words[-1].endswith(w) for w in _HOST_WORDS)


def _host_name(host: str) -> str:
    """``Auth.${SECRET_DOMAIN}.`` -> ``auth.${SECRET_DOMAIN}`` (defaults applied, no [])."""
    host = _DEFAULT.sub(lambda m: m.group(1), host).strip().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return "".join(p if p.startswith("${") else p.lower() for p in _VAR_SPLIT.split(host))


def _port(text: str | None) -> int | None:
    value = _DEFAULT.sub(lambda m: m.group(1), text or "").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else None


def _host_port(item: str) -> tuple[str, int | None]:
    """``host[:port]``; the port is 0 when one is given but unknown (``:${PORT}``)."""
    match = _ITEM.fullmatch(item.strip())
    if match is None:
        return item, None
    return match["host"], None if match["port"] is None else _port(match["port"]) or 0


def _sibling_port(key: str, siblings: Mapping[str, Any]) -> int | None:
    """The port a sibling key gives: ``SMTP_HOST`` -> ``SMTP_PORT``, ``host`` -> ``port``."""
    candidates = []
    for word in ("hostname", "host", "server", "address", "addr", "endpoint", "url"):
        for cased, name in ((word, "port"), (word.upper(), "PORT"), (word.title(), "Port")):
            if cased in key:
                candidates.append(key.replace(cased, name))
    for candidate in (*candidates, "port", "PORT"):
        value = siblings.get(candidate)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
            return value
        if isinstance(value, str) and (port := _port(value)) is not None:
            return port
    return None


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _is_link(text: str, start: int) -> bool:
    """Whether the match at ``start`` is a link in markup (``href="...``, ``[x](...``) or the
    value of an inline key that is skipped (``{"image":"node:24"}``, ``{allowedOrigins: [``)."""
    before = text[max(0, start - 120) : start]
    keys = _INLINE_KEY.findall(before)
    return _LINK_BEFORE.search(before[-24:]) is not None or (bool(keys) and _skip_key(keys[-1]))


@dataclass
class _Scan:
    """One call's state: the file, the names known, and the references found so far."""

    file: str
    namespaces: frozenset[str]
    own_hosts: set[str]
    release: str = ""  # a HelmRelease's name, for {{ .Release.Name }}
    found: dict[tuple[Any, ...], Reference] = field(default_factory=dict)

    def add(self, ref: Reference) -> None:
        self.found.setdefault((ref.kind, ref.host, ref.namespace, ref.port, ref.protocol), ref)

    def emit(
        self, host: str, port: int | None, scheme: str, key: str, where: str, *, short: bool
    ) -> None:
        """Record ``host`` as the reference it is, if any. ``short`` allows a single-label
        host (a scheme, a port or a host key says it is one)."""
        scheme = scheme.lower()
        base = "sentinel" if "sentinel" in scheme else scheme.split("+", 1)[0]
        protocol = "UDP" if base in _UDP_SCHEMES or scheme.endswith("+udp") else "TCP"
        if base == "icmp" or port == 0:  # ICMP has no port; 0: given but unknown
            protocol, port = ("ICMP" if base == "icmp" else protocol), None
        elif port is None and base == "smtp" and {"submission", "starttls"} & set(_words(key)):
            port = 587
        elif port is None:
            port = SCHEME_PORTS.get(base)
            if port is None and not scheme:
                port = next((p for w in _words(key) if (p := _KEY_PORTS.get(w))), None)
        ref = self.classify(_host_name(host), port, protocol, f"{self.file}:{where}", short)
        if ref is not None:
            self.add(ref)

    def classify(
        self, host: str, port: int | None, protocol: str, source: str, short: bool
    ) -> Reference | None:
        if not host or "$$" in host or "$(" in host or not _FLUX_VAR.sub("", host).strip(".-"):
            return None  # only a variable, or one of the container's ($${VAR}, $(VAR))
        ip = None
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(host)
        if ip is not None:
            if ip.is_loopback or ip.is_unspecified or ip.is_multicast:
                return None
            return Reference("cidr", f"{ip}/{ip.max_prefixlen}", None, port, protocol, source)
        labels = host.split(".")
        plain = [_FLUX_VAR.sub("x", label) for label in labels]
        if host in _NOT_HOSTS or host.endswith(".localhost") or all(p.isdigit() for p in plain):
            return None
        if not all(_LABEL.fullmatch(label) for label in plain):
            return None  # "{{ .Values.host }}", "a..b", "-x"
        cluster = host.removesuffix(".cluster.local")
        if cluster != host or cluster.endswith(".svc") or cluster == "svc":
            parts = cluster.removesuffix(".svc").split(".")
            if not cluster.endswith(".svc") or len(parts) < 2:
                return None  # a pod or other cluster-internal name: never external
            return Reference("service", parts[-2], parts[-1], port, protocol, source)
        if len(labels) == 2 and labels[1] in self.namespaces:
            return Reference("service", labels[0], labels[1], port, protocol, source)
        if len(labels) == 1:
            if not short or not _SERVICE.fullmatch(plain[0]) or len(host) < 2:
                return None
            return Reference("service", host, None, port, protocol, source)
        if not _TLD.fullmatch(labels[-1]) or host in self.own_hosts:
            return None
        if any(host == d or host.endswith("." + d) for d in _PLACEHOLDERS):
            return None
        return Reference("external", host, None, port, protocol, source)

    def scan(self, text: str, key: str, where: str, siblings: Mapping[str, Any]) -> None:
        """The references in one string value under ``key`` (multi-line: a file)."""
        if self.release and "{{" in text:  # app-template renders values: {{ .Release.Name }}
            text = _RELEASE.sub(self.release, text)
        if "\n" in text.strip():  # a file (go2rtc.yaml: |-): parsed when its name says how
            self.walk_text(text, key, where, key)
            return
        flag = _FLAG.match(text.strip())
        if flag:
            key, text = flag["key"], flag["value"]
        if _skip_key(key):
            return
        pairs = dict(_PAIR.findall(text)) if _PAIRS.fullmatch(text.strip()) else {}
        if len(pairs) > 1:  # "host=pg port=5432 user=x" (a libpq DSN)
            for inner, value in pairs.items():
                self.scan(value.strip("'\""), inner, where, pairs)
            return
        port = _sibling_port(key, siblings) if _names_host(key) else None
        if not self.scan_line(text, key, where, port):
            self.scan_bare(text, key, where, siblings)

    def scan_lines(self, text: str, key: str, prefix: str) -> None:
        """Line by line, each line under its own key when it has one (``key: value``,
        ``key = value``, ``KEY=value``, ``directive value``, ``--flag value``), else under
        ``key``; the other lines' keys are its siblings (``SMTP_PORT`` beside ``SMTP_HOST``)."""
        lines = [_COMMENT.sub("", line) for line in text.splitlines()]
        keyed = [_LINE_KEY.match(line) or _DIRECTIVE.match(line) for line in lines]
        siblings = {m["key"]: m["value"].strip().strip("\"'") for m in reversed(keyed) if m}
        for number, (line, match) in enumerate(zip(lines, keyed, strict=True), 1):
            inner, value = (match["key"], match["value"]) if match else (key, line)
            value = value.strip().rstrip(";,\\").strip()
            if not value or (inner and _skip_key(inner)) or _SITE.match(line):
                continue
            where = f"{prefix}{number}"
            if not self.scan_line(value, inner, where):
                self.scan_bare(value, inner, where, siblings)
                for flag in _FLAGS.finditer(line):
                    if not _skip_key(flag["key"]):
                        self.scan_bare(flag["value"], flag["key"], where, siblings)

    def scan_line(self, text: str, key: str, where: str, port: int | None = None) -> bool:
        """URLs, IPv4 addresses and ``host:port`` pairs in one line (whether any was seen);
        ``port``, a sibling key's, stands in for a URL's missing port."""
        seen = False
        spans: list[tuple[int, int]] = []
        for match in _URL.finditer(text):
            seen = True
            spans.append(match.span())
            scheme = match["scheme"].lower()
            if scheme in _NOT_NETWORK or _is_link(text, match.start()):
                continue
            short = scheme.split("+", 1)[0] in SCHEME_PORTS.keys() | _UDP_SCHEMES | _BARE_SCHEMES
            for item in match["hosts"].split(","):  # a service name only with a known scheme
                host, given = _host_port(item)
                self.emit(host, port if given is None else given, scheme, key, where, short=short)
        masked = _mask(text, spans)
        for match in _IPV4.finditer(masked):
            seen = True
            spans.append(match.span())
            if _is_link(masked, match.start()):
                continue
            if match["prefix"] and match["prefix"] != "32":
                self.emit_cidr(match["ip"], int(match["prefix"]), key, where)
            else:
                self.emit(match["ip"], _port(match["port"]), "", key, where, short=False)
        masked = _mask(text, spans)
        for match in _HOSTPORT.finditer(masked):
            host, host_port = match["host"], _port(match["port"]) or 0
            if "." not in host and host_port < 20:
                continue  # "mode:1", "python:3": not a same-namespace service
            seen = True
            if not _is_link(masked, match.start()):
                self.emit(host, host_port, "", key, where, short=True)
        return seen

    def emit_cidr(self, ip: str, prefix: int, key: str, where: str) -> None:
        """A network (``10.0.0.0/8``): in configuration nearly always an allow-list, so kept
        only under a key naming a destination (``targets``, ``ROUTE_TO_HOSTS``)."""
        words = _words(key)
        if not words or words[-1] not in _HOST_WORDS | _TARGET_WORDS:
            return
        try:
            net = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
        except ValueError:
            return  # 00.1.2.3/8, 300.0.0.0/8
        if not (net.is_loopback or net.is_unspecified or prefix == 0):
            self.add(Reference("cidr", str(net), None, None, "TCP", f"{self.file}:{where}"))

    def scan_bare(self, text: str, key: str, where: str, siblings: Mapping[str, Any]) -> None:
        """A value that is only host names, read when the key's last word names a host."""
        value = text.strip().strip("\"'")
        if not value or not _names_host(key) or not _BARE.fullmatch(value):
            return
        sibling = _sibling_port(key, siblings)
        for item in re.split(r"\s*[, ]\s*", value):
            host, port = _host_port(item)
            if host.rstrip(".").rsplit(".", 1)[-1] in _FILE_TLDS:
                continue
            if "." in host or host == host.lower():  # not "InternalIP", "Hostname"
                self.emit(host, sibling if port is None else port, "", key, where, short=True)

    def walk(self, node: Any, path: tuple[str, ...], siblings: Mapping[str, Any]) -> None:
        if isinstance(node, str):
            if path:
                self.scan(node, path[-1].split("[", 1)[0], ".".join(path), siblings)
        elif isinstance(node, list):
            named = _named_list(node)
            if named is not None:
                self.walk(named, path, siblings)
                return
            parent = path[-1] if path else ""
            for index, item in enumerate(node):
                self.walk(item, (*path[:-1], f"{parent}[{index}]"), siblings)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                if not _skip_key(str(key)):
                    self.walk(value, (*path, str(key)), node)
                elif _norm(str(key)) == "ingress" and isinstance(value, list):
                    # cloudflared rules: the hostname is the app's own, the service its origin
                    for i, rule in enumerate(value):
                        if isinstance(rule, Mapping) and isinstance(rule.get("service"), str):
                            where = ".".join((*path, f"{key}[{i}]", "service"))
                            self.scan_line(rule["service"], "service", where)

    def walk_data(self, data: Any, prefix: str) -> None:
        """ConfigMap/Secret data: a key with a file name (``config.toml``) or a multi-line
        value holds a file, read as :func:`references_in_text` reads one; any other key is
        an env var."""
        if not isinstance(data, Mapping):
            return
        for key, value in data.items():
            if not isinstance(value, str) or _skip_key(str(key)):
                continue
            if _CONFIG_FILE.search(str(key)) or "\n" in value.strip():
                self.walk_text(value, str(key), f"{prefix}.{key}")
            else:
                self.scan(value, str(key), f"{prefix}.{key}", data)

    def walk_text(self, text: str, name: str, base: str, key: str = "") -> None:
        """A file's text: parsed and walked when it is YAML, JSON or TOML, else line by line
        (under ``key`` where a line has none); ``base`` is its key path or empty."""
        docs = _parsed(text, name)
        for doc in docs:
            self.own_hosts |= _own_hosts(doc)
            self.walk(doc, (base,) if base else (), doc if isinstance(doc, Mapping) else {})
        if not docs:
            self.scan_lines(text, key, f"{base}:" if base else "")


def _named_list(items: list[Any]) -> dict[str, Any] | None:
    """``[{name: X, value: Y}, ...]`` (env lists) as ``{X: Y}``, else None."""
    named = all(isinstance(i, Mapping) and isinstance(i.get("name"), str) for i in items)
    if not (items and named and any("value" in i for i in items)):
        return None
    return {i["name"]: i.get("value") for i in items}


_OWN_KEYS = ("host", "hosts", "hostname", "hostnames", "url", "href")


def _own_hosts(doc: Any, release: str = "") -> set[str]:
    """The app's own names: routes' and ingresses' hosts, ``*hostname``/``*url``/``*href``
    annotations (external-dns, dashboards)."""
    own: set[str] = set()
    stack: list[tuple[str, bool, Any]] = [("", False, doc)]
    while stack:
        key, inside, node = stack.pop()
        norm = _norm(key)
        inside = inside or norm in ("route", "routes", "ingress", "ingresses", "annotations")
        if isinstance(node, Mapping):
            stack.extend((str(k), inside, v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((key, inside, v) for v in node)
        elif isinstance(node, str) and inside and norm.endswith(_OWN_KEYS):
            for item in re.split(r"[\s,]+", _RELEASE.sub(release, node) if release else node):
                host = re.sub(r"^[a-z]+://|(?<!\$)[:/].*$", "", item.strip())
                if "." in host:
                    own.add(_host_name(host))
    return own


def _decoded(data: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items() if isinstance(data, Mapping) else ():
        with contextlib.suppress(ValueError):  # binascii.Error, UnicodeDecodeError
            out[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8")
    return out


def _at(doc: Any, *path: str) -> Any:
    return reduce(lambda node, key: node.get(key) if isinstance(node, Mapping) else None, path, doc)


def references_in_document(
    doc: Mapping[str, Any],
    file: str,
    *,
    known_namespaces: Collection[str] = (),
    own_hosts: Collection[str] = (),
) -> list[Reference]:
    """The egress references one parsed manifest states, deduplicated, in document order.

    Read: a HelmRelease's ``spec.values``; a ConfigMap's ``data``; a Secret's ``stringData``
    and (decoded) ``data``; an ExternalSecret's ``spec.target.template.data``; a workload's
    ``spec`` (env, args, command); a mapping with neither ``kind`` nor ``apiVersion`` (a
    values or config file) whole. Other kinds give nothing. ``own_hosts`` are the app's own
    public names, never egress (the document's routes, ingresses and annotations add theirs).
    """
    if not isinstance(doc, Mapping):
        return []
    kind, name = doc.get("kind"), _at(doc, "metadata", "name")
    kind = kind if isinstance(kind, str) else None if kind is None else ""
    if kind not in _READ_KINDS and not (kind is None and "apiVersion" not in doc):
        return []
    scan = _Scan(file, frozenset(known_namespaces), {_host_name(h) for h in own_hosts})
    scan.release = name if kind == "HelmRelease" and isinstance(name, str) else ""
    scan.own_hosts |= _own_hosts(doc, scan.release)
    with contextlib.suppress(RecursionError):  # absurdly deep data: what was found so far
        if kind is None and "apiVersion" not in doc:
            scan.walk(doc, (), doc)
        elif kind == "HelmRelease" or kind in _WORKLOADS:
            path = ("spec", "values") if kind == "HelmRelease" else ("spec",)
            node = _at(doc, *path)
            scan.walk(node, path, node if isinstance(node, Mapping) else {})
        elif kind == "ConfigMap":
            scan.walk_data(doc.get("data"), "data")
        elif kind == "Secret":
            scan.walk_data(doc.get("stringData"), "stringData")
            scan.walk_data(_decoded(doc.get("data")), "data")
        elif kind == "ExternalSecret":
            template = _at(doc, "spec", "target", "template", "data")
            scan.walk_data(template, "spec.target.template.data")
    return list(scan.found.values())


def references_in_text(
    text: str,
    file: str,
    *,
    known_namespaces: Collection[str] = (),
    own_hosts: Collection[str] = (),
) -> list[Reference]:
    """The egress references in a raw config file (a configMapGenerator file: YAML, JSON,
    TOML, INI, ``.env``, nginx/Caddy/dovecot-style ``.conf``, shell), deduplicated.

    YAML, JSON and TOML (by ``file``'s suffix) are parsed and walked as documents, their key
    paths deciding as in :func:`references_in_document`; anything else, or a file that does
    not parse, is read line by line, each line's key (``key: value``, ``key = value``,
    ``KEY=value``, ``directive value``, ``--flag value``) deciding whether it counts."""
    scan = _Scan(file, frozenset(known_namespaces), {_host_name(h) for h in own_hosts})
    with contextlib.suppress(RecursionError):  # absurdly deep data: what was found so far
        scan.walk_text(text, file, "")
    return list(scan.found.values())


def _parsed(text: str, name: str) -> list[Any]:
    """The documents of a YAML, JSON or TOML file (none for other formats or parse errors)."""
    lower = name.lower()
    try:
        if lower.endswith(".toml"):
            return [tomllib.loads(text)]
        if lower.endswith(".json"):
            return [json.loads(text)]
        if lower.endswith((".yaml", ".yml")):
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
            return docs if all(isinstance(d, Mapping | list) for d in docs) else []
    except (ValueError, yaml.YAMLError, RecursionError):
        pass
    return []
