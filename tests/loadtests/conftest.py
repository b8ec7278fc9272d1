"""Shared fixtures for the lab's own tests."""

from __future__ import annotations

import os
from pathlib import Path

from loadtests.core.paths import PROJECT_ROOT


def real_env_python(name: str) -> Path:
    return Path(os.environ.get("LAB_ENVS_DIR", PROJECT_ROOT / ".envs")) / name / "bin" / "python"
