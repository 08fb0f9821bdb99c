"""Large repositories: forked workers give the same plan as one process, errors included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from benchmarks.generate import generate
from scaffolder.core import parallel
from scaffolder.core.errors import NetpolError, RepoError
from scaffolder.policy import schema as validate

from .conftest import ROOT


def test_map_chunked_keeps_order_across_workers() -> None:
    items = list(range(500))
    assert parallel.map_chunked(lambda x: x * x, items, jobs=2) == [x * x for x in items]


def _fail_on_77(x: int) -> int:
    if x == 77:
        raise RepoError("bad item 77", hint="fix it")
    return x


def test_worker_errors_come_back_as_one_line_errors() -> None:
    with pytest.raises(NetpolError) as info:
        parallel.map_chunked(_fail_on_77, list(range(300)), jobs=2)
    assert str(info.value) == "bad item 77 (fix it)"
    assert info.value.exit_code == 1


def test_parallel_scaffold_equals_serial(
    tmp_path: Path, netpol, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = generate(tmp_path / "big", 120)
    assert netpol("init", repo).exit_code == 0
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_JOB", 10)
    monkeypatch.setenv("NETPOL_JOBS", "2")
    fanned = netpol("-C", repo, "scaffold", "--all", "--dry-run")
    monkeypatch.setenv("NETPOL_JOBS", "1")
    serial = netpol("-C", repo, "scaffold", "--all", "--dry-run")
    assert fanned.exit_code == serial.exit_code == 0
    assert fanned.stdout == serial.stdout
    assert "team-0119/web/app/cnp-netpol.yaml" in serial.stdout


def test_bulk_validation_agrees_with_the_reference(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    good = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "x"},
        "spec": {
            "endpointSelector": {},
            "egress": [
                {
                    "toCIDR": ["10.0.0.0/8"],
                    "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                }
            ],
        },
    }
    bad = {**good, "spec": {"endpointSelector": {}, "egress": [{"toCIDR": ["10.0.0.0"]}]}}
    reference = (validate.validate_policy(good), validate.validate_policy(bad))
    monkeypatch.setattr(validate, "_BULK", False)
    validate._fast_validator.cache_clear()
    validate.enable_bulk_mode()
    try:
        assert (validate.validate_policy(good), validate.validate_policy(bad)) == reference
        assert reference[0] == [] and reference[1]
        assert list(tmp_path.glob("netpol/schema-CiliumNetworkPolicy-*.bin")), (
            "compiled schema is cached"
        )
        validate._fast_validator.cache_clear()
        assert validate.validate_policy(bad) == reference[1]  # loads from the cache
    finally:
        validate._fast_validator.cache_clear()


def test_crd_schema_parses_the_same_with_libyaml_and_the_reference_loader() -> None:
    from importlib.resources import files

    from scaffolder.core.yamlio import parse_documents, parse_documents_fast

    for name in validate.CRD_FILES.values():
        text = (files("scaffolder") / "data" / "crds" / name).read_text(encoding="utf-8")
        assert parse_documents_fast(text, name) == parse_documents(text, name)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", "2x", " "])
def test_bad_netpol_jobs_is_one_clear_error(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETPOL_JOBS", value)
    with pytest.raises(NetpolError) as info:
        parallel.map_chunked(lambda x: x, [1, 2, 3])
    assert info.value.message == f"NETPOL_JOBS must be a whole number >= 1 (got {value!r})"
    assert "NETPOL_JOBS=1" in str(info.value.hint)


@pytest.mark.parametrize(("value", "jobs"), [("1", 1), ("3", 3), (" 2 ", 2), ("", None)])
def test_good_netpol_jobs(value: str, jobs: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETPOL_JOBS", value)
    assert parallel.default_jobs() == (jobs or len(os.sched_getaffinity(0)))


CTRL_C_DURING_PLANNING = """
import sys, time
from pathlib import Path, PurePosixPath
from typing import Any
from scaffolder.core import parallel
from scaffolder.workflows import scaffold
from scaffolder.cli import main

parallel.MIN_ITEMS_PER_JOB = 5
real = scaffold._Scaffolder.namespace

def slow(self, ns):
    Path(sys.argv[2]).touch()  # in a forked worker: the pool is running
    time.sleep(0.2)
    return real(self, ns)

scaffold._Scaffolder.namespace = slow
main(["-C", sys.argv[1], "scaffold", "--all", "--dry-run"])
"""


def test_ctrl_c_while_workers_plan_is_one_line_and_exit_130(tmp_path: Path, netpol) -> None:
    repo = generate(tmp_path / "big", 20)
    assert netpol("init", repo).exit_code == 0
    marker = tmp_path / "workers-started"
    proc = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_DURING_PLANNING, str(repo), str(marker)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "NETPOL_JOBS": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert marker.exists(), "the workers never started"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: every process of the group
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "ForkPoolWorker" not in err and "Traceback" not in err, err
    assert err.strip() == "netpol: interrupted"
    assert proc.returncode == 130
    for _ in range(100):  # the workers are gone too
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("worker processes outlived netpol")


def _paths(n: int) -> list[Any]:
    return [(PurePosixPath(f"kubernetes/apps/ns{n}/app"), Path(f"/repo/ns{n}"), PurePosixPath("."))]


def test_paths_come_back_from_workers_equal_and_usable() -> None:
    """Workers send paths in a pre-parsed form: they must come back as the same paths,
    of the same type, that still behave like paths."""
    results = parallel.map_chunked(_paths, list(range(200)), jobs=2)
    assert results == [_paths(n) for n in range(200)]
    rel, absolute, dot = results[7][0]
    assert type(rel) is PurePosixPath and type(absolute) is type(Path("/"))
    assert rel / "x.yaml" == PurePosixPath("kubernetes/apps/ns7/app/x.yaml")
    assert rel.parts == ("kubernetes", "apps", "ns7", "app") and hash(rel) == hash(_paths(7)[0][0])
    assert absolute.name == "ns7" and str(dot) == "."
