"""Read a raw request body on the event loop, with a size cap and a content-type check.

Built-in routes are sync ``def`` functions so their CPU work runs in the thread pool,
and a sync function cannot ``await request.body()``. Reading bytes is cheap, so a
small ``async`` dependency made by :func:`raw_body` reads them, refusing oversized or
mistyped bodies early, and hands plain ``bytes`` to the route. Parsing and validation
stay in the route, off the event loop (see docs/methodology.md, "CPU work runs in
the thread pool").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope

from .errors import MalformedInput, PayloadTooLarge, UnsupportedMediaType

MiB = 1024 * 1024


def media_type(request: Request) -> str:
    """The request's media type, lower-cased, without parameters such as ``charset``."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def raw_body(limit: int, accepts: Callable[[str], bool], expected: str) -> Callable[[Request], Awaitable[bytes]]:
    """Make a dependency returning the body as bytes, or raising 413/415/400.

    ``accepts`` decides on the media type; ``expected`` names the accepted types in
    the 415 message.
    """

    async def read_body(request: Request) -> bytes:
        kind = media_type(request)
        if not accepts(kind):
            raise UnsupportedMediaType(f"expected a {expected} body, got content-type {kind or 'none'!r}")
        body = await read_capped(request, limit)
        if not body:
            raise MalformedInput(f"empty body: send a {expected} document")
        return body

    return read_body


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is over ``limit`` bytes (declared or received): never more in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is {int(declared)} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body is over the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise MalformedInput("the client disconnected before sending the whole body") from None
    return b"".join(chunks)


class _ReadRequest(Request):
    """A request whose body was read (within its cap) before FastAPI asks for it."""

    def __init__(self, scope: Scope, receive: Receive, body: bytes) -> None:
        super().__init__(scope, receive)
        self._read = body

    async def body(self) -> bytes:
        return self._read


def body_limited_route(limit: int) -> type[APIRoute]:
    """A route class for routes that take a pydantic model as their body: 413 past ``limit`` bytes.

    FastAPI reads such a body whole before any dependency runs, however large it is, so
    the cap cannot be a dependency; the route reads it first, within the cap. Use it as
    ``APIRouter(route_class=body_limited_route(64 * 1024))``.
    """

    class BodyLimitedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def capped(request: Request) -> Response:
                body = await read_capped(request, limit)
                return await handler(_ReadRequest(request.scope, request.receive, body))

            return capped

    return BodyLimitedRoute


def body_openapi(content_types: Iterable[str], schema: dict[str, Any], description: str) -> dict[str, Any]:
    """``openapi_extra`` declaring the raw body the dependency reads, for docs and fuzzers.

    ``$ref``s into the schema's own ``$defs`` (as pydantic writes them) are inlined,
    because an operation's schema cannot carry ``$defs`` of its own.
    """
    inlined = inline_refs(schema)
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {kind: {"schema": inlined} for kind in content_types},
        }
    }


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``{"$ref": "#/$defs/X"}`` with a copy of ``$defs[X]`` (no recursion support needed)."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    result: dict[str, Any] = resolve(schema)
    return result
