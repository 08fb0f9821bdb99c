"""Discovery: what a repository deploys, read into :mod:`scaffolder.repo.model`.

Modules, bottom up: :mod:`.reader` (files, containment, parse cache, kustomization
traversal), :mod:`.drafts` (apps being assembled), :mod:`.flux`, :mod:`.helm`,
:mod:`.workloads`, :mod:`.routes`, :mod:`.cnpg`, :mod:`.policies`, and :mod:`.assemble`
(drafts -> model, the public entry points). Discovery reads a repository through its root
and :class:`~scaffolder.repo.layout.Layout`; it never imports commands or workflows.
"""

from scaffolder.discovery.assemble import Source, discover_all, discover_namespace

__all__ = ["Source", "discover_all", "discover_namespace"]
