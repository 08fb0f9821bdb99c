"""The shared policy loader: kinds, spec/specs, paths relative to the root, errors."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scaffolder.core.errors import YamlError
from scaffolder.core.yamlio import parse_documents
from scaffolder.policy import POLICY_KINDS, Policy, policies_in_documents, to_ref
from scaffolder.repo.model import PolicyRef

from .conftest import CORPUS, EXAMPLE, build_file_tree

MIXED = """\
---
apiVersion: v1
kind: Namespace
metadata:
  name: media
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: allow-s3
  namespace: media
spec:
  endpointSelector: {}
  egress:
    - toFQDNs:
        - matchName: s3.${SECRET_DOMAIN}
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: cluster-dns
  namespace: ignored-for-clusterwide
specs:
  - nodeSelector: {}
  - endpointSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: vanilla
spec:
  podSelector: {}
---
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata:
  name: calico-is-not-ours
spec: {}
"""


def load_policies(path: Path, root: Path) -> list[Policy]:
    """Every policy in the YAML file ``path`` or, for a directory, in its YAML files that
    mention NetworkPolicy (recursively, sorted, hidden directories skipped); paths relative
    to ``root``."""
    files = (
        sorted(
            p
            for p in path.rglob("*")
            if p.suffix in (".yaml", ".yml")
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if path.is_dir()
        else [path]
    )
    found: list[Policy] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        if path.is_dir() and "NetworkPolicy" not in text:
            continue
        rel = file.relative_to(root).as_posix()
        found.extend(policies_in_documents(parse_documents(text, str(file)), rel))
    return found


def test_kinds() -> None:
    assert (
        frozenset({"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"})
        == POLICY_KINDS
    )


def test_policies_in_documents_picks_policies_only() -> None:
    docs = parse_documents(MIXED, "mixed.yaml")
    policies = policies_in_documents(docs, "apps/mixed.yaml")
    assert [(p.kind, p.name, p.namespace, p.doc_index) for p in policies] == [
        ("CiliumNetworkPolicy", "allow-s3", "media", 1),
        ("CiliumClusterwideNetworkPolicy", "cluster-dns", None, 2),
        ("NetworkPolicy", "vanilla", None, 3),
    ]
    cnp, ccnp, np_ = policies
    assert cnp.path == PurePosixPath("apps/mixed.yaml")
    assert cnp.spec is not None and cnp.specs == (cnp.spec,)
    # Flux substitutions stay verbatim.
    assert cnp.spec["egress"][0]["toFQDNs"][0]["matchName"] == "s3.${SECRET_DOMAIN}"
    assert ccnp.spec is None and len(ccnp.specs) == 2 and ccnp.clusterwide
    assert np_.raw["spec"] == {"podSelector": {}}


def test_spec_and_specs_together() -> None:
    docs = parse_documents(
        "kind: CiliumNetworkPolicy\nmetadata: {name: x}\nspec: {a: 1}\nspecs: [{b: 2}]\n", "x"
    )
    (policy,) = policies_in_documents(docs, "x.yaml")
    assert policy.specs == ({"a": 1}, {"b": 2})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind: CiliumNetworkPolicy\nspec: {}\n", "no metadata"),
        ("kind: CiliumNetworkPolicy\nmetadata: {namespace: x}\n", "no metadata.name"),
        ("kind: NetworkPolicy\nmetadata: {name: x}\nspec: [1]\n", "spec must be a mapping"),
        ("kind: CiliumNetworkPolicy\nmetadata: {name: x}\nspecs: {a: 1}\n", "specs must be a list"),
    ],
)
def test_malformed_policy_raises_yaml_error(text: str, problem: str) -> None:
    with pytest.raises(YamlError, match=problem) as info:
        policies_in_documents(parse_documents(text, "p.yaml"), "dir/p.yaml")
    assert "dir/p.yaml" in str(info.value)


def test_load_policies_file_and_directory(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "k/a/cnp.yaml": MIXED,
            "k/b/other.yaml": "kind: ConfigMap\nmetadata: {name: c}\n",
            "k/b/np.yml": "kind: NetworkPolicy\nmetadata: {name: np}\nspec: {}\n",
        },
    )
    from_file = load_policies(tmp_path / "k/a/cnp.yaml", tmp_path)
    assert {p.path for p in from_file} == {PurePosixPath("k/a/cnp.yaml")}
    from_dir = load_policies(tmp_path / "k", tmp_path)
    assert [(str(p.path), p.name) for p in from_dir] == [
        ("k/a/cnp.yaml", "allow-s3"),
        ("k/a/cnp.yaml", "cluster-dns"),
        ("k/a/cnp.yaml", "vanilla"),
        ("k/b/np.yml", "np"),
    ]


def test_load_policies_reports_file_and_line(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {"bad.yaml": "kind: CiliumNetworkPolicy\nmetadata: [\n"})
    with pytest.raises(YamlError) as info:
        load_policies(tmp_path / "bad.yaml", tmp_path)
    assert "bad.yaml" in str(info.value)


def test_to_ref() -> None:
    (policy,) = policies_in_documents(
        parse_documents(
            "kind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec: {}\n", "x"
        ),
        "x/a.yaml",
    )
    assert to_ref(policy) == PolicyRef("CiliumNetworkPolicy", "a", "n", PurePosixPath("x/a.yaml"))


def test_example_repo_policies() -> None:
    found = load_policies(EXAMPLE / "kubernetes", EXAMPLE)
    assert {(p.kind, p.name) for p in found} == {
        ("CiliumNetworkPolicy", "downloads-gateway-pod-gateway"),
        ("NetworkPolicy", "glance-allow-gateway"),
    }


def _corpus_policy_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*.yaml")
        if p.name != "kustomization.yaml" and "NetworkPolicy" in p.read_text(encoding="utf-8")
    )


def test_every_corpus_policy_file_loads(shared: Path) -> None:
    files = _corpus_policy_files()
    assert len(files) >= 60
    kinds: set[str] = set()
    for file in files:
        repo = file.relative_to(CORPUS).parts[0]
        policies = load_policies(file, CORPUS / repo)
        assert policies, file
        for policy in policies:
            assert not policy.path.is_absolute()
            assert policy.specs or policy.kind == "NetworkPolicy", (file, policy.name)
            kinds.add(policy.kind)
    assert {"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"} <= kinds


def test_corpus_directories_load(shared: Path) -> None:
    for repo in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        assert isinstance(load_policies(repo / "kubernetes", repo), list)
