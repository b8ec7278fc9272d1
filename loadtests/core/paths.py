"""Where the lab keeps things: its own files, the per-user cache, the environments, the results.

The lab runs in one of two layouts, decided once at import:

- **a checkout** (the repository, ``make setup``): ``loadtests/`` sits beside
  ``pyproject.toml``, ``app/``, ``scenarios/`` and ``locks/``. The environments live in the
  tree (``.venv``, ``.envs``) and the results in ``results/``.
- **an install** (``pip install .``, ``uv tool install .``): the wheel carries ``app/``,
  ``scenarios/`` and ``locks/`` in the package ``gil_lab_data`` beside ``loadtests/`` in
  site-packages. The app environments live in the user cache (``<cache>/envs``), the lab
  runs in the environment it was installed into, and results go to ``./results`` of the
  working directory.

Every location has a ``LAB_*`` variable that wins over both defaults.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The directory ``loadtests/`` was imported from: the repository, or site-packages.
PACKAGE_PARENT = Path(__file__).resolve().parents[2]
#: The package an install carries the lab's files in (pyproject.toml maps app/, scenarios/, locks/ into it).
DATA_PACKAGE = "gil_lab_data"


def is_checkout(parent: Path) -> bool:
    """Whether ``parent`` is a source tree of the lab, rather than a site-packages directory."""
    return (parent / "pyproject.toml").is_file() and (parent / "scenarios" / "presets").is_dir()


#: The repository when the lab runs from one; None when it runs from an install.
CHECKOUT: Path | None = PACKAGE_PARENT if is_checkout(PACKAGE_PARENT) else None
#: The directory holding the lab's ``app/``, ``scenarios/`` and ``locks/``: the checkout, or the installed data.
LAB_ROOT: Path = CHECKOUT or PACKAGE_PARENT / DATA_PACKAGE
#: The name older modules use for LAB_ROOT (the server command line, the run.json schema files).
PROJECT_ROOT = LAB_ROOT


def setup_command() -> str:
    """What to tell a user to run when something is not set up: it depends on the layout."""
    return "make setup" if CHECKOUT else "gil-lab setup"


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
    """Directory holding one app environment per interpreter: ``.envs`` in a checkout, ``<cache>/envs`` installed."""
    default = CHECKOUT / ".envs" if CHECKOUT else cache_dir() / "envs"
    return Path(os.environ.get("LAB_ENVS_DIR", default)).resolve()


def control_venv() -> Path:
    """The control-plane environment: ``.venv`` in a checkout; installed, the environment the lab runs in."""
    default = CHECKOUT / ".venv" if CHECKOUT else Path(sys.prefix)
    return Path(os.environ.get("LAB_CONTROL_VENV", default)).resolve()


def results_dir() -> Path:
    """Default parent directory of run directories: ``results/`` of the checkout, or of the working directory."""
    default = CHECKOUT / "results" if CHECKOUT else Path.cwd() / "results"
    return Path(os.environ.get("LAB_RESULTS_DIR", default)).resolve()
