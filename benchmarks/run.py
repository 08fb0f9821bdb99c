"""Performance targets (run by `make bench`, not by `make test`).

* `netpol scaffold media` on the example repository: <= 0.3 s
* `netpol scaffold --all --dry-run` on a generated 1,000-namespace repository: <= 4 s
* `netpol scaffold --all` writing there (about 10,000 files): <= 5 s
* `netpol scaffold --all` again on the scaffolded repository (nothing to do): <= 2 s

Every measurement is a fresh `netpol` process (interpreter start-up and imports
included, as a user sees it) on a fresh copy of the repository; the best of several runs
is reported, after one untimed run that fills netpol's cache (compiled templates and
schema in $XDG_CACHE_HOME/netpol), as any second use of netpol would find it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import generate

ROOT = Path(__file__).resolve().parents[1]
# As a user runs it: with bytecode caches (some shells and CI images set
# PYTHONDONTWRITEBYTECODE, which would make every run recompile netpol's modules).
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPATH": str(ROOT),
}


def netpol(*args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "scaffolder", *args],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"netpol {' '.join(args)} failed: {proc.stderr}")
    return elapsed


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="netpol-bench-"))
    try:
        example = tmp / "example"
        shutil.copytree(ROOT / "examples/home-ops", example)
        netpol("init", str(example))
        runs = []
        for i in range(6):
            repo = tmp / f"example-{i}"
            shutil.copytree(example, repo)
            runs.append(netpol("-C", str(repo), "scaffold", "media"))
        one = min(runs[1:])

        big = generate(tmp / "big", 1000)
        netpol("init", str(big))
        netpol("-C", str(big), "scaffold", "--all", "--dry-run")
        many = min(netpol("-C", str(big), "scaffold", "--all", "--dry-run") for _ in range(3))

        # Copies are made up front and removed only at the end: the copying's writeback, and
        # the file system freeing a deleted tree, would otherwise be timed with the next run.
        copies = [tmp / f"big-{i}" for i in range(3)]
        for repo in copies:
            shutil.copytree(big, repo)
        os.sync()
        write = min(netpol("-C", str(repo), "scaffold", "--all") for repo in copies)
        rerun = min(netpol("-C", str(tmp / "big-0"), "scaffold", "--all") for _ in range(3))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        ("netpol scaffold media (example repo)", one, 0.3),
        ("netpol scaffold --all --dry-run (1,000 namespaces)", many, 4.0),
        ("netpol scaffold --all, writing (1,000 namespaces)", write, 5.0),
        ("netpol scaffold --all, idempotent rerun", rerun, 2.0),
    ]
    failed = False
    for name, seconds, target in rows:
        ok = seconds <= target
        failed |= not ok
        print(f"{name:<52} {seconds:7.3f} s  (target <= {target} s) {'ok' if ok else 'SLOW'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
