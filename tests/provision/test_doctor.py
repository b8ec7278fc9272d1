"""`gil-lab doctor` against the real provisioned interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GIL_LAB = Path(sys.executable).parent / "gil-lab"


def test_doctor_json_reports_both_interpreters(provisioned: dict) -> None:
    proc = subprocess.run([str(GIL_LAB), "doctor", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    gil, ft = report["interpreters"]["gil"], report["interpreters"]["ft"]
    assert gil["free_threaded"] is False and gil["gil_enabled"] is True
    assert ft["free_threaded"] is True and ft["gil_enabled"] is False
    assert gil["version"].startswith("3.14.") and ft["version"] == gil["version"]
    for info in (gil, ft):
        assert Path(info["path"]).exists()
    assert set(report["environments"]) == {"control", "app-gil", "app-ft"}
    assert all(env["status"] == "ok" for env in report["environments"].values())


def test_doctor_fails_with_a_remedy_when_not_set_up(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "LAB_ENVS_DIR": str(tmp_path / "none")}
    proc = subprocess.run([str(GIL_LAB), "doctor"], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1
    assert "make setup" in proc.stdout
