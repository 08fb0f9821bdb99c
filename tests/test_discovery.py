"""Discovery against examples/home-ops, hand-built edge cases and the real-world corpus."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from scaffolder.core.errors import PathEscapeError, RepoError, YamlError
from scaffolder.discovery import discover_all, discover_namespace
from scaffolder.repo.config import Config
from scaffolder.repo.model import App, CnpgRef, Namespace, Port, RouteRef
from scaffolder.repo.repository import Repository

from .conftest import CORPUS, build_file_tree

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "home-ops"
APPS = PurePosixPath("kubernetes/apps")


def _at(root: Path, apps_dir: PurePosixPath = APPS) -> Repository:
    """The repository at ``root`` with its apps in ``apps_dir`` (no netpol.yaml needed)."""
    return Repository(root, Config(apps_dir=apps_dir))


ENVOY = RouteRef("envoy-internal", "network", "https")
POSTGRES = CnpgRef("databases", "postgres16")


@pytest.fixture(scope="module")
def example() -> dict[str, Namespace]:
    return {ns.name: ns for ns in discover_all(_at(EXAMPLE, APPS))}


def _app(ns: Namespace, name: str) -> App:
    apps = {a.name: a for a in ns.apps}
    assert name in apps, sorted(apps)
    return apps[name]


# --------------------------------------------------------------------------- example repo


def test_namespaces() -> None:
    assert _at(EXAMPLE).namespaces() == [
        "archive",
        "databases",
        "downloads",
        "flux-system",
        "kube-system",
        "media",
        "network",
        "observability",
        "selfhosted",
        "vpn",
    ]


def test_example_has_no_warnings(example: dict[str, Namespace]) -> None:
    assert {name: ns.warnings for name, ns in example.items() if ns.warnings} == {}


def test_media(example: dict[str, Namespace]) -> None:
    media = example["media"]
    assert [a.name for a in media.apps] == ["jellyfin", "landing", "radarr", "sonarr"]
    assert media.components == ["../../components/common"]
    assert media.kustomization == PurePosixPath("kubernetes/apps/media/kustomization.yaml")

    jellyfin = _app(media, "jellyfin")
    assert jellyfin.source_kind == "HelmRelease"
    assert jellyfin.selector == {"app.kubernetes.io/name": "jellyfin"}
    assert jellyfin.ports == (Port(8096, 8096, "TCP", "http"),)
    assert jellyfin.load_balancer_ports == (Port(8096, 8096, "TCP", "http"),)
    assert jellyfin.routes == (ENVOY,)
    assert jellyfin.directory == PurePosixPath("kubernetes/apps/media/jellyfin/app")
    assert jellyfin.kustomization == jellyfin.directory / "kustomization.yaml"
    assert jellyfin.flux_kustomization == "jellyfin"
    assert jellyfin.cnpg_clients == ()

    for name, port in (("sonarr", 8989), ("radarr", 7878)):
        app = _app(media, name)
        assert app.routes == (ENVOY,)
        assert app.cnpg_clients == (POSTGRES,)
        assert app.ports == (Port(port, port, "TCP", "http"),)
        assert app.load_balancer_ports == ()

    landing = _app(media, "landing")
    assert landing.source_kind == "Deployment"
    assert landing.selector == {"app.kubernetes.io/name": "landing"}
    assert landing.ports == (Port(80, 8080, "TCP", "http"),)  # named targetPort resolved
    assert landing.routes == (ENVOY,)


def test_media_alone_still_finds_the_database_in_another_namespace() -> None:
    media = discover_namespace(_at(EXAMPLE), "media")
    assert _app(media, "sonarr").cnpg_clients == (POSTGRES,)
    assert _app(media, "radarr").cnpg_clients == (POSTGRES,)


def test_databases(example: dict[str, Namespace]) -> None:
    databases = example["databases"]
    (cluster,) = databases.cnpg_clusters
    assert (cluster.name, cluster.namespace) == ("postgres16", "databases")
    assert cluster.directory == PurePosixPath("kubernetes/apps/databases/cloudnative-pg/cluster")
    assert [(c.namespace, c.app) for c in cluster.consumers] == [
        ("media", "radarr"),
        ("media", "sonarr"),
    ]
    assert cluster.consumers[0].selector == (("app.kubernetes.io/name", "radarr"),)
    assert cluster.backup_endpoints == ("https://s3.${SECRET_DOMAIN}",)
    assert [a.name for a in databases.apps] == ["cloudnative-pg"]
    assert [k.name for k in databases.flux_kustomizations] == ["cloudnative-pg", "postgres16"]


def test_downloads(example: dict[str, Namespace]) -> None:
    downloads = example["downloads"]  # its kustomization.yaml has CRLF line endings
    qbittorrent = _app(downloads, "qbittorrent")
    assert qbittorrent.ports[0] == Port(80, 8080, "TCP", "http")
    assert set(qbittorrent.load_balancer_ports) == {
        Port(50413, 50413, "TCP", "bittorrent-tcp"),
        Port(50413, 50413, "UDP", "bittorrent-udp"),
    }
    sabnzbd = _app(downloads, "sabnzbd")  # route from a separate HTTPRoute file
    assert sabnzbd.routes == (ENVOY,)
    assert sabnzbd.ports == (Port(8080, 8080, "TCP", "http"),)


def test_vpn_reports_existing_cnp(example: dict[str, Namespace]) -> None:
    vpn = example["vpn"]
    gateway = _app(vpn, "downloads-gateway")
    assert gateway.selector == {
        "app.kubernetes.io/name": "pod-gateway",
        "app.kubernetes.io/instance": "downloads-gateway",
    }
    assert [(p.kind, p.name, p.namespace) for p in gateway.existing_policies] == [
        ("CiliumNetworkPolicy", "downloads-gateway-pod-gateway", "vpn")
    ]
    assert vpn.policy_names == {"downloads-gateway-pod-gateway"}
    assert vpn.policies[0].path == PurePosixPath(
        "kubernetes/apps/vpn/pod-gateway/app/cnp-allow.yaml"
    )


def test_selfhosted(example: dict[str, Namespace]) -> None:
    selfhosted = example["selfhosted"]  # its kustomization.yaml has no final newline
    proxy = _app(selfhosted, "oauth2-proxy")
    assert proxy.is_oauth2_proxy
    assert proxy.selector == {
        "app.kubernetes.io/name": "oauth2-proxy",
        "app.kubernetes.io/instance": "oauth2-proxy",
    }
    assert proxy.ports == (Port(80, 4180, "TCP", "http"),)  # known chart default
    assert proxy.routes == (ENVOY,)
    glance = _app(selfhosted, "glance")
    assert not glance.is_oauth2_proxy
    assert [(p.kind, p.name) for p in glance.existing_policies] == [
        ("NetworkPolicy", "glance-allow-gateway")
    ]
    assert [(p.kind, p.name) for p in selfhosted.policies] == [
        ("NetworkPolicy", "glance-allow-gateway")
    ]


def test_network_gateway_ports(example: dict[str, Namespace]) -> None:
    envoy = _app(example["network"], "envoy-internal")
    assert envoy.source_kind == "Service"
    assert envoy.selector["app.kubernetes.io/name"] == "envoy"
    assert Port(443, 10443, "TCP", "https") in envoy.ports
    assert Port(443, 10443, "TCP", "https") in envoy.load_balancer_ports


def test_suspended(example: dict[str, Namespace]) -> None:
    assert example["archive"].suspended
    assert [k.suspend for k in example["archive"].flux_kustomizations] == [True]
    assert not any(ns.suspended for name, ns in example.items() if name != "archive")


def test_flux_kustomization_fields(example: dict[str, Namespace]) -> None:
    (ks,) = [k for k in example["media"].flux_kustomizations if k.name == "sonarr"]
    assert ks.path == PurePosixPath("kubernetes/apps/media/sonarr/app")  # './' dropped
    assert ks.target_namespace == "media"
    assert ks.namespace == "media"  # from the namespace kustomization's namespace:
    assert ks.file == PurePosixPath("kubernetes/apps/media/sonarr/ks.yaml")
    (obs,) = [k for k in example["observability"].flux_kustomizations if k.name == "grafana"]
    assert obs.namespace == "flux-system"  # written in the ks.yaml itself


def test_every_path_is_repo_relative(example: dict[str, Namespace]) -> None:
    for ns in example.values():
        paths = [ns.directory, ns.kustomization, *(p.path for p in ns.policies)]
        for app in ns.apps:
            paths += [app.directory, app.kustomization]
        for path in paths:
            assert not path.is_absolute() and ".." not in path.parts, path
            assert (EXAMPLE / path).exists(), path


def test_unknown_namespace_lists_close_matches() -> None:
    with pytest.raises(RepoError) as info:
        discover_namespace(_at(EXAMPLE), "medai")
    assert "media" in str(info.value)
    with pytest.raises(RepoError):
        discover_all(_at(EXAMPLE, APPS), ["media", "nope"])


@pytest.mark.parametrize("name", ["Media", "media_x", "-media", "a" * 64, "../media"])
def test_namespace_must_be_a_dns_label(name: str) -> None:
    with pytest.raises(RepoError):
        discover_namespace(_at(EXAMPLE), name)


def test_missing_apps_dir() -> None:
    with pytest.raises(RepoError, match="does not exist"):
        _at(EXAMPLE, PurePosixPath("kubernetes/nope")).namespaces()


# --------------------------------------------------------------------------- example bytes


def test_example_styles_are_byte_exact() -> None:
    files = [p for p in EXAMPLE.rglob("*") if p.is_file() and p.name != ".gitattributes"]
    crlf = sorted(str(p.relative_to(EXAMPLE)) for p in files if b"\r\n" in p.read_bytes())
    no_eol = sorted(
        str(p.relative_to(EXAMPLE)) for p in files if not p.read_bytes().endswith(b"\n")
    )
    assert crlf == ["kubernetes/apps/downloads/kustomization.yaml"]
    assert no_eol == ["kubernetes/apps/selfhosted/kustomization.yaml"]
    crlf_bytes = (EXAMPLE / crlf[0]).read_bytes()
    assert crlf_bytes.count(b"\n") == crlf_bytes.count(b"\r\n")
    assert (
        "resources: [./helmrelease.yaml, ./httproute.yaml]"
        in (EXAMPLE / "kubernetes/apps/downloads/sabnzbd/app/kustomization.yaml").read_text()
    )


def _kustomize_dirs() -> list[Path]:
    return sorted(p.parent for p in EXAMPLE.rglob("kustomization.yaml"))


@pytest.mark.kubectl
@pytest.mark.parametrize("directory", _kustomize_dirs(), ids=lambda p: str(p.relative_to(EXAMPLE)))
def test_example_kustomizations_build(directory: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "kind:" in result.stdout


# --------------------------------------------------------------------------- edge cases

NS_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
{entries}
"""

KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {app}
  namespace: flux-system
spec:
  path: ./kubernetes/apps/{ns}/{app}/app
  targetNamespace: {ns}
"""

APP_KUSTOMIZATION = "resources:\n  - ./helmrelease.yaml\n"

HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  chartRef: {{kind: OCIRepository, name: app-template}}
  values:
{values}"""

SIMPLE_VALUES = """\
    controllers:
      main:
        containers:
          app:
            image: {repository: ghcr.io/example/app, tag: 1.0.0}
    service:
      app:
        controller: main
        ports:
          http:
            port: 8080
"""


def _repo(tmp_path: Path, apps: dict[str, str], ns: str = "team") -> Path:
    """A repo with one namespace whose apps have the given HelmRelease values."""
    spec: dict[str, str] = {
        f"kubernetes/apps/{ns}/kustomization.yaml": NS_KUSTOMIZATION.format(
            entries="\n".join(f"  - ./{app}/ks.yaml" for app in apps)
        )
    }
    for app, values in apps.items():
        spec[f"kubernetes/apps/{ns}/{app}/ks.yaml"] = KS.format(app=app, ns=ns)
        spec[f"kubernetes/apps/{ns}/{app}/app/kustomization.yaml"] = APP_KUSTOMIZATION
        spec[f"kubernetes/apps/{ns}/{app}/app/helmrelease.yaml"] = HELMRELEASE.format(
            app=app, values=values
        )
    return build_file_tree(tmp_path, spec)


def test_unparseable_helmrelease_warns(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"good": SIMPLE_VALUES, "bad": SIMPLE_VALUES})
    (root / "kubernetes/apps/team/bad/app/helmrelease.yaml").write_text(
        "kind: HelmRelease\nmetadata: [\n"
    )
    ns = discover_namespace(_at(root), "team")
    assert [a.name for a in ns.apps] == ["good"]
    (warning,) = ns.warnings
    assert "kubernetes/apps/team/bad/app/helmrelease.yaml" in warning and "\n" not in warning


def test_wrong_shapes_warn_not_crash(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "a": "    controllers: [1, 2]\n    service: {app: {ports: {http: {port: '${PORT}'}}}}\n",
            "b": "    7\n",
            "c": "    service: {app: {ports: {http: {port: 80, targetPort: web}}}}\n",
        },
    )
    (root / "kubernetes/apps/team/kustomization.yaml").write_text(
        NS_KUSTOMIZATION.format(
            entries="  - ./a/ks.yaml\n  - ./b/ks.yaml\n  - ./c/ks.yaml\n  - ./gone/ks.yaml"
        )
    )
    ns = discover_namespace(_at(root), "team")
    text = "\n".join(ns.warnings)
    assert "'${PORT}'" in text  # Flux substitutions are kept verbatim
    assert "b/app/helmrelease.yaml: HelmRelease b: spec.values is not a mapping" in text
    assert "targetPort 'web' matches no container port" in text
    assert "kubernetes/apps/team/gone/ks.yaml: not found" in text
    assert {a.name for a in ns.apps} == {"a", "c"}


def test_malformed_namespace_kustomization_raises(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"a": SIMPLE_VALUES})
    (root / "kubernetes/apps/team/kustomization.yaml").write_text(
        "resources:\n  - ./a/ks.yaml\n bad: [\n"
    )
    with pytest.raises(YamlError) as info:
        discover_namespace(_at(root), "team")
    assert "kubernetes/apps/team/kustomization.yaml" in str(info.value)
    (root / "kubernetes/apps/team/kustomization.yaml").write_text("resources: ./a/ks.yaml\n")
    with pytest.raises(YamlError, match="resources"):
        discover_namespace(_at(root), "team")


def test_symlink_escaping_the_repo_is_refused(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", {"a": SIMPLE_VALUES})
    outside = build_file_tree(
        tmp_path / "outside",
        {
            "evil/ks.yaml": KS.format(app="evil", ns="team"),
            "evil/app/kustomization.yaml": APP_KUSTOMIZATION,
            "evil/app/helmrelease.yaml": HELMRELEASE.format(app="evil", values=SIMPLE_VALUES),
        },
    )
    ns_dir = root / "kubernetes/apps/team"
    (ns_dir / "evil").symlink_to(outside / "evil")  # a ks.yaml reached through a symlink
    (ns_dir / "kustomization.yaml").write_text(
        NS_KUSTOMIZATION.format(entries="  - ./a/ks.yaml\n  - ./evil/ks.yaml")
    )
    ns = discover_namespace(_at(root), "team")
    assert [a.name for a in ns.apps] == ["a"]
    assert any("evil/ks.yaml" in w and "outside the repository" in w for w in ns.warnings)

    # an app directory (spec.path) that is a symlink out of the repo
    (ns_dir / "a" / "linked").symlink_to(outside / "evil/app")
    (ns_dir / "a/ks.yaml").write_text(KS.format(app="a", ns="team").replace("/a/app", "/a/linked"))
    ns = discover_namespace(_at(root), "team")
    assert ns.apps == []
    assert any("outside the repository" in w for w in ns.warnings)

    # ... and a resource path climbing out with '..'
    (ns_dir / "kustomization.yaml").write_text(
        NS_KUSTOMIZATION.format(entries="  - ../../../../outside/evil/ks.yaml")
    )
    ns = discover_namespace(_at(root), "team")
    assert ns.apps == [] and "outside the repository" in ns.warnings[0]

    # the namespace kustomization itself
    (ns_dir / "kustomization.yaml").unlink()
    (ns_dir / "kustomization.yaml").symlink_to(outside / "evil/app/kustomization.yaml")
    with pytest.raises(PathEscapeError):
        discover_namespace(_at(root), "team")


def test_app_template_naming(tmp_path: Path) -> None:
    values = """\
    global:
      nameOverride: web
      fullnameOverride: site
    controllers:
      main:
        containers:
          app: {image: {repository: ghcr.io/example/web, tag: "1"}}
      worker:
        containers:
          app: {image: {repository: quay.io/oauth2-proxy/oauth2-proxy, tag: v7}}
      off:
        enabled: false
    service:
      app:
        controller: main
        ports:
          http: {port: 80, targetPort: 8080, protocol: HTTP}
          dns: {port: 53, protocol: UDP}
          disabled: {port: 9, enabled: false}
      metrics:
        enabled: false
        ports:
          m: {port: 9090}
    route:
      app:
        parentRefs:
          - name: envoy-external
            sectionName: https
          - {name: mesh, kind: Service}
      old:
        enabled: false
        parentRefs: [{name: gone}]
"""
    root = _repo(tmp_path, {"release": values})
    (app,) = discover_namespace(_at(root), "team").apps
    assert app.name == "release"
    assert app.selector == {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/instance": "release",
    }
    assert app.ports == (Port(80, 8080, "TCP", "http"), Port(53, 53, "UDP", "dns"))
    assert app.routes == (
        RouteRef("envoy-external", "team", "https"),
    )  # namespace defaults to the app's
    assert app.is_oauth2_proxy


def test_plain_workloads_services_and_routes(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "kubernetes/apps/web/kustomization.yaml": NS_KUSTOMIZATION.format(entries="  - ./site"),
            "kubernetes/apps/web/site/kustomization.yaml": "resources:\n  - ./workloads\n  - ./route.yaml\n",
            "kubernetes/apps/web/site/workloads/kustomization.yaml": "resources: [./all.yaml]\n",
            "kubernetes/apps/web/site/workloads/all.yaml": """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db-client}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client, tier: x}}
    spec:
      containers:
        - name: c
          image: example/client
          env:
            - {name: DATABASE_URL, value: "postgres://u@pg-ro.data.svc:5432/x"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
        - name: c
          image: example/frontend
          ports: [{name: web, containerPort: 3000}]
---
apiVersion: v1
kind: Service
metadata: {name: frontend-svc}
spec:
  type: LoadBalancer
  selector: {app: frontend}
  ports: [{port: 443, targetPort: web, name: https}]
---
apiVersion: v1
kind: Service
metadata: {name: orphan}
spec:
  selector: {app: nobody}
  ports: [{port: 1}]
""",
            "kubernetes/apps/web/site/route.yaml": """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: gw, namespace: network}]
  rules: [{backendRefs: [{name: frontend-svc, port: 443}]}]
""",
            "kubernetes/apps/data/kustomization.yaml": NS_KUSTOMIZATION.format(entries="  - ./pg"),
            "kubernetes/apps/data/pg/kustomization.yaml": "resources: [./cluster.yaml]\n",
            "kubernetes/apps/data/pg/cluster.yaml": "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg}\nspec: {instances: 1}\n",
        },
    )
    namespaces = {ns.name: ns for ns in discover_all(_at(tmp_path, APPS))}
    web = namespaces["web"]
    frontend = _app(web, "frontend")
    assert frontend.source_kind == "Deployment" and frontend.flux_kustomization is None
    assert frontend.ports == (Port(443, 3000, "TCP", "https"),)
    assert frontend.load_balancer_ports == frontend.ports
    assert frontend.routes == (RouteRef("gw", "network", None),)
    client = _app(web, "db-client")
    assert client.selector == {"app": "client"}
    assert client.cnpg_clients == (CnpgRef("data", "pg"),)
    assert client.routes == ()
    assert any("Service orphan selects no workload" in w for w in web.warnings)
    (cluster,) = namespaces["data"].cnpg_clusters
    assert [(c.namespace, c.app, c.selector) for c in cluster.consumers] == [
        ("web", "db-client", (("app", "client"),))
    ]


def test_cnpg_secret_references_and_unknown_clusters(tmp_path: Path) -> None:
    env = """\
    controllers:
      main:
        containers:
          app:
            image: {{repository: example/app, tag: "1"}}
            env:
              A: {{valueFrom: {{secretKeyRef: {{name: {secret}, key: uri}}}}}}
              B: not-a-cluster-rw.databases.svc
"""
    root = _repo(
        tmp_path, {"app": env.format(secret="pg-app"), "other": env.format(secret="pg-superuser")}
    )
    build_file_tree(
        root,
        {
            "kubernetes/apps/team/pg/ks.yaml": KS.format(app="pg", ns="team"),
            "kubernetes/apps/team/pg/app/kustomization.yaml": "resources: [./cluster.yaml]\n",
            "kubernetes/apps/team/pg/app/cluster.yaml": "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg}\n",
        },
    )
    ns_k = root / "kubernetes/apps/team/kustomization.yaml"
    ns_k.write_text(ns_k.read_text() + "  - ./pg/ks.yaml\n")
    ns = discover_namespace(_at(root), "team")
    assert [a.cnpg_clients for a in ns.apps] == [(CnpgRef("team", "pg"),)] * 2
    assert [c.app for c in ns.cnpg_clusters[0].consumers] == ["app", "other"]


def test_policies_anywhere_under_the_namespace(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"a": SIMPLE_VALUES})
    build_file_tree(
        root,
        {
            "kubernetes/apps/team/a/app/cnp.yaml": "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: mine}\nspec: {}\n",
            "kubernetes/apps/team/shared.yaml": "kind: CiliumClusterwideNetworkPolicy\nmetadata: {name: cw}\nspec: {}\n",
            "kubernetes/apps/team/broken.yaml": "kind: NetworkPolicy\nmetadata: [\n",
        },
    )
    ns = discover_namespace(_at(root), "team")
    assert [(p.name, p.namespace) for p in ns.policies] == [("mine", "team"), ("cw", None)]
    assert [p.name for p in ns.apps[0].existing_policies] == ["mine"]
    assert ns.policy_names == {"mine"}
    assert any("broken.yaml" in w for w in ns.warnings)


# --------------------------------------------------------------------------- corpus

_MISSING_KS = re.compile(r"^(?:\./)?(?P<name>[^/]+?)(?:/ks)?\.ya?ml$")


def _complete_corpus_repo(src: Path, dest: Path, apps_dir: PurePosixPath) -> Path:
    """Copy a corpus repo (kustomization files only) and write the ks.yaml / helmrelease.yaml
    files it references, so discovery has something to find."""
    shutil.copytree(src, dest, symlinks=True)
    from scaffolder.core.yamlio import load_mapping

    apps_root = dest / "kubernetes/apps"
    for ns_k in sorted((dest / apps_dir).glob("*/kustomization.yaml")):
        ns = ns_k.parent.name
        for entry in load_mapping(ns_k).get("resources") or []:
            target = ns_k.parent / entry
            match = _MISSING_KS.match(entry)
            if target.exists() or match is None:
                continue
            name = match["name"]
            base = ns_k.parent / name
            candidates = (
                sorted(p.parent for p in base.glob("*/kustomization.yaml")) if base.is_dir() else []
            )
            if not candidates and (apps_root / ns / name / "kustomization.yaml").is_file():
                candidates = [apps_root / ns / name]
            docs = []
            for i, directory in enumerate(candidates):
                ks_name = name if i == 0 else f"{name}-{directory.name}"
                rel = directory.relative_to(dest).as_posix()
                docs.append(
                    f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                    f"metadata: {{name: {ks_name}}}\nspec: {{path: ./{rel}, targetNamespace: {ns}}}\n"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("---\n".join(docs) or "{}\n")
    for app_k in sorted(dest.rglob("kustomization.yaml")):
        resources = load_mapping(app_k).get("resources") or []
        if "./helmrelease.yaml" in resources or "helmrelease.yaml" in resources:
            hr = app_k.parent / "helmrelease.yaml"
            if not hr.exists():
                parts = [p for p in app_k.parent.relative_to(dest).parts[3:] if p != "app"] or ["x"]
                hr.write_text(HELMRELEASE.format(app="-".join(parts).lower(), values=SIMPLE_VALUES))
    return dest


@pytest.mark.parametrize(
    ("repo", "apps_dir"),
    [
        ("Diaoul+home-ops", "kubernetes/apps"),
        ("coolguy1771+home-ops", "kubernetes/apps"),
        ("deedee-ops+home-ops", "kubernetes/clusters/deedee/apps"),
    ],
)
def test_corpus_repos(shared: Path, tmp_path: Path, repo: str, apps_dir: str) -> None:
    # As shipped (kustomization and policy files only): no exception, missing files warned.
    raw = discover_all(_at(CORPUS / repo, PurePosixPath(apps_dir)))
    assert raw and all(isinstance(w, str) and "\n" not in w for ns in raw for w in ns.warnings)
    # With the referenced ks.yaml / helmrelease.yaml written in: apps are found.
    root = _complete_corpus_repo(CORPUS / repo, tmp_path / repo, PurePosixPath(apps_dir))
    namespaces = discover_all(_at(root, PurePosixPath(apps_dir)))
    apps = [a for ns in namespaces for a in ns.apps]
    assert len(apps) >= 20, (repo, len(apps))
    assert all(not a.directory.is_absolute() for a in apps)
    assert sum(len(ns.policies) for ns in namespaces) >= 1
