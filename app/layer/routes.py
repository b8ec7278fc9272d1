"""An app's route table, read without calling it: paths, methods, endpoints, and what runs on the loop.

Starlette and FastAPI keep their routes in ``app.routes`` (mounts nest further route
tables); other frameworks are read the same way where they expose route objects with
``path``, ``methods`` and ``endpoint``. Newer FastAPI versions keep included routers
as one entry and expand them with ``fastapi.routing.iter_route_contexts``, which is
used when it exists. Nothing here imports a framework: the app already did.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .asgi import describe, is_async_callable

#: The prefix the layer answers itself. An app may not declare routes under it.
RESERVED_PREFIX = "/lab/"
#: Top-level modules of known ASGI frameworks (their distribution has the same name).
FRAMEWORKS = ("fastapi", "starlette", "litestar", "quart", "django", "falcon", "sanic", "blacksheep", "channels")
#: Middleware wrappers followed (through ``.app``) to find the application inside.
MAX_WRAPPERS = 10
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True)
class RouteInfo:
    """One entry of the route table, with the facts that decide how it scales."""

    path: str
    kind: str  # "http", "websocket", or "mount" (a mounted app without a route table of its own)
    methods: tuple[str, ...] | None  # None: any method (or not known)
    endpoint: str | None
    is_async: bool | None  # an `async def` endpoint runs on the event loop: CPU work there blocks it
    body_model: str | None = None  # FastAPI parses and validates this declared body on the event loop

    @property
    def label(self) -> str:
        methods = ",".join(self.methods) if self.methods else self.kind.upper()
        return f"{methods} {self.path}" + (f" ({self.endpoint})" if self.endpoint else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "methods": list(self.methods) if self.methods is not None else None,
            "endpoint": self.endpoint,
            "async": self.is_async,
            "body_parsed_on_event_loop": self.body_model is not None,
            "body_model": self.body_model,
        }


def is_reserved(path: str) -> bool:
    """Whether a request or route path falls under :data:`RESERVED_PREFIX`."""
    return path == RESERVED_PREFIX.rstrip("/") or path.startswith(RESERVED_PREFIX)


def application(obj: object) -> object:
    """The application inside middleware wrappers: the first object on the ``.app`` chain with routes."""
    found = obj
    for _ in range(MAX_WRAPPERS):
        if _routes_of(found) is not None:
            return found
        inner = getattr(found, "app", None)
        if inner is None or inner is found:
            break
        found = inner
    return found if _routes_of(found) is not None else obj


def route_table(app: object) -> list[RouteInfo] | None:
    """Every route of ``app`` (mounts flattened), or ``None`` when it has no route table."""
    routes = _routes_of(application(app))
    return None if routes is None else list(_walk(routes, ""))


def reserved_routes(table: Iterable[RouteInfo]) -> list[RouteInfo]:
    """The routes that would be answered by the layer instead of the app."""
    return [route for route in table if is_reserved(route.path)]


def framework(app: object) -> dict[str, str | None] | None:
    """``{"name", "version"}`` of the framework ``app`` is built on, when it is a known one."""
    for klass in type(application(app)).__mro__:
        top = klass.__module__.split(".", 1)[0]
        if top in FRAMEWORKS:
            try:
                version: str | None = metadata.version(top)
            except metadata.PackageNotFoundError:
                version = None
            return {"name": top, "version": version}
    return None


def _routes_of(obj: object) -> list[Any] | None:
    routes = getattr(obj, "routes", None)
    return list(routes) if isinstance(routes, list | tuple) else None


def _expand(routes: list[Any]) -> Iterable[Any]:
    """FastAPI >= 0.160 keeps an included router as one entry; its own iterator expands it."""
    fastapi_routing = sys.modules.get("fastapi.routing")
    expand = getattr(fastapi_routing, "iter_route_contexts", None)
    return expand(routes) if callable(expand) else routes


def _join(prefix: str, path: str) -> str:
    return (prefix.rstrip("/") + path) if path.startswith("/") else prefix + path


def _walk(routes: list[Any], prefix: str) -> Iterator[RouteInfo]:
    for route in _expand(routes):
        path = _join(prefix, getattr(route, "path", None) or "")
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            sub = _routes_of(route)
            if sub:  # a mount or host with a route table of its own
                yield from _walk(sub, path)
            else:
                mounted = getattr(route, "app", None)
                yield RouteInfo(path or "/", "mount", None, None if mounted is None else describe(mounted), None)
            continue
        original = getattr(route, "original_route", route)
        kind = "websocket" if "websocket" in type(original).__name__.lower() else "http"
        methods = getattr(route, "methods", None)
        yield RouteInfo(
            path=path or "/",
            kind=kind,
            methods=tuple(sorted(methods)) if methods else _endpoint_methods(endpoint, kind),
            endpoint=_name(endpoint),
            is_async=_is_async(endpoint),
            body_model=_body_model(route),
        )


def endpoints(app: object) -> list[tuple[str, Any]]:
    """``(path, endpoint)`` of every HTTP route of ``app`` with a callable endpoint (mounts flattened)."""
    routes = _routes_of(application(app))
    return [] if routes is None else list(_endpoints(routes, ""))


def _endpoints(routes: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for route in _expand(routes):
        path = _join(prefix, getattr(route, "path", None) or "")
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            yield from _endpoints(_routes_of(route) or [], path)
        elif callable(endpoint):
            yield path or "/", endpoint


def _name(endpoint: Any) -> str:
    target = getattr(endpoint, "func", endpoint)  # functools.partial
    module = getattr(target, "__module__", None) or type(target).__module__
    qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{qualname}"


def _handlers(endpoint: Any) -> dict[str, Any]:
    """The per-method handlers of a class-based endpoint (Starlette's HTTPEndpoint)."""
    return {method: getattr(endpoint, method.lower()) for method in HTTP_METHODS if hasattr(endpoint, method.lower())}


def _endpoint_methods(endpoint: Any, kind: str) -> tuple[str, ...] | None:
    if kind == "http" and inspect.isclass(endpoint):
        return tuple(sorted(_handlers(endpoint))) or None
    return None


def _is_async(endpoint: Any) -> bool | None:
    if inspect.isclass(endpoint):
        flags = {inspect.iscoroutinefunction(handler) for handler in _handlers(endpoint).values()}
        return flags.pop() if len(flags) == 1 else None
    return is_async_callable(endpoint)


def _body_model(route: Any) -> str | None:
    field = getattr(route, "body_field", None)
    if field is None:
        return None
    annotation = getattr(getattr(field, "field_info", None), "annotation", None) or getattr(field, "type_", None)
    return getattr(annotation, "__qualname__", None) or repr(annotation)
