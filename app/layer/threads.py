"""Apply LAB_THREADS to anyio's default thread limiter on every event loop.

FastAPI and Starlette run sync ``def`` endpoints through ``anyio.to_thread.run_sync``,
whose default ``CapacityLimiter`` is stored per event loop (an anyio ``RunVar``).
uvicorn runs one loop per process; granian on a free-threaded build runs one loop per
worker *thread*. The layer sees every ASGI call on whichever loop runs it, so it sets
the limit on the lifespan call and re-checks it on each request: reading the limiter is
a context-variable lookup, far cheaper than any request it guards. Servers that skip
the lifespan on some loop are covered by the per-request check.

Apps on frameworks that do not use anyio's limiter (Django's asgiref executor, for
one) are not capped by it; ``/lab/runtime`` still reports anyio's limit when anyio is
importable, and ``null`` when it is not.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


def _anyio_to_thread() -> ModuleType | None:
    try:
        return importlib.import_module("anyio.to_thread")
    except ImportError:
        return None


class ThreadLimit:
    """The configured limit, applied to the running event loop's default limiter."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._to_thread = _anyio_to_thread()

    @property
    def available(self) -> bool:
        """Whether anyio is importable here (without it there is no limiter to set)."""
        return self._to_thread is not None

    def apply(self) -> None:
        """Set the running loop's limit if it differs. Outside an anyio-compatible loop, do nothing."""
        limiter = self._limiter()
        if limiter is not None and limiter.total_tokens != self.limit:
            limiter.total_tokens = self.limit

    def current(self) -> int | None:
        """The running loop's limit; ``None`` without anyio or outside a loop anyio knows."""
        limiter = self._limiter()
        return None if limiter is None else int(limiter.total_tokens)

    def _limiter(self) -> Any:  # anyio.CapacityLimiter, typed loosely: anyio is optional
        if self._to_thread is None:
            return None
        try:
            return self._to_thread.current_default_thread_limiter()
        except RuntimeError:  # no running loop, or one anyio does not support (sniffio's error is a RuntimeError)
            return None
