"""Maintainer helpers: ``python -m scaffolder.dev render-components DEST``.

``components/`` in the source tree is the output of this command; a test renders
afresh and compares byte for byte so the two never drift.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

from scaffolder.core.fs import write_atomic
from scaffolder.repo.config import Config
from scaffolder.templates.render import BASELINE, DEFAULT_DENY, Rendering, render

DEFAULT_COMPONENTS = (BASELINE, DEFAULT_DENY)


def default_renderings(engine: str = "copier") -> dict[PurePosixPath, bytes]:
    """Every file of the default-answer components, keyed by path under ``components/``."""
    config = Config()
    answers = {BASELINE: config.baseline_answers(), DEFAULT_DENY: config.default_deny_answers()}
    files: dict[PurePosixPath, bytes] = {}
    for template in DEFAULT_COMPONENTS:
        rendering: Rendering = render(template, answers[template], engine=engine)
        for rel, data in rendering.files.items():
            files[PurePosixPath(template) / rel] = data
    return files


def render_components(dest: Path) -> list[PurePosixPath]:
    files = default_renderings()
    for rel, data in sorted(files.items()):
        write_atomic(dest / rel, data)
    return sorted(files)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "render-components":
        print("usage: python -m scaffolder.dev render-components DEST", file=sys.stderr)
        return 2
    for rel in render_components(Path(argv[1])):
        print(f"rendered {argv[1]}/{rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
