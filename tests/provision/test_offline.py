"""A fresh machine with no network at all (`unshare -n`): what `make setup` does and says."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision.cpython_release import PINNED_SHA256, TARBALL_NAME

from .conftest import pinned_release_tarball

pytestmark = pytest.mark.slow


UNSHARE = shutil.which("unshare") or "unshare"


def unshare_permitted() -> bool:
    try:
        return subprocess.run([UNSHARE, "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def fresh_machine(tmp_path: Path) -> dict[str, str]:
    """An environment with an empty lab cache, no pyenv, no environments and nothing to find on PATH."""
    if not unshare_permitted():
        pytest.skip("`unshare -n` is not permitted here")
    path = f"{tmp_path / 'bin'}:/usr/bin:/bin"
    found = [name for name in ("uv", "python3.14", "python3.14t") if shutil.which(name, path=path)]
    if found:
        pytest.skip(f"{', '.join(found)} on the system PATH: this machine is not fresh")
    (tmp_path / "bin").mkdir()
    return {"HOME": str(tmp_path / "home"), "PATH": path, "LAB_CACHE_DIR": str(tmp_path / "cache"),
            "LAB_ENVS_DIR": str(tmp_path / "envs"), "LAB_CONTROL_VENV": str(tmp_path / "venv"),
            "PYENV_ROOT": str(tmp_path / "pyenv")}


def offline_setup(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run([UNSHARE, "-n", sys.executable, "-m", "loadtests.cli.bootstrap", "setup"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    return proc, time.monotonic() - started


def test_offline_without_a_tarball_it_fails_and_names_the_file_to_place(fresh_machine: dict[str, str]) -> None:
    proc, seconds = offline_setup(fresh_machine)
    print(f"offline set-up failed after {seconds:.1f} s:\n{proc.stderr}")
    assert proc.returncode == 1
    sources = Path(fresh_machine["LAB_CACHE_DIR"]) / "sources"
    assert f"place {TARBALL_NAME} (sha256 {PINNED_SHA256}) in {sources}/" in proc.stderr
    assert "LAB_PYTHON_GIL / LAB_PYTHON_FT" in proc.stderr and "LAB_CPYTHON_SOURCE=" in proc.stderr
    # every way out was tried, in order, and said why it moved on
    tried = [proc.stderr.index(text) for text in (
        "the source tarball on disk skipped", "uv python install failed", "the source tarball download failed")]
    assert tried == sorted(tried)
    assert not sources.exists() or not any(sources.iterdir())
    assert not (Path(fresh_machine["LAB_CACHE_DIR"]) / "tools" / "uv").exists()


def test_offline_a_tarball_in_the_source_cache_is_picked(fresh_machine: dict[str, str], tmp_path: Path) -> None:
    release = pinned_release_tarball()
    if release is None:
        pytest.skip(f"no copy of {TARBALL_NAME} on this machine (../shared/cpython)")
    stored = Path(fresh_machine["LAB_CACHE_DIR"]) / "sources" / TARBALL_NAME
    stored.parent.mkdir(parents=True)
    shutil.copyfile(release, stored)
    # No compiler on PATH: resolution goes as far as starting the build, and no further (no 6-minute build).
    proc, _ = offline_setup({**fresh_machine, "PATH": str(tmp_path / "bin")})
    assert proc.returncode == 1
    assert f"==> build python3.14 and python3.14t from {stored} " in proc.stderr
    assert "Cannot build CPython: make" in proc.stderr
    assert "uv python install" not in proc.stderr and "download" not in proc.stderr
