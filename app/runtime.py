"""What ``GET /lab/runtime`` reports: interpreter, GIL state, server and package versions.

The lab reads this before and after every measured window. A free-threaded cell
whose GIL is on is invalid, and ``gil_enabled_by`` names the culprit, so all three
GIL facts are reported: the build flag, the runtime state and the ``-X gil`` /
``PYTHON_GIL`` flag.
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
import threading
from functools import cache
from importlib import metadata
from typing import Any

from . import gilwatch
from .workloads import json_work

#: Distributions whose versions shape a result; null when not installed.
PACKAGES = (
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic-core",
    "anyio",
    "uvicorn",
    "granian",
    "pillow",
    "orjson",
    "httptools",
    "uvloop",
)
#: Servers recognised in ``sys.modules`` when the launcher does not say (first match wins).
SERVERS = ("granian", "uvicorn", "hypercorn", "gunicorn")


def free_threaded() -> bool:
    """Whether this is a free-threaded build (``Py_GIL_DISABLED``)."""
    return sysconfig.get_config_var("Py_GIL_DISABLED") == 1


def gil_enabled() -> bool:
    """Whether the GIL is enabled right now (always true on a GIL build)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


@cache
def package_versions() -> dict[str, str | None]:
    """Installed versions of :data:`PACKAGES` (read once: metadata lookups touch the disk)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def server() -> dict[str, str | None]:
    """The server hosting the app: ``LAB_SERVER``/``LAB_SERVER_VERSION``, else a guess."""
    name = os.environ.get("LAB_SERVER") or next((s for s in SERVERS if s in sys.modules), None)
    version = os.environ.get("LAB_SERVER_VERSION")
    if name and not version:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = None
    return {"name": name, "version": version}


def snapshot(thread_limit: int) -> dict[str, Any]:
    """The ``/lab/runtime`` body; ``thread_limit`` comes from the loop serving the request."""
    return {
        "python_version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "free_threaded": free_threaded(),
        "gil_enabled": gil_enabled(),
        "gil_flag": getattr(sys.flags, "gil", None),
        "gil_enabled_by": gilwatch.enabled_by(),
        "gilwatch_site_hook": gilwatch.SITE_MODULE in sys.modules,
        "thread_limit": thread_limit,
        "pid": os.getpid(),
        "threads": threading.active_count(),
        "server": server(),
        "packages": package_versions(),
        "orjson_available": json_work.orjson_available(),
    }
