"""Fixtures for the provisioning tests that need the real interpreters and uv."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest

from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision.interpreters import Interpreter


@pytest.fixture(scope="session")
def interpreters() -> dict[str, Interpreter]:
    """The interpreters `make setup` recorded (3.14 and 3.14t); skip when the lab is not set up."""
    state = PROJECT_ROOT / ".envs" / "interpreters.json"
    if not state.is_file():
        pytest.skip("the lab is not set up; run `make setup`")
    data = json.loads(state.read_text())
    return {role: Interpreter(**{k: v for k, v in info.items() if k != "label"}) for role, info in data.items()}


@pytest.fixture
def envs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private .envs/ for the test, so the lab's own environments are never touched."""
    where = tmp_path / "envs"
    where.mkdir()
    monkeypatch.setenv("LAB_ENVS_DIR", str(where))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX"):
        monkeypatch.delenv(name, raising=False)
    return where


def platform_tag() -> str:
    """This machine's wheel platform tag, e.g. ``linux_x86_64``."""
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")
