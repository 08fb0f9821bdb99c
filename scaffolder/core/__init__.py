"""Foundations every layer uses: errors, filesystem, YAML I/O, diagnostics, parallelism."""
