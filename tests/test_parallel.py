"""Large repositories: forked workers give the same plan as one process, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.generate import generate
from scaffolder import parallel, validate
from scaffolder.errors import NetpolError, RepoError


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

    from scaffolder.yamlio import parse_documents, parse_documents_fast

    for name in validate.CRD_FILES.values():
        text = (files("scaffolder") / "data" / "crds" / name).read_text(encoding="utf-8")
        assert parse_documents_fast(text, name) == parse_documents(text, name)
