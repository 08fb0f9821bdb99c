"""Plans: diffs, atomic application, JSON, and refusal to write half a plan."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

import pytest

from scaffolder.core.errors import NetpolError, PathEscapeError
from scaffolder.core.fs import repo_path, repo_paths, write_atomic
from scaffolder.edit.plan import FileChange, Plan


def test_diff_is_git_style_and_marks_missing_final_newline() -> None:
    change = FileChange(PurePosixPath("a.yaml"), b"x: 1\ny: 2", b"x: 1\ny: 3", "why")
    assert change.diff() == (
        "--- a/a.yaml\n+++ b/a.yaml\n@@ -1,2 +1,2 @@\n x: 1\n-y: 2\n\\ No newline at end of file\n"
        "+y: 3\n\\ No newline at end of file\n"
    )


def test_new_file_diff_uses_dev_null() -> None:
    change = FileChange(PurePosixPath("n.yaml"), None, b"a: 1\n")
    assert change.diff().startswith("--- /dev/null\n+++ b/n.yaml\n")


def test_apply_writes_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "k.yaml"
    target.write_bytes(b"old\r\n")
    target.chmod(0o640)
    plan = Plan()
    plan.write(tmp_path, PurePosixPath("k.yaml"), b"new\r\n", "r")
    plan.write(tmp_path, PurePosixPath("sub/new.yaml"), b"n\n", "r")
    assert [str(c.path) for c in plan] == ["k.yaml", "sub/new.yaml"]
    plan.apply(tmp_path)
    assert target.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert (tmp_path / "sub/new.yaml").read_bytes() == b"n\n"
    assert not list(tmp_path.glob("**/*.netpol-tmp"))


def test_writing_identical_content_is_not_a_change(tmp_path: Path) -> None:
    (tmp_path / "same.yaml").write_bytes(b"a\n")
    plan = Plan()
    plan.write(tmp_path, PurePosixPath("same.yaml"), b"a\n", "r")
    assert not plan
    assert plan.diff() == ""


def test_unwritable_file_refuses_the_whole_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok.yaml").write_bytes(b"a\n")
    (tmp_path / "locked.yaml").write_bytes(b"a\n")
    real_access = os.access
    # Tests run as root in CI, where chmod does not stop writes: simulate a read-only file.
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode: False if str(p).endswith("locked.yaml") else real_access(p, mode),
    )
    plan = Plan()
    plan.write(tmp_path, PurePosixPath("ok.yaml"), b"b\n", "r")
    plan.write(tmp_path, PurePosixPath("locked.yaml"), b"b\n", "r")
    with pytest.raises(NetpolError, match=r"cannot write locked\.yaml: permission denied"):
        plan.apply(tmp_path)
    assert (tmp_path / "ok.yaml").read_bytes() == b"a\n"


def test_repo_path_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "repo" / "link").symlink_to(outside)
    with pytest.raises(PathEscapeError):
        repo_path(tmp_path / "repo", "../outside/x")
    with pytest.raises(PathEscapeError):
        repo_path(tmp_path / "repo", "link/x")
    assert repo_path(tmp_path / "repo", "a/b") == tmp_path / "repo" / "a" / "b"


def test_write_atomic_leaves_no_temp_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.yaml"
    target.write_bytes(b"keep\n")

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(NetpolError, match=r"f\.yaml: disk full \(free some space"):
        write_atomic(target, b"new\n")
    assert target.read_bytes() == b"keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.yaml"]


def test_json_lists_changes() -> None:
    plan = Plan([FileChange(PurePosixPath("a"), None, b"x\n", "because")], notes=["n"])
    data = plan.to_json()
    assert data["changes"][0]["action"] == "create"
    assert data["changes"][0]["reason"] == "because"
    assert data["notes"] == ["n"]


def test_a_directory_where_a_file_is_planned_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    with pytest.raises(
        NetpolError, match=r"^cannot read x\.yaml: a directory is in the way \(move it"
    ):
        Plan().write(tmp_path, PurePosixPath("x.yaml"), b"a\n", "r")


def test_repo_paths_refuses_what_repo_path_refuses(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "ok").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.yaml").write_text("x\n")
    (repo / "dirlink").symlink_to(outside)
    (repo / "ok" / "filelink.yaml").symlink_to(outside / "f.yaml")
    assert repo_paths(repo, [PurePosixPath("ok/a"), PurePosixPath("ok/b")]) == [
        repo / "ok/a",
        repo / "ok/b",
    ]
    for rel in ("../outside/x", "dirlink/x", "ok/filelink.yaml", "ok/../../outside/f.yaml"):
        with pytest.raises(PathEscapeError, match=r"resolves outside the repository"):
            repo_paths(repo, [PurePosixPath("ok/a"), PurePosixPath(rel)])
