"""Lab routes: what the harness reads about the running server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .. import runtime
from ..threads import current_thread_limit

router = APIRouter(prefix="/lab", tags=["lab"])


@router.get("/runtime")
async def lab_runtime() -> dict[str, Any]:
    """Interpreter, GIL state, thread limit of this event loop, server and package versions.

    ``async`` on purpose: the thread limit is per event loop, so it must be read on
    the loop that served the request.
    """
    return runtime.snapshot(current_thread_limit())


@router.get("/loads")
async def lab_loads(request: Request) -> list[dict[str, Any]]:
    """The load specs of every drop-in route module, for the generic Locust scenario."""
    loads: list[dict[str, Any]] = request.app.state.loads
    return loads
