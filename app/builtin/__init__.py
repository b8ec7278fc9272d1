"""The lab's built-in routes: thin HTTP wrappers over ``app.workloads``.

Every CPU-bound route is a sync ``def`` so FastAPI runs it in anyio's thread pool;
bodies arrive as raw bytes and all parsing happens inside the route (docs/methodology.md,
"CPU work runs in the thread pool"). ``/compute/pure-async`` is the deliberate
exception: the reference for work that blocks the event loop.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import compute_routes, image_routes, json_routes

ROUTERS: tuple[tuple[str, APIRouter], ...] = tuple(
    (module.__name__, module.router) for module in (json_routes, image_routes, compute_routes)
)
