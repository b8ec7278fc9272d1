"""Another installation of the lab, as on a load machine: a wheel of this tree in a venv of its own.

The wheel is built as a user's would be (the lab with its data: app, scenarios, locks), but
a worker loads nothing of its own scenarios, only what the master ships (once the master
has proved it knows the run's token).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT

UV = PROJECT_ROOT / ".venv" / "bin" / "uv"
CONTROL_LOCK = PROJECT_ROOT / "locks" / "control.txt"


def install_lab(where: Path, lab_version: str | None = None) -> Path:
    """Build this tree into a wheel (its ``__version__`` replaced when given) and install it, with the
    control plane's pinned packages, into ``where/venv``; the installed ``gil-lab``."""
    source = where / "source"
    for package in ("loadtests", "app", "scenarios", "locks"):  # what pyproject.toml packages
        shutil.copytree(PROJECT_ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "build"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, source / name)
    if lab_version is not None:
        init = source / "loadtests" / "__init__.py"
        text = init.read_text()
        init.write_text(text.replace('__version__ = "', f'__version__ = "{lab_version}"  # was "', 1))
    env = {**os.environ, "VIRTUAL_ENV": str(where / "venv")}
    env.pop("PYTHONPATH", None)
    steps = [
        [str(UV), "build", "--wheel", "-q", "-o", str(where / "dist"), str(source)],
        [str(UV), "venv", "-q", "--python", str(Path(sys.executable).resolve()), str(where / "venv")],
        [str(UV), "pip", "install", "-q", "--require-hashes", "-r", str(CONTROL_LOCK)],
    ]
    for step in steps:
        subprocess.run(step, check=True, capture_output=True, env=env, timeout=300)
    wheel = next((where / "dist").glob("*.whl"))
    subprocess.run([str(UV), "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True,
                   env=env, timeout=300)
    return where / "venv" / "bin" / "gil-lab"
