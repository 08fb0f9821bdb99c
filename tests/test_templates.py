"""The copier templates under copier-templates/, rendered with copier itself.

Three templates: the network-policy/baseline and network-policy/default-deny Kustomize
Components, and the per-app namespace-overlay. Every rendered manifest must validate
against the Cilium CRD schema, be deterministic, and keep the rollout's safety rules
(allow policies never switch pods into default-deny; the apiserver is only ever reached
through the kube-apiserver entity).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest
from copier.errors import CopierError

from scaffolder.core.yamlio import parse_documents
from scaffolder.policy.schema import validate_policy, validate_text

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "copier-templates"
BASELINE = "network-policy/baseline"
DEFAULT_DENY = "network-policy/default-deny"
OVERLAY = "namespace-overlay"
ANSWERS = ".netpol-answers.yaml"

BASELINE_POLICIES = [
    "allow-dns.yaml",
    "allow-apiserver.yaml",
    "allow-intra-namespace.yaml",
    "allow-monitoring-scrape.yaml",
    "allow-host-probes.yaml",
]
INERT = {"ingress": False, "egress": False}
CIDR_KEYS = {"toCIDR", "toCIDRSet", "fromCIDR", "fromCIDRSet", "ipBlock", "cidr"}


def render(template: str, dst: Path, **data: Any) -> dict[str, str]:
    """Render ``template`` with copier into ``dst``; return {relative path: text}."""
    copier.run_copy(
        str(TEMPLATES / template),
        str(dst),
        data=data,
        defaults=True,
        unsafe=False,
        quiet=True,
        vcs_ref=None,
    )
    return {
        p.relative_to(dst).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(dst.rglob("*"))
        if p.is_file()
    }


def docs_of(text: str) -> list[dict[str, Any]]:
    return [d for d in parse_documents(text, "rendered") if isinstance(d, dict)]


def one_doc(text: str) -> dict[str, Any]:
    docs = docs_of(text)
    assert len(docs) == 1
    return docs[0]


def keys_in(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys_in(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys_in(v)}
    return set()


def assert_style(name: str, text: str, template: str) -> None:
    """The house style of every rendered YAML file."""
    lines = text.split("\n")
    assert lines[0] == "---", name
    assert lines[1] == (
        f"# Managed by netpol (copier template {template}); edit the answers, not this file."
    ), name
    assert text.endswith("\n") and not text.endswith("\n\n"), name
    assert "\t" not in text and "\r" not in text, name
    previous_key_indent = None
    for line in lines:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        assert indent % 2 == 0, f"{name}: odd indentation: {line!r}"
        if stripped.startswith("- ") and previous_key_indent is not None:
            assert indent > previous_key_indent, f"{name}: sequence not indented: {line!r}"
        previous_key_indent = indent if stripped.endswith(":") else None
        if re.match(r"(- )?port: ", stripped) and name != ANSWERS:
            assert re.fullmatch(r'(- )?port: "\d+"', stripped), f"{name}: unquoted port {line!r}"


def assert_valid(files: dict[str, str]) -> None:
    for name, text in files.items():
        validate_text(text, name)
        for doc in docs_of(text):
            assert validate_policy(doc) == [], name


# --------------------------------------------------------------------------- template metadata


@pytest.mark.parametrize("template", [BASELINE, DEFAULT_DENY, OVERLAY])
def test_every_question_has_a_default_and_a_validator_and_is_recorded(template: str) -> None:
    conf = one_doc((TEMPLATES / template / "copier.yml").read_text(encoding="utf-8"))
    assert conf["_min_copier_version"] == "9.0"
    assert conf["_templates_suffix"] == ".jinja"
    assert conf["_answers_file"] == ANSWERS
    questions = {k: v for k, v in conf.items() if not k.startswith("_")}
    assert questions
    for name, spec in questions.items():
        assert "default" in spec, name
        assert spec.get("validator"), name
        assert "when" not in spec, name  # when: false would keep the answer out of the file


def test_shared_macros_are_identical_in_every_template() -> None:
    copies = {
        t: (TEMPLATES / t / "_macros.jinja").read_bytes() for t in (BASELINE, DEFAULT_DENY, OVERLAY)
    }
    assert len(set(copies.values())) == 1


def test_templates_are_plain_directories_inside_the_repo(tmp_path: Path) -> None:
    # The templates live inside the netpol git repository but are not repository roots:
    # copier must treat them as plain directories (no VCS, no _commit, no git checkout).
    for template in (BASELINE, DEFAULT_DENY):
        src = TEMPLATES / template
        assert not (src / ".git").exists()
        worker = copier.run_copy(
            str(src), str(tmp_path / template), defaults=True, quiet=True, vcs_ref=None
        )
        assert worker.template.vcs is None
        assert worker.template.commit is None


# --------------------------------------------------------------------------- baseline


def test_baseline_default_file_set(tmp_path: Path) -> None:
    files = render(BASELINE, tmp_path)
    assert sorted(files) == sorted([ANSWERS, "kustomization.yaml", *BASELINE_POLICIES])
    for name, text in files.items():
        assert_style(name, text, BASELINE)
    assert_valid(files)
    kustomization = one_doc(files["kustomization.yaml"])
    assert kustomization == {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "resources": BASELINE_POLICIES,
    }


GOLDEN_ALLOW_DNS = """\
---
# Managed by netpol (copier template network-policy/baseline); edit the answers, not this file.
# Every pod may query the cluster DNS. The L7 DNS rule (matchPattern "*") sends the
# queries through Cilium's DNS proxy, which fills the FQDN cache that toFQDNs rules need:
# without it toFQDNs egress silently drops.
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: allow-dns
spec:
  description: "netpol baseline: allow DNS queries to the cluster DNS in kube-system"
  endpointSelector: {}
  enableDefaultDeny:
    ingress: false
    egress: false
  egress:
    - toEndpoints:
        - matchLabels:
            io.kubernetes.pod.namespace: kube-system
            k8s-app: kube-dns
      toPorts:
        - ports:
            - port: "53"
              protocol: UDP
            - port: "53"
              protocol: TCP
          rules:
            dns:
              - matchPattern: "*"
"""

GOLDEN_BASELINE_ANSWERS = """\
---
# Managed by netpol (copier template network-policy/baseline); edit the answers, not this file.
# These are the answers: change them here, then run 'netpol upgrade' to re-render the files.
_src_path: netpol:network-policy/baseline
apiserver_port: 6443
dns_namespace: kube-system
dns_selector: {"k8s-app": "kube-dns"}
monitoring_namespace: observability
"""


def test_baseline_golden_allow_dns_and_answers(tmp_path: Path) -> None:
    files = render(BASELINE, tmp_path)
    assert files["allow-dns.yaml"] == GOLDEN_ALLOW_DNS
    assert files[ANSWERS] == GOLDEN_BASELINE_ANSWERS


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {
            "dns_namespace": "dns",
            "dns_selector": {"app.kubernetes.io/name": "coredns", "k8s-app": "kube-dns"},
            "monitoring_namespace": "monitoring",
            "apiserver_port": 443,
        },
        {"dns_selector": {"k8s-app": "true"}, "monitoring_namespace": "yes"},
    ],
    ids=["defaults", "custom", "yaml-ambiguous-values"],
)
def test_baseline_policies_are_additive_and_safe(tmp_path: Path, answers: dict[str, Any]) -> None:
    files = render(BASELINE, tmp_path, **answers)
    assert_valid(files)
    for name in BASELINE_POLICIES:
        assert_style(name, files[name], BASELINE)
        policy = one_doc(files[name])
        assert policy["kind"] == "CiliumNetworkPolicy"
        assert policy["metadata"] == {"name": name.removesuffix(".yaml")}
        assert policy["spec"]["enableDefaultDeny"] == INERT, name
        assert policy["spec"]["endpointSelector"] == {}
        assert policy["spec"]["description"]
        assert not keys_in(policy) & CIDR_KEYS, name

    dns = one_doc(files["allow-dns.yaml"])["spec"]["egress"]
    namespace = answers.get("dns_namespace", "kube-system")
    selector = answers.get("dns_selector", {"k8s-app": "kube-dns"})
    assert dns[0]["toEndpoints"] == [
        {"matchLabels": {"io.kubernetes.pod.namespace": namespace, **selector}}
    ]
    assert dns[0]["toPorts"] == [
        {
            "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}],
            "rules": {"dns": [{"matchPattern": "*"}]},
        }
    ]

    apiserver = one_doc(files["allow-apiserver.yaml"])["spec"]
    port = str(answers.get("apiserver_port", 6443))
    assert apiserver["egress"] == [
        {
            "toEntities": ["kube-apiserver"],
            "toPorts": [{"ports": [{"port": port, "protocol": "TCP"}]}],
        }
    ]

    intra = one_doc(files["allow-intra-namespace.yaml"])["spec"]
    assert intra["ingress"] == [{"fromEndpoints": [{}]}]
    assert intra["egress"] == [{"toEndpoints": [{}]}]

    scrape = one_doc(files["allow-monitoring-scrape.yaml"])["spec"]
    monitoring = answers.get("monitoring_namespace", "observability")
    assert scrape["ingress"] == [
        {"fromEndpoints": [{"matchLabels": {"io.kubernetes.pod.namespace": monitoring}}]}
    ]

    probes = one_doc(files["allow-host-probes.yaml"])["spec"]
    assert probes["ingress"] == [{"fromEntities": ["host"]}]

    recorded = one_doc(files[ANSWERS])
    assert recorded == {
        "_src_path": "netpol:network-policy/baseline",
        "dns_namespace": namespace,
        "dns_selector": selector,
        "monitoring_namespace": monitoring,
        "apiserver_port": int(port),
    }


# --------------------------------------------------------------------------- default-deny

GOLDEN_DEFAULT_DENY = """\
---
# Managed by netpol (copier template network-policy/default-deny); edit the answers, not this file.
# Switches every pod of the namespace into default-deny for ingress and egress: from then
# on only traffic some allow policy permits gets through. The empty deny rules ({}) select
# no peer, so they deny nothing themselves; they exist to turn default-deny on. Deny
# rules win over allow rules only for the traffic they select, so the allows keep working.
# enableDefaultDeny is omitted: Cilium then defaults it to true for each direction that
# has rules, here both.
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: default-deny
spec:
  description: "netpol: default-deny for every pod of this namespace (enforce mode)"
  endpointSelector: {}
  ingressDeny:
    - {}
  egressDeny:
    - {}
"""


def test_default_deny_enforce_golden(tmp_path: Path) -> None:
    files = render(DEFAULT_DENY, tmp_path)
    assert sorted(files) == [ANSWERS, "default-deny.yaml", "kustomization.yaml"]
    assert files["default-deny.yaml"] == GOLDEN_DEFAULT_DENY
    assert one_doc(files["kustomization.yaml"]) == {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "resources": ["default-deny.yaml"],
    }
    assert one_doc(files[ANSWERS]) == {
        "_src_path": "netpol:network-policy/default-deny",
        "mode": "enforce",
    }
    for name, text in files.items():
        assert_style(name, text, DEFAULT_DENY)
    assert_valid(files)


@pytest.mark.parametrize("mode", ["enforce", "audit"])
def test_default_deny_modes(tmp_path: Path, mode: str) -> None:
    files = render(DEFAULT_DENY, tmp_path, mode=mode)
    assert_valid(files)
    text = files["default-deny.yaml"]
    spec = one_doc(text)["spec"]
    assert spec["endpointSelector"] == {}
    assert spec["ingressDeny"] == [{}]
    assert spec["egressDeny"] == [{}]
    assert "  ingressDeny:\n    - {}\n  egressDeny:\n    - {}\n" in text
    if mode == "audit":
        assert spec["enableDefaultDeny"] == INERT
        assert "staged but inert" in text
    else:
        assert "enableDefaultDeny" not in spec
    assert one_doc(files[ANSWERS])["mode"] == mode


# --------------------------------------------------------------------------- namespace-overlay

GATEWAY = {"io.kubernetes.pod.namespace": "network", "app.kubernetes.io/name": "envoy"}
APP = {"app.kubernetes.io/name": "sonarr"}

# question -> (answer, policy suffix, expected spec minus the common fields)
PATTERNS: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "gateway_ports": (
        [8989, {"port": 9090, "protocol": "UDP"}],
        "allow-gateway-ingress",
        {
            "ingress": [
                {
                    "fromEndpoints": [{"matchLabels": GATEWAY}],
                    "toPorts": [
                        {
                            "ports": [
                                {"port": "8989", "protocol": "TCP"},
                                {"port": "9090", "protocol": "UDP"},
                            ]
                        }
                    ],
                }
            ]
        },
    ),
    "cnpg_egress": (
        [
            {"namespace": "databases", "cluster": "postgres"},
            {"namespace": "db2", "cluster": "pg16", "port": 5433},
        ],
        "allow-cnpg-egress",
        {
            "egress": [
                {
                    "toEndpoints": [
                        {
                            "matchLabels": {
                                "io.kubernetes.pod.namespace": "databases",
                                "cnpg.io/cluster": "postgres",
                            }
                        }
                    ],
                    "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}],
                },
                {
                    "toEndpoints": [
                        {
                            "matchLabels": {
                                "io.kubernetes.pod.namespace": "db2",
                                "cnpg.io/cluster": "pg16",
                            }
                        }
                    ],
                    "toPorts": [{"ports": [{"port": "5433", "protocol": "TCP"}]}],
                },
            ]
        },
    ),
    "fqdn_egress": (
        [
            {"host": "api.pushover.net", "port": 443},
            {"host": "s3.example.com", "port": 443, "style": "fqdn"},
            {"host": "*.indexer.example.com", "port": 8443, "style": "fqdn", "protocol": "TCP"},
        ],
        "allow-fqdn-egress",
        {
            "egress": [
                {
                    "toEntities": ["world"],
                    "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                },
                {
                    "toFQDNs": [{"matchName": "s3.example.com"}],
                    "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                },
                {
                    "toFQDNs": [{"matchPattern": "*.indexer.example.com"}],
                    "toPorts": [{"ports": [{"port": "8443", "protocol": "TCP"}]}],
                },
            ]
        },
    ),
    "cross_namespace_egress": (
        [
            {
                "namespace": "vpn",
                "selector": {"app": "gateway"},
                "ports": [{"port": 53, "protocol": "UDP"}, 8080],
            }
        ],
        "allow-cross-namespace",
        {
            "egress": [
                {
                    "toEndpoints": [
                        {"matchLabels": {"io.kubernetes.pod.namespace": "vpn", "app": "gateway"}}
                    ],
                    "toPorts": [
                        {
                            "ports": [
                                {"port": "53", "protocol": "UDP"},
                                {"port": "8080", "protocol": "TCP"},
                            ]
                        }
                    ],
                }
            ]
        },
    ),
    "cidr_egress": (
        [{"cidr": "192.168.5.0/24", "ports": [554, 80]}],
        "allow-cidr-egress",
        {
            "egress": [
                {
                    "toCIDR": ["192.168.5.0/24"],
                    "toPorts": [
                        {
                            "ports": [
                                {"port": "554", "protocol": "TCP"},
                                {"port": "80", "protocol": "TCP"},
                            ]
                        }
                    ],
                }
            ]
        },
    ),
    "cluster_egress_ports": (
        [3900],
        "allow-cluster-egress",
        {
            "egress": [
                {
                    "toEntities": ["cluster"],
                    "toPorts": [{"ports": [{"port": "3900", "protocol": "TCP"}]}],
                }
            ]
        },
    ),
    "lan_ports": (
        [{"port": 1883, "protocol": "TCP"}, 8096],
        "allow-lan-clients",
        {
            "ingress": [
                {
                    "fromEntities": ["world", "host", "remote-node"],
                    "toPorts": [
                        {
                            "ports": [
                                {"port": "1883", "protocol": "TCP"},
                                {"port": "8096", "protocol": "TCP"},
                            ]
                        }
                    ],
                }
            ]
        },
    ),
    "oauth2_proxy_gateway_ports": (
        [10443],
        "allow-oauth2-gateway",
        {
            "egress": [
                {
                    "toEndpoints": [{"matchLabels": GATEWAY}],
                    "toPorts": [{"ports": [{"port": "10443", "protocol": "TCP"}]}],
                }
            ]
        },
    ),
}

CNPG_CLIENTS = {
    "cnpg_cluster": "sonarr-db",
    "cnpg_consumers": [
        {"namespace": "media", "selector": {"app.kubernetes.io/name": "sonarr"}},
        {"namespace": "tools"},
    ],
}
CNPG_CLIENTS_SPEC = {
    "ingress": [
        {
            "fromEndpoints": [
                {
                    "matchLabels": {
                        "io.kubernetes.pod.namespace": "media",
                        "app.kubernetes.io/name": "sonarr",
                    }
                }
            ],
            "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}],
        },
        {
            "fromEndpoints": [{"matchLabels": {"io.kubernetes.pod.namespace": "tools"}}],
            "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}],
        },
    ]
}


def overlay_policies(files: dict[str, str]) -> list[dict[str, Any]]:
    assert sorted(files) == [ANSWERS, "cnp-netpol.yaml"]
    for name, text in files.items():
        assert_style(name, text, OVERLAY)
    assert_valid(files)
    policies = docs_of(files["cnp-netpol.yaml"])
    for policy in policies:
        assert policy["apiVersion"] == "cilium.io/v2"
        assert policy["kind"] == "CiliumNetworkPolicy"
        assert set(policy["metadata"]) == {"name"}  # no namespace: kustomize/Flux sets it
        assert policy["spec"]["enableDefaultDeny"] == INERT, policy["metadata"]["name"]
        assert policy["spec"]["description"]
    return policies


@pytest.mark.parametrize("question", sorted(PATTERNS))
def test_overlay_each_pattern_on_its_own(tmp_path: Path, question: str) -> None:
    answer, suffix, expected = PATTERNS[question]
    files = render(OVERLAY, tmp_path, app_name="sonarr", namespace="media", **{question: answer})
    [policy] = overlay_policies(files)
    assert policy["metadata"]["name"] == f"sonarr-{suffix}"
    spec = dict(policy["spec"])
    assert spec.pop("endpointSelector") == {"matchLabels": APP}
    del spec["enableDefaultDeny"], spec["description"]
    assert spec == expected
    assert one_doc(files[ANSWERS])[question] == answer


def test_overlay_cnpg_clients_select_the_cluster_pods(tmp_path: Path) -> None:
    files = render(OVERLAY, tmp_path, app_name="sonarr", namespace="media", **CNPG_CLIENTS)
    [policy] = overlay_policies(files)
    assert policy["metadata"]["name"] == "sonarr-allow-cnpg-clients"
    assert policy["spec"]["endpointSelector"] == {"matchLabels": {"cnpg.io/cluster": "sonarr-db"}}
    assert policy["spec"]["ingress"] == CNPG_CLIENTS_SPEC["ingress"]


def test_overlay_fqdn_entity_style_names_the_host_in_a_comment(tmp_path: Path) -> None:
    files = render(
        OVERLAY,
        tmp_path,
        app_name="paperless",
        namespace="default",
        fqdn_egress=[{"host": "auth.${SECRET_DOMAIN}", "port": 443}],
    )
    text = files["cnp-netpol.yaml"]
    assert "    # auth.${SECRET_DOMAIN}: toEntities world on the port" in text
    assert "toFQDNs" not in one_doc(text)["spec"]["egress"][0]


def test_overlay_all_patterns_together(tmp_path: Path) -> None:
    answers = {question: answer for question, (answer, _, _) in PATTERNS.items()}
    files = render(
        OVERLAY,
        tmp_path,
        app_name="sonarr",
        namespace="media",
        selector={"app.kubernetes.io/name": "sonarr", "app.kubernetes.io/instance": "sonarr"},
        **answers,
        **CNPG_CLIENTS,
    )
    policies = overlay_policies(files)
    assert [p["metadata"]["name"] for p in policies] == [
        "sonarr-allow-gateway-ingress",
        "sonarr-allow-cnpg-egress",
        "sonarr-allow-cnpg-clients",
        "sonarr-allow-fqdn-egress",
        "sonarr-allow-cross-namespace",
        "sonarr-allow-cidr-egress",
        "sonarr-allow-cluster-egress",
        "sonarr-allow-lan-clients",
        "sonarr-allow-oauth2-gateway",
    ]
    for policy in policies:
        if policy["metadata"]["name"] != "sonarr-allow-cnpg-clients":
            assert policy["spec"]["endpointSelector"]["matchLabels"] == {
                "app.kubernetes.io/name": "sonarr",
                "app.kubernetes.io/instance": "sonarr",
            }
    recorded = one_doc(files[ANSWERS])
    assert recorded["_src_path"] == "netpol:namespace-overlay"
    assert list(recorded) == sorted(recorded)
    assert set(recorded) - {"_src_path"} == {
        k
        for k in one_doc((TEMPLATES / OVERLAY / "copier.yml").read_text())
        if not k.startswith("_")
    }


def test_overlay_custom_gateway(tmp_path: Path) -> None:
    files = render(
        OVERLAY,
        tmp_path,
        app_name="web",
        namespace="apps",
        gateway_namespace="ingress",
        gateway_selector={"app": "traefik"},
        gateway_ports=[3000],
    )
    [policy] = overlay_policies(files)
    assert policy["spec"]["ingress"][0]["fromEndpoints"] == [
        {"matchLabels": {"io.kubernetes.pod.namespace": "ingress", "app": "traefik"}}
    ]
    assert policy["spec"]["endpointSelector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}


# --------------------------------------------------------------------------- bad answers


@pytest.mark.parametrize(
    ("template", "answers", "question", "fragment"),
    [
        (BASELINE, {"dns_namespace": "Media_1"}, "dns_namespace", "DNS-1123"),
        (BASELINE, {"monitoring_namespace": "a" * 64}, "monitoring_namespace", "DNS-1123"),
        (BASELINE, {"apiserver_port": 70000}, "apiserver_port", "1-65535"),
        (BASELINE, {"apiserver_port": 0}, "apiserver_port", "1-65535"),
        (BASELINE, {"dns_selector": {}}, "dns_selector", "at least one label"),
        (BASELINE, {"dns_selector": ["k8s-app"]}, "dns_selector", "mapping"),
        (BASELINE, {"dns_selector": {"k8s-app": 5}}, "dns_selector", "label value"),
        (DEFAULT_DENY, {"mode": "permissive"}, "mode", "permissive"),
        (
            OVERLAY,
            {"app_name": "web", "namespace": "Media_1", "gateway_ports": [80]},
            "namespace",
            "DNS-1123",
        ),
        (OVERLAY, {"namespace": "media", "gateway_ports": [80]}, "app_name", "required"),
        (
            OVERLAY,
            {"app_name": "web", "namespace": "media", "gateway_ports": [70000]},
            "gateway_ports",
            "70000",
        ),
        (
            OVERLAY,
            {
                "app_name": "web",
                "namespace": "media",
                "lan_ports": [{"port": 80, "protocol": "HTTP"}],
            },
            "lan_ports",
            "HTTP",
        ),
        (
            OVERLAY,
            {"app_name": "web", "namespace": "media"},
            "oauth2_proxy_gateway_ports",
            "nothing to render",
        ),
        (
            OVERLAY,
            {
                "app_name": "web",
                "namespace": "media",
                "cidr_egress": [{"cidr": "10.0.0.1", "ports": [80]}],
            },
            "cidr_egress",
            "CIDR",
        ),
        (
            OVERLAY,
            {
                "app_name": "web",
                "namespace": "media",
                "cidr_egress": [{"cidr": "10.0.0.0/8", "ports": []}],
            },
            "cidr_egress",
            "at least one port",
        ),
        (
            OVERLAY,
            {
                "app_name": "web",
                "namespace": "media",
                "fqdn_egress": [{"host": "a.b", "port": 443, "style": "dns"}],
            },
            "fqdn_egress",
            "style",
        ),
        (
            OVERLAY,
            {
                "app_name": "web",
                "namespace": "media",
                "fqdn_egress": [{"host": "a b", "port": 443}],
            },
            "fqdn_egress",
            "DNS name",
        ),
        (
            OVERLAY,
            {"app_name": "web", "namespace": "media", "cnpg_consumers": [{"namespace": "x"}]},
            "cnpg_consumers",
            "cnpg_cluster",
        ),
        (
            OVERLAY,
            {"app_name": "web", "namespace": "media", "cnpg_egress": [{"namespace": "db"}]},
            "cnpg_egress",
            "missing cluster",
        ),
        (
            OVERLAY,
            {
                "app_name": "web",
                "namespace": "media",
                "gateway_ports": [80],
                "gateway_selector": {"io.kubernetes.pod.namespace": "x"},
            },
            "gateway_selector",
            "namespace",
        ),
        (
            OVERLAY,
            {
                "app_name": "web",
                "namespace": "media",
                "cross_namespace_egress": [{"namespace": "vpn", "ports": [80], "extra": 1}],
            },
            "cross_namespace_egress",
            "unknown",
        ),
    ],
)
def test_bad_answers_fail_naming_the_question(
    tmp_path: Path, template: str, answers: dict[str, Any], question: str, fragment: str
) -> None:
    with pytest.raises((CopierError, ValueError)) as info:
        render(template, tmp_path / "out", **answers)
    message = str(info.value)
    assert f"'{question}'" in message
    assert fragment in message


# --------------------------------------------------------------------------- determinism

CASES = [
    (BASELINE, {}),
    (BASELINE, {"dns_selector": {"k8s-app": "kube-dns", "app.kubernetes.io/name": "coredns"}}),
    (DEFAULT_DENY, {"mode": "audit"}),
    (
        OVERLAY,
        {
            "app_name": "sonarr",
            "namespace": "media",
            **{q: a for q, (a, _, _) in PATTERNS.items()},
            **CNPG_CLIENTS,
        },
    ),
]


@pytest.mark.parametrize(("template", "answers"), CASES)
def test_rendering_is_deterministic_and_machine_independent(
    tmp_path: Path, template: str, answers: dict[str, Any]
) -> None:
    first = render(template, tmp_path / "a" / "first", **answers)
    second = render(template, tmp_path / "b" / "elsewhere", **answers)
    assert first == second
    for name, text in first.items():
        assert str(tmp_path) not in text, name
        assert str(REPO) not in text, name
        assert not re.search(r"(^|\s)/(tmp|home|work|Users|root)/", text), name
        assert "_commit" not in text and "_copier" not in text, name
    assert f"_src_path: netpol:{template}\n" in first[ANSWERS]


# --------------------------------------------------------------------------- kustomize


@pytest.fixture
def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl not on PATH")
    return path


@pytest.mark.kubectl
def test_components_build_with_kubectl_kustomize(tmp_path: Path, kubectl: str) -> None:
    render(BASELINE, tmp_path / "components" / "baseline")
    render(DEFAULT_DENY, tmp_path / "components" / "default-deny")
    app = tmp_path / "apps" / "media"
    render(OVERLAY, app / "sonarr", app_name="sonarr", namespace="media", gateway_ports=[8989])
    (app / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n")
    (app / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "namespace: media\n"
        "resources:\n  - ns.yaml\n  - sonarr/cnp-netpol.yaml\n"
        "components:\n  - ../../components/baseline\n  - ../../components/default-deny\n"
    )
    built = subprocess.run(
        [kubectl, "kustomize", str(app)], check=True, capture_output=True, text=True
    ).stdout
    docs = docs_of(built)
    names = sorted(d["metadata"]["name"] for d in docs if d["kind"] == "CiliumNetworkPolicy")
    assert names == sorted(
        [p.removesuffix(".yaml") for p in BASELINE_POLICIES]
        + ["default-deny", "sonarr-allow-gateway-ingress"]
    )
    for doc in docs:
        if doc["kind"] == "CiliumNetworkPolicy":
            assert doc["metadata"]["namespace"] == "media"
            assert validate_policy(doc) == []
