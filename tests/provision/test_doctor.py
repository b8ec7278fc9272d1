"""`gil-lab doctor` against the real provisioned interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.provision.doctor import diagnose, render
from loadtests.provision.provisioning import save_interpreters

from .conftest import built_without_zstd, include_dir_with_zstd

GIL_LAB = Path(sys.executable).parent / "gil-lab"


@pytest.mark.slow
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


@pytest.mark.slow
def test_doctor_fails_with_a_remedy_when_not_set_up(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "LAB_ENVS_DIR": str(tmp_path / "none")}
    proc = subprocess.run([str(GIL_LAB), "doctor"], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1
    assert "make setup" in proc.stdout


def test_doctor_names_a_missing_module_and_its_fix(isolated_lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real build records of fake interpreters built without _zstd, recorded as `make setup` records them."""
    monkeypatch.setenv("LAB_ENVS_DIR", str(isolated_lab / "envs"))
    monkeypatch.setenv("LAB_CONTROL_VENV", str(isolated_lab / "venv"))
    _, found = built_without_zstd(isolated_lab, headers_seen=[])
    save_interpreters(found)

    absent = diagnose(header_dirs=(str(isolated_lab / "none"),))
    assert not absent.healthy
    assert absent.report["interpreters"]["ft"]["missing_modules"] == ["_zstd"]
    zstd = [p for p in absent.problems if "_zstd" in p]
    assert len(zstd) == 2 and all("install the headers with `apt-get install libzstd-dev`" in p for p in zstd)
    assert all("then run `make setup` to rebuild it" in p for p in zstd)
    assert "built without: _zstd" in render(absent)

    present = diagnose(header_dirs=(str(include_dir_with_zstd(isolated_lab)),))
    assert [p for p in present.problems if "_zstd" in p] == [
        f"{i.label} ({i.path}) was built without _zstd; the headers are installed now: run `make setup` to rebuild it."
        for i in found.values()]


def test_doctor_lists_every_declared_server_and_finds_packages_however_they_are_spelt() -> None:
    from loadtests.provision.doctor import Diagnosis

    packages = {"fastapi": "1", "pydantic_core": "2", "uvicorn": "3", "granian": "4", "hypercorn": "5", "six": "6"}
    diagnosis = Diagnosis(report={"environments": {"app-ft": {"status": "ok", "path": "/envs/app-ft",
                                                             "interpreter": "3.14t", "packages": packages}}})
    shown = render(diagnosis).splitlines()[1].split(", ")
    assert [s.strip() for s in shown] == ["fastapi 1", "pydantic-core 2", "uvicorn 3", "granian 4", "hypercorn 5"]
