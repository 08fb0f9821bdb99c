"""Git, the safe way round: netpol never switches, stages in or dirties the user's checkout.

Work for a branch happens in a **temporary worktree** checked out (detached) at the base
commit: the plan is applied there, committed, and the commit becomes the branch. The
user's working tree, index and current branch are never touched, even when they are
dirty. Nothing is ever force-pushed: a branch that moved on the remote is an error with a
hint, not an overwrite.

Every git command runs in a **clean git environment**: variables that redirect git
(``GIT_DIR``, ``GIT_INDEX_FILE``... which pre-commit hooks and IDEs set) are removed, so
netpol's git commands cannot write to another repository or index, and prompts are off.

GitPython runs the commands; it is imported on first use (``netpol --help`` stays fast).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaffolder.core.errors import GitError

if TYPE_CHECKING:
    import git

# Variables that make git operate on another repository, index or object store.
REDIRECTING_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
)
FIXED_VARIABLES = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a terminal
    "GIT_OPTIONAL_LOCKS": "0",  # status must not rewrite the user's index
    "LC_ALL": "C",  # messages we may quote are in one language
}


@contextlib.contextmanager
def clean_environment() -> Iterator[None]:
    """Run the block with the redirecting git variables removed (restored afterwards).

    GitPython builds each command's environment from ``os.environ``, so this is where a
    variable must be absent. netpol runs git from one thread."""
    saved = {name: os.environ.get(name) for name in (*REDIRECTING_VARIABLES, *FIXED_VARIABLES)}
    for name in REDIRECTING_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(FIXED_VARIABLES)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _first_line(exc: Any) -> str:
    stderr = str(getattr(exc, "stderr", "") or "").strip()
    for line in stderr.splitlines():
        line = line.strip().strip("'").removeprefix("stderr: ").strip("'").strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return str(exc).splitlines()[0] if str(exc) else "git failed"


@dataclass(frozen=True)
class Commit:
    sha: str
    branch: str
    message: str


class Git:
    """One repository, for netpol's git operations (all in a clean environment)."""

    def __init__(self, root: Path) -> None:
        try:
            import git
        except ImportError as exc:  # pragma: no cover - a dependency; git binary missing
            raise GitError(
                "git is not available", hint="install git and make sure it is on PATH"
            ) from exc
        with clean_environment():
            try:
                self.repo: git.Repo = git.Repo(root, search_parent_directories=True)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
                raise GitError(
                    f"{root} is not in a git repository",
                    hint="run netpol inside a clone of your GitOps repository",
                ) from exc
        if self.repo.bare or self.repo.working_tree_dir is None:
            raise GitError(f"{root} is a bare git repository", hint="use a clone with a work tree")
        self.root = Path(self.repo.working_tree_dir)

    def run(self, *args: str, cwd: Path | None = None, strip: bool = True) -> str:
        """``git args...`` (in ``cwd``, default the repository); GitError with git's reason."""
        import git

        with clean_environment():
            try:
                runner = git.Git(str(cwd or self.root))
                out = str(
                    runner.execute(
                        ["git", *args], stdout_as_string=True, strip_newline_in_stdout=False
                    )
                )
                return out.strip() if strip else out
            except git.GitCommandError as exc:
                raise GitError(f"git {args[0]}: {_first_line(exc)}") from exc

    # ------------------------------------------------------------------ state
    def current_branch(self) -> str | None:
        """The checked-out branch, or None when HEAD is detached."""
        try:
            return self.run("symbolic-ref", "--quiet", "--short", "HEAD") or None
        except GitError:
            return None

    def head(self) -> str:
        return self.run("rev-parse", "HEAD")

    def resolve(self, ref: str) -> str | None:
        """The commit ``ref`` names, or None if it names none."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except GitError:
            return None

    def dirty_paths(self, *paths: str) -> list[str]:
        """Paths (repository-relative) with uncommitted changes, untracked files included;
        only under ``paths`` when given."""
        out = self.run(
            "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths, strip=False
        )
        entries = [e for e in out.split("\0") if e]
        found: list[str] = []
        skip = False
        for entry in entries:
            if skip:  # the source path of a rename
                skip = False
                continue
            status, path = entry[:2], entry[3:]
            found.append(path)
            skip = "R" in status or "C" in status
        return found

    def branch_exists(self, name: str) -> bool:
        return self.resolve(f"refs/heads/{name}") is not None

    def remote_url(self, remote: str = "origin") -> str | None:
        try:
            return self.run("remote", "get-url", remote) or None
        except GitError:
            return None

    # ------------------------------------------------------------------ worktrees
    @contextlib.contextmanager
    def worktree(self, base: str) -> Iterator[Path]:
        """A temporary worktree checked out (detached) at ``base``; removed afterwards,
        whatever happens. The user's checkout is not involved."""
        commit = self.resolve(base)
        if commit is None:
            raise GitError(
                f"{base!r} is not a commit in this repository",
                hint="fetch it (git fetch), or name another base",
            )
        parent = Path(tempfile.mkdtemp(prefix="netpol-worktree-"))
        path = parent / "tree"
        try:
            self.run("worktree", "add", "--detach", "--quiet", str(path), commit)
            yield path
        finally:
            with contextlib.suppress(GitError):
                self.run("worktree", "remove", "--force", str(path))
            shutil.rmtree(parent, ignore_errors=True)
            with contextlib.suppress(GitError):
                self.run("worktree", "prune")

    def commit_worktree(self, worktree: Path, message: str, branch: str) -> Commit:
        """Commit everything changed in ``worktree`` and point ``branch`` at the commit.

        A new branch is created; an existing one must be an ancestor of the new commit's
        parent chain (it is moved forward only, never rewritten)."""
        self.run("add", "--all", "--", ".", cwd=worktree)
        if not self.run("status", "--porcelain", cwd=worktree):
            raise GitError(f"nothing to commit for {branch}", hint="the branch would be empty")
        if not self._identity(worktree):
            raise GitError(
                "git does not know who you are (user.name / user.email)",
                hint='run git config user.name "Your Name" and git config user.email you@example.com',
            )
        self.run("commit", "--quiet", "--no-verify", "-m", message, cwd=worktree)
        sha = self.run("rev-parse", "HEAD", cwd=worktree)
        existing = self.resolve(f"refs/heads/{branch}")
        if existing is not None and not self.is_ancestor(existing, sha):
            raise GitError(
                f"branch {branch} already exists with other commits; netpol does not rewrite it",
                hint=f"merge or delete {branch} (git branch -D {branch}), then rerun",
            )
        # update-ref with the expected old value: a concurrent change fails, never clobbers.
        self.run("update-ref", f"refs/heads/{branch}", sha, existing or "0" * 40)
        return Commit(sha, branch, message)

    def _identity(self, cwd: Path) -> bool:
        try:
            return bool(self.run("var", "GIT_AUTHOR_IDENT", cwd=cwd))
        except GitError:
            return False

    def is_ancestor(self, older: str, newer: str) -> bool:
        try:
            self.run("merge-base", "--is-ancestor", older, newer)
        except GitError:
            return False
        return True

    # ------------------------------------------------------------------ remotes
    def push(self, branch: str, remote: str = "origin") -> None:
        """Push ``branch`` to ``remote`` (same name), never forced: a remote branch that
        moved on is an error with a hint."""
        if self.remote_url(remote) is None:
            raise GitError(
                f"no git remote named {remote!r}", hint=f"add it with git remote add {remote} URL"
            )
        refspec = f"refs/heads/{branch}:refs/heads/{branch}"
        try:
            self.run("push", "--quiet", remote, refspec)
        except GitError as exc:
            detail = str(getattr(exc.__cause__, "stderr", "") or "")
            if "[rejected]" in detail or "non-fast-forward" in detail:
                raise GitError(
                    f"{remote} has commits on {branch} that are not here; netpol never force-pushes",
                    hint=f"fetch and merge {remote}/{branch}, or delete the remote branch, then rerun",
                ) from exc
            raise
