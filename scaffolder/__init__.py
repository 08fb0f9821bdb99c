"""netpol: roll out Cilium network policies in Flux/Kustomize GitOps repositories."""

__version__ = "0.1.0"
