"""Build the layer around the app the settings name, refusing what the lab cannot measure honestly."""

from __future__ import annotations

from typing import cast

from . import asgi, faults, gilwatch
from .errors import NotAnAsgiApp, ReservedPathError
from .loader import load
from .routes import RESERVED_PREFIX, reserved_routes, route_table
from .settings import AppTarget, LayerSettings
from .threads import ThreadLimit
from .wrapper import PATHS, ASGIApp, LabLayer


def checked(app: object, target: AppTarget) -> ASGIApp:
    """``app`` itself, once it is known to be an ASGI 3 app that leaves ``/lab/`` to the layer."""
    reason = asgi.problem(app)
    if reason is not None:
        raise NotAnAsgiApp(f"LAB_APP={target}: {target.attr!r} is {asgi.describe(app)}, which is {reason}")
    clash = reserved_routes(route_table(app) or [])
    if clash:
        listed = "; ".join(route.label for route in clash)
        raise ReservedPathError(
            f"LAB_APP={target} declares routes under {RESERVED_PREFIX}, which gil-lab's layer answers itself "
            f"({', '.join(PATHS)}) and never passes to the app: {listed}. Move them under another prefix "
            "(for example /admin/lab/) before load-testing this app with gil-lab."
        )
    return cast(ASGIApp, app)


def build(settings: LayerSettings) -> LabLayer:
    """Import, check and wrap the app. The GIL watch goes in first, so the app's imports are recorded, and so
    do the crash files, so a crash while the app is imported leaves its traceback."""
    gilwatch.install()
    files = faults.install()
    app = checked(load(settings.target, settings.app_dir), settings.target)
    return LabLayer(app, ThreadLimit(settings.threads), str(settings.target), str(settings.app_dir),
                    None if files is None else files.table)
