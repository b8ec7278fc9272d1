"""What ``GET /lab/runtime`` reports: interpreter, GIL state, app, server and package versions.

The lab reads this before and after every measured window. A free-threaded cell
whose GIL is on is invalid, and ``gil_enabled_by`` names the culprit, so all three
GIL facts are reported: the build flag, the runtime state and the ``-X gil`` /
``PYTHON_GIL`` flag. ``packages`` lists every installed distribution, because a
team's dependency tree is what decides whether the GIL comes back.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import sys
import sysconfig
import threading
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from . import bytecode, gilwatch

#: Distributions the lab's report always shows, as null when they are not installed. The
#: servers are not named: whichever is installed is listed with every other distribution.
PACKAGES = (
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic-core",
    "anyio",
    "pillow",
    "orjson",
    "httptools",
    "uvloop",
)


def free_threaded() -> bool:
    """Whether this is a free-threaded build (``Py_GIL_DISABLED``)."""
    return sysconfig.get_config_var("Py_GIL_DISABLED") == 1


def gil_enabled() -> bool:
    """Whether the GIL is enabled right now (always true on a GIL build)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them: ``Pydantic_Core`` -> ``pydantic-core``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def package_versions() -> dict[str, str | None]:
    """Every installed distribution's version, plus :data:`PACKAGES` as null when absent.

    Read once: metadata lookups touch the disk. The first copy found on ``sys.path``
    wins, as it does for imports.
    """
    versions: dict[str, str | None] = dict.fromkeys(PACKAGES)
    seen: set[str] = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or normalise(name) in seen:
            continue
        seen.add(normalise(name))
        versions[normalise(name)] = dist.version
    return dict(sorted(versions.items()))


def launcher() -> str | None:
    """The program that started this interpreter: ``NAME`` of ``python -m NAME`` or of a ``NAME`` script.

    Worker processes a server spawns inherit its ``sys.argv``, so they name it too.
    """
    first = sys.argv[0] if sys.argv else ""
    if not first or first == "-c":
        return None
    path = Path(first)
    return (path.parent.name if path.name == "__main__.py" else path.stem) or None


def server() -> dict[str, str | None]:
    """The server hosting the app: ``LAB_SERVER``/``LAB_SERVER_VERSION``, else the program that started it."""
    name = os.environ.get("LAB_SERVER") or launcher()
    version = os.environ.get("LAB_SERVER_VERSION")
    if name and not version:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = None
    return {"name": name, "version": version}


def orjson_available() -> bool:
    """Whether orjson is installed here (found, not imported: importing could re-enable the GIL)."""
    return importlib.util.find_spec("orjson") is not None


def snapshot(thread_limit: int | None, app: dict[str, Any]) -> dict[str, Any]:
    """The ``/lab/runtime`` body.

    ``thread_limit`` comes from the loop serving the request (``None`` without anyio);
    ``app`` describes what the layer serves (target, directory, framework).
    """
    return {
        "python_version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "free_threaded": free_threaded(),
        "gil_enabled": gil_enabled(),
        "gil_flag": getattr(sys.flags, "gil", None),
        "gil_enabled_by": gilwatch.enabled_by(),
        "gilwatch_site_hook": gilwatch.started_by_site_hook(),
        "thread_limit": thread_limit,
        "pid": os.getpid(),
        "threads": threading.active_count(),
        "server": server(),
        "packages": package_versions(),
        "orjson_available": orjson_available(),
        "app": app,
        "bytecode": bytecode.report(),
    }
