"""What a render is: the shipped templates, where they live, and :class:`Rendering` (file
contents keyed by path relative to the destination, the answers file ending with the
sha256 of every other file)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scaffolder.core.errors import RenderError
from scaffolder.core.versioning import WRITTEN_BY

ANSWERS_FILE = ".netpol-answers.yaml"
DIGESTS_KEY = "_netpol_files"
VERSION_KEY = "_netpol_version"  # MAJOR.MINOR of the netpol that rendered the files
TEMPLATE_SUFFIX = ".jinja"
BASELINE = "network-policy/baseline"
DEFAULT_DENY = "network-policy/default-deny"
OVERLAY = "namespace-overlay"
TEMPLATES = (BASELINE, DEFAULT_DENY, OVERLAY)


def templates_root() -> Path:
    """Where the templates are: inside the installed package, else the source checkout."""
    packaged = Path(__file__).resolve().parents[1] / "_templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "copier-templates"
    if checkout.is_dir():
        return checkout
    raise RenderError("netpol's copier templates are missing", hint="reinstall netpol")


def template_dir(name: str) -> Path:
    if name not in TEMPLATES:
        raise RenderError(f"unknown template {name!r}", hint=f"one of: {', '.join(TEMPLATES)}")
    return templates_root() / name


@dataclass(frozen=True)
class Rendering:
    """The files one template render produced, relative to its destination directory."""

    template: str
    files: dict[PurePosixPath, bytes]

    @property
    def digests(self) -> dict[str, str]:
        return {
            str(path): hashlib.sha256(data).hexdigest()
            for path, data in sorted(self.files.items())
            if path.name != ANSWERS_FILE
        }


def _with_digests(template: str, files: dict[PurePosixPath, bytes]) -> Rendering:
    """Append the netpol version and the digest block to the answers file (the last
    thing written)."""
    rendering = Rendering(template, dict(files))
    answers = PurePosixPath(ANSWERS_FILE)
    if answers not in files:
        raise RenderError(f"template {template!r} rendered no {ANSWERS_FILE}")
    text = files[answers].decode("utf-8")
    if not text.endswith("\n"):
        text += "\n"
    text += f'{VERSION_KEY}: "{WRITTEN_BY}"\n'
    text += "# sha256 of each file as netpol rendered it: 'netpol upgrade' uses them to spot local edits.\n"
    text += f"{DIGESTS_KEY}:\n"
    text += "".join(f"  {path}: {digest}\n" for path, digest in rendering.digests.items())
    rendering.files[answers] = text.encode("utf-8")
    return rendering
