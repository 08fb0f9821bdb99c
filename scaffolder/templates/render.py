"""Rendering the copier templates shipped with netpol.

Two engines produce byte-identical output (a test proves it for every template):

* ``copier`` runs copier itself; ``netpol init`` and ``netpol upgrade`` use it.
* ``fast`` (:mod:`scaffolder.templates.fast`) renders the same template files with a Jinja
  environment configured like copier's; ``netpol scaffold`` uses it, with the render memo
  (:mod:`scaffolder.templates.memo`) on large runs.

Either way the result is a :class:`Rendering` (:mod:`scaffolder.templates.rendering`): file
contents keyed by path relative to the destination directory. The answers file
additionally records a sha256 of each rendered file, so a later run can tell "unchanged
since netpol wrote it" from "edited by hand" (see :mod:`scaffolder.templates.managed`);
:mod:`scaffolder.templates.recorded` reads it back.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import RenderError
from scaffolder.templates.fast import question_defaults, render_fast
from scaffolder.templates.memo import enable_render_memo, render_reusing
from scaffolder.templates.recorded import Recorded, _parse_answers_fast, read_recorded
from scaffolder.templates.rendering import (
    ANSWERS_FILE,
    BASELINE,
    DEFAULT_DENY,
    DIGESTS_KEY,
    OVERLAY,
    TEMPLATE_SUFFIX,
    TEMPLATES,
    Rendering,
    _with_digests,
    template_dir,
    templates_root,
)

__all__ = [
    "ANSWERS_FILE",
    "BASELINE",
    "DEFAULT_DENY",
    "DIGESTS_KEY",
    "OVERLAY",
    "TEMPLATES",
    "TEMPLATE_SUFFIX",
    "Recorded",
    "Rendering",
    "_parse_answers_fast",
    "enable_render_memo",
    "question_defaults",
    "read_recorded",
    "render",
    "render_fast",
    "render_reusing",
    "render_with_copier",
    "template_dir",
    "templates_root",
]


# --------------------------------------------------------------------------- copier engine


def render_with_copier(template: str, answers: Mapping[str, Any]) -> Rendering:
    """Render ``template`` with copier into a scratch directory and collect the files."""
    import copier
    from copier.errors import CopierError

    src = template_dir(template)
    with tempfile.TemporaryDirectory(prefix="netpol-render-") as tmp:
        dst = Path(tmp) / "out"
        try:
            copier.run_copy(
                str(src),
                str(dst),
                data=dict(answers),
                defaults=True,
                overwrite=True,
                quiet=True,
                unsafe=False,
                skip_tasks=True,
            )
        except (CopierError, ValueError) as exc:
            raise RenderError(f"{template}: {_one_line(exc)}", hint="check the answers") from exc
        files = {
            PurePosixPath(p.relative_to(dst).as_posix()): p.read_bytes()
            for p in sorted(dst.rglob("*"))
            if p.is_file()
        }
        shutil.rmtree(dst, ignore_errors=True)
    return _with_digests(template, files)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def render(template: str, answers: Mapping[str, Any], *, engine: str = "fast") -> Rendering:
    """Render ``template`` with ``answers`` using the chosen engine (``fast`` or ``copier``)."""
    if engine == "copier":
        return render_with_copier(template, answers)
    return render_fast(template, answers)
