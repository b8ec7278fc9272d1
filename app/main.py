"""Build the FastAPI application: built-in routes, drop-in routes, thread limit, errors.

``app`` is created at import, so a bad ``LAB_THREADS`` or a broken drop-in module
fails the server's start-up (non-zero exit, message naming the cause) instead of
serving half an app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .builtin import ROUTERS
from .discovery import check_unique_routes, discover
from .errors import BadInput
from .settings import Settings
from .threads import ThreadLimitMiddleware, apply_thread_limit
from .workloads import image_work, json_work


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app; reads the environment when ``settings`` is not given."""
    settings = Settings.from_env() if settings is None else settings
    drop_ins = discover(settings.routes_dirs)
    check_unique_routes([*ROUTERS, *((drop_in.file, drop_in.router) for drop_in in drop_ins)])
    # Synthetic inputs are built now, not inside the first measured request.
    json_work.prepare_synthetic()
    image_work.synthetic_image()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Runs on each event loop that runs the lifespan (each granian worker thread).
        apply_thread_limit(settings.threads)
        yield

    app = FastAPI(
        title="gil-lab app under test",
        summary="CPU-bound routes for comparing CPython 3.14 with free-threaded 3.14t",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.loads = [item.to_json(drop_in.name) for drop_in in drop_ins for item in drop_in.loads]
    app.add_middleware(ThreadLimitMiddleware, limit=settings.threads)
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
