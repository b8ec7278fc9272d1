"""``python -m gil_lab_layer.inspect MODULE:ATTR [--app-dir DIR]``: describe an app as one JSON object.

The lab runs it in each app environment before it measures, so an app that cannot be
served there is reported before any server starts. It prints, on stdout:

- ``imports`` and ``import_error`` (with the last lines of the traceback);
- ``asgi`` and ``asgi_error`` (why the object is not an ASGI 3 app);
- ``framework``: ``{"name", "version"}`` when known;
- ``reserved_prefix`` and ``reserved_conflicts``: routes the layer would answer itself;
- ``routes``: the route table where one exists (``null`` otherwise). Per route: path,
  kind, methods, the endpoint's name, whether it is ``async def`` (CPU work there blocks
  the event loop) and whether FastAPI parses a declared body model for it on the event
  loop;
- ``python``: the interpreter, and its GIL state after the import with the modules that
  turned it back on;
- ``servable``: whether ``gil_lab_layer.serve`` would serve it.

Exit status: 0 when servable, 1 when not (the JSON says why), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
from collections.abc import Iterator
from typing import Any

from . import asgi, gilwatch, runtime
from .errors import LayerError
from .loader import load
from .routes import RESERVED_PREFIX, framework, reserved_routes, route_table
from .settings import AppTarget, app_dir


def inspect_app(target: AppTarget, directory: str | None) -> dict[str, Any]:
    """Import ``target`` and describe it; never raises for a problem of the app itself."""
    gilwatch.install()
    report: dict[str, Any] = {
        "target": str(target), "app_dir": None, "imports": False, "import_error": None, "asgi": False,
        "asgi_error": None, "framework": None, "reserved_prefix": RESERVED_PREFIX, "reserved_conflicts": [],
        "routes": None, "servable": False,
    }
    try:
        where = app_dir(directory, source="--app-dir")
        report["app_dir"] = str(where)
        with stdout_to_stderr():
            app = load(target, where)
    except LayerError as error:
        report["import_error"] = str(error)
    else:
        report["imports"] = True
        report["asgi_error"] = asgi.problem(app)
        report["asgi"] = report["asgi_error"] is None
        report["framework"] = framework(app)
        table = route_table(app)
        if table is not None:
            report["routes"] = [route.to_json() for route in table]
            report["reserved_conflicts"] = [route.to_json() for route in reserved_routes(table)]
        report["servable"] = report["asgi"] and not report["reserved_conflicts"]
    report["python"] = {
        "version": platform.python_version(), "executable": sys.executable, "free_threaded": runtime.free_threaded(),
        "gil_enabled": runtime.gil_enabled(), "gil_enabled_by": gilwatch.enabled_by(),
    }
    return report


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Keep stdout for the JSON: whatever the app prints while it imports goes to stderr (fd 1 included)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gil_lab_layer.inspect", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("target", metavar="MODULE:ATTR", help="the ASGI app, e.g. myservice.main:app")
    parser.add_argument("--app-dir", help="directory put first on sys.path (default: the current directory)")
    args = parser.parse_args(argv)
    try:
        target = AppTarget.parse(args.target, source="MODULE:ATTR")
    except LayerError as error:
        parser.error(str(error))
    report = inspect_app(target, args.app_dir)
    print(json.dumps(report, indent=2))
    return 0 if report["servable"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
