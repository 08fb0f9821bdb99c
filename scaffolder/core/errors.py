"""The one exception hierarchy of netpol.

Every error a user can cause derives from :class:`NetpolError`. The CLI turns
each into a single line on stderr and the exit code carried by the class; any
other exception is a bug and shows a traceback only with ``--debug``.
"""

from __future__ import annotations

from pathlib import Path


class NetpolError(Exception):
    """Base class: a problem the user can fix. ``hint`` says what to do."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(NetpolError):
    """``netpol.yaml`` is missing, malformed or invalid."""


class RepoError(NetpolError):
    """The repository layout is not what netpol expects (no kustomization, unknown namespace...)."""


class YamlError(NetpolError):
    """A YAML file could not be parsed, or has a shape netpol cannot work with."""

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}", hint=hint)
        self.path = Path(path)
        self.line = line
        self.problem = problem


class EditError(NetpolError):
    """An in-place edit could not be made safely; the file was left untouched."""


class RenderError(NetpolError):
    """A copier template could not be rendered (bad answers, missing template...)."""


class PolicyValidationError(NetpolError):
    """A rendered or edited manifest does not validate against the Cilium CRD schema."""


class ConflictError(NetpolError):
    """A file netpol manages was edited locally; netpol will not overwrite it without --overwrite."""


class PathEscapeError(NetpolError):
    """A path resolves outside the repository (through ``..`` or a symlink)."""


class GitError(NetpolError):
    """A git operation failed (dirty work tree, missing remote, ...)."""


class GitHubError(NetpolError):
    """The GitHub API refused or failed (bad token, existing PR, network failure)."""
