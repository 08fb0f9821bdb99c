"""Performance targets (run by `make bench`, not by `make test`).

* `netpol scaffold <ns>` on the example repository: <= 0.3 s
* `netpol scaffold --all --dry-run` on a generated 1,000-namespace repository: <= 5 s

Each figure is the best of a few runs of the command's in-process work (CLI included),
on a fresh copy of the repository.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import generate
from scaffolder.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _netpol(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"netpol {' '.join(args)} failed:\n{result.output}")


def _best(runs: int, setup: Callable[[], Path], body: Callable[[Path], None]) -> float:
    best = float("inf")
    for _ in range(runs):
        repo = setup()
        start = time.perf_counter()
        body(repo)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="netpol-bench-"))
    try:
        example = tmp / "example"
        shutil.copytree(ROOT / "examples/home-ops", example)
        _netpol("init", str(example))

        def fresh_example() -> Path:
            dest = tmp / f"ex-{time.monotonic_ns()}"
            shutil.copytree(example, dest)
            return dest

        one = _best(5, fresh_example, lambda repo: _netpol("-C", str(repo), "scaffold", "media"))

        big = generate(tmp / "big", 1000)
        _netpol("init", str(big))
        _netpol("-C", str(big), "scaffold", "--all", "--dry-run")  # warm caches like a real run
        many = _best(
            3, lambda: big, lambda repo: _netpol("-C", str(repo), "scaffold", "--all", "--dry-run")
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        ("scaffold media (example repo)", one, 0.3),
        ("scaffold --all --dry-run (1,000 namespaces)", many, 5.0),
    ]
    failed = False
    for name, seconds, target in rows:
        ok = seconds <= target
        failed |= not ok
        print(f"{name:<48} {seconds:7.3f} s  (target <= {target} s) {'ok' if ok else 'SLOW'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
