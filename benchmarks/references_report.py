"""References report: run scaffolder.discovery.references over a Flux repository's apps and
compare, per app directory, what it finds with the egress the owner wrote by hand.

    .venv/bin/python benchmarks/references_report.py ../shared/trees/deedee-ops+home-ops

For every ``kubernetes/apps/<ns>/<app>`` directory it reads HelmRelease, ConfigMap, Secret,
ExternalSecret and workload documents and the files of configMapGenerator/secretGenerator
entries, then prints each reference with a verdict against the app's ``networkpolicy.yaml``
(toFQDNs, toCIDR(Set), toEndpoints) and the ``egress.cilium.io/<name>`` labels its manifests
set (deedee-ops' cluster-wide policies: internet = world on 80/443, smtp-relay, auth, ai,
search, nas, nut, kube-apiserver):

    OK   the hand-written egress allows it      ?    nothing hand-written covers it
    Missed lines list hand-written FQDN/CIDR/endpoint egress no reference produced.
"""

from __future__ import annotations

import argparse
import fnmatch
import ipaddress
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scaffolder.core.errors import YamlError
from scaffolder.core.yamlio import parse_documents_fast
from scaffolder.discovery.references import (
    Reference,
    references_in_document,
    references_in_text,
)

KINDS = {"HelmRelease", "ConfigMap", "Secret", "ExternalSecret", "Deployment", "StatefulSet"}
KINDS |= {"DaemonSet", "Job", "CronJob", "Pod"}
# deedee-ops' egress labels -> what the cluster-wide policy allows (peer, ports).
LABELS: dict[str, list[tuple[str, set[int]]]] = {
    "internet": [("world", {80, 443})],
    "smtp-relay": [("svc:smtp-relay.network", {25})],
    "auth": [("svc:pocket-id.security", set()), ("fqdn:id.${ROOT_DOMAIN}", {443})],
    "ai": [("svc:bifrost.ai", set())],
    "search": [("svc:searxng.default", {80})],
    "nas": [("cidr:192.168.42.10/32", set())],
    "nut": [("cidr:192.168.42.9/32", {3493})],
    "kube-apiserver": [("svc:kubernetes.default", set())],
}


def docs_of(path: Path) -> list[Any]:
    try:
        return [d for d in parse_documents_fast(path.read_text(), path) if isinstance(d, dict)]
    except (YamlError, UnicodeDecodeError):
        return []


def truth_of(app: Path, namespace: str) -> list[tuple[str, set[int]]]:
    truth: list[tuple[str, set[int]]] = []
    for policy in app.rglob("networkpolicy.yaml"):
        for doc in docs_of(policy):
            for spec in [doc.get("spec") or {}, *(doc.get("specs") or [])]:
                for rule in spec.get("egress") or []:
                    ports = {
                        int(p["port"])
                        for tp in rule.get("toPorts") or []
                        for p in tp.get("ports") or []
                        if str(p.get("port", "")).isdigit()
                    }
                    names = [
                        *(
                            f"fqdn:{f.get('matchName') or f.get('matchPattern')}"
                            for f in rule.get("toFQDNs") or []
                        ),
                        *(f"cidr:{c}" for c in rule.get("toCIDR") or []),
                        *(f"cidr:{c.get('cidr')}" for c in rule.get("toCIDRSet") or []),
                        *(f"entity:{e}" for e in rule.get("toEntities") or []),
                    ]
                    truth.extend((name, ports) for name in names)
                    if ports and not names and not rule.get("toEndpoints"):
                        truth.append(("any:*", ports))  # toPorts alone: any peer
                    for ep in rule.get("toEndpoints") or []:
                        labels = dict((ep or {}).get("matchLabels") or {})
                        ns = labels.pop("io.kubernetes.pod.namespace", namespace)
                        truth.extend((f"svc:{v}.{ns}", ports) for v in labels.values())
                        if not labels:
                            truth.append((f"svc:*.{ns}", ports))
    text = "\n".join(
        p.read_text(errors="replace") for p in app.rglob("*.yaml") if p.name != "networkpolicy.yaml"
    )
    for label in sorted(set(re.findall(r"egress\.cilium\.io/([a-z0-9-]+):\s*[\"']?true", text))):
        truth.extend(LABELS.get(label, []))
    return truth


def verdict(ref: Reference, namespace: str, truth: list[tuple[str, set[int]]]) -> str:
    for peer, ports in truth:
        if ports and ref.port not in ports and ref.kind != "cidr":
            continue
        kind, _, name = peer.partition(":")
        if kind == "any" and ref.kind != "service":
            return "OK(any)"
        if ref.kind == "external":
            if kind == "fqdn" and fnmatch.fnmatchcase(ref.host, name):
                return "OK"
            if peer == "world" and ref.port in (80, 443):
                return "OK(internet)"
        elif ref.kind == "service" and kind == "svc":
            svc, _, ns = name.rpartition(".")
            ref_ns = ref.namespace or namespace
            if ns == ref_ns and (svc in ("*", ref.host) or ref.host.startswith(svc + "-")):
                return "OK"
            if ns == ref_ns and svc == "database" and "-db" in ref.host:
                return "OK"
        elif ref.kind == "cidr" and kind == "cidr" and "$" not in name:
            if ipaddress.ip_network(ref.host).subnet_of(ipaddress.ip_network(name)):
                return "OK"
        elif ref.kind == "cidr" and peer == "world":
            return "OK(internet)"
    if ref.kind == "service" and (ref.namespace or namespace) == namespace:
        return "?same-ns"
    return "?"


def stated_in(app: Path, peer: str) -> bool:
    """Whether a hand-written peer's name appears anywhere in the app's other files."""
    name = peer.split("/", 1)[0]
    if name.startswith("*."):
        name = name[2:]
    if peer.startswith("svc:") or ("." in name and not name[0].isdigit()):
        name = name.rsplit(".", 1)[0] if peer.startswith("svc:") else name
    if name in ("*", "database", "kubernetes") or name.startswith("*"):
        return False
    return any(
        name in p.read_text(errors="replace")
        for p in app.rglob("*")
        if p.is_file() and p.name != "networkpolicy.yaml"
    )


def generator_files(app: Path) -> list[Path]:
    files: list[Path] = []
    for kz in app.rglob("kustomization.yaml"):
        for doc in docs_of(kz):
            for gen in (doc.get("configMapGenerator") or []) + (doc.get("secretGenerator") or []):
                for entry in gen.get("files") or []:
                    target = kz.parent / str(entry).split("=", 1)[-1]
                    if target.is_file():
                        files.append(target)
                for entry in gen.get("envs") or []:
                    target = kz.parent / str(entry)
                    if target.is_file():
                        files.append(target)
    return files


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", type=Path)
    parser.add_argument("--all", action="store_true", help="also list apps with no references")
    args = parser.parse_args()
    apps_root = args.tree / "kubernetes" / "apps"
    namespaces = sorted(p.name for p in apps_root.iterdir() if p.is_dir())
    totals = dict.fromkeys(
        ("ok", "unknown", "truth", "hit", "missed", "stated", "missed_stated"), 0
    )
    for ns_dir in sorted(p for p in apps_root.iterdir() if p.is_dir()):
        for app in sorted(p for p in ns_dir.iterdir() if p.is_dir()):
            namespace = ns_dir.name
            refs: list[Reference] = []
            for path in sorted(app.rglob("*.yaml")):
                if path.name in ("networkpolicy.yaml", "kustomization.yaml"):
                    continue
                rel = str(path.relative_to(args.tree))
                for doc in docs_of(path):
                    if doc.get("kind") in KINDS:
                        refs += references_in_document(doc, rel, known_namespaces=namespaces)
            for path in generator_files(app):
                rel = str(path.relative_to(args.tree))
                text = path.read_text(errors="replace")
                refs += references_in_text(text, rel, known_namespaces=namespaces)
            unique: dict[tuple[Any, ...], Reference] = {}
            for ref in refs:
                unique.setdefault((ref.kind, ref.host, ref.namespace, ref.port, ref.protocol), ref)
            truth = truth_of(app, namespace)
            hand = [t for t in truth if t[0].startswith(("fqdn:", "cidr:", "svc:"))]
            if not unique and not hand and not args.all:
                continue
            print(f"== {namespace}/{app.name}")
            matched: set[str] = set()
            for ref in unique.values():
                v = verdict(ref, namespace, truth)
                totals["ok" if v.startswith("OK") else "unknown"] += 1
                where = f"{ref.namespace}" if ref.kind == "service" else ""
                print(
                    f"   {v:13} {ref.kind:8} {ref.host}{'.' + where if where else ''}"
                    f":{ref.port}/{ref.protocol}  <- {ref.source}"
                )
                matched.add(ref.host)
            for peer, ports in hand:
                name = peer.split(":", 1)[1]
                hit = any(
                    verdict(r, namespace, [(peer, ports)]).startswith("OK") for r in unique.values()
                )
                totals["truth"] += 1
                stated = stated_in(app, name)
                totals["stated"] += stated
                if not hit:
                    totals["missed"] += 1
                    totals["missed_stated"] += stated
                    print(f"   missed{'*' if stated else ' '}       {peer} {sorted(ports) or '*'}")
                else:
                    totals["hit"] += 1
    print(totals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
