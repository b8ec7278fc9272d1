"""The environment the lab gives the interpreters and tools it runs."""

from __future__ import annotations

import os

# PYTHON_GIL=0 is a fatal start-up error on a GIL build, and PYTHONHOME/PYTHONPATH would
# make one interpreter load another one's standard library.
_INTERPRETER_VARIABLES = ("PYTHON_GIL", "PYTHONHOME", "PYTHONPATH")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without variables that would change an interpreter's GIL state.

    Everything else passes through untouched: proxies (``HTTP(S)_PROXY``, ``NO_PROXY``) and
    the index settings of pip and uv (``PIP_INDEX_URL``, ``UV_DEFAULT_INDEX``, ...).
    """
    env = {k: v for k, v in os.environ.items() if k not in _INTERPRETER_VARIABLES}
    env.update(extra or {})
    return env
