"""samples/printserver.service is a unit systemd accepts, with the hardening the README promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).parents[2] / "samples" / "printserver.service"


def settings() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in UNIT.read_text().splitlines() if "=" in line and line[0] != "#")
    return {k.strip(): v.strip() for k, v in pairs}


def test_the_unit_runs_as_its_own_user_hardened_and_stops_gracefully() -> None:
    s = settings()
    assert s["User"] == s["Group"] == "printserver"
    assert s["ProtectSystem"] == "strict" and s["PrivateTmp"] == "true" and s["NoNewPrivileges"] == "true"
    assert s["Restart"] == "on-failure" and s["RestartPreventExitStatus"] == "2"  # config errors exit 2
    assert s["KillSignal"] == "SIGTERM" and int(s["TimeoutStopSec"]) > 30  # serve waits up to 30 s for jobs
    assert "serve --config" in s["ExecStart"] and "check-config" in s["ExecStartPre"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "printserver"
    unit = tmp_path / "printserver.service"
    unit.write_text(UNIT.read_text().replace("/opt/printserver/bin/printserver", str(exe)))
    out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr
