"""System packages: `make compare` installs build headers when it can and never fails when it cannot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision.sysdeps import GROUPS


def run_sysdeps(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command on a machine where nothing can install packages: no dpkg-query, no apt-get on PATH."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "loadtests.provision.sysdeps", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60, env={"PATH": str(tmp_path / "bin")})


def test_best_effort_prints_the_command_and_goes_on(tmp_path: Path) -> None:
    proc = run_sysdeps(tmp_path, "--install", "--best-effort", "--for", "build")
    assert proc.returncode == 0, proc.stderr
    assert f"apt-get install -y {' '.join(GROUPS['build'])}" in proc.stdout
    assert "chromium" not in proc.stdout and "going on" in proc.stdout


def test_without_best_effort_a_missing_package_fails(tmp_path: Path) -> None:
    proc = run_sysdeps(tmp_path, "--install", "--for", "build")
    assert proc.returncode == 1
    assert "missing system packages" in proc.stderr and "Run as root" in proc.stderr


def dry_run(target: str) -> list[str]:
    out = subprocess.run(["make", "-n", target], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
                         timeout=30).stdout
    return out.splitlines()


def test_make_compare_installs_build_headers_and_perf_before_the_set_up() -> None:
    lines = dry_run("compare")
    headers = next(i for i, line in enumerate(lines) if "loadtests.provision.sysdeps" in line)
    setup = next(i for i, line in enumerate(lines) if "loadtests.cli.bootstrap setup" in line)
    compare = next(i for i, line in enumerate(lines) if "gil-lab compare" in line)
    assert headers < setup < compare
    assert lines[headers].split()[-4:] == ["--install", "--best-effort", "--for", "build,profile"]  # no chromium


def test_make_test_still_installs_every_group() -> None:
    line = next(line for line in dry_run("test") if "loadtests.provision.sysdeps" in line)
    assert line.endswith("--install")
