"""Changes as data: the byte-preserving kustomization editor and plans."""
