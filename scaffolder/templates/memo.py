"""The render memo: ``netpol scaffold`` reuses overlay files already on disk when a render
with the same answers produced exactly those bytes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.fs import cache_dir
from scaffolder.templates import fast, native, rendering
from scaffolder.templates.fast import plain_data, render_fast
from scaffolder.templates.rendering import Rendering, template_dir

# Rendering is a pure function of the template files, the engine's code and the answers.
# ``scaffold`` renders every overlay of the repository on every run, though on a rerun each
# is already on disk exactly as rendered. The memo (an append-only log in netpol's cache)
# records, per template fingerprint and answers, the digest of every file a render
# produced; :func:`render_reusing` then takes a file from disk when its bytes have that
# digest, so the result is byte for byte the rendering, without running Jinja.

_MEMO_MAX_BYTES = 64 * 1024 * 1024
_MEMO: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {}
_MEMO_ON = False


def enable_render_memo() -> None:
    """For runs rendering thousands of overlays; a few renders cost less than the memo."""
    global _MEMO_ON
    _MEMO_ON = True


@cache
def _fingerprint(template: str) -> str:
    """Everything a fast render of ``template`` depends on, besides its answers."""
    import importlib
    import sys

    import jinja2

    filters = importlib.import_module("jinja2_ansible_filters.core_filters")
    from scaffolder.core.versioning import WRITTEN_BY

    # WRITTEN_BY: the answers file records it, so a new netpol minor renders differently.
    digest = hashlib.sha256(f"{sys.version}|{jinja2.__version__}|{WRITTEN_BY}".encode())
    digest.update(Path(filters.__file__ or "").read_bytes())  # the filters' code
    for module in (fast, native, rendering):  # the engine's code
        digest.update(Path(module.__file__ or "").read_bytes())
    root = template_dir(template)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _memo_prefix(template: str) -> str:
    return f"render-memo-{template.replace('/', '_')}-"


def _memo_path(template: str) -> Path:
    return cache_dir() / f"{_memo_prefix(template)}{_fingerprint(template)}.log"


def _memo(template: str) -> dict[str, tuple[tuple[str, str], ...]]:
    memo = _MEMO.get(template)
    if memo is not None:
        return memo
    memo = _MEMO[template] = {}
    path = _memo_path(template)
    try:
        if path.stat().st_size > _MEMO_MAX_BYTES:
            path.unlink()  # start over rather than grow without bound
            return memo
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return memo
    for line in text.split("\n"):
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts) % 2 == 1 and len(parts[0]) == 32:
            memo[parts[0]] = tuple(zip(parts[1::2], parts[2::2], strict=True))
    return memo


def _memo_key(answers: Mapping[str, Any]) -> str | None:
    data = dict(answers)
    return hashlib.sha256(repr(data).encode()).hexdigest()[:32] if plain_data(data) else None


def _remember(template: str, key: str, rendering: Rendering) -> None:
    entry = tuple(
        (str(path), hashlib.sha256(data).hexdigest())
        for path, data in sorted(rendering.files.items())
    )
    if any("\t" in name or "\n" in name for name, _ in entry):
        return
    _memo(template)[key] = entry
    line = "\t".join([key, *(field for pair in entry for field in pair)]) + "\n"
    try:
        path = _memo_path(template)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # a new fingerprint: drop the logs of older ones
            from scaffolder.core.yamlio import _remove_other_logs

            _remove_other_logs(str(path), _memo_prefix(template))
        # One short O_APPEND write per entry: concurrent netpol processes cannot interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        pass  # an optimisation only


def render_reusing(template: str, answers: Mapping[str, Any], directory: Path) -> Rendering:
    """``render(template, answers)`` (fast engine), reusing the files already in ``directory``
    when the memo shows a render with these answers produced exactly those bytes."""
    key = _memo_key(answers) if _MEMO_ON else None
    if key is None:
        return render_fast(template, answers)
    expected = _memo(template).get(key)
    if expected is not None:
        files: dict[PurePosixPath, bytes] = {}
        for name, digest in expected:
            try:
                data = (directory / name).read_bytes()
            except OSError:
                break
            if hashlib.sha256(data).hexdigest() != digest:
                break
            files[PurePosixPath(name)] = data
        else:
            return Rendering(template, files)
    rendering = render_fast(template, answers)
    if expected is None:
        _remember(template, key, rendering)
    return rendering
