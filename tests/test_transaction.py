"""Applying a plan is all or nothing: faults, Ctrl-C, SIGTERM, kills and size limits leave the
tree exactly as before (or, once the renames started under blocked signals, exactly as after)."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from scaffolder.core import transaction
from scaffolder.core.errors import NetpolError
from scaffolder.core.fs import TEMP_SUFFIX, describe_os_error
from scaffolder.edit.plan import FileChange, Plan

from .conftest import ROOT, snapshot

MEDIA = Path("kubernetes/apps/media")


def _temps(root: Path) -> list[Path]:
    return sorted(root.rglob(f"*{TEMP_SUFFIX}"))


def _nth_call_fails(
    real: Callable[..., Any], n: int, exc: BaseException, before: bool = True
) -> Callable[..., Any]:
    """``real``, except that its ``n``-th call raises ``exc`` (before or after doing its work)."""
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n and before:
            raise exc
        result = real(*args, **kwargs)
        if calls == n:
            raise exc
        return result

    return wrapper


def _after_clean_run(repo: Path, tmp_path: Path, netpol) -> dict[str, bytes]:
    """The tree an uninterrupted ``scaffold media`` produces, from a copy of ``repo``."""
    copy = tmp_path / "reference"
    shutil.copytree(repo, copy, symlinks=True)
    result = netpol("-C", copy, "scaffold", "media")
    assert result.exit_code == 0, result.output + result.stderr
    return snapshot(copy)


# --------------------------------------------------------------------------- faults while staging
@pytest.mark.parametrize(
    ("code", "what"),
    [
        (errno.EFBIG, "file too large"),
        (errno.ENOSPC, "disk full"),
        (errno.EDQUOT, "disk quota exceeded"),
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_a_failing_write_leaves_the_tree_untouched(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch, code: int, what: str
) -> None:
    before = snapshot(initialised_repo)
    fault = OSError(code, os.strerror(code))
    monkeypatch.setattr(
        transaction, "_write_new", _nth_call_fails(transaction._write_new, 5, fault)
    )
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert f": {what}; nothing was written (" in result.stderr
    assert result.stderr.startswith("netpol: error: cannot write kubernetes/apps/media/")
    assert "check permissions" not in result.stderr
    assert snapshot(initialised_repo) == before
    assert _temps(initialised_repo) == []


def test_ctrl_c_while_staging_rolls_back(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(initialised_repo)
    monkeypatch.setattr(
        transaction, "_write_new", _nth_call_fails(transaction._write_new, 5, KeyboardInterrupt())
    )
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 130
    assert result.stderr.strip() == "netpol: interrupted"
    assert snapshot(initialised_repo) == before
    assert _temps(initialised_repo) == []


@pytest.mark.skipif(
    signal.getsignal(signal.SIGTERM) != signal.SIG_DFL, reason="SIGTERM is handled already"
)
def test_sigterm_while_staging_rolls_back(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(initialised_repo)
    real = transaction._write_new
    calls = 0

    def write_then_terminate(*args: Any) -> None:
        nonlocal calls
        calls += 1
        real(*args)
        if calls == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(transaction, "_write_new", write_then_terminate)
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 130
    assert snapshot(initialised_repo) == before
    assert _temps(initialised_repo) == []
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, "the handler is put back"


# --------------------------------------------------------------------------- faults while renaming
def test_a_failing_rename_rolls_back_the_renames_done(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(initialised_repo)
    fault = OSError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(os, "replace", _nth_call_fails(os.replace, 7, fault))
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 1
    assert ": permission denied; nothing was written (make " in result.stderr
    assert snapshot(initialised_repo) == before
    assert _temps(initialised_repo) == []


def test_ctrl_c_in_the_rename_phase_rolls_back(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(initialised_repo)
    monkeypatch.setattr(os, "replace", _nth_call_fails(os.replace, 5, KeyboardInterrupt()))
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 130
    assert snapshot(initialised_repo) == before
    assert _temps(initialised_repo) == []


def test_a_real_ctrl_c_during_the_renames_is_held_until_they_are_done(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    after = _after_clean_run(initialised_repo, tmp_path, netpol)
    real = os.replace
    calls = 0

    def replace_and_interrupt(src: Any, dst: Any) -> None:
        nonlocal calls
        calls += 1
        real(src, dst)
        if calls == 2:
            os.kill(os.getpid(), signal.SIGINT)  # SIGINT is blocked: delivered after the commit

    monkeypatch.setattr(os, "replace", replace_and_interrupt)
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 130
    assert calls == 13, "every rename ran"
    assert snapshot(initialised_repo) == after
    assert _temps(initialised_repo) == []


# --------------------------------------------------------------------------- what is kept
def test_modes_of_replaced_files_are_kept(initialised_repo: Path, netpol) -> None:
    kustomization = initialised_repo / MEDIA / "kustomization.yaml"
    kustomization.chmod(0o640)
    script = initialised_repo / MEDIA / "sonarr/app/kustomization.yaml"
    script.chmod(0o755)
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.stderr
    assert "baseline" in kustomization.read_text()
    assert stat.S_IMODE(kustomization.stat().st_mode) == 0o640
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    umask = os.umask(0o022)
    os.umask(umask)
    created = initialised_repo / MEDIA / "sonarr/app/cnp-netpol.yaml"
    assert stat.S_IMODE(created.stat().st_mode) == 0o666 & ~umask


def _plan(*changes: tuple[str, bytes | None, bytes | None]) -> Plan:
    return Plan([FileChange(PurePosixPath(p), old, new) for p, old, new in changes])


def test_deletions_and_created_directories_are_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gone.yaml").write_bytes(b"old\n")
    (tmp_path / "gone.yaml").chmod(0o600)
    inode = (tmp_path / "gone.yaml").stat().st_ino
    (tmp_path / "keep.yaml").write_bytes(b"keep\n")
    before = snapshot(tmp_path)
    plan = _plan(
        ("gone.yaml", b"old\n", None),
        ("new/deep/dir/a.yaml", None, b"a\n"),
        ("keep.yaml", b"keep\n", b"changed\n"),
        ("z.yaml", None, b"z\n"),
    )
    monkeypatch.setattr(os, "replace", _nth_call_fails(os.replace, 3, OSError(errno.ENOSPC, "")))
    with pytest.raises(NetpolError, match=r"^cannot write z\.yaml: disk full; nothing was written"):
        plan.apply(tmp_path)
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.yaml", "keep.yaml"]
    assert (tmp_path / "gone.yaml").stat().st_ino == inode, "the very same file is back"
    assert stat.S_IMODE((tmp_path / "gone.yaml").stat().st_mode) == 0o600


def test_deletions_apply(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").write_bytes(b"old\n")
    _plan(("gone.yaml", b"old\n", None), ("sub/x.yaml", None, b"x\n")).apply(tmp_path)
    assert snapshot(tmp_path) == {"sub/x.yaml": b"x\n"}


def test_rollback_without_hard_links_restores_bytes_and_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.yaml").write_bytes(b"a\n")
    (tmp_path / "a.yaml").chmod(0o604)
    (tmp_path / "b.yaml").write_bytes(b"b\n")
    before = snapshot(tmp_path)

    def no_links(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(os, "replace", _nth_call_fails(os.replace, 2, KeyboardInterrupt()))
    plan = _plan(("a.yaml", b"a\n", b"A\n"), ("b.yaml", b"b\n", None), ("c.yaml", None, b"c\n"))
    with pytest.raises(KeyboardInterrupt):
        plan.apply(tmp_path)
    assert snapshot(tmp_path) == before
    assert stat.S_IMODE((tmp_path / "a.yaml").stat().st_mode) == 0o604


def test_a_directory_in_the_way_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_bytes(b"a file, not a directory\n")
    before = snapshot(tmp_path)
    plan = _plan(("ok.yaml", None, b"ok\n"), ("blocked/x/y.yaml", None, b"y\n"))
    with pytest.raises(
        NetpolError,
        match=r"^cannot create directory blocked: a file is in the way; nothing was written",
    ):
        plan.apply(tmp_path)
    assert snapshot(tmp_path) == before


def test_os_errors_are_named_with_a_real_fix() -> None:
    expected = {
        errno.ENOSPC: ("disk full", "free some space"),
        errno.EFBIG: ("file too large", "ulimit -f"),
        errno.EACCES: ("permission denied", "chmod"),
        errno.EPERM: ("permission denied", "chmod"),
        errno.EROFS: ("read-only file system", "remount"),
        errno.EDQUOT: ("disk quota exceeded", "quota"),
    }
    for code, (what, fix) in expected.items():
        said, hint = describe_os_error(OSError(code, os.strerror(code)))
        assert said == what
        assert fix in hint
        assert "check permissions" not in hint
    assert describe_os_error(OSError(errno.EIO, "Input/output error"))[0] == "input/output error"


# --------------------------------------------------------------------------- killed runs
def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(
    initialised_repo: Path, netpol, tmp_path: Path
) -> None:
    after = _after_clean_run(initialised_repo, tmp_path, netpol)
    before = snapshot(initialised_repo)
    script = textwrap.dedent(
        """
        import os, signal, sys
        from scaffolder.core import transaction
        from scaffolder.cli import main

        real, calls = transaction._write_new, [0]

        def write_then_die(*args):
            real(*args)
            calls[0] += 1
            if calls[0] == 5:
                os.kill(os.getpid(), signal.SIGKILL)

        transaction._write_new = write_then_die
        main(["-C", sys.argv[1], "scaffold", "media"])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(initialised_repo)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    leftovers = _temps(initialised_repo)
    assert len(leftovers) >= 5, "the killed run left staged files behind"
    assert {k: v for k, v in snapshot(initialised_repo).items() if TEMP_SUFFIX not in k} == before
    # an older netpol's leftover (one temp file per write_atomic) is swept as well
    (initialised_repo / MEDIA / ".kustomization.yaml.a1b2c3d4.netpol-tmp").write_bytes(b"half")

    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.stderr
    assert _temps(initialised_repo) == []
    assert snapshot(initialised_repo) == after


def test_a_real_file_size_limit_writes_nothing(initialised_repo: Path) -> None:
    """``(ulimit -f ...; netpol scaffold media)`` with a kustomization above the limit."""
    limit = 16 * 1024
    big = initialised_repo / MEDIA / "sonarr/app/kustomization.yaml"  # the last file of the plan
    big.write_text(big.read_text() + "# padding\n" * (limit // 10 + 100))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "scaffolder", "-C", str(initialised_repo), "scaffold", "media"]
    warm = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, check=False)
    assert warm.returncode == 0, warm.stderr  # netpol's own cache is in place before the limit
    before = snapshot(initialised_repo)

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, preexec_fn=limited
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        "netpol: error: cannot write kubernetes/apps/media/sonarr/app/kustomization.yaml: "
        "file too large; nothing was written (the file size limit is too low: raise it with "
        "ulimit -f unlimited, then rerun)\n"
    )
    assert snapshot(initialised_repo) == before
    assert _temps(initialised_repo) == []


# --------------------------------------------------------------------------- durability
def test_one_flush_before_the_first_rename(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_flush, real_replace = transaction._flush, os.replace

    def flush(*args: Any) -> None:
        events.append("flush")
        real_flush(*args)

    def replace(src: Any, dst: Any) -> None:
        events.append("rename")
        real_replace(src, dst)

    def no_fsync(fd: int) -> None:
        raise AssertionError("no fsync per file")

    monkeypatch.setattr(transaction, "_flush", flush)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", no_fsync)
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 0, result.stderr
    assert events == ["flush"] + ["rename"] * 13


def test_a_failing_flush_writes_nothing(
    initialised_repo: Path, netpol, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(initialised_repo)

    def broken(fd: int) -> bool:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(transaction, "_syncfs", broken)
    result = netpol("-C", initialised_repo, "scaffold", "media")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "netpol: error: cannot flush the staged files to disk: input/output error; "
        "nothing was written ("
    )
    assert snapshot(initialised_repo) == before
    assert _temps(initialised_repo) == []


# --------------------------------------------------------------------------- large plans (threads)
def _large_plan(root: Path, files: int = 800) -> Plan:
    plan = Plan()
    for i in range(files):
        rel = PurePosixPath(f"ns-{i % 40:02d}/app-{i % 7}/f{i}.yaml")
        if i % 3 == 0:  # a third of them exist already
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"old\n")
        plan.write(root, rel, f"new {i}\n".encode(), "r")
    return plan


def test_a_large_plan_is_staged_on_threads_and_applies(tmp_path: Path) -> None:
    plan = _large_plan(tmp_path)
    assert len(plan.effective) // transaction.PARALLEL_FROM >= 2
    plan.apply(tmp_path)
    files = snapshot(tmp_path)
    assert len(files) == 800
    assert all(data.startswith(b"new ") for data in files.values())


@pytest.mark.parametrize("fault", [OSError(errno.ENOSPC, "No space"), KeyboardInterrupt()])
def test_a_fault_in_a_staging_thread_rolls_back_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: BaseException
) -> None:
    plan = _large_plan(tmp_path)
    before = snapshot(tmp_path)
    real = transaction._write_new

    def failing(path: Path, *args: Any) -> int:
        if ".f555.yaml." in path.name:
            raise fault
        return real(path, *args)

    monkeypatch.setattr(transaction, "_write_new", failing)
    with (
        pytest.raises(type(fault))
        if isinstance(fault, KeyboardInterrupt)
        else pytest.raises(
            NetpolError,
            match=r"^cannot write ns-35/app-2/f555\.yaml: disk full; nothing was written",
        )
    ):
        plan.apply(tmp_path)
    assert snapshot(tmp_path) == before
    assert _temps(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({f"ns-{i:02d}" for i in range(40)})


def test_a_late_rename_failure_in_a_large_plan_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _large_plan(tmp_path)
    before = snapshot(tmp_path)
    monkeypatch.setattr(os, "replace", _nth_call_fails(os.replace, 700, OSError(errno.EIO, "")))
    with pytest.raises(NetpolError, match=r"input/output error; nothing was written"):
        plan.apply(tmp_path)
    assert snapshot(tmp_path) == before
    assert _temps(tmp_path) == []
