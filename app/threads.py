"""Apply LAB_THREADS to anyio's default thread limiter on every event loop.

FastAPI runs ``def`` routes through ``anyio.to_thread.run_sync``, whose default
``CapacityLimiter`` is stored per event loop (an anyio ``RunVar``). uvicorn runs one
loop per process and runs the lifespan on it. granian on a free-threaded build runs
one loop per worker *thread*, and runs the lifespan once per worker on that worker's
loop; other embeddings (test clients, future servers) may not. So the lifespan sets
the limit, and :class:`ThreadLimitMiddleware` re-checks it on each request: reading
the limiter is a context-variable lookup, far cheaper than any request it guards.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send


def apply_thread_limit(limit: int) -> int:
    """Set the current event loop's default thread limit; return the limit now in force."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    if limiter.total_tokens != limit:
        limiter.total_tokens = limit
    return int(limiter.total_tokens)


def current_thread_limit() -> int:
    """The default thread limit of the event loop running this coroutine."""
    return int(anyio.to_thread.current_default_thread_limiter().total_tokens)


class ThreadLimitMiddleware:
    """Make sure the loop serving each HTTP request uses the configured thread limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            apply_thread_limit(self.limit)
        await self.app(scope, receive, send)
