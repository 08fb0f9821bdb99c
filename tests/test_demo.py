"""`make demo` is the README's first command: it must run, be short, and show the main job."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.skipif(shutil.which("git") is None, reason="git not on PATH")
def test_demo_runs_and_tells_the_story_briefly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TMPDIR": str(tmp_path),
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "\x1b[" not in out, "escape codes when stdout is not a terminal"
    assert len(out.splitlines()) <= 120, len(out.splitlines())
    assert "media: baseline added; allow policies: jellyfin, landing, radarr, sonarr" in out
    assert "name: sonarr-allow-gateway-ingress" in out  # one policy shown in full
    assert "+  - ./cnp-netpol.yaml" in out  # the one-line kustomization edit
    rerun = out[out.index("Running it again") :]
    assert "media: up to date\nnothing to do: everything is already in place\n" in rerun
    if shutil.which("kubectl"):
        assert "  CiliumNetworkPolicy allow-dns" in out
        assert "  CiliumNetworkPolicy sonarr-allow-gateway-ingress" in out
