"""Fixtures for provisioning: fake interpreters, an isolated lab, the real set-up."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from loadtests.core.paths import PROJECT_ROOT


def write_fake_python(path: Path, *, version: str = "3.14.7", free_threaded: bool = False,
                      gil_enabled: bool | None = None) -> Path:
    """An executable that answers the interpreter probe like a real CPython would."""
    facts = {
        "executable": str(path), "version": version, "implementation": "cpython",
        "free_threaded": free_threaded,
        "gil_enabled": (not free_threaded) if gil_enabled is None else gil_enabled,
        "gil_flag": None, "configure_args": "'--disable-gil'" if free_threaded else "", "prefix": str(path.parent),
        "compiler": "GCC fake",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ncat <<'JSON'\n{json.dumps(facts)}\nJSON\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def isolated_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real interpreter leaks in: empty PATH extras, empty pyenv, private cache, no uv."""
    for var in ("LAB_PYTHON_GIL", "LAB_PYTHON_FT", "CPYTHON_SOURCE", "CPYTHON_SHA256", "LAB_PYTHON_VERSION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setenv("LAB_UV_INSTALL", "0")
    return tmp_path


@pytest.fixture(scope="session")
def provisioned() -> dict:
    """The real interpreters recorded by `make setup`; skip if the lab is not set up."""
    state = PROJECT_ROOT / ".envs" / "interpreters.json"
    if not state.is_file():
        pytest.skip("the lab is not set up; run `make setup`")
    return json.loads(state.read_text())
