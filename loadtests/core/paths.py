"""Where the lab keeps things: the project tree, the per-user cache, the environments."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """The user cache directory for interpreter builds (outside the repository).

    ``LAB_CACHE_DIR`` wins, then ``$XDG_CACHE_HOME/gil-lab``, then ``~/.cache/gil-lab``.
    Builds live here so that ``make clean`` and a fresh clone keep reusing them.
    """
    explicit = os.environ.get("LAB_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "gil-lab").resolve()


def envs_dir() -> Path:
    """Directory holding one app environment per interpreter (git-ignored)."""
    return Path(os.environ.get("LAB_ENVS_DIR", PROJECT_ROOT / ".envs")).resolve()


def control_venv() -> Path:
    """The control-plane virtual environment: the lab itself, Locust, test tools."""
    return Path(os.environ.get("LAB_CONTROL_VENV", PROJECT_ROOT / ".venv")).resolve()


def results_dir() -> Path:
    """Default parent directory of run directories."""
    return Path(os.environ.get("LAB_RESULTS_DIR", PROJECT_ROOT / "results")).resolve()
