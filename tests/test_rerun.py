"""The idempotent rerun of ``scaffold --all``: its shortcuts never hide a local edit.

A rerun reuses what is on disk when it provably equals the rendering (render memo plus
digest), skips re-validating overlays on disk as recorded, and reads answers files and
manifests with fast loaders that must agree with the reference ones.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from benchmarks.generate import generate
from scaffolder.core import parallel, yamlio
from scaffolder.core.yamlio import _fast_loader, parse_documents, parse_documents_fast
from scaffolder.discovery import assemble as discovery
from scaffolder.templates import memo as render_module
from scaffolder.templates.render import (
    ANSWERS_FILE,
    OVERLAY,
    _parse_answers_fast,
    read_recorded,
    render,
    render_reusing,
)
from scaffolder.workflows import scaffold

from .conftest import snapshot

OVERLAY_FILE = "cnp-netpol.yaml"


@pytest.fixture
def scaffolded(tmp_path: Path, netpol, monkeypatch: pytest.MonkeyPatch) -> Path:
    """60 namespaces (180 overlays) scaffolded by forked workers, netpol's cache private,
    with the bulk-run memos (parse and render) on, as for a thousand namespaces."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_JOB", 10)
    monkeypatch.setattr(scaffold, "BULK_NAMESPACES", 10)
    monkeypatch.setattr(discovery, "MEMO_NAMESPACES", 10)
    monkeypatch.setattr(render_module, "_MEMO_ON", False)  # restored after the test
    monkeypatch.setattr(yamlio, "_MEMO_ON", False)
    monkeypatch.setenv("NETPOL_JOBS", "2")
    repo = generate(tmp_path / "big", 60)
    assert netpol("init", repo).exit_code == 0
    first = netpol("-C", repo, "scaffold", "--all")
    assert first.exit_code == 0, first.output
    return repo


def test_rerun_is_a_no_op(scaffolded: Path, netpol, tmp_path: Path) -> None:
    cache = tmp_path / "cache/netpol"
    assert list(cache.glob("render-memo-*.log")) and list(cache.glob("parse-memo-*.log"))
    before = snapshot(scaffolded)
    result = netpol("-C", scaffolded, "scaffold", "--all")
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.stdout
    assert snapshot(scaffolded) == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('port: "8000"', 'port: "8001"'),  # still valid, same size
        ("protocol: TCP", "protocol: UDP"),
        ("\n---\n", "\n---\n# a comment\n"),  # only a comment
    ],
)
def test_rerun_detects_a_hand_edit_among_many_overlays(
    scaffolded: Path, netpol, old: str, new: str
) -> None:
    overlay = scaffolded / "kubernetes/apps/team-0031/api/app" / OVERLAY_FILE
    text = overlay.read_text()
    assert old in text
    overlay.write_text(text.replace(old, new, 1))
    before = snapshot(scaffolded)
    for _ in range(2):  # the memo a failed run leaves behind changes nothing
        result = netpol("-C", scaffolded, "scaffold", "--all")
        assert result.exit_code == 1
        assert "local edits in kubernetes/apps/team-0031/api/app/cnp-netpol.yaml" in result.stderr
        assert snapshot(scaffolded) == before


def test_rerun_updates_an_overlay_whose_answers_changed(scaffolded: Path, netpol) -> None:
    """A file netpol wrote (digest recorded) but whose rendering changes is updated: the newly
    discovered port is added, the recorded one kept (never silently dropped) with a note."""
    helmrelease = scaffolded / "kubernetes/apps/team-0007/web/app/helmrelease.yaml"
    helmrelease.write_text(helmrelease.read_text().replace("targetPort: 8080", "targetPort: 8081"))
    result = netpol("-C", scaffolded, "scaffold", "--all")
    assert result.exit_code == 0, result.output
    overlay = (scaffolded / "kubernetes/apps/team-0007/web/app" / OVERLAY_FILE).read_text()
    assert '"8081"' in overlay and '"8080"' in overlay
    assert "team-0007/web: kept recorded gateway_ports 8080" in result.output
    assert netpol("-C", scaffolded, "scaffold", "--all").stdout.endswith(
        "nothing to do: everything is already in place\n"
    )


ANSWERS = {
    "app_name": "web",
    "namespace": "team",
    "selector": {"app.kubernetes.io/name": "web"},
    "gateway_ports": [{"port": 8080, "protocol": "TCP"}],
}


def test_render_reusing_is_the_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(render_module, "_MEMO_ON", True)
    reference = render(OVERLAY, ANSWERS)
    assert render_reusing(OVERLAY, ANSWERS, tmp_path).files == reference.files  # nothing on disk
    for rel, data in reference.files.items():
        (tmp_path / rel).write_bytes(data)
    assert render_reusing(OVERLAY, ANSWERS, tmp_path).files == reference.files  # from disk
    (tmp_path / OVERLAY_FILE).write_bytes(reference.files[PurePosixPath(OVERLAY_FILE)] + b"#\n")
    assert render_reusing(OVERLAY, ANSWERS, tmp_path).files == reference.files  # rendered
    other = {**ANSWERS, "namespace": "other"}
    assert render_reusing(OVERLAY, other, tmp_path).files == render(OVERLAY, other).files


def test_rendered_answers_files_take_the_fast_path() -> None:
    text = render(OVERLAY, ANSWERS).files[PurePosixPath(ANSWERS_FILE)].decode()
    fast = _parse_answers_fast(text)
    assert fast is not None
    assert fast == parse_documents(text, "x")[0]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: yes\nc: 0x1F\nd: 1e5\ne: null\nf: b:c\ng: 012\nh: On\n",
        "a:\nb: 2\n",
        "a:\n  b: c\n  d: 12\n",
        'a: [1, "x", true, null, {}]\nb: {"k": ["v"]}\n',
        'a: {"x": 1e5}\n',
        "a: 1\na: 2\n",
        'a: {"x": 1, "x": 2}\n',
        'a: "q\\u00e9"\n',
        "a: ~\nb: ''\nc: -1\n",
        "1: x\n",
        "yes: x\n",
        "a:\n  b: c\n    d: 12\n",
        "a: b # c\n",
        "---\na: b\n---\nc: d\n",
        "a: 2001-12-14\n",
        "a: .inf\n",
        "a: =\n",
        '<<: {"a": 1}\n',
        "a:  b\n",
        "a: b \n",
        "a: b\r\n",
        "a: b\tc\n",
        "a: caf\u00e9\n",
    ],
)
def test_answers_parser_agrees_with_the_yaml_loader(text: str) -> None:
    try:
        docs = parse_documents(text, "x")
        expected: Any = docs[0] if docs else None
    except Exception as exc:  # the fast parser must give up, the reference explains
        expected = exc
    fast = _parse_answers_fast(text)
    if isinstance(expected, Exception):
        assert fast is None
    elif fast is not None:
        assert fast == expected
        assert repr(fast) == repr(expected)  # types too: 1 is not True
    if not isinstance(expected, Exception):
        assert read_recorded(text, "x").answers == {
            k: v for k, v in expected.items() if not str(k).startswith("_")
        }


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",
        "<<: {a: 1}\nb: 2\n",
        "base: &b {a: 1}\nother:\n  <<: *b\n  c: 2\n",
        "a: !!set {x, y}\n",
        "? [1]\n: 2\n",
        "a: 2001-12-14\nb: 1.5\nc: 0x10\nd: ~\ne: yes\nf: 1_000\ng: .nan\n",
        "a: &a [*a]\n",
        "=: 1\n",
        "a: !!binary aGVsbG8=\n",
        "---\n---\na: 1\n",
        "a: !custom x\n",
        "a: 'x'\nb: \"y\"\n1: 2\ntrue: 3\n~: 4\n",
        "a: 1\na: 2\n",
        "a: [b\n",
        "- a\n- {b: [c, d]}\n---\nk: v\n",
    ],
)
def test_fast_yaml_loader_agrees_with_pyyaml(text: str) -> None:
    try:
        expected: Any = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        expected = None
    try:
        got = _fast_loader()(text)
    except Exception:
        got = None  # the caller falls back to PyYAML's loader
    if expected is None:
        assert got is None
    elif got is not None:
        assert repr(got) == repr(expected)


def test_parse_memo_gives_fresh_equal_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(yamlio, "_MEMO_ON", True)
    monkeypatch.setattr(yamlio, "_MEMO", {})
    monkeypatch.setattr(yamlio, "_MEMO_FD", {})
    dated = "d: 2001-12-14\n"  # marshal cannot store dates: parsed every time
    assert parse_documents_fast(dated, "x") == parse_documents(dated, "x")
    assert not list(tmp_path.glob("netpol/parse-memo-*.log"))
    text = "a: [1, {b: c}]\n---\nd: 3\n---\n"
    first = parse_documents_fast(text, "x")
    (log,) = tmp_path.glob("netpol/parse-memo-*.log")
    with log.open("ab") as fh:
        fh.write(b"torn record")  # a crash mid-write: ignored
    monkeypatch.setattr(yamlio, "_MEMO", {})  # a new process reads the log
    second = parse_documents_fast(text, "x")
    assert repr(first) == repr(second) == repr(parse_documents(text, "x"))
    second[0]["a"].append("mutated")
    assert parse_documents_fast(text, "x")[0]["a"] == [1, {"b": "c"}]
