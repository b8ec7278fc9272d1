"""Inspect a team's app in an app environment before anything serves it.

``python -m gil_lab_layer.inspect MODULE:ATTR --app-dir DIR`` (the layer's own
inspection, ``app/layer/inspect.py``) imports the app in the interpreter that will
serve it and prints one JSON object: whether it imports, whether it is an ASGI 3 app,
its route table, and the GIL state after the import. It runs from the app's directory
with nothing of the lab's on the import path, exactly as the server will.

:func:`require_servable` turns a report that says "not servable" into an
:class:`~loadtests.core.errors.AppError` naming the cause and the fix, so a bad
``--app`` stops a run before any server starts.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtests.core.errors import AppError, EnvironmentSetupError
from loadtests.provision.process_env import child_env

INSPECT_MODULE = "gil_lab_layer.inspect"
INSPECT_TIMEOUT_S = 120.0


def inspect_app(python: Path, target: str, app_dir: Path, routes_dirs: Sequence[str] = (),
                extra_path: Sequence[str] = (), timeout_s: float = INSPECT_TIMEOUT_S) -> dict[str, Any]:
    """The inspection report of ``target`` imported by ``python`` from ``app_dir``.

    ``extra_path`` goes on PYTHONPATH (the built-in app needs the repository there);
    ``routes_dirs`` become LAB_ROUTES_DIR, as the servers get them.
    """
    extra = {"PYTHONUNBUFFERED": "1"}
    if extra_path:
        extra["PYTHONPATH"] = os.pathsep.join(extra_path)
    if routes_dirs:
        extra["LAB_ROUTES_DIR"] = os.pathsep.join(routes_dirs)
    args = [str(python), "-m", INSPECT_MODULE, target, "--app-dir", str(app_dir)]
    try:
        result = subprocess.run(args, cwd=app_dir, env=child_env(extra), capture_output=True, text=True,
                                timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise AppError(f"importing {target} in {python} took longer than {timeout_s:.0f}s: the app must be "
                       "importable without waiting on a network or a database that is not there") from None
    except OSError as exc:
        raise EnvironmentSetupError(f"cannot run {python} to inspect {target}: {exc}. Run `make setup`.") from exc
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise EnvironmentSetupError(
            f"the inspection of {target} in {python} printed no report (exit {result.returncode}); is the lab's "
            f"layer installed there? Re-run `make setup`. Its output:\n{tail}") from None
    if not isinstance(report, dict):
        raise EnvironmentSetupError(f"the inspection of {target} in {python} printed {type(report).__name__}, "
                                    "not an object")
    return report


def require_servable(report: Mapping[str, Any], label: str) -> None:
    """Raise :class:`AppError` with the cause and the fix unless the layer would serve the inspected app."""
    target = report.get("target", "the app")
    where = f"on {label} (app directory {report.get('app_dir')})"
    if not report.get("imports"):
        raise AppError(f"--app {target} does not import {where}:\n{report.get('import_error')}\n"
                       "Fix the import, or give --app-dir the directory that holds the app's top-level package and "
                       "--requirements the file that lists what it imports.")
    if not report.get("asgi"):
        raise AppError(f"--app {target} is not an ASGI 3 app {where}: {report.get('asgi_error')}. Name the "
                       "application object itself (for a factory, add `app = create_app()` to a module); a WSGI "
                       "app needs an ASGI wrapper such as a2wsgi.WSGIMiddleware.")
    conflicts = report.get("reserved_conflicts") or []
    if conflicts:
        listed = "; ".join(f"{','.join(r.get('methods') or [r.get('kind', '')])} {r['path']}" for r in conflicts)
        raise AppError(f"--app {target} declares routes under {report.get('reserved_prefix', '/lab/')}, which the "
                       f"lab's layer answers itself and never passes to the app: {listed}. Move them under another "
                       "prefix (for example /admin/lab/).")
    if not report.get("servable"):
        raise AppError(f"--app {target} cannot be served {where}: see `python -m {INSPECT_MODULE} {target}`")
