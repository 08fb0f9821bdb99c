"""Generate a synthetic Flux repository with N namespaces for benchmarks.

Each namespace holds three app-template HelmReleases: a web app behind the gateway,
an app using the shared CNPG cluster, and a LoadBalancer service; plus the gateway
(network) and databases namespaces they refer to.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NS_KUSTOMIZATION = """---
# yaml-language-server: $schema=https://json.schemastore.org/kustomization
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
{entries}
"""

KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {app}
  namespace: flux-system
spec:
  path: ./kubernetes/apps/{ns}/{app}/app
  targetNamespace: {ns}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  interval: 1h
"""

APP_KUSTOMIZATION = """---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./helmrelease.yaml
"""

HELMRELEASE = """---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-template
  values:
    controllers:
      {app}:
        containers:
          app:
            image:
              repository: ghcr.io/example/{app}
              tag: 1.0.0
{env}    service:
      app:
        controller: {app}
{svc_type}        ports:
          http:
            port: {port}
            targetPort: {target}
{route}"""

ROUTE = """    route:
      app:
        hostnames: ["{app}.${{SECRET_DOMAIN}}"]
        parentRefs:
          - name: envoy-internal
            namespace: network
            sectionName: https
"""

ENV = """            env:
              DB_HOST: postgres16-rw.databases.svc.cluster.local
"""

CLUSTER = """---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: postgres16
spec:
  instances: 3
  storage:
    size: 20Gi
"""


def _app(
    root: Path, ns: str, app: str, *, port: int, target: int, route: bool, db: bool, lb: bool
) -> None:
    base = root / "kubernetes/apps" / ns / app
    (base / "app").mkdir(parents=True, exist_ok=True)
    (base / "ks.yaml").write_text(KS.format(app=app, ns=ns))
    (base / "app/kustomization.yaml").write_text(APP_KUSTOMIZATION)
    (base / "app/helmrelease.yaml").write_text(
        HELMRELEASE.format(
            app=app,
            port=port,
            target=target,
            env=ENV if db else "",
            svc_type="        type: LoadBalancer\n" if lb else "",
            route=ROUTE.format(app=app) if route else "",
        )
    )


def _namespace(root: Path, ns: str, apps: list[str]) -> None:
    directory = root / "kubernetes/apps" / ns
    directory.mkdir(parents=True, exist_ok=True)
    entries = "\n".join(f"  - ./{app}/ks.yaml" for app in apps)
    (directory / "kustomization.yaml").write_text(NS_KUSTOMIZATION.format(entries=entries))


def generate(root: Path, namespaces: int) -> Path:
    _namespace(root, "network", ["envoy"])
    _app(root, "network", "envoy", port=443, target=10443, route=False, db=False, lb=True)
    _namespace(root, "databases", ["postgres16"])
    db = root / "kubernetes/apps/databases/postgres16"
    (db / "cluster").mkdir(parents=True, exist_ok=True)
    (db / "ks.yaml").write_text(
        KS.format(app="postgres16", ns="databases").replace("/app\n", "/cluster\n")
    )
    (db / "cluster/kustomization.yaml").write_text(
        APP_KUSTOMIZATION.replace("helmrelease", "cluster")
    )
    (db / "cluster/cluster.yaml").write_text(CLUSTER)
    for i in range(namespaces):
        ns = f"team-{i:04d}"
        apps = ["web", "api", "broker"]
        _namespace(root, ns, apps)
        _app(root, ns, "web", port=80, target=8080, route=True, db=False, lb=False)
        _app(root, ns, "api", port=8000, target=8000, route=True, db=True, lb=False)
        _app(root, ns, "broker", port=1883, target=1883, route=False, db=False, lb=True)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--namespaces", type=int, default=1000)
    args = parser.parse_args()
    generate(args.dest, args.namespaces)


if __name__ == "__main__":
    main()
