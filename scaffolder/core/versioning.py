"""Which netpol wrote a file, and refusing files a newer netpol wrote.

``netpol.yaml`` (key ``netpol_version``) and every answers file (``_netpol_version``) record
the ``MAJOR.MINOR`` of the netpol that wrote them. A patch release never changes what
netpol writes, so recording the patch level would only churn every answers file; the
minor level is what :func:`newer_than_running` compares. See :mod:`scaffolder.repo.config`
for how a version bump migrates files.
"""

from __future__ import annotations

import re

from scaffolder import __version__

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?(?:[-+.].*)?$")
UPGRADE = "upgrade netpol (pip install -U netpol)"


def major_minor(version: str) -> tuple[int, int] | None:
    """``(1, 2)`` for ``1.2``, ``1.2.3``, ``1.2.3rc1``; ``None`` when it is not a version."""
    match = _VERSION.match(version.strip())
    return (int(match[1]), int(match[2])) if match else None


RUNNING = major_minor(__version__) or (0, 0)
WRITTEN_BY = f"{RUNNING[0]}.{RUNNING[1]}"  # what netpol records in the files it writes


def newer_than_running(recorded: object) -> bool:
    """Whether ``recorded`` (a file's netpol version) is a later major/minor than this one."""
    parsed = major_minor(str(recorded)) if isinstance(recorded, str | int | float) else None
    return parsed is not None and parsed > RUNNING


def too_new(what: str, recorded: object) -> str:
    """The one line a user sees for a file a newer netpol wrote."""
    return f"{what} was written by netpol {recorded}; this is netpol {WRITTEN_BY}: {UPGRADE}"
