"""Loading network policies from YAML: the shared base of discovery, the linter and flow checks.

A :class:`Policy` is one policy document (``CiliumNetworkPolicy``,
``CiliumClusterwideNetworkPolicy`` or Kubernetes ``NetworkPolicy``) with where it came
from. Cilium policies may carry a single ``spec``, a ``specs`` list, or both; ``specs``
holds all of them in document order so callers never have to care.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from scaffolder.core.errors import YamlError
from scaffolder.repo.model import PolicyRef

CILIUM_KINDS = frozenset({"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"})
POLICY_KINDS = CILIUM_KINDS | {"NetworkPolicy"}
CLUSTERWIDE_KINDS = frozenset({"CiliumClusterwideNetworkPolicy"})
_API_GROUPS = {
    "CiliumNetworkPolicy": "cilium.io",
    "CiliumClusterwideNetworkPolicy": "cilium.io",
    "NetworkPolicy": "networking.k8s.io",
}
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Policy:
    """One policy document.

    ``spec`` is the document's ``spec`` mapping (``None`` when it only has ``specs``);
    ``specs`` is every rule set: ``spec`` first (if any), then the ``specs`` entries.
    ``doc_index`` is the 0-based position among the file's non-empty documents.
    ``namespace`` is ``metadata.namespace`` as written (``None`` when absent, and always
    for cluster-wide policies).
    """

    kind: str
    name: str
    namespace: str | None
    spec: Mapping[str, Any] | None
    specs: tuple[Mapping[str, Any], ...]
    path: PurePosixPath
    doc_index: int
    raw: Mapping[str, Any]

    @property
    def clusterwide(self) -> bool:
        return self.kind in CLUSTERWIDE_KINDS

    @property
    def labels(self) -> Mapping[str, Any]:
        metadata = self.raw.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        return labels if isinstance(labels, Mapping) else {}

    @property
    def annotations(self) -> Mapping[str, Any]:
        metadata = self.raw.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
        return annotations if isinstance(annotations, Mapping) else {}


def is_policy_document(doc: Any) -> bool:
    """True for a mapping whose kind/apiVersion make it a policy netpol understands.

    A ``NetworkPolicy`` of another API group (Calico's ``crd.projectcalico.org``) is not.
    A document without ``apiVersion`` is accepted on its kind alone.
    """
    if not isinstance(doc, Mapping):
        return False
    kind = doc.get("kind")
    if not isinstance(kind, str) or kind not in POLICY_KINDS:
        return False
    api_version = doc.get("apiVersion")
    if api_version is None:
        return True
    return isinstance(api_version, str) and api_version.split("/", 1)[0] == _API_GROUPS[kind]


def _policy(doc: Mapping[str, Any], path: PurePosixPath, index: int) -> Policy:
    kind = str(doc["kind"])
    where = f"{kind} (document {index + 1})"
    metadata = doc.get("metadata")
    if not isinstance(metadata, Mapping):
        raise YamlError(str(path), f"{where} has no metadata")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise YamlError(str(path), f"{where} has no metadata.name")
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise YamlError(str(path), f"{kind} {name}: metadata.namespace must be a string")
    if kind in CLUSTERWIDE_KINDS:
        namespace = None
    spec = doc.get("spec")
    if spec is not None and not isinstance(spec, Mapping):
        raise YamlError(str(path), f"{kind} {name}: spec must be a mapping")
    specs_raw = doc.get("specs")
    specs: list[Mapping[str, Any]] = [spec] if spec is not None else []
    if specs_raw is not None:
        if not isinstance(specs_raw, list) or not all(isinstance(s, Mapping) for s in specs_raw):
            raise YamlError(str(path), f"{kind} {name}: specs must be a list of mappings")
        specs.extend(specs_raw)
    return Policy(
        kind=kind,
        name=name,
        namespace=namespace,
        spec=spec,
        specs=tuple(specs),
        path=path,
        doc_index=index,
        raw=doc,
    )


def policies_in_documents(docs: Sequence[Any], path: PurePosixPath | str) -> list[Policy]:
    """The policies among parsed documents ``docs`` of the file ``path``.

    Other documents are ignored. A policy document without a name, or with a ``spec`` /
    ``specs`` of the wrong shape, raises :class:`YamlError` naming the file.
    """
    where = PurePosixPath(path)
    return [_policy(doc, where, i) for i, doc in enumerate(docs) if is_policy_document(doc)]


def to_ref(p: Policy) -> PolicyRef:
    """The model's lightweight reference to ``p``."""
    return PolicyRef(kind=p.kind, name=p.name, namespace=p.namespace, path=p.path)
