"""Import the scripts of docker/ (a directory, not a package) for the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"


def load(name: str) -> ModuleType:
    """``docker/<name>.py`` under a name that cannot clash with an installed module."""
    spec = importlib.util.spec_from_file_location(f"gil_lab_docker_{name}", DOCKER_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
