"""Build the FastAPI application: built-in routes, drop-in routes, errors.

``app`` is created at import, so a broken drop-in module fails the server's start-up
(non-zero exit, message naming the cause) instead of serving half an app. The lab's
servers run it through ``gil_lab_layer.serve:app``, which applies the thread limit and
serves ``/lab/runtime`` and ``/lab/loads`` (from ``app.state.loads``).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .builtin import ROUTERS
from .discovery import check_unique_routes, discover
from .errors import BadInput
from .settings import Settings
from .workloads import image_work, json_work


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app; reads the environment when ``settings`` is not given."""
    settings = Settings.from_env() if settings is None else settings
    drop_ins = discover(settings.routes_dirs)
    check_unique_routes([*ROUTERS, *((drop_in.file, drop_in.router) for drop_in in drop_ins)])
    # Synthetic inputs are built now, not inside the first measured request.
    json_work.prepare_synthetic()
    image_work.synthetic_image()

    app = FastAPI(
        title="gil-lab app under test",
        summary="CPU-bound routes for comparing CPython 3.14 with free-threaded 3.14t",
        version="0.1.0",
    )
    app.state.settings = settings
    # The drop-ins' load specs; the layer serves them as GET /lab/loads.
    app.state.loads = [item.to_json(drop_in.name) for drop_in in drop_ins for item in drop_in.loads]
    app.add_exception_handler(BadInput, _bad_input)
    for _, router in ROUTERS:
        app.include_router(router)
    for drop_in in drop_ins:
        app.include_router(drop_in.router)
    return app


async def _bad_input(request: Request, error: Exception) -> JSONResponse:
    status = error.status_code if isinstance(error, BadInput) else 400
    return JSONResponse({"detail": str(error)}, status_code=status)


app = create_app()
