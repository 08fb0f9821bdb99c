"""Network policies: loading documents, the typed model with source positions, parsing.

* :mod:`.document`: policy documents as found in files (kind, name, namespace, raw spec);
  discovery uses it to see which policies a repository already has.
* :mod:`.model`: the typed model (selectors, peers, entities, CIDRs, FQDNs, ports, L7 DNS,
  deny rules, ``enableDefaultDeny``), every node with its file, line and column.
* :mod:`.parse`: the YAML node tree -> typed model, for Cilium and Kubernetes policies.
"""

from scaffolder.policy.document import (
    POLICY_KINDS,
    YAML_SUFFIXES,
    Policy,
    is_policy_document,
    policies_in_documents,
    to_ref,
)

__all__ = [
    "POLICY_KINDS",
    "YAML_SUFFIXES",
    "Policy",
    "is_policy_document",
    "policies_in_documents",
    "to_ref",
]
