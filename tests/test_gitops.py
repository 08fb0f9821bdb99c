"""Git without touching the user's checkout: temporary worktrees, commits on branches,
pushes that never force, and a clean git environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scaffolder.core.errors import GitError
from scaffolder.gitops.git import Git


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of a bare remote with one commit, a user identity and a dirty work tree."""
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    work = tmp_path / "work"
    sh(tmp_path, "clone", "--quiet", str(remote), str(work))
    sh(work, "config", "user.name", "Test User")
    sh(work, "config", "user.email", "test@example.com")
    sh(work, "checkout", "--quiet", "-b", "main")
    (work / "apps").mkdir()
    (work / "apps" / "kustomization.yaml").write_text("resources: []\n")
    sh(work, "add", "-A")
    sh(work, "commit", "--quiet", "-m", "initial")
    sh(work, "push", "--quiet", "origin", "main")
    (work / "apps" / "kustomization.yaml").write_text("resources: [dirty]\n")  # unstaged edit
    (work / "notes.txt").write_text("untracked\n")
    return work


def snapshot(work: Path) -> tuple[str, str, str, str]:
    return (
        sh(work, "rev-parse", "--abbrev-ref", "HEAD"),
        sh(work, "status", "--porcelain"),
        (work / "apps" / "kustomization.yaml").read_text(),
        sh(work, "diff", "--cached"),
    )


def test_a_branch_is_committed_in_a_worktree_without_touching_the_checkout(clone: Path) -> None:
    git = Git(clone / "apps")  # found from a subdirectory
    before = snapshot(clone)
    with git.worktree("main") as tree:
        assert (tree / "apps" / "kustomization.yaml").read_text() == "resources: []\n"
        (tree / "apps" / "cnp.yaml").write_text("kind: CiliumNetworkPolicy\n")
        commit = git.commit_worktree(tree, "netpol: media", "netpol/media")
    assert snapshot(clone) == before  # branch, index, files and untracked files as they were
    assert not tree.exists()
    assert "netpol-worktree" not in sh(clone, "worktree", "list")
    assert sh(clone, "rev-parse", "netpol/media") == commit.sha
    assert sh(clone, "show", "netpol/media:apps/cnp.yaml") == "kind: CiliumNetworkPolicy"
    assert sh(clone, "log", "-1", "--format=%s%n%an", "netpol/media") == "netpol: media\nTest User"
    assert git.current_branch() == "main"
    assert git.dirty_paths() == ["apps/kustomization.yaml", "notes.txt"]


def test_the_worktree_is_removed_when_the_work_fails(clone: Path) -> None:
    git = Git(clone)
    with pytest.raises(RuntimeError), git.worktree("main") as tree:
        raise RuntimeError("boom")
    assert not tree.exists()
    assert sh(clone, "worktree", "list").count("\n") == 0


def test_an_existing_branch_is_moved_forward_never_rewritten(clone: Path) -> None:
    git = Git(clone)
    with git.worktree("main") as tree:
        (tree / "a.yaml").write_text("a: 1\n")
        first = git.commit_worktree(tree, "first", "netpol/media")
    with git.worktree("netpol/media") as tree:
        (tree / "b.yaml").write_text("b: 1\n")
        second = git.commit_worktree(tree, "second", "netpol/media")
    assert sh(clone, "rev-parse", "netpol/media^") == first.sha != second.sha
    with git.worktree("main") as tree, pytest.raises(GitError, match="already exists"):
        (tree / "c.yaml").write_text("c: 1\n")
        git.commit_worktree(tree, "unrelated", "netpol/media")
    assert sh(clone, "rev-parse", "netpol/media") == second.sha


def test_an_empty_commit_is_refused(clone: Path) -> None:
    git = Git(clone)
    with git.worktree("main") as tree, pytest.raises(GitError, match="nothing to commit"):
        git.commit_worktree(tree, "empty", "netpol/empty")
    assert not git.branch_exists("netpol/empty")


def test_push_never_forces(clone: Path, tmp_path: Path) -> None:
    git = Git(clone)
    with git.worktree("main") as tree:
        (tree / "a.yaml").write_text("a: 1\n")
        git.commit_worktree(tree, "ours", "netpol/media")
    git.push("netpol/media")
    remote = tmp_path / "remote.git"
    assert sh(remote, "rev-parse", "netpol/media") == sh(clone, "rev-parse", "netpol/media")
    # Someone else pushes to the branch; our rewritten branch must not replace it.
    other = tmp_path / "other"
    sh(tmp_path, "clone", "--quiet", "--branch", "netpol/media", str(remote), str(other))
    (other / "theirs.yaml").write_text("t: 1\n")
    sh(other, "add", "-A")
    sh(other, "-c", "user.name=O", "-c", "user.email=o@x", "commit", "--quiet", "-m", "theirs")
    sh(other, "push", "--quiet", "origin", "netpol/media")
    theirs = sh(other, "rev-parse", "HEAD")
    with git.worktree("netpol/media") as tree:
        (tree / "b.yaml").write_text("b: 1\n")
        git.commit_worktree(tree, "ours again", "netpol/media")
    with pytest.raises(GitError, match="never force-pushes") as info:
        git.push("netpol/media")
    assert "fetch and merge origin/netpol/media" in str(info.value.hint)
    assert sh(remote, "rev-parse", "netpol/media") == theirs


def test_a_missing_remote_or_identity_is_one_clear_error(
    clone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = Git(clone)
    with pytest.raises(GitError, match="no git remote named 'upstream'"):
        git.push("main", remote="upstream")
    sh(clone, "config", "--unset", "user.name")
    sh(clone, "config", "--unset", "user.email")
    monkeypatch.setenv("HOME", str(clone.parent / "nohome"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    with git.worktree("main") as tree, pytest.raises(GitError, match="who you are") as info:
        (tree / "a.yaml").write_text("a: 1\n")
        git.commit_worktree(tree, "x", "netpol/x")
    assert "git config user.name" in str(info.value.hint)


def test_redirecting_git_variables_are_ignored(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pre-commit hook runs with GIT_INDEX_FILE (and sometimes GIT_DIR) set: netpol's git
    commands must still work on the repository, never on that index."""
    decoy = tmp_path / "decoy"
    sh(tmp_path, "init", "--quiet", str(decoy))
    monkeypatch.setenv("GIT_DIR", str(decoy / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "hook-index"))
    git = Git(clone)
    with git.worktree("main") as tree:
        (tree / "a.yaml").write_text("a: 1\n")
        git.commit_worktree(tree, "from a hook", "netpol/hook")
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert sh(clone, "log", "-1", "--format=%s", "netpol/hook") == "from a hook"
    assert not (tmp_path / "hook-index").exists()
    assert sh(decoy, "branch", "--list") == ""


def test_outside_a_git_repository_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="is not in a git repository") as info:
        Git(tmp_path)
    assert "clone" in str(info.value.hint)


def test_an_unknown_base_is_refused(clone: Path) -> None:
    with pytest.raises(GitError, match="'nope' is not a commit"), Git(clone).worktree("nope"):
        pass
