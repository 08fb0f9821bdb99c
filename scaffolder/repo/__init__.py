"""The repository: netpol.yaml, the layout of namespaces, the domain model."""
